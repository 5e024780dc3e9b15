package outcome

import (
	"testing"
	"time"

	"github.com/alert-testbed/testbed/agents/results"
)

func streamRecord(t *testing.T, run string, visit, producer, expected, sent, acked, errs int, start, last time.Time) []byte {
	t.Helper()
	b, err := results.Record{Kind: results.KindProducer, Producer: &results.ProducerVisit{Run: run, Visit: visit, Producer: producer, Expected: expected,
		Sent: sent, Acked: acked, Errors: errs, Bytes: int64(acked) * 1000, IntendedStart: start, LastAck: last}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A stream's visit is complete once each producer has reported it, once;
// other runs' records and repeats do not count; the line says what was
// not delivered and what a stop left unsent.
func TestStreamTally(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tally := StreamTally{RunID: "r1", Producers: 2}
	add := func(b []byte) (StreamVisit, bool) {
		v, done, err := tally.Add(b)
		if err != nil {
			t.Fatal(err)
		}
		return v, done
	}
	if _, done := add(streamRecord(t, "r1", 1, 0, 500, 500, 500, 0, t0, t0.Add(3*time.Second))); done {
		t.Fatal("visit 1 complete after one producer of two")
	}
	add(streamRecord(t, "other", 1, 1, 500, 500, 500, 0, t0, t0.Add(time.Second)))
	if _, done := add(streamRecord(t, "r1", 1, 0, 500, 500, 500, 0, t0, t0.Add(3*time.Second))); done {
		t.Fatal("a repeated record completed visit 1")
	}
	v, done := add(streamRecord(t, "r1", 1, 1, 500, 500, 498, 2, t0, t0.Add(4*time.Second)))
	if !done || v.Visit != 1 || v.Expected != 1000 || v.Acked != 998 || v.Errors != 2 || v.ProducingTime() != 4*time.Second {
		t.Fatalf("visit 1: %+v", v)
	}
	if got, want := v.String(), "visit 1: 998 alerts (1.0 MB) produced in 4.0 s, 2 not delivered"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if _, done := add(streamRecord(t, "r1", 1, 1, 500, 500, 498, 2, t0, t0.Add(4*time.Second))); done {
		t.Error("a late repeat completed visit 1 again")
	}
	// Producer 1's next task wrote visit 1 again (its first task reported
	// it within its stop grace): not a second completion, but Resent.
	if v, done := add(streamRecord(t, "r1", 1, 1, 500, 500, 500, 0, t0, t0.Add(9*time.Second))); done || v.Visit != 1 || v.Resent != 500 {
		t.Errorf("a second writing of visit 1: %+v, done %v; want not done, 500 resent", v, done)
	}
	add(streamRecord(t, "r1", 2, 0, 500, 200, 200, 0, t0.Add(10*time.Second), t0.Add(11*time.Second)))
	add(streamRecord(t, "r1", 2, 0, 500, 300, 300, 0, t0.Add(10*time.Second), t0.Add(12*time.Second))) // before the visit completes
	v, _ = add(streamRecord(t, "r1", 2, 1, 500, 160, 160, 0, t0.Add(10*time.Second), t0.Add(11*time.Second)))
	if got, want := v.String(), "visit 2: 360 alerts (0.4 MB) produced in 1.0 s, 640 of 1000 not sent (stopped), 300 sent again by a replaced producer's new task"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	add(streamRecord(t, "r1", 3, 0, 500, 0, 0, 0, t0.Add(20*time.Second), time.Time{}))
	v, _ = add(streamRecord(t, "r1", 3, 1, 500, 0, 0, 0, t0.Add(20*time.Second), time.Time{}))
	if got, want := v.String(), "visit 3: stopped before its first alert (1000 not sent)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if _, _, err := tally.Add([]byte("{not json")); err == nil {
		t.Error("a record that cannot be read is no error")
	}
}
