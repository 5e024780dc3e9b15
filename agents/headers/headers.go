// Package headers defines the Kafka record headers that every alert carries
// (the run protocol; README, "The alert agents"): run id, visit, producer, sequence number
// within (visit, producer), the intended send time and the produce time.
// Consumers measure end-to-end latency from the intended send time, so a
// producer that falls behind its schedule shows up as latency.
package headers

import (
	"fmt"
	"strconv"
	"time"

	"github.com/IBM/sarama"
)

// Header keys.
const (
	Run      = "testbed.run"
	Visit    = "testbed.visit"
	Producer = "testbed.producer"
	Seq      = "testbed.seq"
	Intended = "testbed.intended_ns" // Unix nanoseconds
	Produced = "testbed.produced_ns" // Unix nanoseconds, just before the send
	Filter   = "testbed.filter"      // set by filters on forwarded alerts
)

// Meta is the decoded header set of one alert.
type Meta struct {
	Run      string
	Visit    int
	Producer int
	Seq      int
	Intended time.Time
	Produced time.Time
}

// Headers encodes m as record headers.
func (m Meta) Headers() []sarama.RecordHeader {
	return []sarama.RecordHeader{
		{Key: []byte(Run), Value: []byte(m.Run)},
		{Key: []byte(Visit), Value: strconv.AppendInt(nil, int64(m.Visit), 10)},
		{Key: []byte(Producer), Value: strconv.AppendInt(nil, int64(m.Producer), 10)},
		{Key: []byte(Seq), Value: strconv.AppendInt(nil, int64(m.Seq), 10)},
		{Key: []byte(Intended), Value: strconv.AppendInt(nil, m.Intended.UnixNano(), 10)},
		{Key: []byte(Produced), Value: strconv.AppendInt(nil, m.Produced.UnixNano(), 10)},
	}
}

// Parse decodes the testbed headers of a consumed record. Every key but
// Produced must be present: a record without them was not written by a
// testbed producer.
func Parse(hs []*sarama.RecordHeader) (Meta, error) {
	var m Meta
	seen := 0
	for _, h := range hs {
		if h == nil {
			continue
		}
		key, val := string(h.Key), string(h.Value)
		var n int64
		var err error
		switch key {
		case Run:
			m.Run = val
			seen |= 1
			continue
		case Visit, Producer, Seq, Intended, Produced:
			n, err = strconv.ParseInt(val, 10, 64)
			if err != nil {
				return m, fmt.Errorf("header %s=%q: not an integer", key, val)
			}
		default:
			continue
		}
		switch key {
		case Visit:
			m.Visit, seen = int(n), seen|2
		case Producer:
			m.Producer, seen = int(n), seen|4
		case Seq:
			m.Seq, seen = int(n), seen|8
		case Intended:
			m.Intended, seen = time.Unix(0, n), seen|16
		case Produced:
			m.Produced = time.Unix(0, n)
		}
	}
	if seen != 31 {
		return m, fmt.Errorf("record lacks testbed headers (%s, %s, %s, %s, %s)", Run, Visit, Producer, Seq, Intended)
	}
	return m, nil
}
