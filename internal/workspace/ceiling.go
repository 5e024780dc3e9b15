package workspace

import (
	"sort"
	"time"
)

// CeilingFigure is one ceiling `testbed bench --ceiling` measured on a
// testbed (internal/bench): the most MB/s of record values its brokers
// took from Kafka's own producer, from one place, at one topic's settings.
// A run's summary sets its producing rate against the figure of its own
// topic settings, measured from the swarm (where its producers run).
type CeilingFigure struct {
	From              string    `json:"from"` // bench.FromHost or bench.FromSwarm
	Partitions        int       `json:"partitions"`
	ReplicationFactor int       `json:"replication_factor"`
	RecordSize        int       `json:"record_size"` // bytes
	MBPerSec          float64   `json:"mb_per_sec"`  // 10^6 bytes of record values a second
	Producers         int       `json:"producers"`   // instances at once that gave it
	Bench             string    `json:"bench"`       // the bench archive's id
	MeasuredAt        time.Time `json:"measured_at"`
}

// LoadCeilings returns the ceilings measured on testbed name (none: an
// empty list). They go with the testbed: `testbed down` removes them.
func (w Workspace) LoadCeilings(name string) ([]CeilingFigure, error) {
	var out []CeilingFigure
	_, err := w.load(name, "ceiling.json", &out)
	return out, err
}

// SaveCeilings adds figures to the ceilings of testbed name; a figure
// replaces the one of the same place and topic settings.
func (w Workspace) SaveCeilings(name string, figures []CeilingFigure) error {
	have, err := w.LoadCeilings(name)
	if err != nil {
		return err
	}
	for _, f := range figures {
		replaced := false
		for i, h := range have {
			if h.From == f.From && h.Partitions == f.Partitions && h.ReplicationFactor == f.ReplicationFactor {
				have[i], replaced = f, true
			}
		}
		if !replaced {
			have = append(have, f)
		}
	}
	sort.Slice(have, func(i, j int) bool {
		a, b := have[i], have[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.Partitions != b.Partitions {
			return a.Partitions < b.Partitions
		}
		return a.ReplicationFactor < b.ReplicationFactor
	})
	return w.save(name, "ceiling.json", have)
}

// FindCeiling returns the figure of one place and topic settings.
func FindCeiling(figures []CeilingFigure, from string, partitions, replicationFactor int) (CeilingFigure, bool) {
	for _, f := range figures {
		if f.From == from && f.Partitions == partitions && f.ReplicationFactor == replicationFactor {
			return f, true
		}
	}
	return CeilingFigure{}, false
}
