package orchestrator

import (
	"io"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/agents/results"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// A followed stream's visit windows carry the alerts acknowledged through
// them once every visit from 1 on has come complete, in whatever order
// the visits completed; visits followed from the middle of a stream whose
// first visits were not seen carry none (the lag rule judges them).
func TestFollowerThrough(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	st := workspace.Stream{RunID: "r1", Producers: 1, T0: t0, VisitInterval: 10 * time.Second, AlertsPerVisit: 100}
	record := func(f *follower, visit, acked int) {
		start := t0.Add(time.Duration(visit-1) * 10 * time.Second)
		b, err := results.Record{Kind: results.KindProducer, Producer: &results.ProducerVisit{Run: "r1", Visit: visit, Expected: 100,
			Sent: 100, Acked: acked, IntendedStart: start, LastAck: start.Add(3 * time.Second)}}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		f.record(b)
	}
	f := newFollower(nil, nil, io.Discard, st, nil, t0)
	record(f, 1, 100)
	record(f, 3, 98) // ahead of visit 2
	if got := f.window(f.ready[1]).Through; got != 0 {
		t.Errorf("visit 3 before visit 2 came: through %d, want 0 (unknown)", got)
	}
	record(f, 2, 100)
	for i, want := range []int64{100, 200, 298} {
		if got := f.window(f.ready[i]).Through; got != want {
			t.Errorf("visit %d: through %d, want %d", f.ready[i].Visit, got, want)
		}
	}
	// A second, different record of visit 2 (40 acknowledged: the visit
	// written again by the producer's next task): those 40 records are in
	// the topic too, before visit 3's.
	record(f, 2, 40)
	for i, want := range []int64{100, 240, 338} {
		if got := f.window(f.ready[i]).Through; got != want {
			t.Errorf("after visit 2 written again: visit %d: through %d, want %d", f.ready[i].Visit, got, want)
		}
	}
	// Followed from visit 5 on, visits 1..4 never seen.
	g := newFollower(nil, nil, io.Discard, st, nil, t0.Add(40*time.Second))
	record(g, 5, 100)
	if len(g.ready) != 1 || g.window(g.ready[0]).Through != 0 {
		t.Errorf("from the middle: %+v", g.ready)
	}
}
