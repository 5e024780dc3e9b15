// Package report writes a run's report.md and its plots (gonum/plot):
// per-visit timings, and CPU, memory and network per service over the run,
// with DMTN-028-style resource tables (mean +/- stddev, max per service).
package report

import (
	"fmt"
	"github.com/alert-testbed/testbed/agents/pacing"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/alert-testbed/testbed/internal/archive"
	"github.com/alert-testbed/testbed/internal/hostspeed"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/run"
)

// Input is what a report is made of.
type Input struct {
	Summary    outcome.Summary
	Rows       []outcome.VisitGroup // folded, per visit and stream group
	Groups     []run.Group
	Experiment string // Experiment.String()
	Testbed    string // name and topology, one line
	Start, End time.Time
	Series     monitoring.Series // per-service resources over [Start, End]
	SeriesErr  string            // why Series is missing, if it is
	// Totals are each service's CPU time and network bytes over the
	// window [Start-10s, End+10s] (WindowStart, WindowEnd), from which the
	// tables' means are computed exactly.
	Totals                 map[string]monitoring.Totals
	WindowStart, WindowEnd time.Time
	// BrokersJITCPU is the brokers' JIT compiler CPU over the run
	// (archive.Meta.BrokersJITCPU), service -> seconds.
	BrokersJITCPU map[string]float64
	JITCPUNote    string
	// HostSpeed is the host's speed before the run, or why it is missing
	// (archive.Meta.HostSpeed, HostSpeedError).
	HostSpeed      *hostspeed.Reading
	HostSpeedError string
	Snapshot       string   // the TSDB snapshot's folder in the archive, or why there is none
	Grafana        []string // links (annotation, dashboard snapshot), if Grafana is up
	Files          []string // other files of the archive, to list
	// Faults are the run's faults as they happened (faults.json), drawn
	// on the plots as marked intervals.
	Faults []Fault
	// Schedule and T0 place a time on the timings plot's visit axis.
	Schedule pacing.Schedule
	T0       time.Time
	// Missing lists the files an archive of an older format lacks.
	Missing []string
}

// Fault is one fault as the report draws it: from From to To (equal for an
// instant such as a kill).
type Fault struct {
	Label    string // "fault 1: kill broker 2"
	From, To time.Time
}

// Plots are the plot files Write makes, relative to the archive.
var Plots = []string{"plots/timings.png", "plots/cpu.png", "plots/memory.png", "plots/network-in.png", "plots/network-out.png"}

// Render makes a run's report from its archive alone: it reads the archive
// in runDir (archive.Load) and writes report.md and the plots into outDir
// (runDir itself to make them again in place). The same archive always
// gives the same report.
func Render(runDir, outDir string) error {
	r, err := archive.Load(runDir)
	if err != nil {
		return err
	}
	return Write(outDir, FromArchive(r))
}

// FromArchive is the report's input as the archive r holds it.
func FromArchive(r *archive.Run) Input {
	m := r.Meta
	managers, workers := m.Counts()
	in := Input{
		Summary: r.Summary, Rows: r.Rows, Groups: r.Groups, Experiment: r.Experiment.String(),
		Testbed: fmt.Sprintf("%s (env %s): %d managers, %d workers", m.Testbed, m.Env, managers, workers),
		Start:   m.Start, End: m.End, T0: m.T0, Schedule: r.Experiment.Schedule(),
		Series: r.Series, SeriesErr: m.MetricsError, Totals: r.Totals,
		WindowStart: m.Window.From, WindowEnd: m.Window.To, BrokersJITCPU: m.BrokersJITCPU, JITCPUNote: m.JITCPUNote,
		HostSpeed: m.HostSpeed, HostSpeedError: m.HostSpeedError,
		Grafana: m.Grafana, Missing: r.Missing,
	}
	if in.Series == nil && in.SeriesErr == "" {
		in.SeriesErr = "the archive has no " + archive.FileServices
	}
	switch {
	case m.Snapshot != "":
		size := ""
		if m.SnapshotBytes > 0 {
			size = fmt.Sprintf(" (%.1f MB)", float64(m.SnapshotBytes)/1e6)
		}
		in.Snapshot = fmt.Sprintf("`%s/`: Prometheus TSDB snapshot %s%s, the whole testbed's metrics up to the run's end. "+
			"Open it again with `prometheus --storage.tsdb.path=%s --storage.tsdb.retention.time=100y` "+
			"and query the window %s to %s. `%s`: the per-service series of the report.",
			archive.DirTSDB, m.Snapshot, size, archive.DirTSDB,
			m.Window.From.UTC().Format(time.RFC3339), m.Window.To.UTC().Format(time.RFC3339), archive.FileServices)
	case m.SnapshotError != "":
		in.Snapshot = "No TSDB snapshot: " + m.SnapshotError
	default:
		in.Snapshot = "No TSDB snapshot."
	}
	for _, f := range r.Faults {
		if !f.Fired.IsZero() {
			in.Faults = append(in.Faults, Fault{Label: f.String(), From: f.Fired, To: f.End()})
		}
	}
	for _, e := range archive.Layout {
		if e.Name == archive.FileReport || e.Name == archive.DirPlots+"/" || !r.Has(strings.TrimSuffix(e.Name, "/")) {
			continue
		}
		in.Files = append(in.Files, fmt.Sprintf("`%s`: %s", e.Name, e.What))
	}
	return in
}

// Write writes report.md and the plots into dir.
func Write(dir string, in Input) error {
	if err := os.MkdirAll(filepath.Join(dir, "plots"), 0o755); err != nil {
		return err
	}
	if err := timingsPlot(filepath.Join(dir, Plots[0]), in); err != nil {
		return fmt.Errorf("timings plot: %w", err)
	}
	for i, m := range []struct {
		title, ylabel string
		metrics       []string
		scale         float64
	}{
		{"CPU per service", "CPU %", []string{"cpu_cores"}, 100},
		{"Memory per service (working set)", "MiB", []string{"memory_bytes"}, 1.0 / (1 << 20)},
		{"Network in per service", "MiB/s", []string{"network_receive_bytes_per_s"}, 1.0 / (1 << 20)},
		{"Network out per service", "MiB/s", []string{"network_transmit_bytes_per_s"}, 1.0 / (1 << 20)},
	} {
		if err := seriesPlot(filepath.Join(dir, Plots[i+1]), in, m.title, m.ylabel, m.metrics, m.scale); err != nil {
			return fmt.Errorf("%s plot: %w", m.title, err)
		}
	}
	f, err := os.Create(filepath.Join(dir, "report.md"))
	if err != nil {
		return err
	}
	markdown(f, in)
	if err := f.Close(); err != nil {
		return err
	}
	return WriteHTML(dir, "report.md", "report.html", "Run "+in.Summary.RunID+": "+in.Summary.Experiment)
}

func label(groups []run.Group, name string) string {
	for _, g := range groups {
		if g.Name == name {
			return g.Label
		}
	}
	return name
}

func timingsPlot(file string, in Input) error {
	p := plot.New()
	p.Title.Text = "Per visit: producing and transit times"
	p.X.Label.Text = "visit"
	p.Y.Label.Text = "seconds"
	p.Legend.Top = true
	producing := plotter.XYs{}
	seen := map[int]bool{}
	transit := map[string]plotter.XYs{}
	for _, r := range in.Rows {
		if r.Producers > 0 && !seen[r.Visit] {
			seen[r.Visit] = true
			producing = append(producing, plotter.XY{X: float64(r.Visit), Y: r.ProducingTime.Seconds()})
		}
		if r.Complete {
			g := label(in.Groups, r.Group)
			transit[g] = append(transit[g], plotter.XY{X: float64(r.Visit), Y: r.TransitTime.Seconds()})
		}
	}
	args := []any{"producing", producing}
	for _, g := range sortedKeys(transit) {
		args = append(args, "transit "+g, transit[g])
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return err
	}
	if in.Schedule.Interval > 0 && !in.T0.IsZero() {
		// Visit k+1 starts at T0 + the schedule's Start(k): a time t in it
		// is at visit k+1 + its share of the visit's length on this axis.
		at := func(t time.Time) float64 { return visitAxis(in.Schedule, t.Sub(in.T0)) }
		if err := markFaults(p, in.Faults, at); err != nil {
			return err
		}
	}
	return savePlot(p, 8*vg.Inch, 4*vg.Inch, file)
}

func seriesPlot(file string, in Input, title, ylabel string, metrics []string, scale float64) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds since the run started"
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	var args []any
	// Services that stay under 2% of the busiest one's peak would only
	// crowd the legend; the tables list every service.
	var peak float64
	for _, svc := range in.Series.Services() {
		for _, m := range metrics {
			peak = max(peak, monitoring.Stat(in.Series[svc][m]).Max)
		}
	}
	for _, svc := range in.Series.Services() {
		for _, m := range metrics {
			pts := in.Series[svc][m]
			if len(pts) == 0 || monitoring.Stat(pts).Max < 0.02*peak {
				continue
			}
			xys := make(plotter.XYs, len(pts))
			for i, pt := range pts {
				xys[i] = plotter.XY{X: pt.T.Sub(in.Start).Seconds(), Y: pt.V * scale}
			}
			args = append(args, ServiceName(svc, in.Summary.RunID), xys)
		}
	}
	p.X.Min, p.X.Max = in.WindowStart.Sub(in.Start).Seconds(), in.WindowEnd.Sub(in.Start).Seconds()
	if len(args) == 0 {
		// An empty plot says so rather than leaving a hole in the report.
		p.Title.Text += " (no series)"
	} else if err := plotutil.AddLines(p, args...); err != nil {
		return err
	}
	if err := markFaults(p, in.Faults, func(t time.Time) float64 { return t.Sub(in.Start).Seconds() }); err != nil {
		return err
	}
	return savePlot(p, 10*vg.Inch, 5*vg.Inch, file)
}

// faultColors shade the faults' intervals, one colour each in turn.
var faultColors = []color.NRGBA{{R: 220, G: 50, B: 47, A: 60}, {R: 38, G: 139, B: 210, A: 60}, {R: 133, G: 153, B: 0, A: 60}, {R: 211, G: 54, B: 130, A: 60}}

// markFaults shades each fault's interval (at maps a time to the x axis)
// over the plot's whole height, with a legend entry naming it; an instant
// fault is a thin band.
func markFaults(p *plot.Plot, fs []Fault, at func(time.Time) float64) error {
	if len(fs) == 0 {
		return nil
	}
	ymin, ymax := p.Y.Min, p.Y.Max
	if ymax <= ymin {
		ymax = ymin + 1
	}
	width := (p.X.Max - p.X.Min) / 200 // an instant's band
	for i, f := range fs {
		if f.From.IsZero() {
			continue
		}
		x0, x1 := at(f.From), at(f.To)
		if x1-x0 < width {
			x1 = x0 + width
		}
		band, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: ymin}, {X: x1, Y: ymin}, {X: x1, Y: ymax}, {X: x0, Y: ymax}})
		if err != nil {
			return err
		}
		c := faultColors[i%len(faultColors)]
		band.Color = c
		band.LineStyle.Width = 0
		p.Add(band)
		p.Legend.Add(f.Label, band)
	}
	return nil
}

// BrokersJIT says how much the brokers' JIT compilers worked over a run:
// their CPU time from the run's start to its end when the archive has it
// (archive.Meta.BrokersJITCPU, with its JITCPUNote), and their elapsed
// time over the metrics window (monitoring.Totals.JITSeconds), for
// example "brokers' JIT compilers over the run: 8.2 s of CPU (kafka-1
// 2.0 s, kafka-2 3.1 s, kafka-3 3.1 s); 21.9 s elapsed over the metrics
// window"; "" when the archive has neither.
func BrokersJIT(cpu map[string]float64, note string, totals map[string]monitoring.Totals) string {
	elapsed, brokers := SumBrokersJIT(totals)
	var parts []string
	if len(cpu) > 0 {
		parts = append(parts, JITCPUFigures(cpu))
	}
	if note != "" {
		parts = append(parts, "compiler CPU "+note)
	}
	switch {
	case len(parts) > 0 && len(brokers) > 0:
		return fmt.Sprintf("brokers' JIT compilers over the run: %s; %.1f s elapsed over the metrics window", strings.Join(parts, "; "), elapsed)
	case len(parts) > 0:
		return "brokers' JIT compilers over the run: " + strings.Join(parts, "; ")
	case len(brokers) > 0:
		return "brokers' JIT compilation over the window: " + JITFigures(totals)
	}
	return ""
}

// HostSpeedLine says a host-speed reading in one line: the figure, what
// it times, and how to use it.
func HostSpeedLine(r *hostspeed.Reading) string {
	return fmt.Sprintf("%.1f MB/s on one core just before the run (%s, %.1f s; runs on this machine compare by it: a slower or busier host gives less)", r.MBPerSec, r.Workload, r.Seconds)
}

// JITCPUFigures is the brokers' compiler CPU (service -> seconds) summed
// and per broker: "8.2 s of CPU (kafka-1 2.0 s, kafka-2 3.1 s, kafka-3
// 3.1 s)".
func JITCPUFigures(cpu map[string]float64) string {
	parts := make([]string, 0, len(cpu))
	for _, svc := range sortedKeys(cpu) {
		parts = append(parts, fmt.Sprintf("%s %.1f s", strings.TrimPrefix(svc, "kafka_"), cpu[svc]))
	}
	return fmt.Sprintf("%.1f s of CPU (%s)", SumJITCPU(cpu), strings.Join(parts, ", "))
}

// SumJITCPU sums the brokers' compiler CPU (service -> seconds).
func SumJITCPU(cpu map[string]float64) float64 {
	var sum float64
	for _, v := range cpu {
		sum += v
	}
	return sum
}

// JITFigures is the brokers' JIT time in totals, summed and per broker:
// "40.2 s (kafka-1 12.0 s, kafka-2 16.1 s, kafka-3 12.1 s)"; "" when no
// broker has any (not scraped).
func JITFigures(totals map[string]monitoring.Totals) string {
	sum, brokers := SumBrokersJIT(totals)
	if len(brokers) == 0 {
		return ""
	}
	parts := make([]string, len(brokers))
	for i, svc := range brokers {
		parts[i] = fmt.Sprintf("%s %.1f s", strings.TrimPrefix(svc, "kafka_"), totals[svc].JITSeconds)
	}
	return fmt.Sprintf("%.1f s (%s)", sum, strings.Join(parts, ", "))
}

// SumBrokersJIT sums the brokers' JITSeconds and names, sorted, the broker
// services that have any; none for archives from before it was measured.
func SumBrokersJIT(totals map[string]monitoring.Totals) (sum float64, brokers []string) {
	for _, svc := range sortedKeys(totals) {
		if monitoring.BrokerService.MatchString(svc) && totals[svc].JITSeconds > 0 {
			sum += totals[svc].JITSeconds
			brokers = append(brokers, svc)
		}
	}
	return sum, brokers
}

// JITHint says what BrokersJIT's figures mean for comparing runs.
const JITHint = "a broker's JVM compiles Kafka's hot code over its first gigabytes, so runs on new brokers are slower (tens of CPU seconds of compiling here): " +
	"compare runs made on warm brokers (`testbed run` warms new brokers until their compilers settle, unless --warm-up-rounds 0); " +
	"the elapsed time counts the compiler threads' waits for a core, so it stays high on a busy machine when their CPU is small"

// ServiceName is a swarm service's name as the report shows it: an agent
// service of the run without the run-<id>- prefix.
func ServiceName(svc, runID string) string {
	if rest, ok := strings.CutPrefix(svc, "run-"+runID+"-"); ok {
		return "agents: " + rest
	}
	return svc
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func markdown(w io.Writer, in Input) {
	s := in.Summary
	status := "**passed**: no alert lost"
	if !s.OK() {
		status = fmt.Sprintf("**failed**: %d problem(s)", len(s.Problems))
	}
	fmt.Fprintf(w, "# Run %s: %s\n\n%s\n\n", s.RunID, s.Experiment, status)
	fmt.Fprintf(w, "- Testbed: %s\n- Window: %s to %s (%s)\n", in.Testbed,
		in.Start.UTC().Format(time.RFC3339), in.End.UTC().Format(time.RFC3339), in.End.Sub(in.Start).Round(time.Second))
	switch {
	case in.HostSpeed != nil:
		fmt.Fprintf(w, "- Host: %s\n", HostSpeedLine(in.HostSpeed))
	case in.HostSpeedError != "":
		fmt.Fprintf(w, "- Host: speed not measured: %s\n", in.HostSpeedError)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "```\n%s```\n\n", in.Experiment)

	fmt.Fprintf(w, "## Timings (DMTN-028's definitions)\n\n")
	fmt.Fprintf(w, "| | mean ± stddev | min – max | visits |\n|---|---|---|---|\n")
	for _, r := range s.Timings() {
		if r.N == 0 {
			fmt.Fprintf(w, "| %s | – | – | 0 |\n", r.Name)
			continue
		}
		fmt.Fprintf(w, "| %s | %.2f ± %.2f s | %.2f – %.2f s | %d |\n", r.Name, r.Mean.Seconds(), r.Stddev.Seconds(), r.Min.Seconds(), r.Max.Seconds(), r.N)
	}
	for _, l := range []string{s.RateLine(), s.CPULine()} {
		if l != "" {
			fmt.Fprintf(w, "\n%s.\n", strings.ToUpper(l[:1])+l[1:])
		}
	}
	fmt.Fprintf(w, "\n![per-visit timings](%s)\n\n", Plots[0])

	fmt.Fprintf(w, "## Alerts\n\n*Lost*: never received by any member of the group, though it read past them or had read all there was. "+
		"*Not received*: still unread when the run stopped (the group was that far behind). *Not sent*: the producers could not deliver them, or stopped first. "+
		"*Re-delivered*: read again after a member died or a partition moved (Kafka's at-least-once); *producer duplicates*: the same alert written twice to the log.\n\n")
	fmt.Fprintf(w, "| group | expected | received | lost | not received | not sent | re-delivered | producer duplicates | complete visits | max lag | lag at each visit's end | latency p50 | p99 | max |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|\n")
	for _, g := range s.Groups {
		name := g.Group
		if g.FellBehind {
			name += " (**FELL BEHIND**)"
		}
		lags := make([]string, len(g.LagPerVisit))
		for i, l := range g.LagPerVisit {
			lags[i] = fmt.Sprint(l)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d | %d/%d | %d | %s | %.3f s | %.3f s | %.3f s |\n", name, g.Expected, g.Received, g.Lost, g.NotReceived, g.NotSent,
			g.Redelivered, g.ProducerDuplicates, g.Complete, s.Visits, g.MaxLag, strings.Join(lags, ", "), g.LatencyP50.Seconds(), g.LatencyP99.Seconds(), g.LatencyMax.Seconds())
	}
	if s.Stopped != nil {
		fmt.Fprintf(w, "\nThe run stopped early at %s: %s.\n", s.Stopped.At.UTC().Format(time.RFC3339), s.Stopped.Reason)
	}
	if len(s.EndUsers) > 0 {
		fmt.Fprintf(w, "\n| end user | filter topic | forwarded | received | lost | duplicated | latency p50 | p99 |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
		for _, eu := range s.EndUsers {
			fmt.Fprintf(w, "| %s | %s | %d | %d | %d | %d | %.3f s | %.3f s |\n", eu.Group, eu.Topic, eu.InTopic, eu.Unique, eu.Lost, eu.Dup, eu.LatencyP50.Seconds(), eu.LatencyP99.Seconds())
		}
	}
	if len(s.External) > 0 {
		fmt.Fprintf(w, "\n### External consumers\n\nConsumer groups the run did not start, followed from their committed offsets (lag checked every second). "+
			"A visit is caught up when the group's lag was 0 after its last alert was produced and before the next visit was due.\n\n")
		for _, g := range s.External {
			fmt.Fprintf(w, "- **%s: %s**\n", g.Group, g.VerdictLine())
			for _, v := range g.Visits {
				fmt.Fprintf(w, "  - visit %d: %s\n", v.Visit, v)
			}
		}
	}
	if !s.OK() {
		fmt.Fprintf(w, "\n### Problems\n\n")
		for _, p := range s.Problems {
			fmt.Fprintf(w, "- %s\n", p)
		}
	}
	if len(s.Notes) > 0 {
		fmt.Fprintf(w, "\n### Notes (faults, vanished agents, duplicates)\n\n")
		for _, n := range s.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}

	fmt.Fprintf(w, "\n## Resources per service (cAdvisor, over the run window)\n\n")
	if in.SeriesErr != "" {
		fmt.Fprintf(w, "No resource series: %s\n\n", in.SeriesErr)
	} else {
		secs := in.WindowEnd.Sub(in.WindowStart).Seconds()
		fmt.Fprintf(w, "Over the window %s to %s (%.0f s). Means of CPU and network are the counters' increase over the window divided by its length; "+
			"stddev and max are over 5 s samples of 30 s rates (which smooth bursts); memory is cAdvisor's working set.\n\n",
			in.WindowStart.UTC().Format(time.RFC3339), in.WindowEnd.UTC().Format(time.RFC3339), secs)
		fmt.Fprintf(w, "| service | CPU %% mean ± stddev | CPU %% max | memory MiB mean ± stddev | memory MiB max | net in MiB/s mean ± stddev | net out MiB/s mean ± stddev | net in / out MB in all |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, svc := range in.Series.Services() {
			cpu := monitoring.Stat(in.Series[svc]["cpu_cores"])
			mem := monitoring.Stat(in.Series[svc]["memory_bytes"])
			rx := monitoring.Stat(in.Series[svc]["network_receive_bytes_per_s"])
			tx := monitoring.Stat(in.Series[svc]["network_transmit_bytes_per_s"])
			if t, ok := in.Totals[svc]; ok && secs > 0 {
				cpu.Mean, rx.Mean, tx.Mean = t.CPUSeconds/secs, t.ReceiveBytes/secs, t.TransmitBytes/secs
			}
			inAll := "–"
			if t, ok := in.Totals[svc]; ok {
				inAll = fmt.Sprintf("%.0f / %.0f", t.ReceiveBytes/1e6, t.TransmitBytes/1e6)
			}
			const mib = 1 << 20
			fmt.Fprintf(w, "| %s | %.1f ± %.1f | %.1f | %.1f ± %.1f | %.1f | %.2f ± %.2f | %.2f ± %.2f | %s |\n", ServiceName(svc, in.Summary.RunID),
				cpu.Mean*100, cpu.Stddev*100, cpu.Max*100, mem.Mean/mib, mem.Stddev/mib, mem.Max/mib,
				rx.Mean/mib, rx.Stddev/mib, tx.Mean/mib, tx.Stddev/mib, inAll)
		}
		if jit := BrokersJIT(in.BrokersJITCPU, in.JITCPUNote, in.Totals); jit != "" {
			fmt.Fprintf(w, "\nThe %s: %s.\n", jit, JITHint)
		}
		fmt.Fprintf(w, "\n![CPU](%s)\n\n![memory](%s)\n\n![network in](%s)\n\n![network out](%s)\n\n", Plots[1], Plots[2], Plots[3], Plots[4])
	}

	fmt.Fprintf(w, "## Metrics snapshot\n\n%s\n\n", in.Snapshot)
	if len(in.Missing) > 0 {
		fmt.Fprintf(w, "This archive was written before these files were part of it: %s; what they hold is left out above.\n\n", strings.Join(in.Missing, ", "))
	}
	if len(in.Grafana) > 0 {
		fmt.Fprintf(w, "## Grafana\n\n")
		for _, l := range in.Grafana {
			fmt.Fprintf(w, "- %s\n", l)
		}
		fmt.Fprintln(w)
	}
	if len(in.Files) > 0 {
		fmt.Fprintf(w, "## Files\n\n")
		for _, f := range in.Files {
			fmt.Fprintf(w, "- %s\n", f)
		}
	}
}

// visitAxis is where offset (from T0) is on the visit axis: 1 at visit
// 1's start, 1 + k + f at the share f of visit k+1's length. Before T0,
// and past the schedule's slots, visits count as the interval's.
func visitAxis(s pacing.Schedule, offset time.Duration) float64 {
	k := 0
	if offset > 0 {
		for k < len(s.Slots)-1 && s.Start(k+1) <= offset {
			k++
		}
	}
	if len(s.Slots) == 0 {
		return 1 + offset.Seconds()/s.Interval.Seconds()
	}
	l := s.Length(k)
	if l <= 0 {
		return float64(1 + k)
	}
	return float64(1+k) + (offset-s.Start(k)).Seconds()/l.Seconds()
}
