package outcome

import (
	"fmt"
	"math"
	"time"
)

// Stats summarizes durations the way DMTN-028's tables do: mean ± stddev,
// min - max.
type Stats struct {
	N      int           `json:"n"`
	Mean   time.Duration `json:"mean_ns"`
	Stddev time.Duration `json:"stddev_ns"` // sample standard deviation (n-1); 0 for n < 2
	Min    time.Duration `json:"min_ns"`
	Max    time.Duration `json:"max_ns"`
}

// StatsOf computes the Stats of values (all zero for none).
func StatsOf(values []time.Duration) Stats {
	s := Stats{N: len(values)}
	if len(values) == 0 {
		return s
	}
	// Welford's algorithm, in float64 nanoseconds.
	var mean, m2 float64
	s.Min, s.Max = values[0], values[0]
	for i, v := range values {
		s.Min, s.Max = min(s.Min, v), max(s.Max, v)
		x := float64(v)
		d := x - mean
		mean += d / float64(i+1)
		m2 += d * (x - mean)
	}
	s.Mean = time.Duration(math.Round(mean))
	if len(values) > 1 {
		s.Stddev = time.Duration(math.Round(math.Sqrt(m2 / float64(len(values)-1))))
	}
	return s
}

// String is DMTN-028's form in seconds: "3.88 +/- 0.25 s, 3.37 - 4.32 s".
func (s Stats) String() string {
	if s.N == 0 {
		return "no values"
	}
	return fmt.Sprintf("%.2f +/- %.2f s, %.2f - %.2f s", s.Mean.Seconds(), s.Stddev.Seconds(), s.Min.Seconds(), s.Max.Seconds())
}
