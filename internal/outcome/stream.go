package outcome

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/alert-testbed/testbed/agents/results"
)

// StreamVisit is one visit of a stream without end (testbed stream), as
// its producers reported it.
type StreamVisit struct {
	Visit    int
	Expected int   // alerts of the visit's plan, over all producers
	Sent     int   // handed to the Kafka client (fewer when stopped)
	Acked    int   // acknowledged by the brokers
	Errors   int   // not delivered within the delivery timeout
	Bytes    int64 // acknowledged bytes (record values)
	// Resent counts the alerts acknowledged in a second, different record
	// of a producer for the visit: a task stopped within its grace
	// finished the visit after its replacement had begun it, and both
	// wrote it (see VisitGroup). The first record is the producer's
	// account; the others' alerts are in the topic too.
	Resent int
	// IntendedStart is when the visit was due; LastAck when its last
	// alert was acknowledged: their difference is DMTN-028's producing
	// time.
	IntendedStart time.Time
	LastAck       time.Time
}

// ProducingTime is LastAck - IntendedStart (DMTN-028).
func (v StreamVisit) ProducingTime() time.Duration { return span(v.IntendedStart, v.LastAck) }

// String is the visit's line: "visit 4: 10000 alerts (1360.5 MB)
// produced in 12.3 s", with the alerts not delivered (failed sends) and
// not sent (the stream stopped during the visit) when there are any.
func (v StreamVisit) String() string {
	if v.Sent == 0 {
		return fmt.Sprintf("visit %d: stopped before its first alert (%d not sent)", v.Visit, v.Expected)
	}
	s := fmt.Sprintf("visit %d: %d alerts (%.1f MB) produced in %.1f s", v.Visit, v.Acked, float64(v.Bytes)/1e6, v.ProducingTime().Seconds())
	if v.Errors > 0 {
		s += fmt.Sprintf(", %d not delivered", v.Errors)
	}
	if v.Sent < v.Expected {
		s += fmt.Sprintf(", %d of %d not sent (stopped)", v.Expected-v.Sent, v.Expected)
	}
	if v.Resent > 0 {
		s += fmt.Sprintf(", %d sent again by a replaced producer's new task", v.Resent)
	}
	return s
}

// streamVisitsKept is how many visits back a StreamTally remembers who
// reported: a record is never that late.
const streamVisitsKept = 100

// StreamTally gathers a stream's producer records into visits: a visit is
// complete once each of its Producers has reported it. A producer's first
// record of a visit is its account; a record re-delivered by the results
// topic (the same bytes) is ignored, and a different one is the visit
// written again by the producer's next task (Resent).
type StreamTally struct {
	RunID     string
	Producers int
	open      map[int]*StreamVisit
	reported  map[int]map[int][sha256.Size]byte // visit -> producer -> its first record's digest
}

// Add takes one record of the results topic and returns the visit it
// completes, if it does (done). Records of another run, of consumers, and
// repeated ones are ignored; a second writing of a visit already complete
// returns, not done, only its Visit and Resent. A record that cannot be
// read is an error.
func (t *StreamTally) Add(data []byte) (v StreamVisit, done bool, err error) {
	r, err := results.DecodeRecord(data)
	if err != nil {
		return StreamVisit{}, false, err
	}
	p := r.Producer
	if p == nil || p.Run != t.RunID {
		return StreamVisit{}, false, nil
	}
	if t.open == nil {
		t.open, t.reported = map[int]*StreamVisit{}, map[int]map[int][sha256.Size]byte{}
	}
	if t.reported[p.Visit] == nil {
		t.reported[p.Visit] = map[int][sha256.Size]byte{}
		t.open[p.Visit] = &StreamVisit{Visit: p.Visit, IntendedStart: p.IntendedStart}
	}
	sum := sha256.Sum256(data)
	if first, ok := t.reported[p.Visit][p.Producer]; ok {
		if first == sum {
			return StreamVisit{}, false, nil
		}
		if open := t.open[p.Visit]; open != nil {
			open.Resent += p.Acked
			return StreamVisit{}, false, nil
		}
		return StreamVisit{Visit: p.Visit, Resent: p.Acked}, false, nil
	}
	o := t.open[p.Visit]
	if o == nil {
		return StreamVisit{}, false, nil // a producer beyond Producers, after the visit was complete
	}
	t.reported[p.Visit][p.Producer] = sum
	o.Expected += p.Expected
	o.Sent += p.Sent
	o.Acked += p.Acked
	o.Errors += p.Errors
	o.Bytes += p.Bytes
	if p.IntendedStart.Before(o.IntendedStart) {
		o.IntendedStart = p.IntendedStart
	}
	o.LastAck = latest(o.LastAck, p.LastAck)
	if len(t.reported[p.Visit]) < t.Producers {
		return StreamVisit{}, false, nil
	}
	complete := *o
	delete(t.open, p.Visit)
	// The visit's producer set stays a while, so that a late repeat is
	// told from a second writing; a stream without end keeps the last
	// streamVisitsKept.
	delete(t.reported, p.Visit-streamVisitsKept)
	return complete, true, nil
}
