// Package sizing applies DMTN-028's Kafka sizing rules ("Compute Resources
// and Settings Recommendations", DMTN-028 revision 2018-03-29) to an alert
// stream: the disks each cache/rewind retention and partition count needs,
// the brokers' memory to buffer the writes, and Confluent's rule of thumb
// for the number of partitions. It is pure arithmetic: Plan reads nothing;
// ReadRun reads a run archive's measured broker ingest for the memory rule.
//
// # Units and rounding of DMTN-028's disk table
//
// DMTN-028's table ("Cache/Rewind time allowance | Partitions | Disk space
// (num disks x size)", 1 day ... 30 days by 1 ... 128 partitions, replication
// factor 1) is reproduced by decimal SI units, 1 KB = 10^3 bytes, 1 GB =
// 10^9, 1 TB = 10^12 (not KiB, GiB, TiB), with nothing added for overhead:
//
//   - one night = 10 million alerts x 150 KB = 1.5 x 10^12 bytes = 1.5 TB
//     ("one night of minimal alerts is about ~1.5 TB"); 150 KB is not
//     stated in DMTN-028, it is what 1.5 TB / 10 million implies (its test
//     alert is 136 KB, "~135 KB" and "about 140 KB" elsewhere);
//   - per disk = nights x 1.5 TB / partitions, with 1 TB = 1000 GB: 1.5 TB /
//     16 = 93.75 GB, printed "94 GB" (with 1 TB = 1024 GB it would be 96);
//     30 x 1.5 TB / 128 = 351.5625 GB, printed "352 GB" (binary: 360);
//   - printing: sizes of at least 1 TB in TB to one decimal, the ".0"
//     dropped (10.5 TB, 1.3 TB, 21 TB, 45 TB); smaller ones in whole GB,
//     rounded to the nearest (656.25 -> 656, 703.125 -> 703, 82.03 -> 82:
//     not rounded up, so a disk of exactly the printed size can be up to
//     0.5 GB short).
//
// 19 of the 20 rows follow that exactly. The exception is 1 day / 64
// partitions: 1.5 TB / 64 = 23.4375 GB, published as "24 GB" where rounding
// to the nearest gives 23 GB; it is what halving the rounded 47 GB of 32
// partitions gives (23.5 -> 24), which is probably how it was made. Human,
// which formats sizes here, prints 23 GB.
//
// DMTN-028's measurement tables use binary units (MiB, GiB); its sizing
// section and this package use decimal ones.
//
// # Write throughput
//
// DMTN-028's memory rule is "write_throughput *30 if you want a 30 second
// buffer", applied in its recommendations to "bursts of up to 10,000
// alerts/second": 1.35 GB/s for 135 KB alerts, so ~40-80 GB for 30-60 s.
// The write throughput here is that burst rate by default (alerts per
// visit x alert size / burst time, 1 s), or one given, or one measured in a
// run (ReadRun). Memory is computed both as DMTN-028 does (the whole
// stream into one broker) and for the busiest of the brokers the
// partitions are spread over. With visits 39 s apart a 30 s window can
// hold only one visit's writes (1.5 GB), so the burst-rate rule is an upper
// bound; Result.WindowBytes gives the cadence's figure next to it.
package sizing

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/alert-testbed/testbed/internal/archive"
	"github.com/alert-testbed/testbed/internal/monitoring"
)

// Decimal byte units (SI), the units of DMTN-028's sizing section.
const (
	KB = 1e3
	MB = 1e6
	GB = 1e9
	TB = 1e12
)

// Day is one night of alerts: a retention holds ceil(retention / Day)
// nights.
const Day = 24 * time.Hour

// ConfluentMachineBytes is Confluent's recommended broker machine memory,
// 64 GB, as DMTN-028 quotes it ("a machine with 64 GB of RAM or an AWS
// instances with 32 GB").
const ConfluentMachineBytes = 64 * GB

// PartitionsPerBrokerReplica is the 100 of Confluent's rule of thumb for
// the number of partitions, 100 x b x r (b brokers, r the replication
// factor), as DMTN-028 quotes it ("no more than 100 * b * r partitions per
// broker ... For a three-broker cluster and a replication of a two, the
// limit is then 600 partitions"). Confluent's blog (Jun Rao, "How to choose
// the number of topics/partitions in a Kafka cluster?") words it as a limit
// "per broker"; DMTN-028 compares it with a topic's partition count, and so
// does this package.
const PartitionsPerBrokerReplica = 100

// Inputs are what a sizing is computed from. The name in each field's
// comment (--alerts-per-visit ...) is its `testbed sizing` flag, which
// Validate's errors name.
type Inputs struct {
	// AlertsPerVisit (--alerts-per-visit): alerts of one visit. Default
	// 10,000: LSST's nAlertVisitAvg, DMTN-028's opening ("about 10,000
	// alerts per visit and 10 million per night").
	AlertsPerVisit int64
	// VisitsPerNight (--visits-per-night). Default 1,000: DMTN-028's 10
	// million alerts a night / 10,000 per visit.
	VisitsPerNight int64
	// AlertsPerNight (--alerts-per-night): 0 means AlertsPerVisit x
	// VisitsPerNight; otherwise it is used as is and VisitsPerNight is not.
	AlertsPerNight int64
	// AlertBytes (--alert-size): bytes stored per alert. Default 150,000
	// (150 KB): what DMTN-028's "one night of minimal alerts is about ~1.5
	// TB" of 10 million alerts implies.
	AlertBytes int64
	// Retentions (--retention): cache/rewind times (Kafka's retention.ms).
	// Default 1, 7, 14 and 30 days: DMTN-028's table. A retention holds
	// ceil(retention / 24 h) nights of alerts: writes come in nightly
	// bursts, and any window of k x 24 h holds exactly k nights, so a window
	// shorter than k x 24 h holds no more than k (a 12 h retention can hold a
	// whole night).
	Retentions []time.Duration
	// Partitions (--partitions): partition counts of the alert topic.
	// Default 1, 16, 32, 64, 128: DMTN-028's table.
	Partitions []int
	// ReplicationFactor (--replication-factor): copies of each partition.
	// Default 1: DMTN-028's table ("for a replication factor of one"); its
	// recommendation for production is 2 with at least 3 brokers.
	ReplicationFactor int
	// Brokers (--brokers). Default 3: DMTN-028's recommended minimum ("a
	// cluster of at least three Kafka brokers"), and the testbed's.
	Brokers int
	// Buffer (--buffer): how long a broker buffers writes in memory.
	// Default 30 s: the Kafka/Confluent guidance DMTN-028 quotes
	// ("write_throughput *30 if you want a 30 second buffer"); DMTN-028
	// suggests 30-60 s "given the time between visits".
	Buffer time.Duration
	// Burst (--burst): how long a visit's alerts take to arrive. Default 1
	// s: DMTN-028's "possible bursts of up to 10,000 alerts/second".
	Burst time.Duration
	// VisitInterval (--visit-interval): time between visits. Default 39 s:
	// DMTN-028 ("10,000 alert events every 39 seconds").
	VisitInterval time.Duration
	// WriteThroughput (--write-throughput): bytes/s the producers write into
	// Kafka, for the memory rule. 0 means derived: AlertsPerVisit x
	// AlertBytes / Burst (DMTN-028's 1.35 GB/s for 135 KB alerts), unless
	// Measured is set.
	WriteThroughput float64
	// Measured (--from): a run's measured write throughput (ReadRun), used
	// instead of the derived one. At most one of WriteThroughput and
	// Measured may be set.
	Measured *Measured
}

// Defaults reproduces DMTN-028's disk table and memory rule (see each
// field of Inputs for where its value comes from).
func Defaults() Inputs {
	return Inputs{
		AlertsPerVisit:    10_000,
		VisitsPerNight:    1_000,
		AlertBytes:        150_000,
		Retentions:        []time.Duration{1 * Day, 7 * Day, 14 * Day, 30 * Day},
		Partitions:        []int{1, 16, 32, 64, 128},
		ReplicationFactor: 1,
		Brokers:           3,
		Buffer:            30 * time.Second,
		Burst:             time.Second,
		VisitInterval:     39 * time.Second,
	}
}

// Error is an input Validate refuses: Flag is the `testbed sizing` flag
// (without its dashes) and the Inputs field it sets.
type Error struct {
	Flag string
	Msg  string
}

func (e *Error) Error() string { return "--" + e.Flag + ": " + e.Msg }

func errorf(flag, format string, args ...any) *Error {
	return &Error{Flag: flag, Msg: fmt.Sprintf(format, args...)}
}

// Limits of Validate: beyond them a number is a typo, not a plan.
const (
	maxRetention  = 3650 * Day
	maxPartitions = 1_000_000
	maxBrokers    = 10_000
	maxCount      = 1e9 // alerts per visit, visits per night, bytes per alert
)

// Validate checks the inputs; its error is an *Error naming the flag and
// what to give instead.
func (in Inputs) Validate() error {
	if in.AlertsPerVisit < 1 || in.AlertsPerVisit > maxCount {
		return errorf("alerts-per-visit", "%d: give a positive number of alerts per visit, at most %d (LSST: 10000)", in.AlertsPerVisit, int64(maxCount))
	}
	if in.AlertsPerNight < 0 || in.AlertsPerNight > maxCount*maxCount {
		return errorf("alerts-per-night", "%d: give a positive number of alerts per night, at most %d (LSST: 10000000), or leave it out to use --alerts-per-visit x --visits-per-night", in.AlertsPerNight, int64(maxCount*maxCount))
	}
	if in.AlertsPerNight == 0 && (in.VisitsPerNight < 1 || in.VisitsPerNight > maxCount) {
		return errorf("visits-per-night", "%d: give a positive number of visits per night, at most %d (DMTN-028: 1000, 10 million alerts / 10,000 per visit)", in.VisitsPerNight, int64(maxCount))
	}
	if in.AlertBytes < 1 || in.AlertBytes > maxCount {
		return errorf("alert-size", "%d: give the bytes stored per alert, a positive whole number, at most %d (DMTN-028: 150000, 1.5 TB a night / 10 million alerts)", in.AlertBytes, int64(maxCount))
	}
	if len(in.Retentions) == 0 {
		return errorf("retention", "no retention given: list one or more, e.g. 1d,7d,14d,30d")
	}
	seenR := map[time.Duration]bool{}
	for _, r := range in.Retentions {
		if r <= 0 || r > maxRetention {
			return errorf("retention", "%s: give retentions longer than 0 and at most %s, e.g. 1d,7d,14d,30d", FormatRetention(r), FormatRetention(maxRetention))
		}
		if seenR[r] {
			return errorf("retention", "%s is listed twice: list each retention once", FormatRetention(r))
		}
		seenR[r] = true
	}
	if len(in.Partitions) == 0 {
		return errorf("partitions", "no partition count given: list one or more, e.g. 1,16,32,64,128")
	}
	seenP := map[int]bool{}
	for _, p := range in.Partitions {
		if p < 1 || p > maxPartitions {
			return errorf("partitions", "%d: give partition counts from 1 to %d, e.g. 1,16,32,64,128", p, maxPartitions)
		}
		if seenP[p] {
			return errorf("partitions", "%d is listed twice: list each partition count once", p)
		}
		seenP[p] = true
	}
	if in.Brokers < 1 || in.Brokers > maxBrokers {
		return errorf("brokers", "%d: give the number of Kafka brokers, 1 to %d (DMTN-028 recommends at least 3)", in.Brokers, maxBrokers)
	}
	if in.ReplicationFactor < 1 || in.ReplicationFactor > in.Brokers {
		return errorf("replication-factor", "%d: give a replication factor from 1 to --brokers (%d): Kafka puts each replica of a partition on a different broker", in.ReplicationFactor, in.Brokers)
	}
	if in.Buffer <= 0 {
		return errorf("buffer", "%s: give how long brokers buffer writes, longer than 0, e.g. 30s (DMTN-028: 30-60 s)", FormatDuration(in.Buffer))
	}
	if in.VisitInterval <= 0 {
		return errorf("visit-interval", "%s: give the time between visits, longer than 0, e.g. 39s", FormatDuration(in.VisitInterval))
	}
	if in.Burst <= 0 || in.Burst > in.VisitInterval {
		return errorf("burst", "%s: give how long a visit's alerts take to arrive, longer than 0 and at most --visit-interval (%s), e.g. 1s", FormatDuration(in.Burst), FormatDuration(in.VisitInterval))
	}
	if in.WriteThroughput < 0 || math.IsNaN(in.WriteThroughput) || math.IsInf(in.WriteThroughput, 0) {
		return errorf("write-throughput", "%g: give the producers' write rate in bytes/s, a positive number, or leave it out to derive it", in.WriteThroughput)
	}
	if in.WriteThroughput > 0 && in.Measured != nil {
		return errorf("write-throughput", "given with --from: give one of them (--from measures the write throughput in a run)")
	}
	if m := in.Measured; m != nil && (m.WriteThroughput <= 0 || math.IsNaN(m.WriteThroughput) || math.IsInf(m.WriteThroughput, 0)) {
		return errorf("from", "%s: the measured write throughput is %g bytes/s; give a run whose brokers received data", m.Dir, m.WriteThroughput)
	}
	return nil
}

// Disk is the disk one retention and partition count need (DMTN-028's
// table): Disks disks of PerDiskBytes each. "Each partition of a topic must
// fit on its own disk": each replica of a partition is on its own disk, on
// the broker that holds it, so a replication factor r makes r times the
// disks of the same size.
type Disk struct {
	Retention    time.Duration
	Nights       int     // nights of alerts the retention holds: ceil(Retention / Day)
	Partitions   int     // partitions of the topic
	Disks        int     // Partitions x replication factor
	PerDiskBytes float64 // bytes of one partition replica: Nights x bytes per night / Partitions
	TotalBytes   float64 // Disks x PerDiskBytes
	OverBound    bool    // Partitions exceeds Confluent's 100 x b x r
}

// BrokerMemory is the memory the busiest broker needs to buffer its writes
// when the topic has Partitions partitions: P partitions of r replicas
// spread as evenly as Kafka places them over b brokers put ceil(P x r / b)
// replicas on the busiest broker, each 1/P of the stream's writes (at most
// one replica of a partition per broker, so never more than the whole
// stream). One partition puts the whole stream on one broker, as DMTN-028's
// rule assumes.
type BrokerMemory struct {
	Partitions int
	Replicas   int     // partition replicas on the busiest broker: ceil(P x r / b)
	Bytes      float64 // MemoryBytes x Replicas / Partitions
}

// Throughput sources of Result.ThroughputFrom.
const (
	FromBurst    = "burst"    // derived: AlertsPerVisit x AlertBytes / Burst
	FromGiven    = "given"    // Inputs.WriteThroughput
	FromMeasured = "measured" // Inputs.Measured
)

// Result is a sizing. Byte quantities are bytes (float64: exact to the
// byte below 9 PB, and never overflowing).
type Result struct {
	Inputs         Inputs
	AlertsPerNight int64   // Inputs.AlertsPerNight, or AlertsPerVisit x VisitsPerNight
	NightBytes     float64 // AlertsPerNight x AlertBytes: DMTN-028's ~1.5 TB
	VisitBytes     float64 // AlertsPerVisit x AlertBytes
	Disks          []Disk  // one per retention and partition count, in the order given

	// WriteThroughput is the bytes/s the producers write into Kafka (the
	// "write_throughput" of DMTN-028's memory rule), from ThroughputFrom.
	WriteThroughput float64
	ThroughputFrom  string
	// AverageThroughput is VisitBytes / VisitInterval: the stream's mean
	// rate during a night (DMTN-028's "~250 alerts per second"). DMTN-028's
	// "Scaling Alert Volume" applies the memory rule to it: "250 alerts/sec
	// * 135 KB/alert * 30 seconds = 10+ Gigabytes", but the product is 1.01
	// GB; its recommendations use the burst rate (WriteThroughput).
	AverageThroughput float64
	// MemoryBytes is DMTN-028's rule, WriteThroughput x Buffer: the memory
	// of a broker that takes the whole stream (how DMTN-028 reckons it:
	// 1.35 GB/s x 30-60 s = ~40-80 GB per machine).
	MemoryBytes float64
	// MemoryPerBrokerBytes is MemoryBytes x ReplicationFactor / Brokers:
	// each broker writes its share of the stream's r copies (leaders and
	// followers spread evenly), and so buffers that share. It is the limit
	// of many partitions; BrokerMemory has it for each partition count.
	MemoryPerBrokerBytes float64
	// BrokerMemory is the busiest broker's buffer for each partition count,
	// in the order given.
	BrokerMemory []BrokerMemory
	// WindowBytes, with a derived throughput, is the most one Buffer-long
	// window can hold of bursts of Burst every VisitInterval: VisitBytes x
	// (k + min(s, Burst) / Burst) for Buffer = k x VisitInterval + s. The
	// rule's MemoryBytes assumes the burst rate lasts the whole buffer
	// (30 visits' worth in 30 s by default); WindowBytes is what the visit
	// cadence can actually put into it. 0 with a given or measured
	// throughput.
	WindowBytes float64

	// PartitionBound is Confluent's 100 x Brokers x ReplicationFactor.
	PartitionBound int
	// Warnings: partition counts past PartitionBound, memory past
	// Confluent's 64 GB machine, visits that do not fit in a day.
	Warnings []string
}

// Plan validates the inputs and sizes them.
func Plan(in Inputs) (Result, error) {
	if err := in.Validate(); err != nil {
		return Result{}, err
	}
	r := Result{Inputs: in, AlertsPerNight: in.AlertsPerNight}
	if r.AlertsPerNight == 0 {
		r.AlertsPerNight = in.AlertsPerVisit * in.VisitsPerNight
	}
	r.NightBytes = float64(r.AlertsPerNight) * float64(in.AlertBytes)
	r.VisitBytes = float64(in.AlertsPerVisit) * float64(in.AlertBytes)
	r.PartitionBound = PartitionsPerBrokerReplica * in.Brokers * in.ReplicationFactor

	for _, ret := range in.Retentions {
		nights := int(math.Ceil(float64(ret) / float64(Day)))
		for _, p := range in.Partitions {
			d := Disk{Retention: ret, Nights: nights, Partitions: p, Disks: p * in.ReplicationFactor}
			d.PerDiskBytes = float64(nights) * r.NightBytes / float64(p)
			d.TotalBytes = float64(d.Disks) * d.PerDiskBytes
			d.OverBound = p > r.PartitionBound
			r.Disks = append(r.Disks, d)
		}
	}
	over := map[int]bool{}
	for _, p := range in.Partitions {
		if p > r.PartitionBound && !over[p] {
			over[p] = true
			r.Warnings = append(r.Warnings, fmt.Sprintf(
				"%d partitions exceed Confluent's rule of thumb of at most 100 x b x r = 100 x %d x %d = %d partitions (DMTN-028): use fewer partitions, or more brokers",
				p, in.Brokers, in.ReplicationFactor, r.PartitionBound))
		}
	}

	r.AverageThroughput = r.VisitBytes / in.VisitInterval.Seconds()
	switch {
	case in.Measured != nil:
		r.WriteThroughput, r.ThroughputFrom = in.Measured.WriteThroughput, FromMeasured
	case in.WriteThroughput > 0:
		r.WriteThroughput, r.ThroughputFrom = in.WriteThroughput, FromGiven
	default:
		r.WriteThroughput, r.ThroughputFrom = r.VisitBytes/in.Burst.Seconds(), FromBurst
		k := math.Floor(in.Buffer.Seconds() / in.VisitInterval.Seconds())
		s := in.Buffer.Seconds() - k*in.VisitInterval.Seconds()
		r.WindowBytes = r.VisitBytes * (k + math.Min(s, in.Burst.Seconds())/in.Burst.Seconds())
	}
	r.MemoryBytes = r.WriteThroughput * in.Buffer.Seconds()
	r.MemoryPerBrokerBytes = r.MemoryBytes * float64(in.ReplicationFactor) / float64(in.Brokers)
	for _, p := range in.Partitions {
		replicas := (p*in.ReplicationFactor + in.Brokers - 1) / in.Brokers
		bm := BrokerMemory{Partitions: p, Replicas: replicas, Bytes: r.MemoryBytes * float64(replicas) / float64(p)}
		r.BrokerMemory = append(r.BrokerMemory, bm)
		if bm.Bytes > ConfluentMachineBytes {
			r.Warnings = append(r.Warnings, fmt.Sprintf(
				"with %d partitions the busiest broker buffers %s, more than Confluent's 64 GB machine (DMTN-028): use more partitions and brokers, or a shorter --buffer",
				p, Human(bm.Bytes)))
		}
	}
	if night := float64(in.VisitsPerNight) * in.VisitInterval.Seconds(); in.AlertsPerNight == 0 && night > Day.Seconds() {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"%d visits every %s take %.1f h, longer than a day: check --visits-per-night and --visit-interval",
			in.VisitsPerNight, FormatDuration(in.VisitInterval), night/3600))
	}
	return r, nil
}

// Human formats bytes in decimal units as DMTN-028's table does: at least
// 1 TB in TB to one decimal ("10.5 TB", "21 TB"); below, in GB, MB or KB,
// whole from 10 up ("94 GB") and to one decimal under 10 ("1.5 GB").
// Values are rounded to the nearest (half away from zero).
func Human(b float64) string {
	if b >= 999.5*GB { // rounds to at least 1 TB (and not to 1000 GB)
		return trim(math.Round(b/TB*10)/10, 1) + " TB"
	}
	for _, u := range []struct {
		size float64
		name string
	}{{GB, "GB"}, {MB, "MB"}, {KB, "KB"}} {
		if b >= 0.9995*u.size {
			v := b / u.size
			if math.Round(v*10)/10 < 10 {
				return trim(math.Round(v*10)/10, 1) + " " + u.name
			}
			return trim(math.Round(v), 0) + " " + u.name
		}
	}
	return trim(math.Round(b), 0) + " bytes"
}

func trim(v float64, decimals int) string {
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', decimals, 64), ".0")
}

// FormatRetention writes a retention as DMTN-028 does ("1 day", "7
// days") when it is whole days, as a short duration ("12h") otherwise.
func FormatRetention(d time.Duration) string {
	if d > 0 && d%Day == 0 {
		n := int64(d / Day)
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return FormatDuration(d)
}

// FormatDuration writes a duration without Go's zero units: whole seconds
// under an hour as seconds ("30s", "60s"), others as time.Duration does
// less trailing zero units ("12h", "1h30m", "1.5s").
func FormatDuration(d time.Duration) string {
	if d > 0 && d < time.Hour && d%time.Second == 0 {
		return fmt.Sprintf("%ds", int64(d/time.Second))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseRetentions parses a comma-separated list of retentions: whole or
// decimal days ("1d", "7d", "1.5d") or Go durations ("12h", "90m").
func ParseRetentions(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, errorf("retention", "%q has an empty item: give a comma-separated list such as 1d,7d,14d,30d", s)
		}
		var d time.Duration
		if num, ok := strings.CutSuffix(f, "d"); ok {
			days, err := strconv.ParseFloat(num, 64)
			if err != nil || math.IsNaN(days) || math.IsInf(days, 0) {
				return nil, errorf("retention", "%q is not a number of days: give e.g. 7d, or a Go duration such as 12h", f)
			}
			// Clamped before the conversion, which would overflow; the
			// range check below names what is allowed.
			days = max(min(days, float64(maxRetention/Day)+1), -1)
			d = time.Duration(math.Round(days * float64(Day)))
		} else {
			var err error
			if d, err = time.ParseDuration(f); err != nil {
				return nil, errorf("retention", "%q is neither days (7d) nor a Go duration (12h): give e.g. 1d,7d,14d,30d", f)
			}
		}
		if d <= 0 || d > maxRetention {
			// Named as given: "0d", not the "0s" it parses to.
			return nil, errorf("retention", "%q: give retentions longer than 0 and at most %s, e.g. 1d,7d,14d,30d", f, FormatRetention(maxRetention))
		}
		out = append(out, d)
	}
	return out, nil
}

// ParsePartitions parses a comma-separated list of partition counts.
func ParsePartitions(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, errorf("partitions", "%q is not a whole number: give a comma-separated list such as 1,16,32,64,128", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// WriteText writes the sizing as plain text: the assumptions (each input
// and where its default comes from), the disk table, the broker memory,
// the partition bound and the warnings.
func (r Result) WriteText(w io.Writer) error {
	in, def := r.Inputs, Defaults()
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	src := func(isDefault bool, source string) string {
		if isDefault {
			return "default: " + source
		}
		return "given"
	}

	p("Assumptions:\n")
	p("  units:               decimal (SI), as DMTN-028's sizing: 1 KB = 10^3 bytes, 1 GB = 10^9, 1 TB = 10^12\n")
	p("  alerts per visit:    %s (--alerts-per-visit; %s)\n", thousands(in.AlertsPerVisit),
		src(in.AlertsPerVisit == def.AlertsPerVisit, "LSST's nAlertVisitAvg, DMTN-028"))
	if in.AlertsPerNight > 0 {
		p("  alerts per night:    %s (--alerts-per-night; given)\n", thousands(r.AlertsPerNight))
	} else {
		p("  visits per night:    %s (--visits-per-night; %s)\n", thousands(in.VisitsPerNight),
			src(in.VisitsPerNight == def.VisitsPerNight, "DMTN-028's 10 million alerts a night / 10,000 per visit"))
		p("  alerts per night:    %s = alerts per visit x visits per night\n", thousands(r.AlertsPerNight))
	}
	p("  alert size stored:   %s bytes (--alert-size; %s)\n", thousands(in.AlertBytes),
		src(in.AlertBytes == def.AlertBytes, "DMTN-028's ~1.5 TB a night / 10 million alerts; its test alert is 136 KB"))
	p("  data per night:      %s = alerts per night x alert size\n", Human(r.NightBytes))
	rets := make([]string, len(in.Retentions))
	for i, d := range in.Retentions {
		rets[i] = FormatRetention(d)
	}
	p("  retention:           %s (--retention; %s); each holds ceil(retention / 24 h) nights\n", strings.Join(rets, ", "),
		src(slices.Equal(in.Retentions, def.Retentions), "DMTN-028's table"))
	p("  partitions:          %s (--partitions; %s)\n", joinInts(in.Partitions),
		src(slices.Equal(in.Partitions, def.Partitions), "DMTN-028's table"))
	p("  replication factor:  %d (--replication-factor; %s)\n", in.ReplicationFactor,
		src(in.ReplicationFactor == def.ReplicationFactor, "DMTN-028's table; it recommends 2 for production"))
	p("  brokers:             %d (--brokers; %s)\n", in.Brokers,
		src(in.Brokers == def.Brokers, "DMTN-028's recommended minimum"))
	p("  buffer:              %s (--buffer; %s)\n", FormatDuration(in.Buffer),
		src(in.Buffer == def.Buffer, "Kafka guidance quoted by DMTN-028: memory = write throughput x 30 s"))
	p("  visit interval:      %s (--visit-interval; %s)\n", FormatDuration(in.VisitInterval),
		src(in.VisitInterval == def.VisitInterval, "DMTN-028: 10,000 alerts every 39 seconds"))
	switch r.ThroughputFrom {
	case FromBurst:
		p("  burst:               %s (--burst; %s)\n", FormatDuration(in.Burst),
			src(in.Burst == def.Burst, "DMTN-028: bursts of up to 10,000 alerts/second"))
		p("  write throughput:    %s/s = alerts per visit x alert size / burst (--write-throughput or --from to change)\n", Human(r.WriteThroughput))
	case FromGiven:
		p("  write throughput:    %s/s (--write-throughput; given)\n", Human(r.WriteThroughput))
	case FromMeasured:
		m := in.Measured
		p("  write throughput:    %s/s (--from; measured, below)\n", Human(r.WriteThroughput))
		p("\nMeasured in %s (%s, %s of %s):\n", m.Dir, ServicesFile, ReceiveMetric, strings.Join(m.Brokers, ", "))
		p("  peak broker ingest:  %s/s at %s, summed over the %d brokers (a 30 s rate: the busiest 30 s window's mean)\n",
			Human(m.PeakIngest), m.PeakAt.UTC().Format(time.RFC3339), len(m.Brokers))
		switch {
		case m.RunReplicationFactor == 1:
			p("  replication:         none: the run's topic.replication_factor is 1 (%s), so the ingest is\n", ExperimentFile)
			p("                       the producers' write rate, used as the write throughput\n")
		case m.RunReplicationFactor > 1:
			p("  replication:         the ingest includes replication between brokers: each byte produced is received\n")
			p("                       by %d brokers (the run's topic.replication_factor in %s: its leader and\n", m.RunReplicationFactor, ExperimentFile)
			p("                       %d follower%s), so the producers wrote about %s/s / %d = %s/s, used as the write throughput\n",
				m.RunReplicationFactor-1, plural(m.RunReplicationFactor-1, "", "s"), Human(m.PeakIngest), m.RunReplicationFactor, Human(m.WriteThroughput))
		}
		p("  busiest broker:      %s/s, %s in a %s buffer (what that broker itself received, replication included)\n",
			Human(m.PeakBrokerIngest), Human(m.PeakBrokerIngest*in.Buffer.Seconds()), FormatDuration(in.Buffer))
		for _, n := range m.Notes {
			p("  note:                %s\n", n)
		}
	}

	p("\nDisk (DMTN-028, Compute Resources and Settings Recommendations; each partition replica on its own disk):\n")
	rows := [][]string{{"retention", "partitions", "disks x size per disk", "total", "bytes per disk (rounded up)"}}
	for _, d := range r.Disks {
		rows = append(rows, []string{FormatRetention(d.Retention), strconv.Itoa(d.Partitions),
			fmt.Sprintf("%d x %s", d.Disks, Human(d.PerDiskBytes)), Human(d.TotalBytes),
			thousands(int64(math.Ceil(d.PerDiskBytes)))})
	}
	table(&b, "  ", rows)
	p("  sizes are rounded to the nearest as in DMTN-028 (round up to provision); Kafka deletes whole\n")
	p("  segments, so each partition can also hold up to one more segment (segment.bytes, 1 GiB by default)\n")

	p("\nBroker memory (DMTN-028: write throughput x buffer):\n")
	p("  %s = %s/s x %s: a broker taking the whole stream, as DMTN-028 reckons it (~40-80 GB for 135 KB alerts and a 30-60 s buffer)\n",
		Human(r.MemoryBytes), Human(r.WriteThroughput), FormatDuration(in.Buffer))
	p("  per broker: the stream's %d cop%s spread over %d brokers, %s each with many partitions (x %d/%d);\n",
		in.ReplicationFactor, plural(in.ReplicationFactor, "y", "ies"), in.Brokers, Human(r.MemoryPerBrokerBytes), in.ReplicationFactor, in.Brokers)
	p("  the busiest broker holds ceil(partitions x %d / %d) partition replicas, 1/partitions of the writes each:\n", in.ReplicationFactor, in.Brokers)
	mrows := [][]string{{"partitions", "replicas on busiest broker", "its memory"}}
	for _, bm := range r.BrokerMemory {
		mrows = append(mrows, []string{strconv.Itoa(bm.Partitions), strconv.Itoa(bm.Replicas), Human(bm.Bytes)})
	}
	table(&b, "    ", mrows)
	if r.ThroughputFrom == FromBurst {
		p("  at one visit of %s every %s, a %s window holds at most %s: the rule assumes the %s burst rate lasts\n",
			Human(r.VisitBytes), FormatDuration(in.VisitInterval), FormatDuration(in.Buffer), Human(r.WindowBytes), FormatDuration(in.Burst))
		p("  the whole buffer, an upper bound (the night's mean rate is %s/s)\n", Human(r.AverageThroughput))
	}

	p("\nPartitions (Confluent's rule of thumb, quoted by DMTN-028): at most 100 x b x r = 100 x %d x %d = %d\n",
		in.Brokers, in.ReplicationFactor, r.PartitionBound)

	p("\nWarnings:\n")
	if len(r.Warnings) == 0 {
		p("  none\n")
	}
	for _, wn := range r.Warnings {
		p("  %s\n", wn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func table(b *strings.Builder, indent string, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], len(c))
		}
	}
	for _, row := range rows {
		line := indent
		for i, c := range row {
			if i == len(row)-1 {
				line += c
			} else {
				line += c + strings.Repeat(" ", width[i]-len(c)+2)
			}
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// Files and series of a run archive ReadRun reads.
const (
	ServicesFile   = archive.FileServices
	ExperimentFile = archive.FileExperiment
	ReceiveMetric  = "network_receive_bytes_per_s"
)

// BrokerService matches the swarm services of the Kafka brokers.
var BrokerService = monitoring.BrokerService

// Measured is a run's peak write throughput, from its archive.
//
// PeakIngest is the largest, over the sample times, of the brokers'
// network receive rates summed over the brokers. A broker receives what
// producers send to the partitions it leads and, as a follower, what it
// fetches from the leaders of the partitions it replicates: with
// replication factor r every byte produced is received r times (once by
// its leader, r-1 times by followers), so the producers wrote about
// PeakIngest / r. The rest of a broker's receive traffic (fetch requests,
// offset commits, metadata, the controller's, Prometheus' scrapes) is
// small next to alerts. The ingest includes every topic's writes: with
// filters, their output topics too.
//
// The series are Prometheus rate()s over 30 s (swarm/prometheus/rules.yml)
// sampled every 5 s, so the peak is the mean of the busiest 30 s window:
// times 30 s it is the bytes that window received, what a 30 s buffer must
// hold; it is below the instantaneous rate of a burst shorter than 30 s.
type Measured struct {
	Dir                  string
	Brokers              []string  // the broker services found, sorted
	PeakIngest           float64   // bytes/s, summed over Brokers, at PeakAt
	PeakAt               time.Time // the sample time of PeakIngest
	PeakBrokerIngest     float64   // bytes/s: the largest single broker's sample
	Samples              int       // sample times
	RunReplicationFactor int       // the run's topic.replication_factor (experiment.yaml); 0 when unknown
	WriteThroughput      float64   // PeakIngest / RunReplicationFactor (PeakIngest when that is unknown)
	Notes                []string
}

// ReadRun reads a run archive's measured peak write throughput from its
// metrics/services.csv (monitoring.ReadCSV) and the run's replication
// factor from its experiment.yaml. A missing folder or services.csv is an
// error naming the path; a missing or unreadable experiment.yaml leaves
// the replication factor unknown, which a note says, and the ingest is then
// the write throughput (an upper bound).
func ReadRun(dir string) (Measured, error) {
	m := Measured{Dir: dir}
	if dir == "" {
		return m, errorf("from", "empty: give a run archive folder, e.g. runs/20261130-164609-0892")
	}
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return m, errorf("from", "%s does not exist: give a run archive folder, e.g. runs/20261130-164609-0892", dir)
		}
		return m, errorf("from", "%v", err)
	}
	if !st.IsDir() {
		return m, errorf("from", "%s is not a folder: give a run archive folder, e.g. runs/20261130-164609-0892", dir)
	}
	path := filepath.Join(dir, filepath.FromSlash(ServicesFile))
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return m, errorf("from", "%s does not exist: the run archive has no metrics (was it made by `testbed run` with the monitoring stack up?)", path)
		}
		return m, errorf("from", "%v", err)
	}
	defer f.Close()
	series, err := monitoring.ReadCSV(f)
	if err != nil {
		return m, errorf("from", "%s: %v", path, err)
	}

	for _, svc := range series.Services() {
		pts, ok := series[svc][ReceiveMetric]
		if !BrokerService.MatchString(svc) || !ok {
			continue
		}
		m.Brokers = append(m.Brokers, svc)
		for _, pt := range pts {
			if !math.IsNaN(pt.V) && !math.IsInf(pt.V, 0) {
				m.PeakBrokerIngest = max(m.PeakBrokerIngest, pt.V)
			}
		}
	}
	if len(m.Brokers) == 0 {
		return m, errorf("from", "%s has no %s series of a Kafka broker (services kafka_kafka-1, kafka_kafka-2, ...)", path, ReceiveMetric)
	}
	m.PeakIngest, m.PeakAt, m.Samples = series.SumPeak(BrokerService.MatchString, ReceiveMetric)
	if m.PeakIngest <= 0 {
		return m, errorf("from", "%s: the brokers' %s is never above 0: the run wrote nothing to Kafka", path, ReceiveMetric)
	}

	m.WriteThroughput = m.PeakIngest
	rf, note := runReplicationFactor(dir)
	if note != "" {
		m.Notes = append(m.Notes, note)
	}
	if rf > 0 {
		m.RunReplicationFactor = rf
		m.WriteThroughput = m.PeakIngest / float64(rf)
	}
	return m, nil
}

// runReplicationFactor reads topic.replication_factor from a run's
// experiment.yaml; 0 and a note saying why when it cannot.
func runReplicationFactor(dir string) (int, string) {
	path := filepath.Join(dir, ExperimentFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Sprintf("%s unreadable (%v): the run's replication factor is unknown, so the write throughput is the whole ingest, replication included (an upper bound; with replication factor r producers write about ingest / r)", path, err)
	}
	var e struct {
		Topic struct {
			ReplicationFactor int `yaml:"replication_factor"`
		} `yaml:"topic"`
	}
	if err := yaml.Unmarshal(data, &e); err != nil || e.Topic.ReplicationFactor < 1 {
		why := "no topic.replication_factor"
		if err != nil {
			why = err.Error()
		}
		return 0, fmt.Sprintf("%s: %s: the run's replication factor is unknown, so the write throughput is the whole ingest, replication included (an upper bound; with replication factor r producers write about ingest / r)", path, why)
	}
	return e.Topic.ReplicationFactor, ""
}
