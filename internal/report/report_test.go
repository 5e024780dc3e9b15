package report

import (
	"github.com/alert-testbed/testbed/agents/pacing"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/run"
)

func TestWriteMakesTheReportAndItsPlots(t *testing.T) {
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	groups := []run.Group{{Name: "r1-c1", Label: "c1", Stream: true}}
	var rows []outcome.VisitGroup
	for v := 1; v <= 3; v++ {
		rows = append(rows, outcome.VisitGroup{Visit: v, Group: "r1-c1", Producers: 1, Members: 1, Expected: 10, Sent: 10, Acked: 10, Received: 10, Unique: 10, Complete: true,
			ProducingTime: time.Duration(2+v) * time.Second, TransitTime: 300 * time.Millisecond, TotalTime: time.Duration(2+v)*time.Second + 300*time.Millisecond})
	}
	series := monitoring.Series{}
	for _, svc := range []string{"kafka_kafka-1", "run-r1-producer", "monitoring_prometheus"} {
		series[svc] = map[string][]monitoring.Point{}
		for _, m := range monitoring.ServiceMetrics {
			for i := 0; i < 20; i++ {
				series[svc][m.Name] = append(series[svc][m.Name], monitoring.Point{T: start.Add(time.Duration(i) * 5 * time.Second), V: float64(i % 4)})
			}
		}
	}
	s := outcome.Summarize(outcome.Facts{RunID: "r1", Experiment: "exp", Visits: 3, Groups: groups, Rows: rows})
	dir := t.TempDir()
	err := Write(dir, Input{Summary: s, Rows: rows, Groups: groups, Experiment: "exp\n", Testbed: "tb", Start: start, End: start.Add(95 * time.Second),
		Series: series, Totals: map[string]monitoring.Totals{"kafka_kafka-1": {CPUSeconds: 50, ReceiveBytes: 100 << 20, TransmitBytes: 200 << 20, JITSeconds: 12.5}},
		WindowStart: start, WindowEnd: start.Add(100 * time.Second), Snapshot: "snap",
		// A fault drawn on every plot: an interval and an instant.
		Faults: []Fault{{Label: "fault 1: pause broker 2 for 20s", From: start.Add(10 * time.Second), To: start.Add(30 * time.Second)},
			{Label: "fault 2: kill broker 3", From: start.Add(50 * time.Second), To: start.Add(50 * time.Second)}},
		T0: start, Schedule: pacing.Schedule{AlertsPerVisit: 10000, Interval: 39 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# Run r1: exp\n\n**passed**",
		"| producer serialization and send to Kafka | 4.00 ± 1.00 s | 3.00 – 5.00 s | 3 |",
		"| transit time to receipt by c1 | 0.30 ± 0.00 s | 0.30 – 0.30 s | 3 |",
		// Means from the totals over 100 s: 50 core-seconds = 50 %, 1 and 2 MiB/s.
		"| kafka_kafka-1 | 50.0 ± ",
		"| 1.00 ± ", "| 2.00 ± ",
		"| agents: producer |",
		"The brokers' JIT compilation over the window: 12.5 s (kafka-1 12.5 s): a broker's JVM compiles Kafka's hot code",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	for _, p := range Plots {
		f, err := os.Open(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if img.Bounds().Dx() < 500 || img.Bounds().Dy() < 250 {
			t.Errorf("%s is %v", p, img.Bounds())
		}
		if !strings.Contains(string(md), "("+p+")") {
			t.Errorf("report.md does not show %s", p)
		}
	}
}

func TestServiceName(t *testing.T) {
	for in, want := range map[string]string{"run-r1-producer": "agents: producer", "run-r2-producer": "run-r2-producer", "kafka_kafka-1": "kafka_kafka-1"} {
		if got := ServiceName(in, "r1"); got != want {
			t.Errorf("ServiceName(%q) = %q, want %q", in, got, want)
		}
	}
}

// The plot's visit axis follows the schedule: uniform visits, or
// exposures of their own lengths.
func TestVisitAxis(t *testing.T) {
	u := pacing.Schedule{Interval: 10 * time.Second}
	if got := visitAxis(u, 25*time.Second); got != 3.5 {
		t.Errorf("uniform: %g, want 3.5", got)
	}
	s := pacing.Schedule{Interval: 10 * time.Second, Slots: []pacing.Slot{{Offset: 0, Alerts: 1}, {Offset: 4 * time.Second, Alerts: 1}, {Offset: 24 * time.Second, Alerts: 1}}}
	for off, want := range map[time.Duration]float64{0: 1, 2 * time.Second: 1.5, 14 * time.Second: 2.5, 29 * time.Second: 3.5, -2 * time.Second: 0.5} {
		if got := visitAxis(s, off); got != want {
			t.Errorf("slots at %s: %g, want %g", off, got, want)
		}
	}
}

func TestJITFiguresWithoutBrokerMetrics(t *testing.T) {
	// Broker metrics not scraped: no "0.0 s ()", and no summary line.
	totals := map[string]monitoring.Totals{"kafka_kafka-1": {CPUSeconds: 50}, "run-x-producer": {JITSeconds: 3}}
	if got := JITFigures(totals); got != "" {
		t.Errorf("JITFigures without broker JIT time = %q, want \"\"", got)
	}
	if got := BrokersJIT(nil, "", totals); got != "" {
		t.Errorf("BrokersJIT without broker JIT time = %q, want \"\"", got)
	}
	totals["kafka_kafka-2"] = monitoring.Totals{JITSeconds: 4}
	if got, want := JITFigures(totals), "4.0 s (kafka-2 4.0 s)"; got != want {
		t.Errorf("JITFigures = %q, want %q", got, want)
	}
}

// A run's line gives the compilers' CPU over the run when the archive
// has it, the elapsed time over the window when Prometheus had it, or
// both.
func TestBrokersJIT(t *testing.T) {
	cpu := map[string]float64{"kafka_kafka-2": 3.1, "kafka_kafka-1": 2.04, "kafka_kafka-3": 3.1}
	totals := map[string]monitoring.Totals{"kafka_kafka-1": {JITSeconds: 8.5}, "kafka_kafka-2": {JITSeconds: 6.5}, "kafka_kafka-3": {JITSeconds: 6.9}}
	for _, tc := range []struct {
		name   string
		cpu    map[string]float64
		totals map[string]monitoring.Totals
		note   string
		want   string
	}{
		{"both", cpu, totals, "", "brokers' JIT compilers over the run: 8.2 s of CPU (kafka-1 2.0 s, kafka-2 3.1 s, kafka-3 3.1 s); 21.9 s elapsed over the metrics window"},
		{"CPU only", cpu, nil, "", "brokers' JIT compilers over the run: 8.2 s of CPU (kafka-1 2.0 s, kafka-2 3.1 s, kafka-3 3.1 s)"},
		{"elapsed only (older archives)", nil, totals, "", "brokers' JIT compilation over the window: 21.9 s (kafka-1 8.5 s, kafka-2 6.5 s, kafka-3 6.9 s)"},
		{"neither", nil, nil, "", ""},
		{"a broker left out", map[string]float64{"kafka_kafka-1": 2.04, "kafka_kafka-3": 3.1}, totals, "kafka-2 left out: its container of the run's start no longer runs (a restarted broker)",
			"brokers' JIT compilers over the run: 5.1 s of CPU (kafka-1 2.0 s, kafka-3 3.1 s); compiler CPU kafka-2 left out: its container of the run's start no longer runs (a restarted broker); 21.9 s elapsed over the metrics window"},
		{"not read", nil, totals, "not read: exec sh: no such container",
			"brokers' JIT compilers over the run: compiler CPU not read: exec sh: no such container; 21.9 s elapsed over the metrics window"},
	} {
		if got := BrokersJIT(tc.cpu, tc.note, tc.totals); got != tc.want {
			t.Errorf("%s: BrokersJIT = %q, want %q", tc.name, got, tc.want)
		}
	}
}
