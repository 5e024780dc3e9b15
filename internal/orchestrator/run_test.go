package orchestrator

import (
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/run"
)

// The live loop's end: a run whose visits are all complete waits for its
// external groups' windows without being taken for a stall (a 3+10 run
// with 150 s visits, produced in about 100 s each, was stopped as stalled
// while it waited for the last visit's window); incomplete visits that
// stop moving are still given up on, and the run timeout still holds.
func TestLiveRunEnding(t *testing.T) {
	e := experiment.Defaults()
	e.Visits = 3
	e.VisitInterval = 150 * time.Second
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	done := t0.Add(2*150*time.Second + 100*time.Second) // the producers finished visit 3 after 100 s
	deadline := t0.Add(time.Hour)
	rows := func(complete bool) []outcome.VisitGroup {
		var out []outcome.VisitGroup
		for v := 1; v <= 3; v++ {
			out = append(out, outcome.VisitGroup{Visit: v, Group: "counting", Complete: complete || v < 3, LastAck: t0.Add(time.Duration(v-1)*150*time.Second + 100*time.Second)})
		}
		return out
	}
	newRun := func(external bool, complete bool) *liveRun {
		lr := &liveRun{e: e, t0: t0, printed: 3, producersDone: done, progress: done, rows: rows(complete)}
		if external {
			lr.external = []run.Group{{Name: "broker-slow"}}
		}
		return lr
	}
	for _, c := range []struct {
		name     string
		external bool
		complete bool
		at       time.Time
		done     bool
		err      string
	}{
		{"complete, no external group: ends", false, true, done.Add(time.Second), true, ""},
		{"complete, external window open, long after the last progress: waits", true, true, done.Add(45 * time.Second), false, ""},
		{"complete, external window closed at the run's end: ends", true, true, t0.Add(450*time.Second + time.Second), true, ""},
		{"incomplete, moving recently: waits", false, false, done.Add(10 * time.Second), false, ""},
		{"incomplete, nothing moved for the stall timeout after the grace: gives up", false, false, done.Add(visitGrace + stallTimeout + time.Second), true, "nothing has moved"},
		{"incomplete with external groups: gives up the same", true, false, done.Add(visitGrace + stallTimeout + time.Second), true, "nothing has moved"},
		{"past the run timeout, the external window still open: gives up", true, true, deadline.Add(time.Second), true, "limits.run_timeout"},
	} {
		t.Run(c.name, func(t *testing.T) {
			lr := newRun(c.external, c.complete)
			if c.at.After(deadline) {
				// Visits longer than the timeout: the last visit's window
				// is still open at the deadline.
				lr.e.VisitInterval = 2 * time.Hour
			}
			wantDone, wantErr := c.done, c.err
			gotDone, err := lr.ending(c.at, lr.rows, deadline)
			if gotDone != wantDone {
				t.Errorf("done = %v, want %v (error %v)", gotDone, wantDone, err)
			}
			switch {
			case wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
				t.Errorf("error %v, want one saying %q", err, wantErr)
			}
		})
	}
}
