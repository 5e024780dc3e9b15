// Package results holds the per-visit result records that producers and
// consumer-group members publish to the run's results topic (JSON), and the
// fold the orchestrator does over them: per visit and consumer group,
// DMTN-028's producing and transit times, end-to-end latency percentiles,
// and exact counts of lost, duplicated and stray alerts.
//
// Every alert carries (visit, producer, seq) with seq in 0..Expected-1 for
// its producer (see agents/pacing). A producer reports per visit how many it
// was to send (Expected), sent and got acknowledged, with its first-serialize
// and last-ack times. A member reports per visit the sequence numbers it
// received, per producer, as bitmaps, with its receive times and a latency
// histogram. The fold unions a group's bitmaps: what no member got is lost,
// what was delivered more than once (to one member, or to two members around
// a rebalance) is duplicated.
package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// MaxSeq bounds the sequence numbers a member records in its bitmaps
// (16,777,216, a 2 MiB bitmap): larger ones, and negative ones, can only
// come from a corrupt header and are counted as Invalid instead.
const MaxSeq = 1 << 24

// ProducerVisit is a producer's account of one visit.
type ProducerVisit struct {
	Run      string `json:"run"`
	Visit    int    `json:"visit"`
	Producer int    `json:"producer"`
	Expected int    `json:"expected"` // alerts of the visit's plan: seqs 0..Expected-1
	Sent     int    `json:"sent"`     // handed to the Kafka client
	Acked    int    `json:"acked"`    // acknowledged by the brokers
	Errors   int    `json:"errors"`   // failed sends: not delivered within the delivery timeout
	// Failed holds the seqs whose send failed (Errors of them): alerts the
	// producer could not deliver, which the fold counts as not sent rather
	// than lost. Nil when none failed.
	Failed *Bitmap `json:"failed,omitempty"`
	Bytes  int64   `json:"bytes"` // acknowledged bytes (record values)
	// MinBytes and MaxBytes are the smallest and largest acknowledged
	// record value (the framed alert), 0 when none was acknowledged.
	MinBytes       int       `json:"min_bytes,omitempty"`
	MaxBytes       int       `json:"max_bytes,omitempty"`
	IntendedStart  time.Time `json:"intended_start"`
	FirstSerialize time.Time `json:"first_serialize"`
	LastAck        time.Time `json:"last_ack"`
}

// Validate checks the counts are not negative.
func (p *ProducerVisit) Validate() error {
	switch {
	case p.Visit < 0:
		return fmt.Errorf("producer record: visit %d is negative", p.Visit)
	case p.Producer < 0:
		return fmt.Errorf("producer record of visit %d: producer %d is negative", p.Visit, p.Producer)
	case p.Expected < 0 || p.Sent < 0 || p.Acked < 0 || p.Errors < 0 || p.Bytes < 0:
		return fmt.Errorf("producer record of visit %d, producer %d: negative count (expected %d, sent %d, acked %d, errors %d, bytes %d)",
			p.Visit, p.Producer, p.Expected, p.Sent, p.Acked, p.Errors, p.Bytes)
	case p.Failed != nil && p.Failed.Count() > p.Errors:
		return fmt.Errorf("producer record of visit %d, producer %d: %d failed seqs but %d errors", p.Visit, p.Producer, p.Failed.Count(), p.Errors)
	case p.Failed != nil && p.Failed.Count() > 0 && p.Failed.Max() >= p.Expected:
		return fmt.Errorf("producer record of visit %d, producer %d: failed seq %d is not below expected %d", p.Visit, p.Producer, p.Failed.Max(), p.Expected)
	}
	return nil
}

// ConsumerVisit is one consumer-group member's account of one visit. A
// member may publish several for the same visit (alerts arriving after it
// published the first); the fold adds them up.
type ConsumerVisit struct {
	Run    string `json:"run"`
	Visit  int    `json:"visit"`
	Group  string `json:"group"`
	Member string `json:"member"`
	Topic  string `json:"topic"`
	// Received counts every delivery, duplicates and invalid ones included:
	// Received = sum of the bitmaps' counts + Duplicates + Invalid.
	Received   int `json:"received"`
	Duplicates int `json:"duplicates"` // deliveries of a (producer, seq) this record had already seen
	Invalid    int `json:"invalid"`    // deliveries with producer < 0, seq < 0 or seq >= MaxSeq
	// Seqs maps producer -> the sequence numbers received from it.
	Seqs         map[int]*Bitmap `json:"seqs"`
	FirstReceive time.Time       `json:"first_receive"`
	LastReceive  time.Time       `json:"last_receive"`
	// Latency holds receive time - intended send time of every delivery
	// with a known intended send time.
	Latency *Histogram `json:"latency"`
	// Offsets maps partition -> the log offsets of the record's deliveries
	// (valid ones, those in Seqs and Duplicates), as sorted, disjoint,
	// inclusive ranges [first, last]. The fold tells a re-delivery (the
	// same offset read twice, as after a rebalance: Kafka's at-least-once)
	// from a producer duplicate (the same alert at two offsets) with them.
	// Absent in records of agents older than the field.
	Offsets map[int32][]OffsetRange `json:"offsets,omitempty"`
}

// OffsetRange is an inclusive range of log offsets of one partition.
type OffsetRange [2]int64

// Len is the number of offsets in the range.
func (r OffsetRange) Len() int64 { return r[1] - r[0] + 1 }

// NewConsumerVisit starts a member's account of a visit.
func NewConsumerVisit(run string, visit int, group, member, topic string) *ConsumerVisit {
	return &ConsumerVisit{Run: run, Visit: visit, Group: group, Member: member, Topic: topic,
		Seqs: map[int]*Bitmap{}, Latency: NewHistogram()}
}

// Observe records the delivery of alert (producer, seq), intended to be sent
// at intendedSend and received at received, and reports whether this record
// had already seen it (a duplicate). The latency is not recorded when
// intendedSend is zero. Not safe for concurrent use.
func (cv *ConsumerVisit) Observe(producer, seq int, intendedSend, received time.Time) (duplicate bool) {
	cv.Received++
	if cv.FirstReceive.IsZero() || received.Before(cv.FirstReceive) {
		cv.FirstReceive = received
	}
	if received.After(cv.LastReceive) {
		cv.LastReceive = received
	}
	if !intendedSend.IsZero() {
		if cv.Latency == nil {
			cv.Latency = NewHistogram()
		}
		cv.Latency.Record(received.Sub(intendedSend))
	}
	if producer < 0 || seq < 0 || seq >= MaxSeq {
		cv.Invalid++
		return false
	}
	if cv.Seqs == nil {
		cv.Seqs = map[int]*Bitmap{}
	}
	b := cv.Seqs[producer]
	if b == nil {
		b = &Bitmap{}
		cv.Seqs[producer] = b
	}
	if b.Set(seq) {
		cv.Duplicates++
		return true
	}
	return false
}

// ObserveOffset records that the delivery just observed came from offset
// of partition. Offsets of a partition arrive in increasing order within a
// claim, so consecutive ones extend the last range; an offset at or before
// the last range's end (a re-read within one record) starts a new range
// that Validate accepts only if disjoint: the fold then counts the overlap.
// Not safe for concurrent use.
func (cv *ConsumerVisit) ObserveOffset(partition int32, offset int64) {
	if cv.Offsets == nil {
		cv.Offsets = map[int32][]OffsetRange{}
	}
	rs := cv.Offsets[partition]
	if n := len(rs); n > 0 {
		last := &rs[n-1]
		switch {
		case offset == last[1]+1:
			last[1] = offset
			return
		case offset > last[1]+1:
		default:
			// A re-read inside this record: keep the ranges sorted and
			// disjoint by merging it in (its re-delivery is already counted
			// in Duplicates by Observe).
			cv.Offsets[partition] = insertOffset(rs, offset)
			return
		}
	}
	cv.Offsets[partition] = append(rs, OffsetRange{offset, offset})
}

// insertOffset adds offset to the sorted disjoint ranges rs.
func insertOffset(rs []OffsetRange, offset int64) []OffsetRange {
	for i := range rs {
		switch {
		case offset >= rs[i][0] && offset <= rs[i][1]:
			return rs
		case offset == rs[i][0]-1:
			rs[i][0] = offset
			return rs
		case offset < rs[i][0]:
			return append(rs[:i], append([]OffsetRange{{offset, offset}}, rs[i:]...)...)
		}
	}
	return append(rs, OffsetRange{offset, offset})
}

// ObserveAt is Observe of a delivery read at offset of partition: it also
// records the offset (ObserveOffset) when the delivery is valid.
func (cv *ConsumerVisit) ObserveAt(producer, seq int, intendedSend, received time.Time, partition int32, offset int64) (duplicate bool) {
	duplicate = cv.Observe(producer, seq, intendedSend, received)
	if producer >= 0 && seq >= 0 && seq < MaxSeq && offset >= 0 {
		cv.ObserveOffset(partition, offset)
	}
	return duplicate
}

// Unique is the number of distinct valid (producer, seq) of the record.
func (cv *ConsumerVisit) Unique() int {
	n := 0
	for _, b := range cv.Seqs {
		n += b.Count()
	}
	return n
}

// Validate checks the record is one Observe could have made: counts not
// negative, producers not negative, seqs below MaxSeq, and Received equal to
// the bitmaps' counts + Duplicates + Invalid.
func (cv *ConsumerVisit) Validate() error {
	where := fmt.Sprintf("consumer record of visit %d, group %q, member %q", cv.Visit, cv.Group, cv.Member)
	switch {
	case cv.Visit < 0:
		return fmt.Errorf("%s: visit is negative", where)
	case cv.Group == "":
		return fmt.Errorf("%s: no group", where)
	case cv.Received < 0 || cv.Duplicates < 0 || cv.Invalid < 0:
		return fmt.Errorf("%s: negative count (received %d, duplicates %d, invalid %d)", where, cv.Received, cv.Duplicates, cv.Invalid)
	}
	for p, b := range cv.Seqs {
		if p < 0 {
			return fmt.Errorf("%s: producer %d is negative", where, p)
		}
		if m := b.Max(); m >= MaxSeq {
			return fmt.Errorf("%s: producer %d: seq %d is beyond MaxSeq", where, p, m)
		}
	}
	for p, rs := range cv.Offsets {
		for i, r := range rs {
			if r[0] < 0 || r[1] < r[0] || (i > 0 && r[0] <= rs[i-1][1]) {
				return fmt.Errorf("%s: partition %d: offset ranges must be sorted, disjoint and non-negative, got %v", where, p, rs)
			}
		}
	}
	if u := cv.Unique(); cv.Received != u+cv.Duplicates+cv.Invalid {
		return fmt.Errorf("%s: received %d is not the %d distinct seqs + %d duplicates + %d invalid",
			where, cv.Received, u, cv.Duplicates, cv.Invalid)
	}
	return nil
}

// The kinds of Record.
const (
	KindProducer = "producer"
	KindConsumer = "consumer"
)

// Record is one message of the results topic: Kind says which of Producer
// and Consumer is set.
type Record struct {
	Kind     string         `json:"kind"`
	Producer *ProducerVisit `json:"producer,omitempty"`
	Consumer *ConsumerVisit `json:"consumer,omitempty"`
}

func (r Record) check() error {
	switch r.Kind {
	case KindProducer:
		if r.Producer == nil || r.Consumer != nil {
			return errors.New(`result record: kind "producer" wants "producer" and no "consumer"`)
		}
		return r.Producer.Validate()
	case KindConsumer:
		if r.Consumer == nil || r.Producer != nil {
			return errors.New(`result record: kind "consumer" wants "consumer" and no "producer"`)
		}
		return r.Consumer.Validate()
	default:
		return fmt.Errorf("result record: kind %q is not %q or %q", r.Kind, KindProducer, KindConsumer)
	}
}

// Encode is the record's JSON, after checking it as DecodeRecord would.
func (r Record) Encode() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// DecodeRecord decodes one record strictly: unknown fields, trailing data,
// a kind that does not match the part that is set, and a record that fails
// its Validate are errors.
func DecodeRecord(data []byte) (Record, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("result record: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Record{}, errors.New("result record: data after the JSON object")
	}
	if err := r.check(); err != nil {
		return Record{}, err
	}
	return r, nil
}
