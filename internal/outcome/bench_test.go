package outcome

import (
	"fmt"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/agents/results"
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
func benchVisit(groups int) ([]results.ProducerVisit, []results.ConsumerVisit) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var ps []results.ProducerVisit
	for p := 0; p < benchProducers; p++ {
		ps = append(ps, results.ProducerVisit{Run: "r", Visit: 1, Producer: p, Expected: benchPerProd, Sent: benchPerProd, Acked: benchPerProd,
			IntendedStart: t0, FirstSerialize: t0, LastAck: t0.Add(5 * time.Second)})
	}
	var cs []results.ConsumerVisit
	for g := 0; g < groups; g++ {
		members := make([]*results.ConsumerVisit, benchMembers)
		for m := range members {
			members[m] = results.NewConsumerVisit("r", 1, fmt.Sprintf("g%d", g), fmt.Sprintf("m%d", m), "alerts")
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

// BenchmarkFold100kAlerts folds a 100,000-alert visit read by 2 groups of
// 10 members: what the orchestrator does every few seconds during a run
// and once at its end. Reports alerts/s (alerts of the visit per group).
func BenchmarkFold100kAlerts(b *testing.B) {
	ps, cs := benchVisit(2)
	b.ReportAllocs()
	for b.Loop() {
		rows, err := Fold(ps, cs)
		if err != nil {
			b.Fatal(err)
		}
		if len(rows) != 2 || rows[0].Lost != 0 || rows[0].Unique != benchProducers*benchPerProd {
			b.Fatalf("fold: %+v", rows)
		}
	}
	b.ReportMetric(float64(b.N*2*benchProducers*benchPerProd)/b.Elapsed().Seconds(), "alerts/s")
}
