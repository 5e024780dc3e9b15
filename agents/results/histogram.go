package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The latency histogram's geometry: microseconds from 1 us to 10 min, 3
// significant digits (a value is known within 0.1%).
const (
	LatencyLowest  = 1                                          // us
	LatencyHighest = int64(10 * time.Minute / time.Microsecond) // us
	LatencyDigits  = 3
)

// Histogram is an HdrHistogram of end-to-end latencies in microseconds, 1 us
// to 10 min with 3 significant digits. Latencies below 0 (clock skew between
// hosts) are recorded as 0 and above 10 min as 10 min; Clamped counts both.
// A nil *Histogram reads as empty. Not safe for concurrent use.
//
// In JSON it is the library's Snapshot (geometry and counts, see Export and
// Import) with the counts run-length encoded as in HdrHistogram's V2
// encoding: a positive number is a count, a negative number -n stands for n
// zero counts, trailing zeros are dropped. Counts 0,0,0,3,1,0,0,2 are
// [-3,3,1,-2,2]:
//
//	{"lowest_trackable_value":1,"highest_trackable_value":600000000,
//	 "significant_figures":3,"counts":[-3,3,1,-2,2],"clamped":0}
type Histogram struct {
	h       *hdrhistogram.Histogram
	clamped int64
}

// NewHistogram is an empty latency histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(LatencyLowest, LatencyHighest, LatencyDigits)}
}

func (h *Histogram) init() {
	if h.h == nil {
		h.h = hdrhistogram.New(LatencyLowest, LatencyHighest, LatencyDigits)
	}
}

// Record adds one latency, truncated to the microsecond.
func (h *Histogram) Record(d time.Duration) {
	h.init()
	us := d.Microseconds()
	switch {
	case us < 0:
		us = 0
		h.clamped++
	case us > LatencyHighest:
		us = LatencyHighest
		h.clamped++
	}
	_ = h.h.RecordValue(us) // in range by construction
}

// Merge adds every value of o. o may be nil.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.h == nil {
		return
	}
	h.init()
	h.h.Merge(o.h) // same geometry: nothing is dropped
	h.clamped += o.clamped
}

// Count is the number of values recorded.
func (h *Histogram) Count() int64 {
	if h == nil || h.h == nil {
		return 0
	}
	return h.h.TotalCount()
}

// Clamped is the number of values recorded as 0 or 10 min because they were
// outside the range.
func (h *Histogram) Clamped() int64 {
	if h == nil {
		return 0
	}
	return h.clamped
}

// ValueAtQuantile is the latency at percentile q, q in [0, 100] as in
// hdrhistogram-go (ValueAtQuantile(99) is the 99th percentile), within the
// histogram's precision (0.1%). Empty histograms give 0.
func (h *Histogram) ValueAtQuantile(q float64) time.Duration {
	if h == nil || h.h == nil {
		return 0
	}
	return time.Duration(h.h.ValueAtQuantile(q)) * time.Microsecond
}

// Max is the largest latency recorded (the upper end of its bucket, within
// 0.1%), 0 when empty.
func (h *Histogram) Max() time.Duration {
	if h == nil || h.h == nil || h.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.h.Max()) * time.Microsecond
}

// Min is the smallest latency recorded (the lower end of its bucket), 0 when
// empty.
func (h *Histogram) Min() time.Duration {
	if h == nil || h.h == nil || h.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.h.Min()) * time.Microsecond
}

// Mean is the mean latency, 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h == nil || h.h == nil || h.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.h.Mean() * float64(time.Microsecond))
}

// Clone is an independent copy (empty for nil).
func (h *Histogram) Clone() *Histogram {
	if h == nil || h.h == nil {
		return NewHistogram()
	}
	return &Histogram{h: h.h.Clone(), clamped: h.clamped}
}

// Equal reports whether h and o hold the same values.
func (h *Histogram) Equal(o *Histogram) bool {
	a, b := h.Clone(), o.Clone()
	return a.clamped == b.clamped && a.h.Equals(b.h)
}

// histogramJSON is the JSON form of a Histogram.
type histogramJSON struct {
	Lowest  int64   `json:"lowest_trackable_value"`
	Highest int64   `json:"highest_trackable_value"`
	Digits  int64   `json:"significant_figures"`
	Counts  []int64 `json:"counts"` // count, or -n for n zero counts
	Clamped int64   `json:"clamped"`
}

// MarshalJSON encodes the histogram's Snapshot sparsely.
func (h Histogram) MarshalJSON() ([]byte, error) {
	h.init()
	s := h.h.Export()
	j := histogramJSON{Lowest: s.LowestTrackableValue, Highest: s.HighestTrackableValue, Digits: s.SignificantFigures,
		Counts: []int64{}, Clamped: h.clamped}
	zeros := int64(0)
	for _, c := range s.Counts {
		if c == 0 {
			zeros++
			continue
		}
		if zeros > 0 {
			j.Counts = append(j.Counts, -zeros)
			zeros = 0
		}
		j.Counts = append(j.Counts, c)
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes MarshalJSON's form strictly: unknown fields, another
// geometry, a 0 in the counts and counts beyond the geometry are errors.
func (h *Histogram) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j histogramJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("latency histogram: %w", err)
	}
	if j.Lowest != LatencyLowest || j.Highest != LatencyHighest || j.Digits != LatencyDigits {
		return fmt.Errorf("latency histogram: geometry %d..%d with %d digits, want %d..%d with %d",
			j.Lowest, j.Highest, j.Digits, LatencyLowest, LatencyHighest, LatencyDigits)
	}
	if j.Clamped < 0 {
		return fmt.Errorf("latency histogram: clamped %d is negative", j.Clamped)
	}
	s := NewHistogram().h.Export() // the geometry's full, zeroed counts
	idx := int64(0)
	for _, c := range j.Counts {
		switch {
		case c == 0:
			return errors.New("latency histogram: a 0 in the counts (runs of zeros are negative)")
		case c < 0:
			if -c > int64(len(s.Counts))-idx {
				return fmt.Errorf("latency histogram: counts beyond the geometry's %d", len(s.Counts))
			}
			idx += -c
		default:
			if idx >= int64(len(s.Counts)) {
				return fmt.Errorf("latency histogram: counts beyond the geometry's %d", len(s.Counts))
			}
			s.Counts[idx] = c
			idx++
		}
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("latency histogram: %w", err)
	}
	h.h, h.clamped = hdrhistogram.Import(s), j.Clamped
	return nil
}
