package experiment

import (
	"fmt"
	"strconv"

	"github.com/alert-testbed/testbed/agents/headers"
)

// The size of the records a run sends, as the Kafka client counts it
// against kafka.max_message_bytes (sarama's ProducerMessage.ByteSize: the
// value, the headers' keys and values, maxRecordOverhead and two varints of
// at most 5 bytes per header). A record that counts more than
// max_message_bytes fails in the client. The record batch header (61
// bytes) is not counted by the client; a batch of one record still fits
// the brokers' message.max.bytes, since the client's count exceeds the real
// record's varints by more than that.
const (
	// maxRecordOverhead is sarama's maximumRecordOverhead: a record's
	// length, attributes, timestamp and offset deltas, key and value
	// lengths, header count.
	maxRecordOverhead = 5*5 + 10 + 1
	// headerOverhead is what sarama counts per header besides its key and
	// value: their two length varints.
	headerOverhead = 2 * 5

	// GeneratedSlack is how much a generated alert can exceed alert.size.
	// The size is the mean framed size (Confluent framing of
	// alert.HeaderSize bytes included) that alert.SizeOptions aims at;
	// single alerts vary around it (measured: at most 227 bytes over with
	// stamps and 774 without, for sizes up to 1,000,000 bytes).
	GeneratedSlack = 1000
	// MinStampAlertBytes is the smallest generated alert with stamps
	// (three 8 x 8 cutouts and the default history: 17,598 bytes framed):
	// a smaller alert.size with stamps gives alerts of this size.
	MinStampAlertBytes = 17_600
	// DefaultStampAlertBytes bounds a generated alert with stamps at the
	// default size (alert.size 0; at most 136,053 bytes framed, measured).
	DefaultStampAlertBytes = 136_100
	// DefaultNoStampAlertBytes bounds a generated alert without stamps at
	// the default size (at most 6,444 bytes framed, measured).
	DefaultNoStampAlertBytes = 6_500
	// nanosDigits is the length of a Unix time in nanoseconds (years 2001
	// to 2286): the intended_ns and produced_ns headers.
	nanosDigits = 19
)

// RecordSize is the most a run's records count against
// kafka.max_message_bytes, in its parts.
type RecordSize struct {
	Alert    int    // the framed alert's bound (0 with alert.replay: unknown)
	Headers  int    // keys and values of the headers, at their longest
	Overhead int    // the client's per-record and per-header overhead
	Total    int    // Alert + Headers + Overhead
	AlertIs  string // how Alert was found, for messages
}

// MaxRecordSize is the largest record of the run as the Kafka client
// counts it: the producers' alerts with the testbed headers
// (agents/headers, with a RunIDLen run id and the run's largest visit,
// producer and sequence numbers) and, with filter groups, the filters'
// forwarded alerts, which add a testbed.filter header with the filter's
// name.
func (e Experiment) MaxRecordSize() RecordSize {
	var r RecordSize
	switch {
	case e.Alert.Replay != "":
		r.AlertIs = "replayed alerts (size unknown)"
	case e.Alert.Size == 0 && e.Alert.Stamps:
		r.Alert, r.AlertIs = DefaultStampAlertBytes, "a default alert with stamps"
	case e.Alert.Size == 0:
		r.Alert, r.AlertIs = DefaultNoStampAlertBytes, "a default alert without stamps"
	case e.Alert.Stamps && e.Alert.Size < MinStampAlertBytes:
		r.Alert, r.AlertIs = MinStampAlertBytes+GeneratedSlack, fmt.Sprintf("the smallest alert with stamps (%d bytes)", MinStampAlertBytes)
	default:
		r.Alert, r.AlertIs = e.Alert.Size+GeneratedSlack, fmt.Sprintf("alert.size %d", e.Alert.Size)
	}
	digits := func(n int) int { return len(strconv.Itoa(max(n, 0))) }
	hs := []struct {
		key   string
		value int
	}{
		{headers.Run, RunIDLen},
		{headers.Visit, digits(e.Visits)},
		{headers.Producer, digits(e.Producers)},
		{headers.Seq, digits(e.AlertsPerVisit)},
		{headers.Intended, nanosDigits},
		{headers.Produced, nanosDigits},
	}
	if e.Filters.Groups > 0 {
		longest := 0
		defs := e.FilterDefs()
		for _, d := range defs[:min(len(defs), e.Filters.Groups*e.Filters.FiltersPerGroup)] {
			longest = max(longest, len(d.Name))
		}
		hs = append(hs, struct {
			key   string
			value int
		}{headers.Filter, longest})
	}
	r.Overhead = maxRecordOverhead
	for _, h := range hs {
		r.Headers += len(h.key) + h.value
		r.Overhead += headerOverhead
	}
	r.Total = r.Alert + r.Headers + r.Overhead
	return r
}

// checkRecordSize compares the run's largest record with
// kafka.max_message_bytes.
func (e Experiment) checkRecordSize() *Error {
	r := e.MaxRecordSize()
	limit := e.Kafka.MaxMessageBytes
	if r.Alert == 0 || r.Total <= limit {
		return nil
	}
	sum := fmt.Sprintf("plus %d bytes of headers and %d bytes of record overhead (as the Kafka client counts them) is %d bytes", r.Headers, r.Overhead, r.Total)
	if e.Alert.Size > 0 {
		msg := fmt.Sprintf("%d bytes (a generated alert up to %d bytes) %s, more than kafka.max_message_bytes %d", e.Alert.Size, r.Alert, sum, limit)
		room := limit - r.Headers - r.Overhead - GeneratedSlack
		if room < 1 || (e.Alert.Stamps && room < MinStampAlertBytes) {
			return errorf("alert.size", "%s: no alert.size fits; raise kafka.max_message_bytes", msg)
		}
		return errorf("alert.size", "%s: use alert.size at most %d or raise kafka.max_message_bytes", msg, room)
	}
	return errorf("kafka.max_message_bytes", "%d is too small: %s (up to %d bytes) %s: use at least %d", limit, r.AlertIs, r.Alert, sum, r.Total)
}

// ReplayRecordSize is MaxRecordSize with the alert.replay file's largest
// record, framed (framed bytes), which only reading the file tells.
func (e Experiment) ReplayRecordSize(framed int) RecordSize {
	r := e.MaxRecordSize()
	r.Alert, r.AlertIs = framed, "the largest record of alert.replay"
	r.Total = r.Alert + r.Headers + r.Overhead
	return r
}

// CheckReplayRecordSize compares the run's largest record, with the
// alert.replay file's largest record framed (framed bytes), with
// kafka.max_message_bytes; the file is read by the caller (run.ScanReplay).
func (e Experiment) CheckReplayRecordSize(framed int) error {
	r := e.ReplayRecordSize(framed)
	if r.Total <= e.Kafka.MaxMessageBytes {
		return nil
	}
	msg := fmt.Sprintf("its largest record, %d bytes framed, plus %d bytes of headers and %d bytes of record overhead (as the Kafka client counts them) is %d bytes, more than kafka.max_message_bytes %d",
		r.Alert, r.Headers, r.Overhead, r.Total, e.Kafka.MaxMessageBytes)
	if r.Total > BrokerMaxMessageBytes {
		return &Error{File: e.File, Field: "alert.replay", Msg: fmt.Sprintf("%s %s: the testbed's brokers take at most %d (message.max.bytes): replay smaller alerts", e.Alert.Replay, msg, BrokerMaxMessageBytes)}
	}
	return &Error{File: e.File, Field: "alert.replay", Msg: fmt.Sprintf("%s %s: set kafka.max_message_bytes to at least %d", e.Alert.Replay, msg, r.Total)}
}
