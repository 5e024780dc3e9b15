package outcome

import (
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
	return s
}

// streamVisitsKept is how many visits back a StreamTally remembers who
// reported: a record is never that late.
const streamVisitsKept = 100

// StreamTally gathers a stream's producer records into visits: a visit is
// complete once each of its Producers has reported it (a producer's task
// that is replaced reports no visit twice: agents/cmd/alert-producer).
type StreamTally struct {
	RunID     string
	Producers int
	open      map[int]*StreamVisit
	reported  map[int]map[int]bool // visit -> producers that reported it
}

// Add takes one record of the results topic and returns the visit it
// completes, if it does. Records of another run, of consumers, and
// repeated ones are ignored; a record that cannot be read is an error.
func (t *StreamTally) Add(data []byte) (StreamVisit, bool, error) {
	r, err := results.DecodeRecord(data)
	if err != nil {
		return StreamVisit{}, false, err
	}
	p := r.Producer
	if p == nil || p.Run != t.RunID {
		return StreamVisit{}, false, nil
	}
	if t.open == nil {
		t.open, t.reported = map[int]*StreamVisit{}, map[int]map[int]bool{}
	}
	if t.reported[p.Visit] == nil {
		t.reported[p.Visit] = map[int]bool{}
		t.open[p.Visit] = &StreamVisit{Visit: p.Visit, IntendedStart: p.IntendedStart}
	}
	if t.reported[p.Visit][p.Producer] {
		return StreamVisit{}, false, nil
	}
	t.reported[p.Visit][p.Producer] = true
	v := t.open[p.Visit]
	v.Expected += p.Expected
	v.Sent += p.Sent
	v.Acked += p.Acked
	v.Errors += p.Errors
	v.Bytes += p.Bytes
	if p.IntendedStart.Before(v.IntendedStart) {
		v.IntendedStart = p.IntendedStart
	}
	v.LastAck = latest(v.LastAck, p.LastAck)
	if len(t.reported[p.Visit]) < t.Producers {
		return StreamVisit{}, false, nil
	}
	done := *v
	delete(t.open, p.Visit)
	// The visit's producer set stays a while, so that a late repeat is
	// ignored; a stream without end keeps the last streamVisitsKept.
	delete(t.reported, p.Visit-streamVisitsKept)
	return done, true, nil
}
