package outcome

import (
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/agents/results"
)

var t0 = time.Date(2026, 11, 2, 3, 4, 5, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// viaTopic encodes and decodes records as the results topic would carry them.
func viaTopic(t *testing.T, ps []results.ProducerVisit, cs []*results.ConsumerVisit) ([]results.ProducerVisit, []results.ConsumerVisit) {
	t.Helper()
	var outP []results.ProducerVisit
	var outC []results.ConsumerVisit
	for i := range ps {
		b, err := results.Record{Kind: results.KindProducer, Producer: &ps[i]}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		r, err := results.DecodeRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		outP = append(outP, *r.Producer)
	}
	for _, c := range cs {
		b, err := results.Record{Kind: results.KindConsumer, Consumer: c}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		r, err := results.DecodeRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		outC = append(outC, *r.Consumer)
	}
	return outP, outC
}

func producer(visit, p, expected int) results.ProducerVisit {
	start := t0.Add(time.Duration(visit) * 39 * time.Second)
	return results.ProducerVisit{Run: "r1", Visit: visit, Producer: p, Expected: expected, Sent: expected, Acked: expected,
		Bytes: int64(expected) * 1000, IntendedStart: start, FirstSerialize: start.Add(ms(10)), LastAck: start.Add(ms(2000))}
}

// observe has member cv receive seqs of producer p of its visit, 1 ms apart
// from visit start + 2.5 s.
func observe(cv *results.ConsumerVisit, p int, seqs ...int) {
	start := t0.Add(time.Duration(cv.Visit) * 39 * time.Second)
	for _, s := range seqs {
		at := start.Add(ms(2500 + s))
		cv.Observe(p, s, start, at)
	}
}

func seqRange(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func one(t *testing.T, groups []VisitGroup, visit int, group string) VisitGroup {
	t.Helper()
	for _, g := range groups {
		if g.Visit == visit && g.Group == group {
			return g
		}
	}
	t.Fatalf("no row for visit %d, group %q in %d rows", visit, group, len(groups))
	return VisitGroup{}
}

// The acceptance test: synthetic records with a gap and a duplicate
// are reported as exactly 1 lost and 1 duplicated.
func TestGapAndDuplicate(t *testing.T) {
	cv := results.NewConsumerVisit("r1", 0, "g", "m0", "alerts")
	observe(cv, 0, 0, 1, 2, 3 /* gap: 4 */, 5, 6, 7)
	if dup := cv.Observe(0, 7, t0, t0.Add(ms(2600))); !dup {
		t.Error("second delivery of seq 7: Observe says not a duplicate")
	}
	observe(cv, 0, 8, 9)
	if cv.Received != 10 || cv.Duplicates != 1 {
		t.Fatalf("member: received %d, duplicates %d", cv.Received, cv.Duplicates)
	}
	ps, cs := viaTopic(t, []results.ProducerVisit{producer(0, 0, 10)}, []*results.ConsumerVisit{cv})
	groups, err := Fold(ps, cs)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 {
		t.Fatalf("%d rows", len(groups))
	}
	g := groups[0]
	if g.Lost != 1 || g.Duplicated != 1 || g.Unique != 9 || g.Stray != 0 || g.Received != 10 || g.Expected != 10 || g.Complete {
		t.Errorf("lost %d duplicated %d unique %d stray %d received %d expected %d complete %v; want 1 lost, 1 duplicated",
			g.Lost, g.Duplicated, g.Unique, g.Stray, g.Received, g.Expected, g.Complete)
	}
	if !reflect.DeepEqual(g.LostSeqs, map[int][]int{0: {4}}) {
		t.Errorf("LostSeqs = %v", g.LostSeqs)
	}
	// A duplicate is reported (Duplicated), not a problem of the visit:
	// whether it fails a run is the experiment's expect.duplicates.
	want := []string{"1 of 10 alerts lost"}
	if got := g.Problems(); !reflect.DeepEqual(got, want) {
		t.Errorf("Problems = %q, want %q", got, want)
	}
}

// Two members of one group both get seqs 50..59 (a rebalance hands their
// partition over before the offsets were committed): 10 duplicated, none
// lost. A member's second, partial record for the same visit is added up;
// a record re-delivered by the results topic counts once.
func TestRebalanceDuplicates(t *testing.T) {
	a := results.NewConsumerVisit("r1", 3, "g", "a", "alerts")
	observe(a, 0, seqRange(0, 60)...)
	b := results.NewConsumerVisit("r1", 3, "g", "b", "alerts")
	observe(b, 0, seqRange(50, 90)...)
	// b flushed its record, then got 85..99 (85..89 again).
	b2 := results.NewConsumerVisit("r1", 3, "g", "b", "alerts")
	observe(b2, 0, seqRange(85, 100)...)
	ps, cs := viaTopic(t, []results.ProducerVisit{producer(3, 0, 100)}, []*results.ConsumerVisit{a, b, b2, a /* re-delivered */})
	groups, err := Fold(append(ps, ps[0]) /* re-delivered */, cs)
	if err != nil {
		t.Fatal(err)
	}
	g := one(t, groups, 3, "g")
	if g.Lost != 0 || g.Duplicated != 15 || g.Unique != 100 || g.Received != 115 || g.Members != 2 || g.Producers != 1 || !g.Complete {
		t.Errorf("lost %d duplicated %d unique %d received %d members %d producers %d complete %v; want 0 lost, 15 duplicated of 115, 2 members",
			g.Lost, g.Duplicated, g.Unique, g.Received, g.Members, g.Producers, g.Complete)
	}
	if g.LostSeqs != nil || len(g.Problems()) != 0 {
		t.Errorf("LostSeqs %v, Problems %q", g.LostSeqs, g.Problems())
	}
	if g.Resent != 0 || g.Acked != 100 {
		t.Errorf("resent %d, acked %d: the re-delivered producer record counted twice", g.Resent, g.Acked)
	}
	// Without offsets in the records, nothing tells a re-read offset from
	// a second copy in the log.
	if g.Redelivered != 0 || g.ProducerDuplicates != 15 {
		t.Errorf("redelivered %d, producer duplicates %d; want 0 and 15 (records without offsets)", g.Redelivered, g.ProducerDuplicates)
	}
}

// With offsets, the fold tells the causes of duplicates apart: member a
// read offsets 0..59 of partition 0, then died before committing 50..59;
// member b read 50..89 again (10 re-deliveries). The producer also wrote
// seqs 95..99 twice (a retry without idempotence: offsets 100..104 hold
// the same alerts as 95..99), and b read both copies: 5 producer
// duplicates. Nothing lost.
func TestRedeliveredAndProducerDuplicates(t *testing.T) {
	at := func(cv *results.ConsumerVisit, part int32, firstOffset int64, seqs ...int) {
		for i, s := range seqs {
			cv.ObserveAt(0, s, t0, t0.Add(ms(100)), part, firstOffset+int64(i))
		}
	}
	a := results.NewConsumerVisit("r1", 1, "g", "a", "alerts")
	at(a, 0, 0, seqRange(0, 60)...)
	b := results.NewConsumerVisit("r1", 1, "g", "b", "alerts")
	at(b, 0, 50, seqRange(50, 100)...)
	at(b, 0, 100, seqRange(95, 100)...) // the producer's second copies
	ps, cs := viaTopic(t, []results.ProducerVisit{producer(1, 0, 100)}, []*results.ConsumerVisit{a, b})
	groups, err := Fold(ps, cs)
	if err != nil {
		t.Fatal(err)
	}
	g := one(t, groups, 1, "g")
	if g.Lost != 0 || g.Unique != 100 || g.Received != 115 || g.Duplicated != 15 || g.Redelivered != 10 || g.ProducerDuplicates != 5 {
		t.Errorf("lost %d unique %d received %d duplicated %d redelivered %d producer duplicates %d; want 0, 100, 115, 15, 10, 5",
			g.Lost, g.Unique, g.Received, g.Duplicated, g.Redelivered, g.ProducerDuplicates)
	}
	if got := b.Offsets[0]; !reflect.DeepEqual(got, []results.OffsetRange{{50, 104}}) {
		t.Errorf("b's offsets %v, want [[50 104]]", got)
	}
}

// Alerts the producer could not deliver (its Failed seqs) are not sent,
// not lost; an alert it delivered that no member got is lost.
func TestNotSentIsNotLost(t *testing.T) {
	p := producer(1, 0, 10)
	p.Acked, p.Errors, p.Failed = 7, 3, results.NewBitmap(2, 3, 4)
	cv := results.NewConsumerVisit("r1", 1, "g", "m", "alerts")
	observe(cv, 0, 0, 1, 5, 6, 7, 8) // 9 acknowledged, never received
	ps, cs := viaTopic(t, []results.ProducerVisit{p}, []*results.ConsumerVisit{cv})
	groups, err := Fold(ps, cs)
	if err != nil {
		t.Fatal(err)
	}
	g := one(t, groups, 1, "g")
	if g.NotSent != 3 || g.Lost != 1 || g.Complete || !reflect.DeepEqual(g.LostSeqs, map[int][]int{0: {9}}) {
		t.Errorf("not sent %d, lost %d (%v), complete %v; want 3 not sent, seq 9 lost", g.NotSent, g.Lost, g.LostSeqs, g.Complete)
	}
	want := []string{"1 of 10 alerts lost", "3 not sent (producer errors, or the producers stopped)", "7 of 10 acknowledged", "3 send errors"}
	if got := g.Problems(); !reflect.DeepEqual(got, want) {
		t.Errorf("Problems = %q, want %q", got, want)
	}
}

// Two groups (and a third that received only visit 1) are accounted
// independently; two producers' shares add up.
func TestGroupsIndependent(t *testing.T) {
	var cs []*results.ConsumerVisit
	for v := 0; v < 2; v++ {
		full := results.NewConsumerVisit("r1", v, "full", "m", "alerts")
		observe(full, 0, seqRange(0, 30)...)
		observe(full, 1, seqRange(0, 20)...)
		half := results.NewConsumerVisit("r1", v, "half", "m", "alerts")
		observe(half, 0, seqRange(0, 15)...)
		observe(half, 1, seqRange(10, 20)...)
		cs = append(cs, full, half)
	}
	late := results.NewConsumerVisit("r1", 1, "late", "m", "alerts")
	observe(late, 1, 3)
	cs = append(cs, late)
	ps := []results.ProducerVisit{producer(0, 0, 30), producer(0, 1, 20), producer(1, 0, 30), producer(1, 1, 20)}
	ps, cons := viaTopic(t, ps, cs)
	groups, err := Fold(ps, cons)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, g := range groups {
		keys = append(keys, g.Group)
	}
	if want := []string{"full", "half", "late", "full", "half", "late"}; !reflect.DeepEqual(keys, want) || groups[0].Visit != 0 || groups[3].Visit != 1 {
		t.Fatalf("rows %v", keys)
	}
	for v := 0; v < 2; v++ {
		full, half := one(t, groups, v, "full"), one(t, groups, v, "half")
		if full.Expected != 50 || full.Lost != 0 || !full.Complete || full.Acked != 50 {
			t.Errorf("visit %d full: %+v", v, full)
		}
		if half.Expected != 50 || half.Lost != 25 || half.Unique != 25 || half.Duplicated != 0 || half.Complete {
			t.Errorf("visit %d half: expected %d lost %d unique %d", v, half.Expected, half.Lost, half.Unique)
		}
		if len(half.LostSeqs[0]) != 15 || half.LostSeqs[0][0] != 15 || !reflect.DeepEqual(half.LostSeqs[1], seqRange(0, 10)) {
			t.Errorf("visit %d half: LostSeqs %v", v, half.LostSeqs)
		}
	}
	// "late" received nothing of visit 0: still a row, everything lost.
	l0, l1 := one(t, groups, 0, "late"), one(t, groups, 1, "late")
	if l0.Lost != 50 || l0.Members != 0 || l0.Received != 0 || l0.Complete || !l0.LastReceive.IsZero() || l0.TransitTime != 0 || l0.TotalTime != 0 {
		t.Errorf("late visit 0: %+v", l0)
	}
	if l0.ProducingTime != ms(2000) || l0.LatencyP50 != 0 || l0.LatencyMax != 0 {
		t.Errorf("late visit 0: producing %s p50 %s", l0.ProducingTime, l0.LatencyP50)
	}
	if l1.Lost != 49 || l1.Unique != 1 || l1.Members != 1 {
		t.Errorf("late visit 1: lost %d unique %d", l1.Lost, l1.Unique)
	}
}

// Strays: seqs at or beyond their producer's Expected, seqs of a producer
// without a record, and invalid headers. They are neither unique nor lost,
// and a stray delivered twice is also a duplicate.
func TestStrays(t *testing.T) {
	cv := results.NewConsumerVisit("r1", 0, "g", "m", "alerts")
	observe(cv, 0, seqRange(0, 10)...)
	observe(cv, 0, 10, 11, 11) // beyond Expected 10; 11 twice
	observe(cv, 7, 0)          // no producer 7
	cv.Observe(-1, 0, t0, t0.Add(time.Second))
	cv.Observe(0, results.MaxSeq, t0, t0.Add(time.Second))
	if cv.Invalid != 2 || cv.Received != 16 || cv.Duplicates != 1 {
		t.Fatalf("member: invalid %d received %d duplicates %d", cv.Invalid, cv.Received, cv.Duplicates)
	}
	ps, cs := viaTopic(t, []results.ProducerVisit{producer(0, 0, 10)}, []*results.ConsumerVisit{cv})
	groups, err := Fold(ps, cs)
	if err != nil {
		t.Fatal(err)
	}
	g := groups[0]
	if g.Unique != 10 || g.Lost != 0 || g.Stray != 5 || g.Duplicated != 1 || g.Received != 16 || !g.Complete {
		t.Errorf("unique %d lost %d stray %d duplicated %d received %d complete %v", g.Unique, g.Lost, g.Stray, g.Duplicated, g.Received, g.Complete)
	}
	// Without any producer record nothing is complete and everything strays.
	groups, err = Fold(nil, cs)
	if err != nil {
		t.Fatal(err)
	}
	g = groups[0]
	if g.Expected != 0 || g.Unique != 0 || g.Stray != 15 || g.Duplicated != 1 || g.Complete || g.Producers != 0 {
		t.Errorf("no producers: %+v", g)
	}
	if p := g.Problems(); len(p) == 0 || p[0] != "no producer record" {
		t.Errorf("Problems = %q", p)
	}
}

// Timings are exact for synthetic times: DMTN-028's producing time (last ack
// - intended start), transit time (last receive - last ack) and total.
func TestTimings(t *testing.T) {
	start := t0.Add(5 * 39 * time.Second)
	p0 := results.ProducerVisit{Run: "r", Visit: 5, Producer: 0, Expected: 2, Sent: 2, Acked: 2,
		IntendedStart: start, FirstSerialize: start.Add(ms(3)), LastAck: start.Add(ms(3750))}
	p1 := results.ProducerVisit{Run: "r", Visit: 5, Producer: 1, Expected: 1, Sent: 1, Acked: 1,
		IntendedStart: start, FirstSerialize: start.Add(ms(1)), LastAck: start.Add(ms(1200))}
	a := results.NewConsumerVisit("r", 5, "g", "a", "alerts")
	a.Observe(0, 0, start, start.Add(ms(900)))
	a.Observe(1, 0, start, start.Add(ms(1300)))
	b := results.NewConsumerVisit("r", 5, "g", "b", "alerts")
	b.Observe(0, 1, start.Add(ms(100)), start.Add(ms(14550)))
	groups, err := Fold([]results.ProducerVisit{p0, p1}, []results.ConsumerVisit{*a, *b})
	if err != nil {
		t.Fatal(err)
	}
	g := groups[0]
	if !g.IntendedStart.Equal(start) || !g.FirstSerialize.Equal(start.Add(ms(1))) || !g.LastAck.Equal(start.Add(ms(3750))) ||
		!g.FirstReceive.Equal(start.Add(ms(900))) || !g.LastReceive.Equal(start.Add(ms(14550))) {
		t.Errorf("times: %+v", g)
	}
	if g.ProducingTime != ms(3750) || g.TransitTime != ms(10800) || g.TotalTime != ms(14550) {
		t.Errorf("producing %s transit %s total %s; want 3.75s 10.8s 14.55s", g.ProducingTime, g.TransitTime, g.TotalTime)
	}
	if g.LatencyMax < ms(14450) || g.LatencyMax > ms(14450)+ms(15) || g.Latency.Count() != 3 {
		t.Errorf("latency max %s of %d", g.LatencyMax, g.Latency.Count())
	}
	if g.Expected != 3 || g.Acked != 3 || g.Lost != 0 || !g.Complete {
		t.Errorf("counts: %+v", g)
	}
}

// Percentiles from the histogram agree with the exact ones within
// HdrHistogram's precision (3 significant digits: 0.1%), also after merging
// members and a JSON round trip.
func TestLatencyPercentiles(t *testing.T) {
	a, b := results.NewHistogram(), results.NewHistogram()
	var exact []time.Duration
	for i := 1; i <= 20000; i++ {
		// 0.5 ms .. 30 s, skewed.
		d := time.Duration(500+int64(i)*int64(i)*75/1000) * time.Microsecond
		exact = append(exact, d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	sort.Slice(exact, func(i, j int) bool { return exact[i] < exact[j] })
	h := results.NewHistogram()
	h.Merge(a)
	h.Merge(b)
	h.Merge(nil)
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var back results.Histogram
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(h) || back.Count() != 20000 {
		t.Fatalf("JSON round trip: count %d", back.Count())
	}
	within := func(got, want time.Duration) bool {
		return math.Abs(float64(got-want)) <= float64(want)*0.001+float64(time.Microsecond)
	}
	for _, q := range []float64{1, 50, 90, 99, 99.9, 100} {
		want := exact[int(math.Ceil(q/100*float64(len(exact))))-1]
		if got := back.ValueAtQuantile(q); !within(got, want) {
			t.Errorf("p%g = %s, exact %s", q, got, want)
		}
	}
	if got, want := back.Max(), exact[len(exact)-1]; !within(got, want) {
		t.Errorf("max %s, exact %s", got, want)
	}
	if got, want := back.Min(), exact[0]; !within(got, want) {
		t.Errorf("min %s, exact %s", got, want)
	}
	var sum time.Duration
	for _, d := range exact {
		sum += d
	}
	if got, want := back.Mean(), sum/time.Duration(len(exact)); !within(got, want) {
		t.Errorf("mean %s, exact %s", got, want)
	}
	// JSON stays small: run-length encoded counts.
	if len(js) > 40000 {
		t.Errorf("histogram of 20000 values: %d JSON bytes", len(js))
	}
	empty, _ := json.Marshal(results.NewHistogram())
	if string(empty) != `{"lowest_trackable_value":1,"highest_trackable_value":600000000,"significant_figures":3,"counts":[],"clamped":0}` {
		t.Errorf("empty histogram JSON %s", empty)
	}
	small := results.NewHistogram()
	small.Record(3 * time.Microsecond)
	small.Record(4 * time.Microsecond)
	small.Record(4 * time.Microsecond)
	small.Record(7 * time.Microsecond)
	if js, _ := json.Marshal(small); !strings.Contains(string(js), `"counts":[-3,1,2,-2,1]`) {
		t.Errorf("3, 4, 4, 7 us: %s", js)
	}
}

// CI's pause run (2026-12-05): worker 1 drained as visit 4 began. Producer
// 0's task there had handed over its 300 alerts and reported the visit
// (acknowledged by 10.8 s) after its replacement, which found no record
// when it started, had sent the visit again (acknowledged by 18.2 s). Both
// records count once for the producer; the replacement's 300 are Resent,
// and the group's second copies are producer duplicates, none lost.
func TestTwoTasksOfOneProducerReportAVisit(t *testing.T) {
	stopped := producer(4, 0, 300)
	stopped.LastAck = stopped.IntendedStart.Add(10800 * time.Millisecond)
	replacement := producer(4, 0, 300)
	replacement.FirstSerialize = replacement.IntendedStart.Add(2 * time.Second)
	replacement.LastAck = replacement.IntendedStart.Add(18200 * time.Millisecond)
	other := producer(4, 1, 300)
	m := results.NewConsumerVisit("r1", 4, "g", "m", "alerts")
	for i, s := range seqRange(0, 300) {
		m.ObserveAt(0, s, t0, t0.Add(ms(100)), 0, int64(i))
		m.ObserveAt(1, s, t0, t0.Add(ms(100)), 1, int64(i))
		m.ObserveAt(0, s, t0, t0.Add(ms(200)), 2, int64(i)) // the replacement's copy
	}
	for _, order := range [][]results.ProducerVisit{{replacement, other, stopped}, {stopped, other, replacement}} {
		ps, cs := viaTopic(t, order, []*results.ConsumerVisit{m})
		groups, err := Fold(ps, cs)
		if err != nil {
			t.Fatal(err)
		}
		g := one(t, groups, 4, "g")
		if g.Producers != 2 || g.Expected != 600 || g.Acked != 600 || g.Sent != 600 || g.Resent != 300 || g.Bytes != 600_000 || !g.ProducersFinished() {
			t.Errorf("producers %d expected %d acked %d sent %d resent %d bytes %d; want 2 producers, 600 each, 300 resent",
				g.Producers, g.Expected, g.Acked, g.Sent, g.Resent, g.Bytes)
		}
		if g.Lost != 0 || g.NotSent != 0 || g.Unique != 600 || g.Duplicated != 300 || g.ProducerDuplicates != 300 || g.Redelivered != 0 || !g.Complete {
			t.Errorf("lost %d not sent %d unique %d duplicated %d producer dup. %d redelivered %d; want 600 unique, 300 producer duplicates, complete",
				g.Lost, g.NotSent, g.Unique, g.Duplicated, g.ProducerDuplicates, g.Redelivered)
		}
		// The producing time is the stopped task's, which finished first.
		if g.ProducingTime != 10800*time.Millisecond || g.FirstSerialize != stopped.FirstSerialize {
			t.Errorf("producing time %s, first serialize %s; want the first task's 10.8s", g.ProducingTime, g.FirstSerialize)
		}
		if len(g.Problems()) != 0 {
			t.Errorf("Problems = %q", g.Problems())
		}
		s := Summarize(Facts{RunID: "r1", Visits: 4, Rows: groups[len(groups)-1:]})
		want := "visit 4, g: 300 duplicated: 300 written twice by a producer (a stopped task and its replacement both sent the visit: 300 alerts acknowledged twice)"
		if strings.Join(s.Notes, "\n") != want {
			t.Errorf("notes %q, want %q", s.Notes, want)
		}
	}
}

// Two partial records of one producer: the first task delivered seqs 0..5
// and failed 6..7 before it stopped, the second delivered 4..9 with seq 9
// failed. Seq 9 was delivered by the first task only if it sent it (it did
// not): not sent. Seqs 6..7 were delivered by the second: a missing one
// is lost. The account record is the one with more acked.
func TestTwoPartialRecordsOfAProducer(t *testing.T) {
	first := producer(2, 0, 10)
	first.Sent, first.Acked, first.Errors, first.Failed = 8, 6, 2, results.NewBitmap(6, 7)
	second := producer(2, 0, 10)
	second.Acked, second.Errors, second.Failed = 9, 1, results.NewBitmap(9)
	cv := results.NewConsumerVisit("r1", 2, "g", "m", "alerts")
	observe(cv, 0, 0, 1, 2, 3, 4, 5, 7, 8) // 6 lost, 9 never delivered
	ps, cs := viaTopic(t, []results.ProducerVisit{first, second}, []*results.ConsumerVisit{cv})
	groups, err := Fold(ps, cs)
	if err != nil {
		t.Fatal(err)
	}
	g := one(t, groups, 2, "g")
	if g.Acked != 9 || g.Errors != 1 || g.Resent != 6 || g.NotSent != 1 || g.Lost != 1 || !reflect.DeepEqual(g.LostSeqs, map[int][]int{0: {6}}) {
		t.Errorf("acked %d errors %d resent %d not sent %d lost %d (%v); want the second record's 9 acked, 6 resent, seq 9 not sent, seq 6 lost",
			g.Acked, g.Errors, g.Resent, g.NotSent, g.Lost, g.LostSeqs)
	}
}

func TestFoldErrors(t *testing.T) {
	p := producer(0, 0, 10)
	q := producer(0, 0, 11)
	if _, err := Fold([]results.ProducerVisit{p, q}, nil); err == nil || err.Error() != "fold: two producer records of visit 0, producer 0 plan different visits (10 and 11 alerts); records of one run plan each visit once" {
		t.Errorf("conflicting producer records: %v", err)
	}
	other := producer(1, 0, 10)
	other.Run = "r2"
	if _, err := Fold([]results.ProducerVisit{p, other}, nil); err == nil || err.Error() != `fold: records of runs "r1" and "r2"; fold one run at a time` {
		t.Errorf("two runs: %v", err)
	}
	cv := results.NewConsumerVisit("r1", 0, "", "m", "alerts")
	if _, err := Fold(nil, []results.ConsumerVisit{*cv}); err == nil || !strings.Contains(err.Error(), "no group") {
		t.Errorf("no group: %v", err)
	}
	if g, err := Fold(nil, nil); err != nil || len(g) != 0 {
		t.Errorf("nothing: %v %v", g, err)
	}
}

func TestStatsOf(t *testing.T) {
	s := StatsOf([]time.Duration{4 * time.Second, time.Second, 2 * time.Second, 3 * time.Second})
	// mean 2.5 s; sample variance (2.25+0.25+0.25+2.25)/3 = 5/3 s²; stddev 1.290994449 s.
	want := Stats{N: 4, Mean: 2500 * time.Millisecond, Stddev: 1290994449, Min: time.Second, Max: 4 * time.Second}
	if s != want {
		t.Errorf("StatsOf = %+v, want %+v", s, want)
	}
	if s.String() != "2.50 +/- 1.29 s, 1.00 - 4.00 s" {
		t.Errorf("String = %q", s.String())
	}
	if got := StatsOf([]time.Duration{ms(3880)}); got != (Stats{N: 1, Mean: ms(3880), Min: ms(3880), Max: ms(3880)}) {
		t.Errorf("one value: %+v", got)
	}
	if got := StatsOf(nil); got != (Stats{}) || got.String() != "no values" {
		t.Errorf("none: %+v", got)
	}
	// Large values far from zero (Welford keeps the precision).
	base := 1000 * time.Hour
	if got := StatsOf([]time.Duration{base + 1, base + 3}); got.Mean != base+2 || got.Stddev != 1 {
		t.Errorf("offset values: %+v", got)
	}
}
