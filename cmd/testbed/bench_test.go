package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alert-testbed/testbed/internal/bench"
)

// benchOnTheTestbed runs `testbed bench` on the shared testbed, small (2
// rounds of 300 records of 20,000 bytes, from the host and from the
// swarm): every one of the 16 tries has figures, the order of each pair
// alternates by round, the ratios are printed, the archive prints the same
// tables, and no bench service or topic is left.
func benchOnTheTestbed(t *testing.T, bin, name, dir string) {
	t.Run("bench", func(t *testing.T) {
		runsDir := filepath.Join(dir, "bench-runs")
		volumesBefore := danglingVolumes(t)
		r := run(t, bin, "bench", "--name", name, "--runs-dir", runsDir, "--rounds", "2", "--records", "300", "--record-size", "20000", "--from", "both", "--warm-up-rounds", "1", "--warm-up-alerts", "2000")
		if r.code != 0 {
			t.Fatalf("bench: exit %d", r.code)
		}
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`round 1  host   alert-producer       300 records in [0-9.]+ s: \d+ records/s, [0-9.]+ MB/s  ack p50 \d+ ms, p99 \d+ ms  client [0-9.]+ CPU-s  brokers' JIT [0-9.]+ CPU-s`),
			regexp.MustCompile(`round 2  swarm  ConsumerPerformance  300 records in [0-9.]+ s`),
			regexp.MustCompile(`(?m)^swarm\s+alert-consumer ÷ ConsumerPerformance\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+ [0-9.]+$`),
			regexp.MustCompile(`(?m)^host\s+alert-producer ÷ ProducerPerformance\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+ [0-9.]+$`),
		} {
			if !want.MatchString(r.out) {
				t.Errorf("bench output lacks %s", want)
			}
		}
		archives, _ := filepath.Glob(filepath.Join(runsDir, "bench-*"))
		if len(archives) != 1 {
			t.Fatalf("%d bench archives in %s, want 1", len(archives), runsDir)
		}
		res, err := bench.Load(archives[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Tries) != 16 || len(res.Failed()) != 0 {
			t.Fatalf("%d tries, %d failed; want 16 with figures", len(res.Tries), len(res.Failed()))
		}
		for _, tr := range res.Tries {
			if tr.Records != 300 || tr.Seconds <= 0 || tr.Bytes < 300*19000 {
				t.Errorf("try %+v: want 300 records of about 20,000 bytes in a positive time", tr)
			}
			// Read in the brokers' containers over the try: never
			// negative, and never more than the try's wall time a broker
			// (each JVM has 2 compiler threads here, but 2 cores).
			if j := tr.BrokersJITCPU; j == nil || *j < 0 || *j > 3*(tr.Seconds+60) {
				t.Errorf("try round %d %s %s: brokers' JIT CPU %v, want a reading between 0 and the try's time", tr.Round, tr.From, tr.Client, j)
			}
			// The client's own CPU time, read from its output: above
			// zero (a JVM or a Go program that sent or read 6 MB), and
			// under the try's wall time on 2 cores plus its start-up.
			if c := tr.ClientCPU; c == nil || *c <= 0 || *c > 2*(tr.Seconds+60) {
				t.Errorf("try round %d %s %s: client CPU %v, want a reading above 0 and within the try's time", tr.Round, tr.From, tr.Client, c)
			}
			// The host's speed, timed before the round on this local
			// testbed.
			if tr.HostSpeed <= 0 {
				t.Errorf("try round %d %s %s: no host speed", tr.Round, tr.From, tr.Client)
			}
			// alert-producer goes first in odd rounds, Kafka's tools in
			// even ones.
			project := tr.Client == bench.AlertProducer || tr.Client == bench.AlertConsumer
			if tr.First != (project == (tr.Round%2 == 1)) {
				t.Errorf("round %d: %s first=%v", tr.Round, tr.Client, tr.First)
			}
		}
		report, _ := os.ReadFile(filepath.Join(archives[0], "report.txt"))
		i, j := strings.Index(r.out, "Project ÷ Kafka's tool"), strings.Index(r.out, "\nArchive: ")
		if i < 0 || j < i {
			t.Errorf("bench output lacks the ratio table followed by the archive's path")
		} else if !strings.Contains(string(report), strings.TrimRight(r.out[i:j], "\n")) {
			t.Errorf("report.txt does not hold the printed ratios:\n%s", report)
		}
		st := run(t, bin, "status", "--name", name)
		if strings.Contains(st.out, "bench-") {
			t.Errorf("a bench service is left:\n%s", st.out)
		}
		// The host tries' containers go with their anonymous volumes
		// (the Kafka image declares three).
		if after := danglingVolumes(t); len(after) > len(volumesBefore) {
			t.Errorf("the bench left %d anonymous volumes on this host's Engine", len(after)-len(volumesBefore))
		}
	})
}

// danglingVolumes lists the volumes of this host's Engine that no
// container uses.
func danglingVolumes(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("docker", "volume", "ls", "-q", "--filter", "dangling=true").Output()
	if err != nil {
		t.Fatalf("docker volume ls: %v", err)
	}
	return strings.Fields(string(out))
}
