package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/agents/results"
	"github.com/alert-testbed/testbed/internal/archive"
	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/hostspeed"
	"github.com/alert-testbed/testbed/internal/inventory"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/run"
)

// synthetic is a run whose figures lie on known lines: producing time
// 2 + 0.5 × producers seconds, transit 1 + 0.25 × producers seconds.
type synthetic struct {
	id        string
	producers int
	stamps    bool
	fellBack  bool // the last visit's transit grows: the group fell behind
}

// writeArchive writes a run archive the way the orchestrator does
// (archive.Create, the layout's files), with the experiment's own code.
func writeArchive(t *testing.T, runsDir string, s synthetic) string {
	t.Helper()
	e := experiment.Defaults()
	e.Name, e.Base, e.File = "synthetic", "synthetic", "experiments/synthetic.yaml"
	e.Visits, e.Producers, e.AlertsPerVisit, e.Alert.Stamps = 3, s.producers, 1000, s.stamps
	e.Sweep = []experiment.Setting{{Field: "producers", Value: fmt.Sprint(s.producers)}}
	groups := run.Groups(e, s.id)
	start := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	produce := time.Duration((2 + 0.5*float64(s.producers)) * float64(time.Second))
	transit := time.Duration((1 + 0.25*float64(s.producers)) * float64(time.Second))
	var rows []outcome.VisitGroup
	var records [][]byte
	for v := 1; v <= e.Visits; v++ {
		tr := transit
		if s.fellBack {
			tr += time.Duration(v-1) * 10 * time.Second
		}
		for _, g := range groups {
			rows = append(rows, outcome.VisitGroup{Visit: v, Group: g.Name, Producers: e.Producers, Members: 1, Expected: 1000, Sent: 1000, Acked: 1000,
				Received: 1000, Unique: 1000, Complete: true, ProducingTime: produce, TransitTime: tr, TotalTime: produce + tr})
		}
		for p := 0; p < e.Producers; p++ {
			rec, _ := json.Marshal(map[string]any{"kind": "producer", "producer": results.ProducerVisit{Run: s.id, Visit: v, Producer: p,
				Expected: 1000 / e.Producers, Sent: 1000 / e.Producers, Acked: 1000 / e.Producers, Bytes: int64(1e6 / e.Producers)}})
			records = append(records, rec)
		}
	}
	var behind map[string]bool
	if s.fellBack {
		behind = map[string]bool{groups[0].Name: true}
	}
	// The host's CPUs: busier with more producers (0.5 + 0.04 x producers).
	cpu := &outcome.ProducingCPU{Node: "tb-manager-1", Cores: 2, Busy: 0.5 + 0.04*float64(s.producers), Shared: true}
	sum := outcome.Summarize(outcome.Facts{RunID: s.id, Experiment: e.Name, Visits: e.Visits, Groups: groups, Rows: rows, Behind: behind, CPU: cpu})
	series := monitoring.Series{}
	for i, svc := range []string{"kafka_kafka-1", "kafka_kafka-2", "run-" + s.id + "-producer"} {
		series[svc] = map[string][]monitoring.Point{}
		for _, m := range monitoring.ServiceMetrics {
			for k := 0; k < 10; k++ {
				v := float64(s.producers) * 1e6 * float64(i+1)
				series[svc][m.Name] = append(series[svc][m.Name], monitoring.Point{T: start.Add(time.Duration(k) * 5 * time.Second), V: v})
			}
		}
	}
	dir := filepath.Join(runsDir, s.id)
	a, err := archive.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	meta := archive.Meta{FormatVersion: archive.FormatVersion, RunID: s.id, Experiment: e.Name, File: e.File, Base: e.Base, Sweep: e.Sweep, SweepID: "sweep-x",
		Testbed: "tb", Env: "local", Nodes: []inventory.Node{{Name: "tb-manager-1", Role: "manager"}, {Name: "tb-worker-1", Role: "worker"}},
		Start: start, T0: start.Add(5 * time.Second), End: start.Add(45 * time.Second), Problems: sum.Problems, SnapshotError: "none in the test"}
	meta.Window.From, meta.Window.To = start, start.Add(50*time.Second)
	// The brokers' compiler CPU: 1 + 2 x producers in all.
	meta.BrokersJITCPU = map[string]float64{"kafka_kafka-1": 1, "kafka_kafka-2": 2 * float64(s.producers)}
	// The host's speed: 100 - 2 x producers MB/s.
	meta.HostSpeed = &hostspeed.Reading{Workload: hostspeed.Workload, MBPerSec: 100 - 2*float64(s.producers), Seconds: 2, At: start}
	for _, err := range []error{
		a.WriteYAML(archive.FileExperiment, e), a.WriteJSON(archive.FileRun, meta), a.WriteLines(archive.FileRecords, records),
		a.WriteJSON(archive.FileVisitsJSON, rows), a.WriteJSON(archive.FileSummary, sum), a.WriteWith(archive.FileServices, series.WriteCSV),
		a.WriteJSON(archive.FileTotals, map[string]monitoring.Totals{"run-" + s.id + "-producer": {CPUSeconds: 5 * float64(s.producers)},
			// Two brokers' JIT time: 4 + 10 x producers in all.
			"kafka_kafka-1": {JITSeconds: 1 + 4*float64(s.producers)}, "kafka_kafka-2": {JITSeconds: 3 + 6*float64(s.producers)}}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := Render(dir, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRenderingAnArchiveAgainGivesTheSameReport(t *testing.T) {
	dir := writeArchive(t, t.TempDir(), synthetic{id: "20261130-100000-aaaa", producers: 4, stamps: true})
	again := t.TempDir()
	if err := Render(dir, again); err != nil {
		t.Fatal(err)
	}
	for _, f := range append([]string{archive.FileReport}, Plots...) {
		a, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(again, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs when made again from the archive", f)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, archive.FileReport))
	for _, want := range []string{"# Run 20261130-100000-aaaa: synthetic", "synthetic (experiments/synthetic.yaml; sweep producers=4)", "tb (env local): 1 managers, 1 workers",
		"No TSDB snapshot: none in the test", "`metrics/totals.json`",
		"- Host: 92.0 MB/s on one core just before the run (compress/flate BestSpeed of a fixed 4 MiB block, one goroutine, median of 10 slices, 2.0 s; runs on this machine compare by it"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
}

func TestLoadSaysWhatIsWrongWithAFolder(t *testing.T) {
	if _, err := archive.Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is not a run archive: it has no run.json") {
		t.Errorf("empty folder: %v", err)
	}
	dir := writeArchive(t, t.TempDir(), synthetic{id: "20261130-100000-bbbb", producers: 1})
	data, _ := os.ReadFile(filepath.Join(dir, archive.FileRun))
	newer := bytes.Replace(data, []byte(`"format_version": 1`), []byte(`"format_version": 99`), 1)
	os.WriteFile(filepath.Join(dir, archive.FileRun), newer, 0o644)
	if _, err := archive.Load(dir); err == nil || !strings.Contains(err.Error(), "format_version 99 is newer than this testbed reads (1)") {
		t.Errorf("newer format: %v", err)
	}
	os.WriteFile(filepath.Join(dir, archive.FileRun), data, 0o644)
	os.WriteFile(filepath.Join(dir, archive.FileSummary), []byte("{"), 0o644)
	if _, err := archive.Load(dir); err == nil || !strings.Contains(err.Error(), "summary.json: unexpected end of JSON input") {
		t.Errorf("broken summary.json: %v", err)
	}
}

func TestComparisonOrdersRunsAndFitsKnownLines(t *testing.T) {
	runs := t.TempDir()
	var dirs []string
	for _, s := range []synthetic{
		{id: "20261130-100000-0001", producers: 10, stamps: true},
		{id: "20261130-100000-0002", producers: 1, stamps: true},
		{id: "20261130-100000-0003", producers: 4, stamps: true},
		{id: "20261130-100000-0004", producers: 2, stamps: false},
		{id: "20261130-100000-0005", producers: 6, stamps: false, fellBack: true},
	} {
		dirs = append(dirs, writeArchive(t, runs, s))
	}
	out := filepath.Join(runs, "sweep-x")
	if err := WriteSweep(out, dirs, "", "test sweep"); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "compare.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(md)
	// Ordered by total = 3 + 0.75 × producers (plus the fallen-behind
	// run's growing transit).
	order := regexp.MustCompile(`(?m)^\| \d+ \| [^|]+ \| (\d{8}-\d{6}-\d{4}) \|`).FindAllStringSubmatch(text, -1)
	var got []string
	for _, m := range order {
		got = append(got, m[1][len(m[1])-1:])
	}
	if strings.Join(got, "") != "24315" {
		t.Errorf("table order %v, want runs 2 4 3 1 5:\n%s", got, text)
	}
	for _, want := range []string{
		"Settings that differ between the runs: producers, alert.stamps.",
		// DMTN-028's 1 producer, 2 consumers, 1 partition row beside it.
		"| 1 | producers=1 alert.stamps=true | 20261130-100000-0002 | 2.50 ± 0.00 | 1.25 ± 0.00 (consumer1) | 3.75 | 0 | 0 | 1.0 | passed | 33.10 ± 2.02 / 0.16 ± 0.23 / 33.26 (at 10000 alerts/visit; this run 1000) |",
		// Without stamps, no published row matches.
		"| 2 | producers=2 alert.stamps=false | 20261130-100000-0004 | 3.00 ± 0.00 | 1.50 ± 0.00 (consumer1) | 4.50 | 0 | 0 | 1.0 | passed | – |",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("compare.md lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(text, "7.46 ± 0.23 / 11.00 ± 2.00 / 18.46 (at 10000 alerts/visit; this run 1000)") {
		t.Errorf("the 10-producer run is not shown beside DMTN-028's row:\n%s", text)
	}
	if !strings.Contains(text, "| **FAILED**, fell behind |") || !strings.Contains(text, FellBehindFile+".png") {
		t.Errorf("the run that fell behind is not marked, or has no per-visit plot:\n%s", text)
	}
	// The fits: producing time of the stamps=true line is exactly
	// 2 + 0.5 x.
	if !strings.Contains(text, "| producing time (s) | alert.stamps=true | 0.5 | 2 | 1.000 | 3 |") {
		t.Errorf("producing time fit against producers is not slope 0.5, intercept 2, R² 1:\n%s", text)
	}
	if !strings.Contains(text, "| transit time (s) | alert.stamps=true | 0.25 | 1 | 1.000 | 3 |") {
		t.Errorf("transit time fit is not slope 0.25, intercept 1:\n%s", text)
	}
	if !strings.Contains(text, "| brokers' JIT compilation (s) | alert.stamps=true | 10 | 4 | 1.000 | 3 |") {
		t.Errorf("brokers' JIT compilation fit is not slope 10, intercept 4:\n%s", text)
	}
	if !strings.Contains(text, "| brokers' JIT compiler CPU (s) | alert.stamps=true | 2 | 1 | 1.000 | 3 |") {
		t.Errorf("brokers' JIT compiler CPU fit is not slope 2, intercept 1:\n%s", text)
	}
	if !regexp.MustCompile(`\| 20261130-\d{6}-\w+ \| synthetic \| \S+ \| tb \(local\) \| \S+ \| 92 \|`).MatchString(text) {
		t.Errorf("the runs table does not give the 4-producer run's host speed (92 MB/s):\n%s", text)
	}
	if !strings.Contains(text, "| host speed (MB/s) | alert.stamps=true | -2 | 100 | 1.000 | 3 |") {
		t.Errorf("host speed fit is not slope -2, intercept 100:\n%s", text)
	}
	if !strings.Contains(text, "| CPU busy while producing (%) | alert.stamps=true | 4 | 50 | 1.000 | 3 |") {
		t.Errorf("CPU busy fit is not slope 4, intercept 50:\n%s", text)
	}
	for _, f := range []string{"runs.csv", SweepFile, PlotFile("producers", "producing time", "png"), FellBehindFile + ".png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("comparison lacks %s: %v", f, err)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(out, "runs.csv"))
	if lines := strings.Count(string(csv), "\n"); lines != 6 {
		t.Errorf("runs.csv has %d lines, want a header and 5 runs:\n%s", lines, csv)
	}
	if head, _, _ := strings.Cut(string(csv), "\n"); !strings.HasSuffix(head, ",consumer_cpu_cores,broker_jit_seconds,broker_jit_cpu_seconds,cpu_busy_while_producing,host_speed_mb_per_s") {
		t.Errorf("runs.csv header %q does not end with the brokers' JIT seconds, the CPU busy share and the host speed", head)
	}
	// Made again from sweep.json, the comparison is the same.
	idx, err := ReadSweep(out)
	if err != nil {
		t.Fatal(err)
	}
	again := t.TempDir()
	if err := WriteSweep(again, idx.Runs, idx.By, idx.Title); err != nil {
		t.Fatal(err)
	}
	md2, _ := os.ReadFile(filepath.Join(again, "compare.md"))
	if !bytes.Equal(md, md2) {
		t.Errorf("the comparison made again from sweep.json differs")
	}
}

func TestComparisonByAField(t *testing.T) {
	runs := t.TempDir()
	var dirs []string
	for i, p := range []int{1, 2} {
		dirs = append(dirs, writeArchive(t, runs, synthetic{id: fmt.Sprintf("20261130-100000-000%d", i), producers: p}))
	}
	if _, err := NewComparison(dirs, "nosuch.field", ""); err == nil || !strings.Contains(err.Error(), `--by "nosuch.field": not a setting of these runs; the settings that vary are producers`) {
		t.Errorf("--by of an unknown field: %v", err)
	}
	if _, err := NewComparison(dirs, "alert.stamps", ""); err == nil || !strings.Contains(err.Error(), "not all numbers") {
		t.Errorf("--by of a bool: %v", err)
	}
	cm, err := NewComparison(dirs, "topic.partitions", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(cm.By) != 1 || cm.By[0] != "topic.partitions" {
		t.Errorf("By = %v", cm.By)
	}
	if _, err := NewComparison(append(dirs, dirs[0]), "", ""); err == nil || !strings.Contains(err.Error(), "is given twice") {
		t.Errorf("a run given twice: %v", err)
	}
}

func TestLeastSquares(t *testing.T) {
	f, ok := LeastSquares([]float64{1, 2, 3, 4}, []float64{3, 5, 7, 9})
	if !ok || math.Abs(f.Slope-2) > 1e-12 || math.Abs(f.Intercept-1) > 1e-12 || math.Abs(f.R2-1) > 1e-12 {
		t.Errorf("exact line: %+v %v", f, ok)
	}
	f, _ = LeastSquares([]float64{0, 1, 2}, []float64{0, 2, 1})
	if math.Abs(f.Slope-0.5) > 1e-12 || math.Abs(f.R2-0.25) > 1e-12 {
		t.Errorf("noisy: %+v, want slope 0.5, R² 0.25", f)
	}
	if _, ok := LeastSquares([]float64{2, 2}, []float64{1, 3}); ok {
		t.Errorf("one distinct x fitted a line")
	}
}

// experiments/dmtn028-table.yaml is DMTN-028's table, row by row, at one
// alerts-per-visit for every row.
func TestDMTN028TableFileHasTheTablesRows(t *testing.T) {
	runs, err := experiment.Load("../../experiments/dmtn028-table.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != len(DMTN028Table) {
		t.Fatalf("%d runs, want DMTN-028's %d rows", len(runs), len(DMTN028Table))
	}
	for i, r := range runs {
		p, ok := PublishedFor(r.Producers, len(r.Groups()), r.Topic.Partitions, r.Alert.Stamps)
		if !ok || p != DMTN028Table[i] {
			t.Errorf("run %d (%s): %d producers, %d consumer groups, %d partitions, stamps %v is not row %d of DMTN-028's table %+v",
				i+1, r.Name, r.Producers, len(r.Groups()), r.Topic.Partitions, r.Alert.Stamps, i+1, DMTN028Table[i])
		}
		if r.AlertsPerVisit != runs[0].AlertsPerVisit {
			t.Errorf("run %s: %d alerts per visit, run 1 %d: the rows must share one scale", r.Name, r.AlertsPerVisit, runs[0].AlertsPerVisit)
		}
	}
}
