package bench

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The clients' summary lines.
var (
	// ProducerPerformance's last line (org.apache.kafka.tools.
	// ProducerPerformance.Stats.printTotal): "10000 records sent,
	// 503.018109 records/sec (65.24 MB/sec), 1480.75 ms avg latency,
	// 3121.00 ms max latency, 1497 ms 50th, 2603 ms 95th, 3042 ms 99th,
	// 3110 ms 99.9th." Its windows' lines have no percentiles.
	producerPerfTotal = regexp.MustCompile(`(?m)^(\d+) records sent, ([0-9.]+) records/sec \([0-9.]+ MB/sec\), [0-9.]+ ms avg latency, [0-9.]+ ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th`)
	// alert-producer's visit line.
	alertProducerVisit = regexp.MustCompile(`(?m)^visit:\d+, producer:\d+, expected:(\d+), sent:\d+, acked:(\d+), errors:(\d+), bytes:(\d+), producing:([0-9.]+)s, ack_p50:([0-9.]+)ms, ack_p99:([0-9.]+)ms`)
	// alert-consumer's visit line (agents/consume printVisits).
	// alert-consumer's log line when its member got its partitions
	// (agents/consume Member.Setup).
	alertConsumerAssigned = regexp.MustCompile(`(?m) assigned map\[.*\] at (\S+)$`)
	alertConsumerVisit    = regexp.MustCompile(`(?m)^visit:\d+, group:\S+, member:\S+, received:(\d+), duplicates:\d+, first:(\S+), last:(\S+),`)
	// An agent's CPU line at exit (agents/lifecycle.CPULine).
	agentCPU = regexp.MustCompile(`(?m)^[a-z-]+: cpu: user ([0-9.]+) s, system ([0-9.]+) s\s*$`)
	// The shell's `times` after TimesMarker (WithCPUTimes): the shell's
	// own user and system time, then its children's (the Kafka tool's
	// JVM). dash prints "0m1.230000s 0m0.450000s", bash "0m1.230s ...".
	shellTimes = regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(TimesMarker) + `\s*\n\d+m[0-9.]+s \d+m[0-9.]+s\s*\n(\d+)m([0-9.]+)s (\d+)m([0-9.]+)s`)
)

// TimesMarker is the line WithCPUTimes prints before the shell's times
// (no quote in it: it is echoed in single quotes).
const TimesMarker = "cpu (times: this shell, then the commands it ran):"

// WithCPUTimes wraps a POSIX shell command so that, after it ends, the
// shell prints TimesMarker and its `times` (the CPU time of the command's
// processes, as for a Kafka tool's JVM), then exits with the command's
// status. ParseClientCPU reads it.
func WithCPUTimes(command string) string {
	return command + "; rc=$?; echo '" + TimesMarker + "'; times; exit $rc"
}

// ParseClientCPU reads a client's CPU time (user + system, seconds) from
// its output: an agent's CPU line at exit, or the shell's times after
// WithCPUTimes (its children's). ok is false when neither is there.
func ParseClientCPU(out string) (seconds float64, ok bool) {
	if m := agentCPU.FindAllStringSubmatch(out, -1); len(m) > 0 {
		last := m[len(m)-1]
		u, err1 := strconv.ParseFloat(last[1], 64)
		s, err2 := strconv.ParseFloat(last[2], 64)
		return u + s, err1 == nil && err2 == nil
	}
	if m := shellTimes.FindStringSubmatch(out); m != nil {
		um, _ := strconv.ParseFloat(m[1], 64)
		us, err1 := strconv.ParseFloat(m[2], 64)
		sm, _ := strconv.ParseFloat(m[3], 64)
		ss, err2 := strconv.ParseFloat(m[4], 64)
		return um*60 + us + sm*60 + ss, err1 == nil && err2 == nil
	}
	return 0, false
}

// ParseProducerPerformance reads ProducerPerformance's output: records,
// seconds (records ÷ its records/sec), bytes (records × recordSize: every
// record has that size) and its ack latency p50 and p99.
func ParseProducerPerformance(out string, recordSize int) (Try, error) {
	m := producerPerfTotal.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return Try{}, fmt.Errorf("no summary line (\"N records sent, R records/sec ..., P ms 50th, ...\") in ProducerPerformance's output")
	}
	last := m[len(m)-1]
	n, _ := strconv.ParseInt(last[1], 10, 64)
	rate, _ := strconv.ParseFloat(last[2], 64)
	p50, _ := strconv.ParseFloat(last[3], 64)
	p99, _ := strconv.ParseFloat(last[4], 64)
	if rate <= 0 {
		return Try{}, fmt.Errorf("ProducerPerformance sent %d records at %g records/s", n, rate)
	}
	return Try{Records: n, Bytes: n * int64(recordSize), Seconds: float64(n) / rate, P50Ms: p50, P99Ms: p99}, nil
}

// ParseAlertProducer reads alert-producer's visit line (one visit, one
// producer): acknowledged records and bytes, producing time (the visit's
// start, when its first alert is sent, to the last ack) and ack latency.
// Failed sends are an error: the pass did not deliver what it was asked.
func ParseAlertProducer(out string) (Try, error) {
	m := alertProducerVisit.FindStringSubmatch(out)
	if m == nil {
		return Try{}, fmt.Errorf("no visit line (\"visit:0, producer:0, expected:..., producing:Xs, ack_p50:...\") in alert-producer's output")
	}
	expected, _ := strconv.ParseInt(m[1], 10, 64)
	acked, _ := strconv.ParseInt(m[2], 10, 64)
	errs, _ := strconv.ParseInt(m[3], 10, 64)
	bytes, _ := strconv.ParseInt(m[4], 10, 64)
	secs, _ := strconv.ParseFloat(m[5], 64)
	p50, _ := strconv.ParseFloat(m[6], 64)
	p99, _ := strconv.ParseFloat(m[7], 64)
	if errs > 0 || acked != expected {
		return Try{}, fmt.Errorf("alert-producer acknowledged %d of %d records (%d failed sends)", acked, expected, errs)
	}
	return Try{Records: acked, Bytes: bytes, Seconds: secs, P50Ms: p50, P99Ms: p99}, nil
}

// ParseConsumerPerformance reads ConsumerPerformance's data line (after
// its header "start.time, end.time, data.consumed.in.MB, MB.sec,
// data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms,
// fetch.MB.sec, fetch.nMsg.sec"): records, bytes (its MB are MiB) and the
// fetch time, which leaves out the group join as alert-consumer's first
// record to last does.
func ParseConsumerPerformance(out string) (Try, error) {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "start.time, end.time,") {
			continue
		}
		for _, d := range lines[i+1:] {
			f := strings.Split(d, ",")
			if len(f) < 10 {
				continue
			}
			for k := range f {
				f[k] = strings.TrimSpace(f[k])
			}
			mib, err1 := strconv.ParseFloat(f[2], 64)
			n, err2 := strconv.ParseInt(f[4], 10, 64)
			fetchMs, err3 := strconv.ParseFloat(f[7], 64)
			if err1 != nil || err2 != nil || err3 != nil {
				return Try{}, fmt.Errorf("ConsumerPerformance's data line %q does not parse", d)
			}
			if n == 0 || fetchMs <= 0 {
				return Try{}, fmt.Errorf("ConsumerPerformance read %d records in %g ms", n, fetchMs)
			}
			return Try{Records: n, Bytes: int64(mib * (1 << 20)), Seconds: fetchMs / 1000}, nil
		}
	}
	return Try{}, fmt.Errorf("no data line after the header \"start.time, end.time, ...\" in ConsumerPerformance's output")
}

// ParseAlertConsumer reads alert-consumer's visit lines (--mode drop,
// --stop-after): records received, summed over the lines (one per visit;
// the bench's topic holds one), and the time from the member's first
// assignment (its "assigned ... at T" log line) to the last record, as
// ConsumerPerformance's fetch time runs from its assignment; without that
// line, from the first record.
func ParseAlertConsumer(out string) (Try, error) {
	ms := alertConsumerVisit.FindAllStringSubmatch(out, -1)
	if len(ms) == 0 {
		return Try{}, fmt.Errorf("no visit line (\"visit:0, group:..., received:N, ..., first:T, last:T\") in alert-consumer's output")
	}
	var t Try
	var first, last time.Time
	for _, m := range ms {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		f, err1 := time.Parse(time.RFC3339Nano, m[2])
		l, err2 := time.Parse(time.RFC3339Nano, m[3])
		if err1 != nil || err2 != nil {
			return Try{}, fmt.Errorf("alert-consumer's visit line has times %q and %q", m[2], m[3])
		}
		t.Records += n
		if first.IsZero() || f.Before(first) {
			first = f
		}
		if l.After(last) {
			last = l
		}
	}
	if a := alertConsumerAssigned.FindStringSubmatch(out); a != nil {
		at, err := time.Parse(time.RFC3339Nano, a[1])
		if err != nil {
			return Try{}, fmt.Errorf("alert-consumer's assignment line has time %q", a[1])
		}
		if at.Before(first) {
			first = at
		}
	}
	t.Seconds = last.Sub(first).Seconds()
	if t.Seconds <= 0 {
		return Try{}, fmt.Errorf("alert-consumer received %d records in no time (first %s, last %s)", t.Records, first, last)
	}
	return t, nil
}
