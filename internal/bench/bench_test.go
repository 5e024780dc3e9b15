package bench

import (
	"bytes"
	"errors"
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/agents/lifecycle"
)

// Outputs as the clients print them (the Kafka tools' lines from Kafka
// 4.1's ProducerPerformance and ConsumerPerformance).
const (
	producerPerfOut = `2513 records sent, 502.5 records/sec (65.18 MB/sec), 310.3 ms avg latency, 702.0 ms max latency.
10000 records sent, 503.018109 records/sec (65.24 MB/sec), 1480.75 ms avg latency, 3121.00 ms max latency, 1497 ms 50th, 2603 ms 95th, 3042 ms 99th, 3110 ms 99.9th.
`
	alertProducerOut = `2026/12/01 19:00:00 producer 0 of 1: run r, 1 visits of 10000 alerts from 19:00:04 every 1s, pacing visit, topic t
visit:0, producer:0, expected:10000, sent:10000, acked:10000, errors:0, bytes:1360012345, producing:14.250s, ack_p50:812.3ms, ack_p99:1650.0ms
`
	consumerPerfOut = `start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-12-01 19:00:00:123, 2026-12-01 19:00:10:456, 1297.0337, 125.5316, 10000, 967.7, 3012, 7321, 177.1663, 1365.9
`
	alertConsumerOut = `2026/12/01 19:00:00 member g of group g reading [t] (mode drop, run "r")
2026/12/01 19:00:03 member g of group g assigned map[t:[0 1 2]] at 2026-12-01T19:00:03.25Z
visit:0, group:g, member:g, received:10000, duplicates:0, first:2026-12-01T19:00:03.5Z, last:2026-12-01T19:00:09.75Z, p50:2s, p99:5s, max:6s
`
)

func TestParsers(t *testing.T) {
	pp, err := ParseProducerPerformance(producerPerfOut, 136000)
	if err != nil {
		t.Fatal(err)
	}
	if pp.Records != 10000 || math.Abs(pp.RecordsPerSec()-503.018109) > 1e-6 || pp.P50Ms != 1497 || pp.P99Ms != 3042 || pp.Bytes != 1_360_000_000 {
		t.Errorf("ProducerPerformance: %+v, %g records/s", pp, pp.RecordsPerSec())
	}
	ap, err := ParseAlertProducer(alertProducerOut)
	if err != nil {
		t.Fatal(err)
	}
	if ap.Records != 10000 || ap.Seconds != 14.25 || ap.Bytes != 1360012345 || ap.P50Ms != 812.3 || ap.P99Ms != 1650 {
		t.Errorf("alert-producer: %+v", ap)
	}
	cp, err := ParseConsumerPerformance(consumerPerfOut)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Records != 10000 || cp.Seconds != 7.321 || cp.Bytes != 1360038409 {
		t.Errorf("ConsumerPerformance: %+v", cp)
	}
	ac, err := ParseAlertConsumer(alertConsumerOut)
	if err != nil {
		t.Fatal(err)
	}
	// From the assignment to the last record, as ConsumerPerformance's
	// fetch time; from the first record where the line is missing.
	if ac.Records != 10000 || ac.Seconds != 6.5 {
		t.Errorf("alert-consumer: %+v, want 6.5 s from the assignment", ac)
	}
	noAssign := strings.Replace(alertConsumerOut, "assigned map", "joined", 1)
	if ac, err := ParseAlertConsumer(noAssign); err != nil || ac.Seconds != 6.25 {
		t.Errorf("alert-consumer without its assignment line: %+v, %v; want 6.25 s from the first record", ac, err)
	}
}

// Outputs without a summary, or with a failed pass, are errors that say
// what was missing; none gives figures.
func TestParsersRefuse(t *testing.T) {
	for _, c := range []struct {
		name, out, want string
		parse           func(string) (Try, error)
	}{
		{"ProducerPerformance windows only", strings.SplitAfter(producerPerfOut, "\n")[0], "no summary line",
			func(s string) (Try, error) { return ParseProducerPerformance(s, 100) }},
		{"alert-producer with failed sends", strings.Replace(alertProducerOut, "acked:10000, errors:0", "acked:9990, errors:10", 1), "acknowledged 9990 of 10000",
			ParseAlertProducer},
		{"alert-producer without ack latency (an older image)", strings.Replace(alertProducerOut, ", ack_p50:812.3ms, ack_p99:1650.0ms", "", 1), "no visit line",
			ParseAlertProducer},
		{"ConsumerPerformance header only", strings.SplitAfter(consumerPerfOut, "\n")[0], "no data line", ParseConsumerPerformance},
		{"ConsumerPerformance read nothing", strings.Replace(consumerPerfOut, ", 10000, 967.7, 3012, 7321,", ", 0, 0, 3012, 0,", 1), "read 0 records", ParseConsumerPerformance},
		{"alert-consumer nothing received", "member g of group g reading [t]\n", "no visit line", ParseAlertConsumer},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, err := c.parse(c.out)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if tr.Records != 0 || tr.Seconds != 0 {
				t.Errorf("figures %+v with the error", tr)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	var c Config
	c.Default()
	if c.RecordSize != 136000 || c.Records != 10000 || c.Partitions != 3 || c.ReplicationFactor != 3 || c.MinISR != 2 || c.Rounds != 5 || len(c.From) != 2 {
		t.Errorf("defaults %+v", c)
	}
	if err := c.Validate(3); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	rf1 := Config{ReplicationFactor: 1}
	rf1.Default()
	if rf1.MinISR != 1 {
		t.Errorf("RF 1: min ISR %d, want 1", rf1.MinISR)
	}
	bad := c
	bad.RecordSize, bad.Records, bad.ReplicationFactor, bad.Rounds, bad.From = 10, -1, 4, 0, []string{"moon"}
	err := bad.Validate(3)
	for _, want := range []string{"--record-size 10", "--records -1", "--replication-factor 4: use 1 to 3", "--rounds 0", `--from "moon"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to say %q", err, want)
		}
	}
	for in, want := range map[string]int{"host": 1, "swarm": 1, "both": 2} {
		if f, err := ParseFrom(in); err != nil || len(f) != want {
			t.Errorf("ParseFrom(%q) = %v, %v", in, f, err)
		}
	}
	if _, err := ParseFrom("everywhere"); err == nil {
		t.Error("ParseFrom(everywhere) accepted")
	}
}

func withJIT(t Try, seconds float64) Try {
	t.BrokersJITCPU = &seconds
	return t
}

// The ratios come from the tries alone: per round project ÷ Kafka's tool
// in records/s, min / median / max over the rounds where both have
// figures; a failed try leaves its round out and is counted missing.
func withHost(t Try, mbps float64) Try {
	t.HostSpeed = mbps
	return t
}

func TestRatios(t *testing.T) {
	try := func(round int, client string, records int64, secs float64) Try {
		kind := Produce
		if client == AlertConsumer || client == ConsumerPerformance {
			kind = Consume
		}
		return Try{Round: round, From: FromHost, Kind: kind, Client: client, Records: records, Seconds: secs, Bytes: records * 1000}
	}
	r := Result{Config: Config{Rounds: 3, From: []string{FromHost}}, Tries: []Try{
		withHost(withJIT(try(1, AlertProducer, 1000, 1), 12.5), 517.4), try(1, ProducerPerformance, 1000, 2), // 2.0
		try(2, AlertProducer, 1000, 2), try(2, ProducerPerformance, 1000, 1), // 0.5
		try(3, AlertProducer, 1000, 1), try(3, ProducerPerformance, 1000, 1.25), // 1.25
		try(1, AlertConsumer, 1000, 1), try(1, ConsumerPerformance, 1000, 1),
		{Round: 2, From: FromHost, Kind: Consume, Client: AlertConsumer, Error: "exited 1"}, try(2, ConsumerPerformance, 1000, 1),
	}}
	rs := r.Ratios()
	if len(rs) != 2 {
		t.Fatalf("%d ratios, want 2", len(rs))
	}
	p := rs[0]
	if p.Kind != Produce || p.Compared != 3 || p.Min != 0.5 || p.Median != 1.25 || p.Max != 2 {
		t.Errorf("produce ratio %+v", p)
	}
	c := rs[1]
	if c.Kind != Consume || c.Compared != 1 || c.Missing != 2 || c.Median != 1 || !math.IsNaN(c.Rounds[1]) {
		t.Errorf("consume ratio %+v", c)
	}
	var b bytes.Buffer
	r.Print(&b)
	for _, want := range []string{"alert-producer ÷ ProducerPerformance  0.50  1.25    2.00  2.00 0.50 1.25", "1 tries failed", "round 2, host, alert-consumer: exited 1",
		"brokers' JIT CPU-s  host MB/s\n", " 12.5        517\n", "  -          -\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	var line bytes.Buffer
	PrintTry(&line, r.Tries[0])
	PrintTry(&line, r.Tries[1])
	if want := "  round 1  host   alert-producer       1000 records in 1.00 s: 1000 records/s, 1.0 MB/s  ack p50 0 ms, p99 0 ms  brokers' JIT 12.5 CPU-s\n" +
		"  round 1  host   ProducerPerformance  1000 records in 2.00 s: 500 records/s, 0.5 MB/s  ack p50 0 ms, p99 0 ms\n"; line.String() != want {
		t.Errorf("PrintTry:\n%s\nwant\n%s", line.String(), want)
	}
	dir := t.TempDir() + "/bench-x"
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(dir); err == nil {
		t.Error("a second Write into the same archive was allowed")
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	back.Print(&again)
	if again.String() != b.String() {
		t.Errorf("the archive prints differently:\n%s\nwant\n%s", again.String(), b.String())
	}
}

// The clients' CPU time: an agent's own line at exit, and a shell's
// `times` after a command it ran, as the bench runs Kafka's tools.
func TestParseClientCPU(t *testing.T) {
	// An agent's line, as lifecycle.CPULine prints it, after some work.
	sum := 0
	for start := time.Now(); time.Since(start) < 200*time.Millisecond; {
		sum++
	}
	line := lifecycle.CPULine("alert-producer")
	got, ok := ParseClientCPU("2026/12/06 08:00:00.000000 visit ...\n" + line + "\n")
	if !ok || got < 0.1 || got > 60 {
		t.Errorf("ParseClientCPU(%q) = %g, %v; want the process's CPU time, at least the 0.2 s just spent (loop %d)", line, got, ok, sum)
	}

	// Both shells' formats of `times`: the children's line counts.
	for _, out := range []string{
		"10000 records sent, ...\n" + TimesMarker + "\n0m0.004000s 0m0.001000s\n1m2.500000s 0m3.250000s\n",
		TimesMarker + "\n0m0.004s 0m0.001s\n1m2.500s 0m3.250s\n",
	} {
		if got, ok := ParseClientCPU(out); !ok || math.Abs(got-65.75) > 1e-9 {
			t.Errorf("ParseClientCPU(%q) = %g, %v; want 65.75 (62.5 user + 3.25 system of the children)", out, got, ok)
		}
	}
	if got, ok := ParseClientCPU("10000 records sent, 503 records/sec\n"); ok {
		t.Errorf("ParseClientCPU without a CPU line = %g, true; want false", got)
	}

	// A real shell: the command's CPU is its children's, and its exit
	// status is kept.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("no sh on PATH: %v", err)
	}
	cmd := exec.Command(sh, "-c", WithCPUTimes(`sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exit 3'`))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("the wrapped command's exit: %v, want status 3 (the command's own)", err)
	}
	if got, ok := ParseClientCPU(string(out)); !ok || got <= 0 {
		t.Errorf("ParseClientCPU of a real shell's output %q = %g, %v; want the loop's CPU time, above 0", out, got, ok)
	}
}
