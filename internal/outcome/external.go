package outcome

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/alert-testbed/testbed/agents/pacing"
)

// LagSample is one check of a consumer group's lag on the stream topic:
// at Time, Lag alerts were not yet committed by the group (the sum over
// partitions of the high-water mark minus its committed offset).
type LagSample struct {
	Time time.Time `json:"time"`
	Lag  int64     `json:"lag"`
	// Committed is the group's committed offsets summed over the
	// partitions: how many of the topic's alerts it has read (and
	// committed), on a topic that the run made.
	Committed int64 `json:"committed"`
}

// VisitWindow is when a visit's alerts were produced, for judging an
// external consumer group against it: LastAck is when its last alert was
// acknowledged; Next is when the next visit's first alert was due (the
// run's end for the last visit).
type VisitWindow struct {
	Visit   int
	LastAck time.Time
	Next    time.Time
	// Through, when known (a run's own topic, from offset 0), is how
	// many alerts were acknowledged in visits 1 .. Visit: the group has
	// read the visit when its committed offsets add up to it, whatever
	// the next visits have added to the topic since. 0: unknown (a
	// stream followed from its middle); the group has then read the
	// visit when its lag is 0.
	Through int64
}

// OverrunGrace is how long after its last acknowledgement a visit whose
// producing ran past the next visit's due time is given: a consumer
// commits its offsets every second or so, and the lag is checked every
// LagCheck.
const OverrunGrace = 5 * time.Second

// NewVisitWindow is visit's window, its last alert acknowledged at
// lastAck and the next visit due at next; a visit acked after the next
// was due (overlapping visits) is given OverrunGrace after lastAck.
func NewVisitWindow(visit int, lastAck, next time.Time) VisitWindow {
	w := VisitWindow{Visit: visit, LastAck: lastAck, Next: next}
	if !lastAck.IsZero() && w.Next.Before(lastAck.Add(OverrunGrace)) {
		w.Next = lastAck.Add(OverrunGrace)
	}
	return w
}

// read says whether sample s shows the group done with w's visit, and
// by how many alerts it is short otherwise.
func (w VisitWindow) read(s LagSample) (bool, int64) {
	if w.Through > 0 {
		return s.Committed >= w.Through, max(0, w.Through-s.Committed)
	}
	return s.Lag == 0, s.Lag
}

// ExternalVisit is how an external consumer group kept up with one visit.
type ExternalVisit struct {
	Visit int `json:"visit"`
	// CaughtUp says a check after the visit's last alert was
	// acknowledged and before its window closed (VisitWindow.Next) found
	// the group done with the visit (VisitWindow.read); CaughtUpAfter is
	// how long after that last alert, to within the interval of the lag
	// checks (1 s).
	CaughtUp      bool          `json:"caught_up"`
	CaughtUpAfter time.Duration `json:"caught_up_after_ns,omitempty"`
	// Behind is what the group lacked of the visit at the last check
	// before its window closed, when it had not caught up; BehindStream
	// is that many alerts in seconds of the stream at the visit's rate
	// (its alerts over the time to the next visit's start).
	Behind       int64         `json:"behind,omitempty"`
	BehindStream time.Duration `json:"behind_stream_ns,omitempty"`
	// Trend compares Behind with the previous visit's (0 when it caught
	// up): "growing", "shrinking" or "steady"; "" when caught up.
	Trend string `json:"trend,omitempty"`
}

// The verdicts on an external consumer group.
const (
	KeepingUp      = "KEEPING UP"
	FallingBehind  = "FALLING BEHIND"
	NotEnoughToSay = "NO VISIT PRODUCED"
)

// ExternalGroup is what the run says of a consumer group it did not start
// (the experiment's external_consumers), followed from its committed
// offsets.
type ExternalGroup struct {
	Group string `json:"group"`
	// AlertsPerVisit is the stream's alerts per visit, the load the
	// verdict is at (the mean over the visits judged, for visits of
	// their own sizes: alert.replay_pacing observed).
	AlertsPerVisit int             `json:"alerts_per_visit"`
	Visits         []ExternalVisit `json:"visits"`
	// Verdict is KeepingUp when the group caught up with the last visit
	// produced before the run ended, FallingBehind otherwise.
	Verdict string      `json:"verdict"`
	Samples []LagSample `json:"samples"`
}

// JudgeExternal follows one external group's lag samples (in time order)
// through the visits' windows (in visit order, visits from 1) on the
// experiment's schedule.
func JudgeExternal(group string, samples []LagSample, windows []VisitWindow, schedule pacing.Schedule) ExternalGroup {
	g := ExternalGroup{Group: group, AlertsPerVisit: schedule.AlertsPerVisit, Samples: samples, Verdict: NotEnoughToSay}
	j := ExternalJudge{Schedule: schedule, samples: samples[:len(samples):len(samples)]}
	alerts := 0
	for _, w := range windows {
		if w.LastAck.IsZero() {
			continue // not produced: nothing to keep up with
		}
		g.Visits = append(g.Visits, j.Visit(w))
		alerts += schedule.Alerts(w.Visit - 1)
	}
	if len(schedule.Slots) > 0 && len(g.Visits) > 0 {
		g.AlertsPerVisit = int(math.Round(float64(alerts) / float64(len(g.Visits))))
	}
	g.Verdict = Verdict(g.Visits)
	return g
}

// Verdict is KeepingUp when the last visit judged was caught up with,
// FallingBehind when it was not, NotEnoughToSay without a visit.
func Verdict(visits []ExternalVisit) string {
	switch n := len(visits); {
	case n == 0:
		return NotEnoughToSay
	case visits[n-1].CaughtUp:
		return KeepingUp
	default:
		return FallingBehind
	}
}

// ExternalJudge judges one external consumer group visit by visit while
// its lag samples come in (a stream without end, `testbed watch`): it
// keeps only the samples a later visit can still need, so that it runs in
// constant memory and time per visit however long the stream goes.
type ExternalJudge struct {
	// Schedule is the stream's: a visit's alerts over its length are
	// how fast the stream brings alerts then (BehindStream).
	Schedule pacing.Schedule
	samples  []LagSample
	prev     int64 // the previous visit's Behind, for the trend
}

// Add takes the next lag sample (samples in time order).
func (j *ExternalJudge) Add(s LagSample) { j.samples = append(j.samples, s) }

// Visit judges the visit of window w (w.LastAck set) from the samples
// added so far. Call it for the visits in order, once a sample at or
// after w.Next has been added, or the stream has ended: the group caught
// up when a sample from w.LastAck on and before w.Next shows it done with
// the visit (its committed offsets reach w.Through, or without Through
// its lag 0); otherwise it is behind by what it lacked of the visit at
// the last sample before w.Next. With Through, alerts of later visits
// already in the topic (overlapping visits) do not count against it.
func (j *ExternalJudge) Visit(w VisitWindow) ExternalVisit {
	v := ExternalVisit{Visit: w.Visit}
	var last *LagSample
	before := 0 // samples before w.Next: a later visit needs only the last of them
	for i := range j.samples {
		s := j.samples[i]
		if !s.Time.Before(w.Next) {
			break // the next visit's alerts may be in it
		}
		before = i + 1
		last = &j.samples[i]
		if done, _ := w.read(s); !v.CaughtUp && !s.Time.Before(w.LastAck) && done {
			v.CaughtUp, v.CaughtUpAfter = true, s.Time.Sub(w.LastAck)
		}
	}
	if !v.CaughtUp {
		if last != nil {
			_, v.Behind = w.read(*last)
		}
		if rate := j.Schedule.Rate(w.Visit - 1); rate > 0 {
			v.BehindStream = time.Duration(float64(v.Behind) / rate * float64(time.Second))
		}
		switch {
		case v.Behind > j.prev:
			v.Trend = "growing"
		case v.Behind < j.prev:
			v.Trend = "shrinking"
		default:
			v.Trend = "steady"
		}
	}
	j.prev = v.Behind
	if before > 1 {
		j.samples = j.samples[before-1:]
	}
	return v
}

// String is one visit's line: "caught up +1.2 s after its last alert" or
// "behind by 5000 alerts (19.5 s of stream), growing".
func (v ExternalVisit) String() string {
	if v.CaughtUp {
		return fmt.Sprintf("caught up +%.1f s after its last alert was produced", v.CaughtUpAfter.Seconds())
	}
	return fmt.Sprintf("behind by %d alerts (%.1f s of stream), %s", v.Behind, v.BehindStream.Seconds(), v.Trend)
}

// VerdictLine is the plain answer: "KEEPING UP at 10000 alerts/visit".
func (g ExternalGroup) VerdictLine() string {
	if g.Verdict == NotEnoughToSay {
		return g.Verdict
	}
	return fmt.Sprintf("%s at %d alerts/visit", g.Verdict, g.AlertsPerVisit)
}

// printExternal writes each external group's visits and verdict.
func printExternal(w io.Writer, groups []ExternalGroup) {
	if len(groups) == 0 {
		return
	}
	fmt.Fprintf(w, "  EXTERNAL CONSUMERS (followed from their committed offsets; lag checked every second)\n")
	for _, g := range groups {
		fmt.Fprintf(w, "  %s: %s\n", g.Group, g.VerdictLine())
		for _, v := range g.Visits {
			fmt.Fprintf(w, "    visit %d: %s\n", v.Visit, v)
		}
	}
}
