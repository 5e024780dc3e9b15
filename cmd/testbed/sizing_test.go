package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// runSizing runs `testbed sizing ARGS...` in-process: an app with only
// the sizing command, its output captured.
func runSizing(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	app := &cli.App{Name: "testbed", Commands: []*cli.Command{sizingCommand()}, Writer: &out, ErrWriter: &out}
	err := app.Run(append([]string{"testbed", "sizing"}, args...))
	return out.String(), err
}

// The default output holds DMTN-028's disk table, "num disks x size" as it
// prints them (its 1 day / 64 partitions row, 24 GB, is 23.4 GB rounded up
// against its own rule; internal/sizing's tests say more).
func TestSizingDefaultOutput(t *testing.T) {
	out, err := runSizing(t)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "Assumptions:\n") {
		t.Errorf("output does not start with the assumptions:\n%s", out)
	}
	for _, want := range []string{
		"1 day      1           1 x 1.5 TB", "16 x 94 GB", "32 x 47 GB", "128 x 12 GB",
		"7 days     1           1 x 10.5 TB", "16 x 656 GB", "32 x 328 GB", "64 x 164 GB", "128 x 82 GB",
		"1 x 21 TB", "16 x 1.3 TB", "14 days    128         128 x 164 GB",
		"1 x 45 TB", "16 x 2.8 TB", "32 x 1.4 TB", "64 x 703 GB", "30 days    128         128 x 352 GB",
		"decimal", "10,000,000", "150,000 bytes (--alert-size; default:", "1.5 TB = alerts per night x alert size",
		"45 GB = 1.5 GB/s x 30s", "3 brokers, 15 GB each with many partitions", "    1           1                           45 GB", "    16          6                           17 GB", "100 x b x r = 100 x 3 x 1 = 300", "Warnings:\n  none\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestSizingFlags(t *testing.T) {
	out, err := runSizing(t, "--replication-factor", "2", "--partitions", "189,700", "--retention", "12h,2d", "--alert-size", "135000", "--buffer", "60s")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"12h        189         378 x 7.1 GB", "2 days     700         1400 x 3.9 GB", "3,857,142,858", "replication factor:  2 (--replication-factor; given)",
		"81 GB = 1.4 GB/s x 60s", "a 60s window holds at most 2.7 GB", "54 GB each with many partitions", "    189         126                         54 GB", "= 600", "700 partitions exceed Confluent's rule of thumb",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestSizingBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--retention", "0d"}, "--retention: \"0d\": give retentions longer than 0"},
		{[]string{"--retention", "week"}, "--retention: \"week\" is neither days"},
		{[]string{"--partitions", "1,x"}, "--partitions: \"x\" is not a whole number"},
		{[]string{"--partitions", "0"}, "--partitions: 0: give partition counts from 1"},
		{[]string{"--replication-factor", "4"}, "--replication-factor: 4: give a replication factor from 1 to --brokers (3)"},
		{[]string{"--brokers", "0"}, "--brokers: 0"},
		{[]string{"--alert-size", "0"}, "--alert-size: 0"},
		{[]string{"--alert-size", "150KB"}, "alert-size"},
		{[]string{"--alerts-per-visit", "-1"}, "--alerts-per-visit: -1"},
		{[]string{"--buffer", "0s"}, "--buffer: 0s"},
		{[]string{"--burst", "1m"}, "--burst: 60s: give how long"},
		{[]string{"--write-throughput", "0"}, "--write-throughput: 0"},
		{[]string{"--alerts-per-night", "5", "--visits-per-night", "3"}, "--alerts-per-night: given with --visits-per-night"},
		{[]string{"--from", "no/such/run"}, "--from: no/such/run does not exist"},
		{[]string{"--from", "x", "--write-throughput", "1e9"}, "--write-throughput: given with --from"},
		{[]string{"extra"}, "sizing takes no arguments"},
	} {
		out, err := runSizing(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q\n%s", c.args, err, c.want, out)
		}
	}
}

func TestSizingFrom(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "metrics"), 0o755); err != nil {
		t.Fatal(err)
	}
	csv := "time,unix,service,metric,value\n"
	for _, row := range []string{
		"2026-11-30T16:45:59Z,1796057159,kafka_kafka-1,network_receive_bytes_per_s,40000000",
		"2026-11-30T16:46:04Z,1796057164,kafka_kafka-1,network_receive_bytes_per_s,90000000",
		"2026-11-30T16:45:59Z,1796057159,kafka_kafka-2,network_receive_bytes_per_s,40000000",
		"2026-11-30T16:46:04Z,1796057164,kafka_kafka-2,network_receive_bytes_per_s,60000000",
		"2026-11-30T16:45:59Z,1796057159,kafka_kafka-3,network_receive_bytes_per_s,40000000",
		"2026-11-30T16:46:04Z,1796057164,kafka_kafka-3,network_receive_bytes_per_s,30000000",
		"2026-11-30T16:46:04Z,1796057164,run-x-producer,network_receive_bytes_per_s,99000000",
	} {
		csv += row + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics", "services.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "experiment.yaml"), []byte("topic:\n  replication_factor: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runSizing(t, "--from", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// Peak: 90 + 60 + 30 = 180 MB/s at 16:46:04, replication factor 3: the
	// producers wrote 60 MB/s; x 30 s = 1.8 GB.
	for _, want := range []string{
		"write throughput:    60 MB/s (--from; measured", "Measured in " + dir, "180 MB/s at 2026-11-30T16:46:04Z",
		"includes replication", "180 MB/s / 3 = 60 MB/s", "busiest broker:      90 MB/s", "1.8 GB = 60 MB/s x 30s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
