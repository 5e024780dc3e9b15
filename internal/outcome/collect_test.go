package outcome

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/agents/results"
	"github.com/alert-testbed/testbed/internal/run"
	"github.com/alert-testbed/testbed/internal/workspace"
)

var runT0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func producerRecord(t *testing.T, run string, visit, producer, expected int, produce time.Duration) []byte {
	t.Helper()
	start := runT0.Add(time.Duration(visit-1) * 39 * time.Second) // visits are numbered from 1
	b, err := results.Record{Kind: results.KindProducer, Producer: &results.ProducerVisit{
		Run: run, Visit: visit, Producer: producer, Expected: expected, Sent: expected, Acked: expected,
		IntendedStart: start, FirstSerialize: start, LastAck: start.Add(produce)}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// consumerRecord: member got seqs [from, to) of producer, the last at
// visit start + last.
func consumerRecord(t *testing.T, run string, visit int, group, member, topic string, producer, from, to int, last time.Duration) []byte {
	t.Helper()
	start := runT0.Add(time.Duration(visit-1) * 39 * time.Second)
	cv := results.NewConsumerVisit(run, visit, group, member, topic)
	for s := from; s < to; s++ {
		at := start.Add(last * time.Duration(s-from+1) / time.Duration(to-from))
		cv.Observe(producer, s, start, at)
	}
	b, err := results.Record{Kind: results.KindConsumer, Consumer: cv}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func groups2() []run.Group {
	return []run.Group{
		{Name: "r1-c1", Label: "c1", Topic: "alerts", Members: 2, Stream: true},
		{Name: "r1-c2", Label: "c2", Topic: "alerts", Members: 1, Stream: true},
		{Name: "r1-enduser-F1-1", Label: "enduser-F1-1", Topic: "F1", Members: 1},
	}
}

// Two visits of 100 alerts (producers 0 and 1, 50 each); c1 gets all of
// visit 1 across two members and all of visit 2 with 3 duplicates; c2
// misses 10 alerts of visit 2 and sends nothing for visit 1. Every count
// and timing of the fold and the summary is exact.
func TestCollectorFoldAndSummary(t *testing.T) {
	c := Collector{RunID: "r1", StreamTopic: "alerts"}
	for v := 1; v <= 2; v++ {
		c.Add(producerRecord(t, "r1", v, 0, 50, time.Duration(1+v)*time.Second))
		c.Add(producerRecord(t, "r1", v, 1, 50, time.Duration(2+v)*time.Second))
	}
	c.Add(consumerRecord(t, "r1", 1, "r1-c1", "m1", "alerts", 0, 0, 50, 3500*time.Millisecond))
	c.Add(consumerRecord(t, "r1", 1, "r1-c1", "m2", "alerts", 1, 0, 50, 3250*time.Millisecond))
	c.Add(consumerRecord(t, "r1", 2, "r1-c1", "m1", "alerts", 0, 0, 50, 4500*time.Millisecond))
	c.Add(consumerRecord(t, "r1", 2, "r1-c1", "m1", "alerts", 1, 0, 50, 4500*time.Millisecond))
	c.Add(consumerRecord(t, "r1", 2, "r1-c1", "m2", "alerts", 1, 10, 13, 4000*time.Millisecond)) // 3 duplicates
	c.Add(consumerRecord(t, "r1", 2, "r1-c2", "m1", "alerts", 0, 0, 50, 5*time.Second))
	c.Add(consumerRecord(t, "r1", 2, "r1-c2", "m1", "alerts", 1, 10, 50, 5*time.Second))
	c.Add(consumerRecord(t, "r1", 1, "r1-enduser-F1-1", "e", "F1", 0, 3, 10, time.Second)) // 7 of the filter's
	c.Add(producerRecord(t, "other-run", 1, 0, 50, time.Second))
	c.Add([]byte(`{"kind":"nonsense"}`))

	if len(c.Raw) != 14 || c.Foreign != 1 || len(c.Bad) != 1 || len(c.Producers) != 4 || len(c.Stream) != 7 || len(c.EndUsers) != 1 {
		t.Fatalf("collected raw %d, foreign %d, bad %d, producers %d, stream %d, end users %d", len(c.Raw), c.Foreign, len(c.Bad), len(c.Producers), len(c.Stream), len(c.EndUsers))
	}
	rows, err := c.Fold(2, groups2())
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		visit                          int
		group                          string
		received, lost, dup            int
		complete                       bool
		producing, transit, totalTimes time.Duration
	}
	wants := []want{
		{1, "r1-c1", 100, 0, 0, true, 3 * time.Second, 500 * time.Millisecond, 3500 * time.Millisecond},
		{1, "r1-c2", 0, 100, 0, false, 3 * time.Second, 0, 0},
		{2, "r1-c1", 103, 0, 3, true, 4 * time.Second, 500 * time.Millisecond, 4500 * time.Millisecond},
		{2, "r1-c2", 90, 10, 0, false, 4 * time.Second, time.Second, 5 * time.Second},
	}
	if len(rows) != len(wants) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(wants), rows)
	}
	for i, w := range wants {
		r := rows[i]
		if r.Visit != w.visit || r.Group != w.group || r.Received != w.received || r.Lost != w.lost || r.Duplicated != w.dup ||
			r.Complete != w.complete || r.ProducingTime != w.producing || r.TransitTime != w.transit || r.TotalTime != w.totalTimes || r.Expected != 100 {
			t.Errorf("row %d: %+v\nwant %+v", i, r, w)
		}
	}

	eus, err := c.FoldEndUsers(groups2(), func(topic string) (int64, error) {
		if topic != "F1" {
			return 0, errors.New("asked for " + topic)
		}
		return 9, nil // the filter forwarded 9; the end user got 7
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(eus) != 1 || eus[0].InTopic != 9 || eus[0].Unique != 7 || eus[0].Lost != 2 || eus[0].Dup != 0 || eus[0].LatencyMax < 990*time.Millisecond || eus[0].LatencyMax > 1010*time.Millisecond {
		t.Fatalf("end users %+v", eus)
	}

	s := Summarize(Facts{RunID: "r1", Experiment: "exp", Visits: 2, Groups: groups2(), Rows: rows, EndUsers: eus,
		MaxLag: map[string]int64{"r1-c1": 40}, Problems: []string{"interrupted at 10:01:00"}})
	if s.Producing.N != 2 || s.Producing.Mean != 3500*time.Millisecond || s.Producing.Min != 3*time.Second || s.Producing.Max != 4*time.Second {
		t.Errorf("producing %+v", s.Producing)
	}
	if len(s.Groups) != 2 {
		t.Fatalf("groups %+v", s.Groups)
	}
	c1, c2 := s.Groups[0], s.Groups[1]
	if c1.Group != "c1" || c1.Expected != 200 || c1.Received != 203 || c1.Lost != 0 || c1.Duplicated != 3 || c1.Complete != 2 || c1.MaxLag != 40 ||
		c1.Transit.N != 2 || c1.Transit.Mean != 500*time.Millisecond || c1.Total.Mean != 4*time.Second || c1.Total.Min != 3500*time.Millisecond {
		t.Errorf("c1 %+v", c1)
	}
	if c2.Lost != 110 || c2.Complete != 0 || c2.Transit.N != 0 {
		t.Errorf("c2 %+v", c2)
	}
	// Latency: intended = visit start, so the max is the last receipt.
	if c1.LatencyMax < 4490*time.Millisecond || c1.LatencyMax > 4510*time.Millisecond {
		t.Errorf("c1 latency max %s, want 4.5 s", c1.LatencyMax)
	}
	wantProblems := []string{
		"interrupted at 10:01:00",
		"visit 1, c2: no member record, 100 of 100 alerts lost",
		"visit 2, c2: 10 of 100 alerts lost",
		"r1-enduser-F1-1: 7 of 9 forwarded alerts received, 2 lost, 0 duplicated",
	}
	if strings.Join(s.Problems, "\n") != strings.Join(wantProblems, "\n") {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(s.Problems, "\n"), strings.Join(wantProblems, "\n"))
	}
	// Duplicates are noted, not problems (no expect.duplicates); these
	// records carry no offsets, so nothing shows them re-read.
	wantNotes := []string{"visit 2, c1: 3 duplicated: 3 written twice by a producer (retries without idempotence, or a visit cut short sent again by its producer's next task)"}
	if strings.Join(s.Notes, "\n") != strings.Join(wantNotes, "\n") {
		t.Errorf("notes\n%s\nwant\n%s", strings.Join(s.Notes, "\n"), strings.Join(wantNotes, "\n"))
	}
	zero := 0
	if s2 := Summarize(Facts{RunID: "r1", Experiment: "exp", Visits: 2, Groups: groups2()[:1], Rows: rows[:1], Expect: &zero}); s2.OK() {
		t.Errorf("expect.duplicates 0 is not enforced: %q", s2.Problems)
	}
	if s.OK() {
		t.Error("a run with problems is OK")
	}
	var out bytes.Buffer
	s.Print(&out)
	for _, line := range []string{
		"producer serialization and send to Kafka  3.50 +/- 0.71 s  3.00 - 4.00 s  2",
		"transit time to receipt by c1             0.50 +/- 0.00 s  0.50 - 0.50 s  2",
		"transit time to receipt by c2             -                -              0",
		"PROBLEMS (4):",
		"NOTES (1):",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("summary lacks %q:\n%s", line, out.String())
		}
	}
}

// A group with no record at all, and a visit with no producer record, are
// problems, not silence.
func TestSummaryNamesMissingRecords(t *testing.T) {
	c := Collector{RunID: "r1", StreamTopic: "alerts"}
	c.Add(producerRecord(t, "r1", 1, 0, 10, time.Second))
	c.Add(consumerRecord(t, "r1", 1, "r1-c1", "m1", "alerts", 0, 0, 10, time.Second))
	gs := groups2()[:2]
	rows, err := c.Fold(2, gs)
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(Facts{RunID: "r1", Experiment: "exp", Visits: 2, Groups: gs, Rows: rows})
	got := strings.Join(s.Problems, "\n")
	for _, want := range []string{"visit 1, c2: no member record, 10 of 10 alerts lost", "visit 2, c1: no producer record, no member record", "1 of 2 visits fully produced"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

// A group with no record of a visit misses the alerts its producer
// delivered (lost) and those it could not (not sent): the same account as
// a group that recorded some of the visit.
func TestGroupWithoutRecordsCountsNotSent(t *testing.T) {
	c := Collector{RunID: "r1", StreamTopic: "alerts"}
	p := results.ProducerVisit{Run: "r1", Visit: 1, Producer: 0, Expected: 10, Sent: 10, Acked: 7, Errors: 3, Failed: results.NewBitmap(0, 4, 9),
		IntendedStart: runT0, LastAck: runT0.Add(time.Second)}
	b, _ := results.Record{Kind: results.KindProducer, Producer: &p}.Encode()
	c.Add(b)
	gs := groups2()[:1]
	rows, err := c.Fold(1, gs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Lost != 7 || rows[0].NotSent != 3 || rows[0].Acked != 7 || rows[0].Producers != 1 {
		t.Fatalf("rows %+v; want one row with 7 lost, 3 not sent", rows)
	}
	want := "visit 1, r1-c1: no member record, 7 of 10 alerts lost, 3 not sent (producer errors, or the producers stopped), 7 of 10 acknowledged, 3 send errors"
	if got := rows[0].Problems(); "visit 1, r1-c1: "+strings.Join(got, ", ") != want {
		t.Errorf("problems %q, want %q", got, want)
	}
}

// A visit planned but never sent (the run was interrupted first) is said
// to be unsent, not lost, and its zero producing time is not averaged.
func TestSummaryOfAnUnsentVisit(t *testing.T) {
	c := Collector{RunID: "r1", StreamTopic: "alerts"}
	c.Add(producerRecord(t, "r1", 1, 0, 10, time.Second))
	c.Add(consumerRecord(t, "r1", 1, "r1-c1", "m1", "alerts", 0, 0, 10, time.Second))
	b, _ := results.Record{Kind: results.KindProducer, Producer: &results.ProducerVisit{Run: "r1", Visit: 2, Producer: 0, Expected: 10,
		IntendedStart: runT0.Add(39 * time.Second)}}.Encode()
	c.Add(b)
	gs := groups2()[:1]
	rows, err := c.Fold(2, gs)
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(Facts{RunID: "r1", Experiment: "exp", Visits: 2, Groups: gs, Rows: rows, Problems: []string{"interrupted at 10:00:50"}})
	want := "interrupted at 10:00:50\nvisit 2, c1: none of its 10 alerts was sent\n1 of 2 visits fully produced"
	if got := strings.Join(s.Problems, "\n"); got != want {
		t.Errorf("problems\n%s\nwant\n%s", got, want)
	}
	if s.Producing.N != 1 || s.Producing.Mean != time.Second {
		t.Errorf("producing %+v, want the one finished visit", s.Producing)
	}
}

// A run that stopped early with a group behind: what the group had not
// read (its lag when the agents stopped) is not received, from the latest
// visits back; what it had read past stays lost.
func TestMarkNotReceived(t *testing.T) {
	rows := []VisitGroup{
		{Visit: 1, Group: "g", Expected: 100, Unique: 98, Lost: 2},
		{Visit: 2, Group: "g", Expected: 100, Unique: 40, Lost: 60},
		{Visit: 3, Group: "g", Expected: 100, Unique: 0, Lost: 100},
		{Visit: 3, Group: "h", Expected: 100, Unique: 95, Lost: 5},
	}
	MarkNotReceived(rows, map[string]int64{"g": 150, "h": 0})
	got := [][2]int{}
	for _, r := range rows {
		got = append(got, [2]int{r.Lost, r.NotReceived})
	}
	want := [][2]int{{2, 0}, {10, 50}, {0, 100}, {5, 0}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("(lost, not received) per row %v, want %v", got, want)
		}
	}
	s := Summarize(Facts{RunID: "r", Experiment: "x", Visits: 3, Rows: rows, Groups: []run.Group{{Name: "g", Label: "g", Stream: true}, {Name: "h", Label: "h", Stream: true}},
		Behind: map[string]bool{"g": true}, LagPerVisit: map[string][]int64{"g": {0, 60, 150}}, Stopped: &Stopped{Reason: "limits.max_lag", At: runT0}})
	if !s.Groups[0].FellBehind || s.Groups[0].NotReceived != 150 || s.Groups[0].Lost != 12 {
		t.Errorf("group g %+v", s.Groups[0])
	}
	if !strings.Contains(strings.Join(s.Problems, "\n"), "g FELL BEHIND: lag at the end of each visit 0, 60, 150") {
		t.Errorf("problems %q", s.Problems)
	}
}

// A filter that read an alert twice may write it twice to its topic: the
// end user that reads all 10 records holds 9 distinct alerts, and has lost
// nothing. Lost counts records of the topic not read, by offset.
func TestEndUserOfATopicWithADuplicate(t *testing.T) {
	c := Collector{RunID: "r1", StreamTopic: "alerts"}
	cv := results.NewConsumerVisit("r1", 1, "r1-enduser-F1-1", "e", "F1")
	for off, seq := range []int{0, 1, 2, 3, 4, 4, 5, 6, 7, 8} {
		cv.ObserveAt(0, seq, runT0, runT0.Add(time.Second), 0, int64(off))
	}
	b, err := results.Record{Kind: results.KindConsumer, Consumer: cv}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	c.Add(b)
	eus, err := c.FoldEndUsers(groups2(), func(string) (int64, error) { return 10, nil })
	if err != nil {
		t.Fatal(err)
	}
	if eu := eus[0]; eu.Lost != 0 || eu.Unique != 9 || eu.Dup != 1 || eu.FilterDuplicates != 1 || eu.Redelivered != 0 {
		t.Errorf("end user %+v: want 0 lost, 9 distinct, 1 duplicate written by the filter", eu)
	}
}

// The alerts' sizes are the producers' acknowledged bytes, counted once
// per visit although every group's row carries them.
func TestSummaryAlertSizes(t *testing.T) {
	rows := []VisitGroup{
		{Visit: 1, Group: "a", Producers: 2, Acked: 10, Bytes: 1000, MinBytes: 90, MaxBytes: 120},
		{Visit: 1, Group: "b", Producers: 2, Acked: 10, Bytes: 1000, MinBytes: 90, MaxBytes: 120},
		{Visit: 2, Group: "a", Producers: 2, Acked: 5, Bytes: 600, MinBytes: 110, MaxBytes: 130},
		{Visit: 2, Group: "b", Producers: 2, Acked: 5, Bytes: 600, MinBytes: 110, MaxBytes: 130},
	}
	s := Summarize(Facts{Visits: 2, Rows: rows})
	want := AlertSizes{Acked: 15, Bytes: 1600, MinBytes: 90, MaxBytes: 130}
	if s.Alerts != want || s.Alerts.String() != "15 alerts of 107 bytes on average (90 - 130)" {
		t.Errorf("alert sizes %+v (%s), want %+v", s.Alerts, s.Alerts, want)
	}
}

// The producing rate is the mean of each finished visit's bytes ÷ its
// producing time (an interrupted visit is left out), set against the
// testbed's ceiling when one was measured.
func TestSummaryProducingRate(t *testing.T) {
	rows := []VisitGroup{
		{Visit: 1, Group: "a", Producers: 10, Expected: 100, Acked: 100, Bytes: 1_360_000_000, ProducingTime: 34 * time.Second}, // 40 MB/s
		{Visit: 1, Group: "b", Producers: 10, Expected: 100, Acked: 100, Bytes: 1_360_000_000, ProducingTime: 34 * time.Second},
		{Visit: 2, Group: "a", Producers: 10, Expected: 100, Acked: 100, Bytes: 1_360_000_000, ProducingTime: 68 * time.Second}, // 20 MB/s
		{Visit: 3, Group: "a", Producers: 10, Expected: 100, Acked: 40, Bytes: 544_000_000, ProducingTime: time.Second},         // cut short
	}
	s := Summarize(Facts{Visits: 3, Rows: rows})
	if math.Abs(s.ProducingMBPerSec-30) > 1e-9 {
		t.Errorf("producing rate %.3f MB/s, want 30", s.ProducingMBPerSec)
	}
	if l := s.RateLine(); l != "producing rate: 30.0 MB/s a visit on average (its bytes ÷ its producing time)" {
		t.Errorf("rate line without a ceiling: %q", l)
	}
	s = Summarize(Facts{Visits: 3, Rows: rows, Ceiling: &workspace.CeilingFigure{From: "swarm", MBPerSec: 43, Producers: 1, Partitions: 1, ReplicationFactor: 3, Bench: "bench-x"}})
	want := "producing rate: 30.0 MB/s a visit on average (its bytes ÷ its producing time), 70 % of this testbed's ceiling of 43.0 MB/s (Kafka's ProducerPerformance from the swarm, 1 partition, RF 3: bench-x)"
	if l := s.RateLine(); l != want {
		t.Errorf("rate line %q, want %q", l, want)
	}
	var b strings.Builder
	s.Print(&b)
	if !strings.Contains(b.String(), "  "+want+"\n") {
		t.Errorf("the summary lacks the rate line:\n%s", b.String())
	}
	if s := Summarize(Facts{Visits: 1}); s.RateLine() != "" {
		t.Errorf("a run without a finished visit has a rate line %q", s.RateLine())
	}
}

// The CPU line says whose CPUs and whether they were the limit
// (CPUBound, the NodeCPUHigh alert's threshold).
func TestSummaryCPULine(t *testing.T) {
	for _, c := range []struct {
		cpu  *ProducingCPU
		want string
	}{
		{nil, ""},
		{&ProducingCPU{Node: "tb-manager-1", Cores: 2, Busy: 0.974, Shared: true},
			"CPU while producing: 97 % of the host's 2 cores busy (node-exporter; the local nodes share them): the visits were CPU-bound, shorter visits need more cores"},
		{&ProducingCPU{Node: "tb-worker-3", Cores: 4, Busy: 0.42},
			"CPU while producing: 42 % of tb-worker-3's 4 cores busy, the busiest node (node-exporter): the CPUs were not the limit"},
		{&ProducingCPU{Node: "tb-worker-3", Cores: 1, Busy: 0.9},
			"CPU while producing: 90 % of tb-worker-3's 1 core busy, the busiest node (node-exporter): the visits were CPU-bound, shorter visits need more cores"},
	} {
		s := Summarize(Facts{Visits: 1, CPU: c.cpu})
		if got := s.CPULine(); got != c.want {
			t.Errorf("CPU line of %+v:\n got %q\nwant %q", c.cpu, got, c.want)
		}
		var b strings.Builder
		s.Print(&b)
		if c.want != "" && !strings.Contains(b.String(), "  "+c.want+"\n") {
			t.Errorf("the summary lacks the CPU line:\n%s", b.String())
		}
	}
}
