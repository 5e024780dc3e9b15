package results

import (
	"fmt"
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

// benchVisit returns the producers' and members' records of one visit
// in which every alert was received once by each of groups groups.
func benchVisit(groups int) ([]ProducerVisit, []ConsumerVisit) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var ps []ProducerVisit
	for p := 0; p < benchProducers; p++ {
		ps = append(ps, ProducerVisit{Run: "r", Visit: 1, Producer: p, Expected: benchPerProd, Sent: benchPerProd, Acked: benchPerProd,
			IntendedStart: t0, FirstSerialize: t0, LastAck: t0.Add(5 * time.Second)})
	}
	var cs []ConsumerVisit
	for g := 0; g < groups; g++ {
		members := make([]*ConsumerVisit, benchMembers)
		for m := range members {
			members[m] = NewConsumerVisit("r", 1, fmt.Sprintf("g%d", g), fmt.Sprintf("m%d", m), "alerts")
		}
		offsets := make([]int64, benchPartitions)
		for p := 0; p < benchProducers; p++ {
			for s := 0; s < benchPerProd; s++ {
				part := (p*benchPerProd + s) % benchPartitions
				cv := members[part%benchMembers]
				cv.ObserveAt(p, s, t0, t0.Add(6*time.Second), int32(part), offsets[part])
				offsets[part]++
			}
		}
		for _, m := range members {
			cs = append(cs, *m)
		}
	}
	return ps, cs
}

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
