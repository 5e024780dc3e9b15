package sizing

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/monitoring"
)

// dmtn028Table is DMTN-028's disk table as published ("Compute Resources
// and Settings Recommendations", revision 2018-03-29): cache/rewind time,
// partitions, disk space (num disks x size), replication factor 1.
const dmtn028Table = `1 day 1 1 x 1.5 TB
1 day 16 16 x 94 GB
1 day 32 32 x 47 GB
1 day 64 64 x 24 GB
1 day 128 128 x 12 GB
7 days 1 1 x 10.5 TB
7 days 16 16 x 656 GB
7 days 32 32 x 328 GB
7 days 64 64 x 164 GB
7 days 128 128 x 82 GB
14 days 1 1 x 21 TB
14 days 16 16 x 1.3 TB
14 days 32 32 x 656 GB
14 days 64 64 x 328 GB
14 days 128 128 x 164 GB
30 days 1 1 x 45 TB
30 days 16 16 x 2.8 TB
30 days 32 32 x 1.4 TB
30 days 64 64 x 703 GB
30 days 128 128 x 352 GB`

type publishedRow struct {
	line       string
	days       int
	partitions int
	disks      int
	size       string  // as printed, e.g. "1.5 TB"
	value      float64 // bytes
	half       float64 // half a unit of the last digit printed, bytes
}

func parseTable(t *testing.T) []publishedRow {
	t.Helper()
	var rows []publishedRow
	for _, line := range strings.Split(dmtn028Table, "\n") {
		f := strings.Fields(line) // 1 day 16 16 x 94 GB
		if len(f) != 7 || f[4] != "x" {
			t.Fatalf("table line %q: not RETENTION day(s) P N x SIZE UNIT", line)
		}
		r := publishedRow{line: line, size: f[5] + " " + f[6]}
		var err error
		if r.days, err = strconv.Atoi(f[0]); err != nil {
			t.Fatal(err)
		}
		if r.partitions, err = strconv.Atoi(f[2]); err != nil {
			t.Fatal(err)
		}
		if r.disks, err = strconv.Atoi(f[3]); err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseFloat(f[5], 64)
		if err != nil {
			t.Fatal(err)
		}
		unit := map[string]float64{"GB": GB, "TB": TB}[f[6]]
		if unit == 0 {
			t.Fatalf("table line %q: unit %q", line, f[6])
		}
		r.value = v * unit
		r.half = 0.5 * unit
		if _, dec, ok := strings.Cut(f[5], "."); ok {
			r.half = 0.5 * unit * math.Pow(10, -float64(len(dec)))
		}
		rows = append(rows, r)
	}
	return rows
}

// The defaults reproduce every row of DMTN-028's disk table within its
// rounding: decimal units (1 TB = 1000 GB), 1.5 TB a night, rounded to the
// nearest. The one row DMTN-028 did not round to the nearest is 1 day / 64
// partitions: 23.4375 GB exact, printed 24 GB (half of the rounded 47 GB).
func TestSizingDefaultsReproduceDMTN028Table(t *testing.T) {
	r, err := Plan(Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if r.AlertsPerNight != 10_000_000 || r.NightBytes != 1.5*TB {
		t.Fatalf("a night: %d alerts, %g bytes; want 10,000,000 and 1.5 TB", r.AlertsPerNight, r.NightBytes)
	}
	rows := parseTable(t)
	if len(rows) != 20 || len(r.Disks) != len(rows) {
		t.Fatalf("%d published rows, %d computed; want 20 each", len(rows), len(r.Disks))
	}
	for i, p := range rows {
		d := r.Disks[i]
		if d.Retention != time.Duration(p.days)*Day || d.Partitions != p.partitions {
			t.Errorf("row %d: computed %s / %d partitions, published %q", i, FormatRetention(d.Retention), d.Partitions, p.line)
			continue
		}
		if d.Disks != p.disks {
			t.Errorf("%q: %d disks, want %d", p.line, d.Disks, p.disks)
		}
		if d.TotalBytes != 1.5*TB*float64(p.days) {
			t.Errorf("%q: total %g bytes, want %g", p.line, d.TotalBytes, 1.5*TB*float64(p.days))
		}
		diff := math.Abs(d.PerDiskBytes - p.value)
		if p.days == 1 && p.partitions == 64 {
			if d.PerDiskBytes != 23.4375*GB || Human(d.PerDiskBytes) != "23 GB" || diff > 2*p.half {
				t.Errorf("%q: %g bytes per disk printed %q; want 23.4375 GB printed 23 GB, within a unit of DMTN-028's 24 GB",
					p.line, d.PerDiskBytes, Human(d.PerDiskBytes))
			}
			continue
		}
		if diff > p.half {
			t.Errorf("%q: %g bytes per disk, more than %g from the published %s", p.line, d.PerDiskBytes, p.half, p.size)
		}
		if got := Human(d.PerDiskBytes); got != p.size {
			t.Errorf("%q: per disk printed %q, want %q", p.line, got, p.size)
		}
	}
}

// Binary units would not give DMTN-028's numbers: 1.5 TiB / 16 is 96 GiB,
// not 94; 45 TiB / 128 is 360 GiB, not 352.
func TestSizingTableIsDecimal(t *testing.T) {
	if got := math.Round(1.5 * 1024 / 16); got != 96 {
		t.Fatalf("binary 1.5 TiB / 16 = %g GiB", got)
	}
	if got := math.Round(45.0 * 1024 / 128); got != 360 {
		t.Fatalf("binary 45 TiB / 128 = %g GiB", got)
	}
	if got := math.Round(45.0 * 1000 / 128); got != 352 {
		t.Fatalf("decimal 45 TB / 128 = %g GB", got)
	}
}

func TestSizingReplicationFactorScalesDisk(t *testing.T) {
	one, err := Plan(Defaults())
	if err != nil {
		t.Fatal(err)
	}
	in := Defaults()
	in.ReplicationFactor = 2
	two, err := Plan(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range one.Disks {
		a, b := one.Disks[i], two.Disks[i]
		if b.Disks != 2*a.Disks || b.PerDiskBytes != a.PerDiskBytes || b.TotalBytes != 2*a.TotalBytes {
			t.Errorf("%s / %d partitions: RF 1 %d x %g = %g, RF 2 %d x %g = %g; want twice the disks of the same size",
				FormatRetention(a.Retention), a.Partitions, a.Disks, a.PerDiskBytes, a.TotalBytes, b.Disks, b.PerDiskBytes, b.TotalBytes)
		}
	}
	// Replication factor 3 on 3 brokers: every broker holds every partition.
	in.ReplicationFactor = 3
	three, _ := Plan(in)
	for _, bm := range three.BrokerMemory {
		if bm.Replicas != bm.Partitions || bm.Bytes != three.MemoryBytes {
			t.Errorf("RF 3, %d partitions: busiest broker %d replicas, %g bytes; want all, %g", bm.Partitions, bm.Replicas, bm.Bytes, three.MemoryBytes)
		}
	}
	if two.MemoryPerBrokerBytes != 2*one.MemoryPerBrokerBytes || two.MemoryBytes != one.MemoryBytes {
		t.Errorf("memory: RF 1 %g per broker, RF 2 %g; want twice (the whole-stream rule unchanged: %g, %g)",
			one.MemoryPerBrokerBytes, two.MemoryPerBrokerBytes, one.MemoryBytes, two.MemoryBytes)
	}
}

// DMTN-028: "For a three-broker cluster and a replication of a two, the
// limit is then 600 partitions."
func TestSizingPartitionBound(t *testing.T) {
	in := Defaults()
	in.Brokers, in.ReplicationFactor = 3, 2
	in.Partitions = []int{128, 600, 601}
	r, err := Plan(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.PartitionBound != 600 {
		t.Fatalf("bound %d, want 600", r.PartitionBound)
	}
	for _, d := range r.Disks {
		if d.OverBound != (d.Partitions > 600) {
			t.Errorf("%d partitions: OverBound %v", d.Partitions, d.OverBound)
		}
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "601 partitions") || !strings.Contains(r.Warnings[0], "= 600") {
		t.Fatalf("warnings %q; want one about 601 partitions past 600", r.Warnings)
	}
	in.Partitions = []int{600}
	if r, _ := Plan(in); len(r.Warnings) != 0 {
		t.Errorf("600 partitions: warnings %q, want none", r.Warnings)
	}
	var b strings.Builder
	in.Partitions = []int{601}
	r, _ = Plan(in)
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "100 x 3 x 2 = 600") || !strings.Contains(b.String(), "601 partitions exceed") {
		t.Errorf("text lacks the bound or its warning:\n%s", b.String())
	}
}

// DMTN-028: 1.35 GB/s (10,000 alerts of 135 KB a second) x 30-60 s =
// "~40-80 GB".
func TestSizingMemory(t *testing.T) {
	r, err := Plan(Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if r.ThroughputFrom != FromBurst || r.WriteThroughput != 1.5*GB || r.MemoryBytes != 45*GB || r.MemoryPerBrokerBytes != 15*GB {
		t.Errorf("defaults: %s %g B/s, memory %g, per broker %g; want burst 1.5 GB/s, 45 GB, 15 GB",
			r.ThroughputFrom, r.WriteThroughput, r.MemoryBytes, r.MemoryPerBrokerBytes)
	}
	// The busiest of 3 brokers: 1 partition puts the whole stream on one
	// broker; 16 put ceil(16/3) = 6 of them on the busiest.
	for i, want := range []struct {
		replicas int
		bytes    float64
	}{{1, 45 * GB}, {6, 45 * GB * 6 / 16}, {11, 45 * GB * 11 / 32}, {22, 45 * GB * 22 / 64}, {43, 45 * GB * 43 / 128}} {
		if bm := r.BrokerMemory[i]; bm.Replicas != want.replicas || math.Abs(bm.Bytes-want.bytes) > 1 {
			t.Errorf("%d partitions: busiest broker %d replicas, %g bytes; want %d, %g", bm.Partitions, bm.Replicas, bm.Bytes, want.replicas, want.bytes)
		}
	}
	// 30 s < 39 s between visits: a window holds one visit.
	if r.WindowBytes != 1.5*GB {
		t.Errorf("window %g, want one visit, 1.5 GB", r.WindowBytes)
	}
	in := Defaults()
	in.AlertBytes = 135_000
	for _, c := range []struct {
		buffer     time.Duration
		mem, visit float64
	}{{30 * time.Second, 40.5 * GB, 1}, {60 * time.Second, 81 * GB, 2}} {
		in.Buffer = c.buffer
		r, err := Plan(in)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.MemoryBytes-c.mem) > 1 || math.Abs(r.WindowBytes-c.visit*1.35*GB) > 1 {
			t.Errorf("135 KB, %s: memory %g, window %g; want %g and %g visit(s)", c.buffer, r.MemoryBytes, r.WindowBytes, c.mem, c.visit)
		}
	}
	in = Defaults()
	in.WriteThroughput = 100 * MB
	if r, _ := Plan(in); r.ThroughputFrom != FromGiven || r.MemoryBytes != 3*GB || r.WindowBytes != 0 {
		t.Errorf("given 100 MB/s: %s, memory %g, window %g", r.ThroughputFrom, r.MemoryBytes, r.WindowBytes)
	}
	// One broker taking the whole stream: 45 GB fits Confluent's 64 GB
	// machine; with a 60 s buffer, 90 GB does not.
	in = Defaults()
	in.Brokers, in.Partitions = 1, []int{1}
	if r, _ := Plan(in); len(r.Warnings) != 0 {
		t.Errorf("45 GB on one broker: warnings %q, want none", r.Warnings)
	}
	in.Buffer = time.Minute
	if r, _ := Plan(in); len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "90 GB") || !strings.Contains(r.Warnings[0], "64 GB") {
		t.Errorf("90 GB on one broker: warnings %q, want one past Confluent's 64 GB", r.Warnings)
	}
}

func TestSizingRetentionNights(t *testing.T) {
	in := Defaults()
	in.Retentions = []time.Duration{12 * time.Hour, 36 * time.Hour}
	in.Partitions = []int{1}
	r, err := Plan(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Disks[0].Nights != 1 || r.Disks[1].Nights != 2 || r.Disks[1].PerDiskBytes != 3*TB {
		t.Errorf("12h: %d nights, 36h: %d nights of %g bytes; want 1 and 2 (3 TB)", r.Disks[0].Nights, r.Disks[1].Nights, r.Disks[1].PerDiskBytes)
	}
}

func TestSizingBadInputs(t *testing.T) {
	for _, c := range []struct {
		flag string
		edit func(*Inputs)
	}{
		{"alerts-per-visit", func(in *Inputs) { in.AlertsPerVisit = 0 }},
		{"visits-per-night", func(in *Inputs) { in.VisitsPerNight = -1 }},
		{"alerts-per-night", func(in *Inputs) { in.AlertsPerNight = -5 }},
		{"alert-size", func(in *Inputs) { in.AlertBytes = 0 }},
		{"retention", func(in *Inputs) { in.Retentions = nil }},
		{"retention", func(in *Inputs) { in.Retentions = []time.Duration{0} }},
		{"retention", func(in *Inputs) { in.Retentions = []time.Duration{Day, Day} }},
		{"retention", func(in *Inputs) { in.Retentions = []time.Duration{4000 * Day} }},
		{"partitions", func(in *Inputs) { in.Partitions = nil }},
		{"partitions", func(in *Inputs) { in.Partitions = []int{0} }},
		{"partitions", func(in *Inputs) { in.Partitions = []int{16, 16} }},
		{"brokers", func(in *Inputs) { in.Brokers = 0 }},
		{"replication-factor", func(in *Inputs) { in.ReplicationFactor = 0 }},
		{"replication-factor", func(in *Inputs) { in.ReplicationFactor = 4 }},
		{"buffer", func(in *Inputs) { in.Buffer = 0 }},
		{"visit-interval", func(in *Inputs) { in.VisitInterval = -time.Second }},
		{"burst", func(in *Inputs) { in.Burst = 0 }},
		{"burst", func(in *Inputs) { in.Burst = time.Minute }},
		{"write-throughput", func(in *Inputs) { in.WriteThroughput = math.NaN() }},
		{"write-throughput", func(in *Inputs) { in.WriteThroughput = 1; in.Measured = &Measured{WriteThroughput: 1} }},
		{"from", func(in *Inputs) { in.Measured = &Measured{Dir: "runs/x"} }},
	} {
		in := Defaults()
		c.edit(&in)
		_, err := Plan(in)
		var e *Error
		if !errors.As(err, &e) || e.Flag != c.flag || !strings.HasPrefix(err.Error(), "--"+c.flag+": ") {
			t.Errorf("%s: error %v, want an *Error naming --%s", c.flag, err, c.flag)
		}
	}
}

func TestSizingParse(t *testing.T) {
	got, err := ParseRetentions("1d,7d, 14d,30d")
	if err != nil || len(got) != 4 || got[0] != Day || got[3] != 30*Day {
		t.Errorf("1d,7d, 14d,30d: %v %v", got, err)
	}
	got, err = ParseRetentions("12h,1.5d,90m")
	if err != nil || got[0] != 12*time.Hour || got[1] != 36*time.Hour || got[2] != 90*time.Minute {
		t.Errorf("12h,1.5d,90m: %v %v", got, err)
	}
	for _, bad := range []string{"", "1d,,7d", "seven", "7days", "xd", "1e9d", "NaNd"} {
		if _, err := ParseRetentions(bad); err == nil || !strings.HasPrefix(err.Error(), "--retention: ") {
			t.Errorf("retention %q: error %v, want one naming --retention", bad, err)
		}
	}
	// Out of range: named as the user wrote it.
	for _, bad := range []string{"0d", "-1d", "0", "-2h", "3651d"} {
		_, err := ParseRetentions("1d," + bad)
		if want := fmt.Sprintf("--retention: %q: give retentions longer than 0 and at most 3650 days", bad); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("retention %q: error %v, want %q", bad, err, want)
		}
	}
	p, err := ParsePartitions("1,16,32,64,128")
	if err != nil || !slices.Equal(p, Defaults().Partitions) {
		t.Errorf("partitions: %v %v", p, err)
	}
	for _, bad := range []string{"", "1,,2", "x", "1.5"} {
		if _, err := ParsePartitions(bad); err == nil || !strings.HasPrefix(err.Error(), "--partitions: ") {
			t.Errorf("partitions %q: error %v, want one naming --partitions", bad, err)
		}
	}
}

func TestSizingHuman(t *testing.T) {
	for b, want := range map[float64]string{
		1.5 * TB: "1.5 TB", 10.5 * TB: "10.5 TB", 21 * TB: "21 TB", 1.3125 * TB: "1.3 TB",
		999.6 * GB: "1 TB", 93.75 * GB: "94 GB", 351.5625 * GB: "352 GB", 1.5 * GB: "1.5 GB",
		9.96 * GB: "10 GB", 38.46 * MB: "38 MB", 999: "999 bytes", 0: "0 bytes",
	} {
		if got := Human(b); got != want {
			t.Errorf("Human(%g) = %q, want %q", b, got, want)
		}
	}
}

// writeRun writes a run archive's metrics/services.csv (by the writer
// `testbed run` uses) and, with rf > 0, its experiment.yaml.
func writeRun(t *testing.T, rf int) string {
	t.Helper()
	dir := t.TempDir()
	t0 := time.Unix(1_796_057_159, 0).UTC()
	pts := func(vs ...float64) []monitoring.Point {
		out := make([]monitoring.Point, len(vs))
		for i, v := range vs {
			out[i] = monitoring.Point{T: t0.Add(time.Duration(i) * 5 * time.Second), V: v}
		}
		return out
	}
	s := monitoring.Series{
		// Peak sum at the third sample: 30 + 40 + 50 = 120 MB/s; the
		// busiest broker alone peaks at 60 MB/s at the fourth (sum 100).
		"kafka_kafka-1": {ReceiveMetric: pts(1e6, 10e6, 30e6, 20e6), "memory_bytes": pts(1e9, 1e9, 1e9, 1e9)},
		"kafka_kafka-2": {ReceiveMetric: pts(1e6, 10e6, 40e6, 60e6)},
		"kafka_kafka-3": {ReceiveMetric: pts(1e6, 10e6, 50e6, 20e6)},
		// Not brokers: left out.
		"run-x-producer":        {ReceiveMetric: pts(900e6, 900e6, 900e6, 900e6)},
		"monitoring_prometheus": {ReceiveMetric: pts(500e6, 500e6, 500e6, 500e6)},
	}
	if err := os.MkdirAll(filepath.Join(dir, "metrics"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, filepath.FromSlash(ServicesFile)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteCSV(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if rf > 0 {
		y := "name: x\ntopic:\n  name: alerts\n  partitions: 3\n  replication_factor: " + strconv.Itoa(rf) + "\n"
		if err := os.WriteFile(filepath.Join(dir, ExperimentFile), []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSizingReadRun(t *testing.T) {
	dir := writeRun(t, 3)
	m, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Brokers, ",") != "kafka_kafka-1,kafka_kafka-2,kafka_kafka-3" || m.Samples != 4 {
		t.Errorf("brokers %v, %d samples", m.Brokers, m.Samples)
	}
	if m.PeakIngest != 120e6 || !m.PeakAt.Equal(time.Unix(1_796_057_169, 0)) || m.PeakBrokerIngest != 60e6 {
		t.Errorf("peak %g at %s, busiest broker %g; want 120e6 at +10 s, 60e6", m.PeakIngest, m.PeakAt, m.PeakBrokerIngest)
	}
	if m.RunReplicationFactor != 3 || m.WriteThroughput != 40e6 || len(m.Notes) != 0 {
		t.Errorf("RF %d, write throughput %g, notes %q; want 3, 40e6 (ingest / 3), none", m.RunReplicationFactor, m.WriteThroughput, m.Notes)
	}

	in := Defaults()
	in.Measured = &m
	r, err := Plan(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.ThroughputFrom != FromMeasured || r.MemoryBytes != 1.2*GB || r.WindowBytes != 0 {
		t.Errorf("measured: %s, memory %g, window %g; want 40 MB/s x 30 s = 1.2 GB", r.ThroughputFrom, r.MemoryBytes, r.WindowBytes)
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Measured in " + dir, "120 MB/s", "includes replication", "/ 3 = 40 MB/s", "write throughput:    40 MB/s (--from"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}

	// Without experiment.yaml the replication factor is unknown: the whole
	// ingest, with a note saying so.
	m, err = ReadRun(writeRun(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	if m.RunReplicationFactor != 0 || m.WriteThroughput != 120e6 || len(m.Notes) != 1 || !strings.Contains(m.Notes[0], "experiment.yaml") {
		t.Errorf("no experiment.yaml: RF %d, %g, notes %q", m.RunReplicationFactor, m.WriteThroughput, m.Notes)
	}
}

func TestSizingReadRunErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-run")
	empty := t.TempDir()
	noBrokers := t.TempDir()
	if err := os.MkdirAll(filepath.Join(noBrokers, "metrics"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(noBrokers, filepath.FromSlash(ServicesFile)),
		[]byte("time,unix,service,metric,value\n2026-11-30T16:45:59Z,1796057159,run-x-producer,network_receive_bytes_per_s,5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ dir, want string }{
		{missing, missing + " does not exist"},
		{empty, filepath.Join(empty, "metrics", "services.csv") + " does not exist"},
		{noBrokers, "no network_receive_bytes_per_s series of a Kafka broker"},
		{file, file + " is not a folder"},
		{"", "give a run archive folder"},
	} {
		_, err := ReadRun(c.dir)
		var e *Error
		if !errors.As(err, &e) || e.Flag != "from" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadRun(%q): %v; want --from: ...%s...", c.dir, err, c.want)
		}
	}
}
