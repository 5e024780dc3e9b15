package outcome

import (
	"github.com/alert-testbed/testbed/agents/pacing"
	"reflect"
	"strings"
	"testing"
	"time"
)

// samplesEvery are lag checks once a second from start, with lag(i) at
// the i-th.
func samplesEvery(start time.Time, n int, lag func(i int) int64) []LagSample {
	out := make([]LagSample, n)
	for i := range out {
		out[i] = LagSample{Time: start.Add(time.Duration(i) * time.Second), Lag: lag(i)}
	}
	return out
}

func TestJudgeExternal(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	// 3 visits of 1000 alerts every 10 s, each produced in 3 s.
	var windows []VisitWindow
	for v := 1; v <= 3; v++ {
		start := t0.Add(time.Duration(v-1) * 10 * time.Second)
		windows = append(windows, VisitWindow{Visit: v, LastAck: start.Add(3 * time.Second), Next: start.Add(10 * time.Second)})
	}
	windows[2].Next = t0.Add(35 * time.Second) // the run's end

	// Keeps up: lag 0 two seconds after each visit's last alert.
	fast := samplesEvery(t0, 36, func(i int) int64 {
		if i%10 < 5 {
			return int64(200 * (i % 10))
		}
		return 0
	})
	g := JudgeExternal("fast", fast, windows, pacing.Schedule{AlertsPerVisit: 1000, Interval: 10 * time.Second})
	if g.Verdict != KeepingUp || len(g.Visits) != 3 || g.VerdictLine() != "KEEPING UP at 1000 alerts/visit" {
		t.Fatalf("fast: %+v", g)
	}
	for _, v := range g.Visits {
		if !v.CaughtUp || v.CaughtUpAfter != 2*time.Second || v.String() != "caught up +2.0 s after its last alert was produced" {
			t.Errorf("fast visit %d: %+v %q", v.Visit, v, v)
		}
	}

	// Takes in 40 alerts/s against 100/s: 600 more behind each visit.
	slow := samplesEvery(t0, 36, func(i int) int64 { return int64(60 * i) })
	g = JudgeExternal("slow", slow, windows, pacing.Schedule{AlertsPerVisit: 1000, Interval: 10 * time.Second})
	if g.Verdict != FallingBehind || len(g.Visits) != 3 {
		t.Fatalf("slow: %+v", g)
	}
	want := []string{
		"behind by 540 alerts (5.4 s of stream), growing",   // the last check before t0+10 s
		"behind by 1140 alerts (11.4 s of stream), growing", // before t0+20 s
		"behind by 2040 alerts (20.4 s of stream), growing", // before the run's end, t0+35 s
	}
	for i, v := range g.Visits {
		if v.String() != want[i] {
			t.Errorf("slow visit %d: %q, want %q", v.Visit, v, want[i])
		}
	}

	// Visits of their own sizes (alert.replay_pacing observed): a visit's
	// alerts over its length are the stream's rate then; the verdict is
	// at the mean alerts per visit.
	sched := pacing.Schedule{Interval: 5 * time.Second, Slots: []pacing.Slot{{Offset: 0, Alerts: 500}, {Offset: 10 * time.Second, Alerts: 3000}, {Offset: 20 * time.Second, Alerts: 100}}}
	g = JudgeExternal("slow", slow, windows, sched)
	if g.VerdictLine() != "FALLING BEHIND at 1200 alerts/visit" || g.Visits[0].BehindStream != 10800*time.Millisecond ||
		g.Visits[1].BehindStream != 3800*time.Millisecond || g.Visits[2].BehindStream != 102*time.Second {
		t.Errorf("slots: %s, behind %s %s %s; want 540/50 = 10.8 s, 1140/300 = 3.8 s, 2040/20 = 102 s", g.VerdictLine(), g.Visits[0].BehindStream, g.Visits[1].BehindStream, g.Visits[2].BehindStream)
	}

	// Behind, then catching up: shrinking, and in the end keeping up.
	recover := samplesEvery(t0, 36, func(i int) int64 { return max(0, int64(800-30*i)) })
	g = JudgeExternal("recovering", recover, windows, pacing.Schedule{AlertsPerVisit: 1000, Interval: 10 * time.Second})
	if g.Visits[0].CaughtUp || g.Visits[0].Trend != "growing" || g.Visits[1].Trend != "shrinking" || !g.Visits[2].CaughtUp || g.Verdict != KeepingUp {
		t.Errorf("recovering: %+v", g.Visits)
	}

	// A visit never produced is not judged; no visit at all says so.
	windows[1].LastAck = time.Time{}
	if g := JudgeExternal("x", fast, windows, pacing.Schedule{AlertsPerVisit: 1000, Interval: 10 * time.Second}); len(g.Visits) != 2 || g.Visits[1].Visit != 3 {
		t.Errorf("unproduced visit judged: %+v", g.Visits)
	}
	if g := JudgeExternal("x", fast, nil, pacing.Schedule{AlertsPerVisit: 1000, Interval: 10 * time.Second}); g.Verdict != NotEnoughToSay || g.VerdictLine() != NotEnoughToSay {
		t.Errorf("no visits: %+v", g)
	}
}

// A stream's judge, fed a sample a second and asked for each visit as
// its window closes, judges as JudgeExternal does over the whole stream,
// and holds only the samples of about one visit however long it runs.
func TestExternalJudgeOfAStreamWithoutEnd(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	const visits = 2000 // 5.5 hours of 10 s visits
	// Falls behind on every third visit and catches up on the next.
	lag := func(i int) int64 {
		if (i/10)%3 == 0 {
			return int64(100 * (i % 10))
		}
		if i%10 < 3 {
			return int64(300 - 100*(i%10))
		}
		return 0
	}
	samples := samplesEvery(t0, visits*10, lag)
	var windows []VisitWindow
	for v := 1; v <= visits; v++ {
		start := t0.Add(time.Duration(v-1) * 10 * time.Second)
		windows = append(windows, VisitWindow{Visit: v, LastAck: start.Add(2 * time.Second), Next: start.Add(10 * time.Second)})
	}
	want := JudgeExternal("g", samples, windows, pacing.Schedule{AlertsPerVisit: 1000, Interval: 10 * time.Second})

	j := ExternalJudge{Schedule: pacing.Schedule{AlertsPerVisit: 1000, Interval: 10 * time.Second}}
	var got []ExternalVisit
	held := 0
	for i, s := range samples {
		j.Add(s)
		if w := windows[len(got)]; !s.Time.Before(w.Next) || i == len(samples)-1 {
			got = append(got, j.Visit(w))
			held = max(held, len(j.samples))
		}
	}
	if len(got) != visits || Verdict(got) != want.Verdict {
		t.Fatalf("%d visits judged, verdict %s; want %d, %s", len(got), Verdict(got), visits, want.Verdict)
	}
	for i := range got {
		if got[i] != want.Visits[i] {
			t.Fatalf("visit %d: %+v, JudgeExternal %+v", i+1, got[i], want.Visits[i])
		}
	}
	if got[0].Behind != 900 || got[0].Trend != "growing" || !got[1].CaughtUp || got[1].CaughtUpAfter != time.Second ||
		!got[2].CaughtUp || got[3].Behind != 900 || got[3].Trend != "growing" {
		t.Errorf("first visits: %+v", got[:4])
	}
	if held > 12 {
		t.Errorf("the judge held %d samples at once; a visit has 10", held)
	}
}

// Summarize takes the visits' windows from the rows and T0, and prints
// each group's verdict.
func TestSummaryOfExternalConsumers(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rows := []VisitGroup{
		{Visit: 1, Group: "g", IntendedStart: t0, LastAck: t0.Add(3 * time.Second)},
		{Visit: 2, Group: "g", IntendedStart: t0.Add(10 * time.Second), LastAck: t0.Add(14 * time.Second)},
	}
	lag := map[string][]LagSample{"ext": samplesEvery(t0, 20, func(i int) int64 {
		if i == 4 || i == 15 {
			return 0
		}
		return 5
	})}
	s := Summarize(Facts{RunID: "r", Experiment: "x", Visits: 2, Rows: rows, External: []string{"ext"}, ExternalLag: lag,
		T0: t0, End: t0.Add(19 * time.Second), Schedule: pacing.Schedule{AlertsPerVisit: 1000, Interval: 10 * time.Second}})
	if len(s.External) != 1 || s.External[0].Verdict != KeepingUp || s.External[0].Visits[0].CaughtUpAfter != time.Second || s.External[0].Visits[1].CaughtUpAfter != time.Second {
		t.Fatalf("external: %+v", s.External)
	}
	var b strings.Builder
	s.Print(&b)
	for _, want := range []string{"EXTERNAL CONSUMERS", "  ext: KEEPING UP at 1000 alerts/visit", "    visit 2: caught up +1.0 s after its last alert was produced"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

// Through counts every acknowledged record of the log: a visit that two
// tasks of one producer wrote holds its Resent alerts too, and a group has
// read it only when its offsets reach past them.
func TestVisitWindowsThroughCountsResent(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rows := []VisitGroup{
		{Visit: 1, Group: "a", Acked: 600, LastAck: t0.Add(3 * time.Second)},
		{Visit: 1, Group: "b", Acked: 600, LastAck: t0.Add(3 * time.Second)},
		{Visit: 2, Group: "a", Acked: 600, Resent: 300, LastAck: t0.Add(14 * time.Second)},
		{Visit: 2, Group: "b", Acked: 600, Resent: 300, LastAck: t0.Add(14 * time.Second)},
		{Visit: 3, Group: "a", Acked: 600, LastAck: t0.Add(23 * time.Second)},
	}
	ws := visitWindows(Facts{Visits: 3, Rows: rows, T0: t0, End: t0.Add(time.Minute), Schedule: pacing.Schedule{AlertsPerVisit: 600, Interval: 10 * time.Second}})
	var got []int64
	for _, w := range ws {
		got = append(got, w.Through)
	}
	if want := []int64{600, 1500, 2100}; !reflect.DeepEqual(got, want) {
		t.Errorf("Through = %v, want %v", got, want)
	}
}

// A visit acked less than OverrunGrace before the next was due is judged
// until OverrunGrace after its last ack; others until the next is due.
func TestNewVisitWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	next := t0.Add(10 * time.Second)
	if w := NewVisitWindow(1, t0.Add(3*time.Second), next); w.Next != next || w.Visit != 1 {
		t.Errorf("acked at +3 s: %+v, want Next at +10 s", w)
	}
	if w := NewVisitWindow(1, t0.Add(9500*time.Millisecond), next); w.Next != t0.Add(14500*time.Millisecond) {
		t.Errorf("acked at +9.5 s: Next %s, want OverrunGrace after the ack (+14.5 s)", w.Next.Sub(t0))
	}
	if w := NewVisitWindow(2, time.Time{}, next); w.Next != next {
		t.Errorf("not produced: Next %s, want the next visit's due time", w.Next)
	}
}

// Overlapping visits: each visit's producing runs past the next one's due
// time, so the topic always holds alerts of the next visit and the lag of
// a consumer that keeps up is never 0. It is judged by its committed
// offsets against the alerts acknowledged through each visit; a slower
// one is behind by what it lacks of the visit, not of the next.
func TestExternalWithOverlappingVisits(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	// 3 visits of 1000 alerts due every 10 s, each acked 15 s after it
	// was due; 100 alerts/s go into the topic from t0 on (HWM 100 i).
	var rows []VisitGroup
	for v := 1; v <= 3; v++ {
		start := t0.Add(time.Duration(v-1) * 10 * time.Second)
		rows = append(rows, VisitGroup{Visit: v, Group: "g", IntendedStart: start, LastAck: start.Add(15 * time.Second), Acked: 1000})
	}
	sample := func(i int, committed int64) LagSample {
		hwm := min(int64(100*i), 3000)
		return LagSample{Time: t0.Add(time.Duration(i) * time.Second), Lag: hwm - committed, Committed: committed}
	}
	var fast, slow []LagSample
	for i := 0; i <= 40; i++ {
		// fast: 50 alerts behind the head, committing every second,
		// all read 2 s after the last is in; slow: reads 60 alerts/s.
		c := max(0, min(int64(100*i), 3000)-50)
		if i >= 32 {
			c = 3000
		}
		fast = append(fast, sample(i, c))
		slow = append(slow, sample(i, int64(60*i)))
	}
	s := Summarize(Facts{RunID: "r", Experiment: "x", Visits: 3, Rows: rows, External: []string{"fast", "slow"},
		ExternalLag: map[string][]LagSample{"fast": fast, "slow": slow},
		T0:          t0, End: t0.Add(40 * time.Second), Schedule: pacing.Schedule{AlertsPerVisit: 1000, Interval: 10 * time.Second}})
	f, sl := s.External[0], s.External[1]
	if f.Verdict != KeepingUp || len(f.Visits) != 3 {
		t.Fatalf("fast: %+v", f.Visits)
	}
	for _, v := range f.Visits {
		// Visit v's 1000 v alerts are committed at the first check
		// at which 1000 v + 50 are in the topic: at once, from its
		// last ack on.
		if !v.CaughtUp || v.CaughtUpAfter != 0 {
			t.Errorf("fast visit %d: %+v", v.Visit, v)
		}
	}
	// Visit 1's window ends OverrunGrace after its last ack (+20 s):
	// at +19 s the slow group has committed 1140 of its 1000: caught up
	// at +17 s (1020). Visit 2 (through 2000, window to +30 s): 1740 at
	// +29 s, 260 short. Visit 3 (through 3000, to +40 s, the end): 2340
	// at +39 s, 660 short.
	if sl.Verdict != FallingBehind || !sl.Visits[0].CaughtUp || sl.Visits[0].CaughtUpAfter != 2*time.Second ||
		sl.Visits[1].Behind != 260 || sl.Visits[2].Behind != 660 || sl.Visits[2].Trend != "growing" {
		t.Errorf("slow: %+v", sl.Visits)
	}
}
