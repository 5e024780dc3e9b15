package archive

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/faults"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/outcome"
)

// What Write writes, Load reads back: an archive is its files.
func TestWriteThenLoad(t *testing.T) {
	exps, err := experiment.Parse([]byte("name: w\nvisits: 2\nvisit_interval: 10s\nalerts_per_visit: 100\nfaults: [{action: kill, target: {broker: 2}, at: {visit: 2, after: 1s}}]\n"), "w.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := exps[0]
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	c := Contents{
		Meta: Meta{FormatVersion: FormatVersion, RunID: "20261130-120000-abcd", Experiment: e.Name, File: "w.yaml",
			Start: t0, End: t0.Add(time.Minute), T0: t0.Add(20 * time.Second)},
		Experiment: e,
		Records:    [][]byte{[]byte(`{"kind":"x"}`)},
		Rows:       []outcome.VisitGroup{{Visit: 1, Group: "consumer1", Expected: 100, Received: 100}},
		Summary:    outcome.Summary{RunID: "20261130-120000-abcd", Experiment: e.Name, Visits: 2},
		Faults:     []faults.Record{{Index: 1, Action: "kill", Target: "broker 2", Visit: 2, After: time.Second, Fired: t0.Add(31 * time.Second)}},
		Series:     monitoring.Series{"kafka_kafka-1": {"cpu": {{T: t0, V: 0.5}}}},
		Totals:     map[string]monitoring.Totals{"kafka_kafka-1": {}},
		Logs:       map[string][]byte{"run-20261130-120000-abcd-producer": []byte("visit:1\n")},
	}
	c.Meta.Window.From, c.Meta.Window.To = c.Meta.Start, c.Meta.End
	dir := filepath.Join(t.TempDir(), c.Meta.RunID)
	a, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Write(c); err != nil {
		t.Fatal(err)
	}
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Rows, c.Rows) || r.Summary.RunID != c.Summary.RunID || len(r.Faults) != 1 || !r.Faults[0].Fired.Equal(c.Faults[0].Fired) {
		t.Errorf("read back rows %+v, summary %+v, faults %+v", r.Rows, r.Summary, r.Faults)
	}
	if len(r.Missing) != 0 || r.Series == nil || r.Totals == nil {
		t.Errorf("metrics not read back: missing %v, series %v, totals %v", r.Missing, r.Series, r.Totals)
	}
	if log, err := os.ReadFile(filepath.Join(dir, DirAgentLogs, "producer.log")); err != nil || string(log) != "visit:1\n" {
		t.Errorf("agents/producer.log: %q, %v", log, err)
	}
}
