package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/IBM/sarama/mocks"

	"github.com/alert-testbed/testbed/agents/results"
)

func testMessage() *sarama.ProducerMessage {
	return &sarama.ProducerMessage{Topic: "alerts", Value: sarama.ByteEncoder("0123456789")}
}

// A record the client fails is counted as an error of its visit, and the
// visit's counts stay exact: Sent = Acked + Errors.
func TestFailedRecordsAreCountedAsErrors(t *testing.T) {
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	mp := mocks.NewAsyncProducer(t, cfg)
	boom := errors.New("kafka: client has run out of available brokers to talk to")
	for _, ok := range []bool{true, false, true, false, true, false, false, false, false, false} {
		if ok {
			mp.ExpectInputAndSucceed()
		} else {
			mp.ExpectInputAndFail(boom)
		}
	}
	p := newProducer(nil, 0, "", time.Minute, 0)
	var out bytes.Buffer
	p.out = &out
	p.start(mp)
	st := p.beginVisit(results.ProducerVisit{Run: "r", Visit: 3, Expected: 10})
	for i := 0; i < 10; i++ {
		if err := p.send(context.Background(), mp.Input(), st, i, testMessage(), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	p.markDone(3)
	p.finish(context.Background(), mp)
	// The failed seqs, for the fold to count them as not sent, not lost.
	p.mu.Lock()
	failed := st.rec.Failed.Seqs()
	p.mu.Unlock()
	if want := []int{1, 3, 5, 6, 7, 8, 9}; !slices.Equal(failed, want) {
		t.Errorf("failed seqs %v, want %v", failed, want)
	}
	p.reportOpen()
	if got, want := out.String(), "visit:3, producer:0, expected:10, sent:10, acked:3, errors:7, bytes:30, producing:"; !strings.HasPrefix(got, want) {
		t.Errorf("visit line %q, want prefix %q", got, want)
	}
	if p.errors != 7 || len(p.pending) != 0 || len(p.visits) != 0 {
		t.Errorf("errors %d, pending %d, open visits %d", p.errors, len(p.pending), len(p.visits))
	}
}

// holdingProducer is an AsyncProducer that holds what it is given until
// the test acks or fails it.
type holdingProducer struct {
	sarama.AsyncProducer // not called
	in                   chan *sarama.ProducerMessage
	succ                 chan *sarama.ProducerMessage
	errs                 chan *sarama.ProducerError
}

func newHolding() *holdingProducer {
	return &holdingProducer{in: make(chan *sarama.ProducerMessage, 16), succ: make(chan *sarama.ProducerMessage), errs: make(chan *sarama.ProducerError)}
}
func (h *holdingProducer) Input() chan<- *sarama.ProducerMessage     { return h.in }
func (h *holdingProducer) Successes() <-chan *sarama.ProducerMessage { return h.succ }
func (h *holdingProducer) Errors() <-chan *sarama.ProducerError      { return h.errs }
func (h *holdingProducer) AsyncClose()                               {}

// A record not acknowledged within the delivery timeout is counted as an
// error once; its ack coming later changes no count.
func TestDeliveryTimeout(t *testing.T) {
	h := newHolding()
	p := newProducer(nil, 1, "", time.Hour, 0) // the test expires records itself
	var out bytes.Buffer
	p.out = &out
	p.start(h)
	st := p.beginVisit(results.ProducerVisit{Run: "r", Visit: 0, Producer: 1, Expected: 3})
	for i := 0; i < 3; i++ {
		if err := p.send(context.Background(), h.Input(), st, -1, testMessage(), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	p.markDone(0)
	m1, m2, m3 := <-h.in, <-h.in, <-h.in
	time.Sleep(20 * time.Millisecond) // the one ack's latency: at least 20 ms
	h.succ <- m1
	h.errs <- &sarama.ProducerError{Msg: m2, Err: errors.New("kafka server: Not Enough In Sync Replicas")}
	waitPending(t, p, 1)
	p.expire(time.Now()) // not yet due
	if out.Len() != 0 {
		t.Fatalf("visit reported before its last record settled: %s", out.String())
	}
	p.expire(time.Now().Add(time.Hour + time.Second))
	if got, want := out.String(), "visit:0, producer:1, expected:3, sent:3, acked:1, errors:2, bytes:10, producing:"; !strings.HasPrefix(got, want) {
		t.Fatalf("visit line %q, want prefix %q", got, want)
	}
	var p50, p99 float64
	if _, err := fmt.Sscanf(out.String()[strings.Index(out.String(), "ack_p50:"):], "ack_p50:%fms, ack_p99:%fms", &p50, &p99); err != nil || p50 < 20 || p99 != p50 {
		t.Errorf("visit line %q: ack latency p50 %g ms, p99 %g ms (%v), want both the one ack's, 20 ms or more", out.String(), p50, p99, err)
	}
	h.succ <- m3 // late: already counted
	waitLate(t, p, 1)
	close(h.succ)
	close(h.errs)
	p.finish(context.Background(), h)
	if p.errors != 2 || p.expired != 1 || p.late != 1 || len(p.pending) != 0 {
		t.Errorf("errors %d, expired %d, late %d, pending %d", p.errors, p.expired, p.late, len(p.pending))
	}
	if n := strings.Count(out.String(), "visit:"); n != 1 {
		t.Errorf("%d visit lines, want 1:\n%s", n, out.String())
	}
}

// finish does not wait for a client still holding records that were all
// counted at the delivery timeout.
func TestFinishGivesUpOnExpiredRecords(t *testing.T) {
	h := newHolding()
	p := newProducer(nil, 0, "", 50*time.Millisecond, 0)
	p.out = &bytes.Buffer{}
	p.start(h)
	st := p.beginVisit(results.ProducerVisit{Run: "r", Visit: 0, Expected: 1})
	if err := p.send(context.Background(), h.Input(), st, -1, testMessage(), time.Now()); err != nil {
		t.Fatal(err)
	}
	p.markDone(0)
	done := make(chan struct{})
	go func() { p.finish(context.Background(), h); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("finish waits for a record counted at the delivery timeout")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.errors != 1 || p.expired != 1 {
		t.Errorf("errors %d, expired %d", p.errors, p.expired)
	}
}

func waitPending(t *testing.T, p *producer, n int) {
	t.Helper()
	waitFor(t, p, func() bool { return len(p.pending) == n }, "pending records")
}

func waitLate(t *testing.T, p *producer, n int) {
	t.Helper()
	waitFor(t, p, func() bool { return p.late == n }, "late settlements")
}

// waitFor waits until cond, called with p locked, holds.
func waitFor(t *testing.T, p *producer, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		p.mu.Lock()
		ok := cond()
		p.mu.Unlock()
		if ok {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// --buffer-memory bounds the bytes handed to the client and not yet
// settled: a send waits until an ack, a failure or the delivery timeout
// makes room, and a record larger than the bound goes alone.
func TestBufferMemoryBoundsHeldBytes(t *testing.T) {
	p := newProducer(nil, 0, "", time.Hour, 25) // room for two 10-byte records
	p.out = &bytes.Buffer{}
	in := make(chan *sarama.ProducerMessage, 10)
	st := p.beginVisit(results.ProducerVisit{Run: "r", Visit: 1, Expected: 4})
	for i := 0; i < 2; i++ {
		if err := p.send(context.Background(), in, st, i, testMessage(), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	third := make(chan error, 1)
	go func() { third <- p.send(context.Background(), in, st, 2, testMessage(), time.Now()) }()
	select {
	case err := <-third:
		t.Fatalf("a third record went with 20 of 25 bytes held: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	first := <-in
	p.settle(first.Metadata.(sent), nil) // an ack makes room
	select {
	case err := <-third:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the third record still waits after an ack made room")
	}
	p.mu.Lock()
	held := p.held
	p.mu.Unlock()
	if held != 20 {
		t.Errorf("%d bytes held, want 20 (two records)", held)
	}
	// A send that waits ends with its context, and nothing is counted.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := p.send(ctx, in, st, 3, testMessage(), time.Now()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a waiting send whose context ended: %v, want the context's error", err)
	}
	p.mu.Lock()
	sentCount := st.rec.Sent
	p.mu.Unlock()
	if sentCount != 3 {
		t.Errorf("%d sent, want 3 (the fourth never went)", sentCount)
	}
	// Alone, a record larger than the bound goes.
	big := newProducer(nil, 0, "", time.Hour, 5)
	bst := big.beginVisit(results.ProducerVisit{Run: "r", Visit: 1, Expected: 1})
	done := make(chan error, 1)
	go func() { done <- big.send(context.Background(), in, bst, 0, testMessage(), time.Now()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a record larger than --buffer-memory waits with nothing held")
	}
}
