package results

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 2, 3, 4, 5, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func observe(cv *ConsumerVisit, p int, seqs ...int) {
	start := t0.Add(time.Duration(cv.Visit) * 39 * time.Second)
	for _, s := range seqs {
		at := start.Add(ms(2500 + s))
		cv.Observe(p, s, start, at)
	}
}

func TestHistogramClampAndNil(t *testing.T) {
	h := NewHistogram()
	h.Record(-5 * time.Millisecond)
	h.Record(20 * time.Minute)
	h.Record(time.Second)
	if h.Count() != 3 || h.Clamped() != 2 {
		t.Errorf("count %d clamped %d", h.Count(), h.Clamped())
	}
	if got := h.Max(); got < 10*time.Minute-time.Second || got > 10*time.Minute+time.Second {
		t.Errorf("max %s", got)
	}
	if h.ValueAtQuantile(0) != 0 {
		t.Errorf("min %s", h.ValueAtQuantile(0))
	}
	var n *Histogram
	if n.Count() != 0 || n.ValueAtQuantile(50) != 0 || n.Max() != 0 || n.Clamped() != 0 || n.Mean() != 0 {
		t.Error("nil histogram is not empty")
	}
	var zero Histogram // the zero value works too
	zero.Record(time.Millisecond)
	if zero.Count() != 1 {
		t.Error("zero Histogram")
	}
}

func TestHistogramJSONErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"lowest_trackable_value":1,"highest_trackable_value":600000000,"significant_figures":3,"counts":[],"clamped":0,"extra":1}`, "unknown field"},
		{`{"lowest_trackable_value":1,"highest_trackable_value":1000,"significant_figures":3,"counts":[],"clamped":0}`, "geometry 1..1000 with 3 digits"},
		{`{"lowest_trackable_value":1,"highest_trackable_value":600000000,"significant_figures":3,"counts":[-5,0,2],"clamped":0}`, "a 0 in the counts"},
		{`{"lowest_trackable_value":1,"highest_trackable_value":600000000,"significant_figures":3,"counts":[-99999999,1],"clamped":0}`, "beyond the geometry"},
		{`{"lowest_trackable_value":1,"highest_trackable_value":600000000,"significant_figures":3,"counts":[-21504,1],"clamped":0}`, "beyond the geometry"},
		{`{"lowest_trackable_value":1,"highest_trackable_value":600000000,"significant_figures":3,"counts":[1],"clamped":-1}`, "clamped -1 is negative"},
		{`{"lowest_trackable_value":1,"highest_trackable_value":600000000,"significant_figures":3,"counts":[[5,1]],"clamped":0}`, "cannot unmarshal"},
	} {
		var h Histogram
		err := json.Unmarshal([]byte(tc.in), &h)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestRecordStrictDecoding(t *testing.T) {
	good, err := Record{Kind: KindProducer, Producer: &ProducerVisit{Run: "r", Visit: 1, Expected: 3}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeRecord(good); err != nil {
		t.Fatalf("good record: %v", err)
	}
	cv := NewConsumerVisit("r", 1, "g", "m", "alerts")
	observe(cv, 0, 1, 2)
	goodC, _ := Record{Kind: KindConsumer, Consumer: cv}.Encode()
	for _, tc := range []struct{ in, want string }{
		{strings.Replace(string(good), `"kind"`, `"colour":"red","kind"`, 1), `result record: json: unknown field "colour"`},
		{strings.Replace(string(good), `"expected"`, `"expectd":1,"expected"`, 1), `result record: json: unknown field "expectd"`},
		{strings.Replace(string(goodC), `"member"`, `"partition":3,"member"`, 1), `result record: json: unknown field "partition"`},
		{strings.Replace(string(goodC), `"clamped"`, `"extra":3,"clamped"`, 1), `unknown field "extra"`},
		{string(good) + ` {}`, "result record: data after the JSON object"},
		{`{"kind":"filter"}`, `result record: kind "filter" is not "producer" or "consumer"`},
		{`{"kind":"consumer","producer":{"run":"r"}}`, `result record: kind "consumer" wants "consumer" and no "producer"`},
		{`{"kind":"producer"}`, `result record: kind "producer" wants "producer" and no "consumer"`},
		{strings.Replace(string(goodC), `"received":2`, `"received":3`, 1),
			`consumer record of visit 1, group "g", member "m": received 3 is not the 2 distinct seqs + 0 duplicates + 0 invalid`},
		{`{"kind":"producer","producer":{"visit":1,"expected":-1}}`, "negative count"},
		{`not json`, "result record: invalid character"},
	} {
		_, err := DecodeRecord([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %q", tc.in, err, tc.want)
		}
	}
	if _, err := (Record{Kind: KindConsumer}).Encode(); err == nil {
		t.Error("Encode of a consumer record without Consumer: no error")
	}
	// Round trip keeps everything.
	r, err := DecodeRecord(goodC)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Consumer
	if c.Received != 2 || !c.Seqs[0].Equal(NewBitmap(1, 2)) || !c.Latency.Equal(cv.Latency) || !c.LastReceive.Equal(cv.LastReceive) || c.Topic != "alerts" {
		t.Errorf("round trip: %+v", c)
	}
}
