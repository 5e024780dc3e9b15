package results

import (
	"testing"
	"time"
)

// A visit as the LSST run has it: 10 producers of 10,000 alerts / 10 each,
// 100,000 alerts in all to make the fold's case, read by 2 groups of 10
// members over 10 partitions.
const (
	benchProducers  = 10
	benchPerProd    = 10_000
	benchMembers    = 10
	benchPartitions = 10
)

// BenchmarkObserveAt is a member's work per delivery: its bitmap, latency
// histogram and offset ranges. Reports deliveries/s on one core.
func BenchmarkObserveAt(b *testing.B) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	cv := NewConsumerVisit("r", 1, "g", "m", "alerts")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// A visit's 100,000 alerts in the order one partition holds them,
		// then the next visit's in a fresh record.
		if i%(benchProducers*benchPerProd) == 0 {
			cv = NewConsumerVisit("r", 1, "g", "m", "alerts")
		}
		cv.ObserveAt((i/benchPerProd)%benchProducers, i%benchPerProd, t0, t0.Add(time.Duration(i%1000)*time.Millisecond), 0, int64(i))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
