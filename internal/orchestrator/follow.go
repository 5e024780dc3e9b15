package orchestrator

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/IBM/sarama"

	"github.com/alert-testbed/testbed/agents/pacing"
	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/run"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// memberCheck is how often a follower asks whether a group it follows
// has a member yet.
const memberCheck = 5 * time.Second

// follower follows a stream without end visit by visit (testbed stream,
// testbed watch): the producers' records in the results topic say when
// each visit was produced, and a lag check a second says, for each
// consumer group followed, whether it caught up with the visit before the
// next one was due (outcome.ExternalJudge). A group is judged from the
// first visit due after it was seen with a member: the stream does not
// wait for a user's consumer, and a consumer not started yet is not
// falling behind.
type follower struct {
	client sarama.Client
	admin  sarama.ClusterAdmin
	out    io.Writer
	st     workspace.Stream
	// from: visits due before it are not printed or judged (watch starts
	// on a stream that is already going).
	from   time.Time
	tally  outcome.StreamTally
	groups []run.Group
	judges map[string]*outcome.ExternalJudge
	// member is when each group was first seen with a member.
	member     map[string]time.Time
	nextMember time.Time
	lastSample time.Time
	// ready are the complete visits waiting for their window to close,
	// in visit order.
	ready []outcome.StreamVisit
	// written[k] is the records visit k put in the stream's topic (its
	// acknowledged alerts, a second writing's too), once it has come
	// complete. The stream's topic is its own, from offset 0: a group
	// whose committed offsets reach the sum over visits 1..k has read
	// visit k (outcome.VisitWindow.Through).
	written map[int]int64
	// Totals, for the end.
	visits, notDelivered, notSent int
	acked                         int64
	bytes                         int64
	last                          map[string]outcome.ExternalVisit // each group's last visit judged
	caughtUp, behind              map[string]int                   // how many visits it caught up with, or did not
	badRecords                    int
}

func newFollower(client sarama.Client, admin sarama.ClusterAdmin, out io.Writer, st workspace.Stream, groups []string, from time.Time) *follower {
	f := &follower{client: client, admin: admin, out: out, st: st, from: from,
		tally:  outcome.StreamTally{RunID: st.RunID, Producers: st.Producers},
		judges: map[string]*outcome.ExternalJudge{}, member: map[string]time.Time{},
		last: map[string]outcome.ExternalVisit{}, caughtUp: map[string]int{}, behind: map[string]int{},
		written: map[int]int64{}}
	for _, g := range groups {
		f.groups = append(f.groups, run.External(g, st.Topic))
		f.judges[g] = &outcome.ExternalJudge{Schedule: pacing.Schedule{AlertsPerVisit: st.AlertsPerVisit, Interval: st.VisitInterval}}
	}
	return f
}

// record takes one record of the results topic.
func (f *follower) record(data []byte) {
	v, done, err := f.tally.Add(data)
	if err != nil {
		f.badRecords++
		return
	}
	if !done {
		if v.Resent > 0 { // a visit already complete, written again
			f.written[v.Visit] += int64(v.Resent)
		}
		return
	}
	f.written[v.Visit] += int64(v.Acked + v.Resent)
	if v.IntendedStart.Before(f.from) {
		return
	}
	i, _ := slices.BinarySearchFunc(f.ready, v.Visit, func(r outcome.StreamVisit, visit int) int { return r.Visit - visit })
	f.ready = slices.Insert(f.ready, i, v)
}

// window is the time in which a group must catch up with visit v: from
// its last ack until the next visit is due (visit v+1 at T0 + v x the
// interval).
func (f *follower) window(v outcome.StreamVisit) outcome.VisitWindow {
	w := outcome.NewVisitWindow(v.Visit, v.LastAck, f.st.T0.Add(time.Duration(v.Visit)*f.st.VisitInterval))
	w.Through = f.through(v.Visit)
	return w
}

// through is the records visits 1..k put in the topic, or 0 (unknown)
// while one of them has not come complete.
func (f *follower) through(k int) int64 {
	var n int64
	for v := 1; v <= k; v++ {
		w, ok := f.written[v]
		if !ok {
			return 0
		}
		n += w
	}
	return n
}

// tick checks members and lag, and prints each visit whose window has
// closed (at once when no group has a member yet). A check that fails is
// skipped: the next second's takes its place, and a visit's window waits
// for a sample after it closes.
func (f *follower) tick(now time.Time) {
	if now.After(f.nextMember) && len(f.member) < len(f.groups) {
		f.nextMember = now.Add(memberCheck)
		var names []string
		for _, g := range f.groups {
			if f.member[g.Name].IsZero() {
				names = append(names, g.Name)
			}
		}
		if descs, err := f.admin.DescribeConsumerGroups(names); err == nil {
			for _, d := range descs {
				if d.Err == sarama.ErrNoError && len(d.Members) > 0 {
					f.member[d.GroupId] = now
					fmt.Fprintf(f.out, "  %s has %d member(s): judged from the next visit on\n", d.GroupId, len(d.Members))
				}
			}
		}
	}
	var seen []run.Group
	for _, g := range f.groups {
		if !f.member[g.Name].IsZero() {
			seen = append(seen, g)
		}
	}
	if len(seen) > 0 {
		at := time.Now()
		if pos, err := run.Positions(f.client, f.admin, seen); err == nil {
			for _, g := range seen {
				f.judges[g.Name].Add(outcome.LagSample{Time: at, Lag: pos[g.Name].Lag, Committed: pos[g.Name].Committed})
			}
			f.lastSample = at
		}
	}
	for len(f.ready) > 0 {
		v := f.ready[0]
		w := f.window(v)
		if len(seen) > 0 && f.lastSample.Before(w.Next) {
			return // its window is still open
		}
		f.ready = f.ready[1:]
		f.print(v, w, true)
	}
}

// flush prints the visits that are complete but whose window had not
// closed when the stream stopped; the groups are not judged on them: a
// window cut short says nothing of keeping up (the last alerts may have
// been acked a moment before the stop).
func (f *follower) flush() {
	for _, v := range f.ready {
		f.print(v, f.window(v), false)
	}
	f.ready = nil
}

// print writes a visit's line and, with judge, each group's judgement of
// it.
func (f *follower) print(v outcome.StreamVisit, w outcome.VisitWindow, judge bool) {
	if v.Sent > 0 {
		f.visits++ // a visit stopped before its first alert is no visit streamed
	}
	f.acked += int64(v.Acked)
	f.bytes += v.Bytes
	f.notDelivered += v.Errors
	f.notSent += v.Expected - v.Sent
	fmt.Fprintf(f.out, "%s\n", v)
	if !judge && len(f.member) > 0 {
		fmt.Fprintf(f.out, "  (not judged: the stream stopped before the next visit was due)\n")
		return
	}
	for _, g := range f.groups {
		since := f.member[g.Name]
		if since.IsZero() || v.IntendedStart.Before(since) {
			continue
		}
		j := f.judges[g.Name].Visit(w)
		f.last[g.Name] = j
		if j.CaughtUp {
			f.caughtUp[g.Name]++
		} else {
			f.behind[g.Name]++
		}
		fmt.Fprintf(f.out, "  %s: %s\n", g.Name, j)
	}
}

// summary writes the totals and each group's verdict.
func (f *follower) summary(took time.Duration) {
	fmt.Fprintf(f.out, "%d visits, %d alerts (%.1f MB) in %s", f.visits, f.acked, float64(f.bytes)/1e6, took.Round(time.Second))
	if f.notDelivered > 0 {
		fmt.Fprintf(f.out, "; %d alerts not delivered (see the producers' log)", f.notDelivered)
	}
	if f.notSent > 0 {
		fmt.Fprintf(f.out, "; %d alerts of the last visit not sent (stopped)", f.notSent)
	}
	fmt.Fprintln(f.out)
	if f.badRecords > 0 {
		fmt.Fprintf(f.out, "  %d records of the results topic could not be read\n", f.badRecords)
	}
	for _, g := range f.groups {
		last, judged := f.last[g.Name]
		switch {
		case f.member[g.Name].IsZero():
			fmt.Fprintf(f.out, "  %s: %s (it never had a member)\n", g.Name, outcome.NotEnoughToSay)
		case !judged:
			fmt.Fprintf(f.out, "  %s: %s (no visit was due after it joined)\n", g.Name, outcome.NotEnoughToSay)
		default:
			line := outcome.ExternalGroup{Group: g.Name, AlertsPerVisit: f.st.AlertsPerVisit, Verdict: outcome.Verdict([]outcome.ExternalVisit{last})}.VerdictLine()
			fmt.Fprintf(f.out, "  %s: %s (%d visits judged: %d caught up, %d behind; the last: %s)\n",
				g.Name, line, f.caughtUp[g.Name]+f.behind[g.Name], f.caughtUp[g.Name], f.behind[g.Name], last)
		}
	}
}
