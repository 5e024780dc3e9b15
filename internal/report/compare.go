package report

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/alert-testbed/testbed/internal/archive"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/outcome"
)

// Compared is one run of a comparison, with the figures the comparison
// plots, all from its archive.
type Compared struct {
	Run *archive.Run
	// Settings are the experiment's fields, flattened to YAML paths
	// ("topic.partitions", "consumers[0].members"), plus the derived
	// "consumer_groups" (stream groups, DMTN-028's "consumers").
	Settings  map[string]string
	Producing outcome.Stats
	// Transit is the slowest stream group's transit time (by mean), as
	// DMTN-028's consuming time is its slowest consumer's.
	Transit      outcome.Stats
	TransitGroup string
	// Total is Producing.Mean + Transit.Mean, DMTN-028's total, in
	// seconds; NaN when no visit was complete.
	Total                                  float64
	Lost, Duplicated, NotReceived, NotSent int
	Failed, FellBehind                     bool
	MBPerVisit                             float64 // measured: producers' acknowledged bytes per visit, MB
	PeakBrokerMemory                       float64 // bytes: the largest broker's working-set peak
	PeakBrokerIn, PeakBrokerOut            float64 // bytes/s: peak of the sum over brokers (5 s samples of 30 s rates)
	ProducerCPU, ConsumerCPU               float64 // cores, mean over the metrics window, summed over the services
	// BrokerJIT is the brokers' JIT compilation time over the metrics
	// window, summed over brokers (monitoring.Totals.JITSeconds), in
	// seconds; NaN for archives without it. Large on cold brokers.
	BrokerJIT float64
	// BrokerJITCPU is the CPU time the brokers' JIT compiler threads used
	// over the run, summed over brokers (archive.Meta.BrokersJITCPU), in
	// seconds; NaN for archives without it. Unlike BrokerJIT it does not
	// count waits for a core: it is the compiling itself.
	BrokerJITCPU float64
	// CPUBusy is the busiest node's CPU busy share while the visits were
	// produced (outcome.ProducingCPU), 0 to 1; NaN for archives without
	// it. Near 1: the run was as fast as the machine.
	CPUBusy float64
	// HostSpeed is the host's speed just before the run
	// (archive.Meta.HostSpeed), MB/s of hostspeed's workload on one core;
	// NaN without it (AWS, older archives).
	HostSpeed float64
	Published *Published
}

// Metric is one figure a comparison plots against a setting.
type Metric struct {
	Name, Unit string
	Value      func(c *Compared) float64
}

// Metrics are the comparison's figures, DMTN-028's figures 2-17.
var Metrics = []Metric{
	{"producing time", "s", func(c *Compared) float64 { return seconds(c.Producing) }},
	{"transit time", "s", func(c *Compared) float64 { return seconds(c.Transit) }},
	{"total time", "s", func(c *Compared) float64 { return c.Total }},
	{"peak broker memory", "MiB", func(c *Compared) float64 { return c.PeakBrokerMemory / (1 << 20) }},
	{"peak network in of the brokers", "MiB/s", func(c *Compared) float64 { return c.PeakBrokerIn / (1 << 20) }},
	{"peak network out of the brokers", "MiB/s", func(c *Compared) float64 { return c.PeakBrokerOut / (1 << 20) }},
	{"producer CPU", "%", func(c *Compared) float64 { return c.ProducerCPU * 100 }},
	{"consumer CPU", "%", func(c *Compared) float64 { return c.ConsumerCPU * 100 }},
	{"brokers' JIT compilation", "s", func(c *Compared) float64 { return c.BrokerJIT }},
	{"brokers' JIT compiler CPU", "s", func(c *Compared) float64 { return c.BrokerJITCPU }},
	{"CPU busy while producing", "%", func(c *Compared) float64 { return c.CPUBusy * 100 }},
	{"host speed", "MB/s", func(c *Compared) float64 { return c.HostSpeed }},
}

// seconds is the mean of s in seconds, NaN without a value (a run with no
// complete visit is left out of the plots and fits, not drawn at 0).
func seconds(s outcome.Stats) float64 {
	if s.N == 0 {
		return math.NaN()
	}
	return s.Mean.Seconds()
}

// FieldMBPerVisit is the measured volume per visit, a comparison axis
// beside the settings.
const FieldMBPerVisit = "mb_per_visit"

// volumeFields are the settings that change the stream's volume per
// visit: where one varies, the runs are also plotted against the measured
// mb_per_visit, and those plots do not split their lines by them.
var volumeFields = []string{"alert.stamps", "alert.size", "alerts_per_visit"}

// FieldConsumerGroups is the number of stream consumer groups.
const FieldConsumerGroups = "consumer_groups"

// settingsOrder puts the settings DMTN-028 varies first: of fields that
// always vary together, the first here names them.
var settingsOrder = []string{"producers", FieldConsumerGroups, "topic.partitions", "alerts_per_visit", "alert.stamps", "alert.size", "visits", "visit_interval"}

// ignoredSettings say nothing about how a run was made to differ.
var ignoredSettings = map[string]bool{"name": true, "description": true, "needs": true, "topic.name": true, "limits.run_timeout": true}

// Compare reads the runs' archives.
func Compare(dirs []string) ([]*Compared, error) {
	var out []*Compared
	seen := map[string]string{}
	for _, d := range dirs {
		r, err := archive.Load(d)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[r.Meta.RunID]; ok {
			return nil, fmt.Errorf("run %s is given twice (%s and %s)", r.Meta.RunID, prev, d)
		}
		seen[r.Meta.RunID] = d
		c, err := compared(r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func compared(r *archive.Run) (*Compared, error) {
	c := &Compared{Run: r, Producing: r.Summary.Producing, Failed: !r.Summary.OK(), MBPerVisit: r.MBPerVisit()}
	settings, err := flatten(r)
	if err != nil {
		return nil, err
	}
	c.Settings = settings
	for _, g := range r.Summary.Groups {
		c.Lost += g.Lost
		c.Duplicated += g.Duplicated
		c.NotReceived += g.NotReceived
		c.NotSent += g.NotSent
		c.FellBehind = c.FellBehind || g.FellBehind
		if g.Transit.N > 0 && (c.Transit.N == 0 || g.Transit.Mean > c.Transit.Mean) {
			c.Transit, c.TransitGroup = g.Transit, g.Group
		}
	}
	c.Total = math.NaN()
	if c.Transit.N > 0 {
		c.Total = (c.Producing.Mean + c.Transit.Mean).Seconds()
	}
	e := r.Experiment
	if p, ok := PublishedFor(e.Producers, len(e.Groups()), e.Topic.Partitions, e.Alert.Stamps); ok {
		c.Published = &p
	}
	c.CPUBusy = math.NaN()
	if p := r.Summary.ProducingCPU; p != nil {
		c.CPUBusy = p.Busy
	}
	c.HostSpeed = math.NaN()
	if h := r.Meta.HostSpeed; h != nil {
		c.HostSpeed = h.MBPerSec
	}
	c.resources()
	return c, nil
}

// resources fills the brokers' peaks and the agents' CPU from the
// archive's metrics.
func (c *Compared) resources() {
	r := c.Run
	secs := r.Meta.Window.To.Sub(r.Meta.Window.From).Seconds()
	c.PeakBrokerIn, _, _ = r.Series.SumPeak(monitoring.BrokerService.MatchString, "network_receive_bytes_per_s")
	c.PeakBrokerOut, _, _ = r.Series.SumPeak(monitoring.BrokerService.MatchString, "network_transmit_bytes_per_s")
	c.BrokerJIT = math.NaN()
	if jit, brokers := SumBrokersJIT(r.Totals); len(brokers) > 0 {
		c.BrokerJIT = jit
	}
	c.BrokerJITCPU = math.NaN()
	if len(r.Meta.BrokersJITCPU) > 0 {
		c.BrokerJITCPU = SumJITCPU(r.Meta.BrokersJITCPU)
	}
	for svc, m := range r.Series {
		switch {
		case monitoring.BrokerService.MatchString(svc):
			c.PeakBrokerMemory = max(c.PeakBrokerMemory, monitoring.Stat(m["memory_bytes"]).Max)
		case strings.HasPrefix(svc, "run-"+r.Meta.RunID+"-"):
			cpu := monitoring.Stat(m["cpu_cores"]).Mean
			if t, ok := r.Totals[svc]; ok && secs > 0 {
				cpu = t.CPUSeconds / secs
			}
			switch rest := strings.TrimPrefix(svc, "run-"+r.Meta.RunID+"-"); {
			case strings.HasPrefix(rest, "producer"):
				c.ProducerCPU += cpu
			case strings.HasPrefix(rest, "consumer"):
				c.ConsumerCPU += cpu
			}
		}
	}
}

// flatten lists the experiment's fields as YAML paths and values.
func flatten(r *archive.Run) (map[string]string, error) {
	data, err := yaml.Marshal(r.Experiment)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(strings.TrimPrefix(path+"."+k, "."), x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), x)
			}
		default:
			if !ignoredSettings[path] {
				out[path] = fmt.Sprint(v)
			}
		}
	}
	walk("", doc)
	out[FieldConsumerGroups] = strconv.Itoa(len(r.Experiment.Groups()))
	return out, nil
}

// VaryingFields lists the settings whose values differ between the runs;
// of fields that vary together (copies and consumer_groups), only the
// first in settingsOrder (then by name) is listed.
func VaryingFields(runs []*Compared) []string {
	keys := map[string]bool{}
	for _, c := range runs {
		for k := range c.Settings {
			keys[k] = true
		}
	}
	var all []string
	for k := range keys {
		all = append(all, k)
	}
	rank := func(k string) int {
		if i := slices.Index(settingsOrder, k); i >= 0 {
			return i
		}
		return len(settingsOrder)
	}
	sort.Slice(all, func(i, j int) bool {
		if ri, rj := rank(all[i]), rank(all[j]); ri != rj {
			return ri < rj
		}
		return all[i] < all[j]
	})
	var out []string
	signatures := map[string]bool{}
	for _, k := range all {
		sig, varies := signature(runs, k)
		if !varies || signatures[sig] {
			continue
		}
		signatures[sig] = true
		out = append(out, k)
	}
	return out
}

// signature numbers each run by the first run with the same value of k:
// two fields with the same signature split the runs alike.
func signature(runs []*Compared, k string) (string, bool) {
	first := map[string]int{}
	var b strings.Builder
	for i, c := range runs {
		v := c.Settings[k]
		if _, ok := first[v]; !ok {
			first[v] = i
		}
		fmt.Fprintf(&b, "%d,", first[v])
	}
	return b.String(), len(first) > 1
}

// numeric says whether every run's value of field is a number (or a
// duration), and returns them.
func numeric(runs []*Compared, field string) ([]float64, bool) {
	out := make([]float64, len(runs))
	for i, c := range runs {
		if field == FieldMBPerVisit {
			out[i] = c.MBPerVisit
			continue
		}
		v := c.Settings[field]
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			out[i] = f
		} else if d, err := time.ParseDuration(v); err == nil {
			out[i] = d.Seconds()
		} else {
			return nil, false
		}
	}
	return out, true
}

// Comparison is what WriteComparison writes.
type Comparison struct {
	Runs    []*Compared // in the order given
	Varying []string    // VaryingFields
	By      []string    // the axes plotted against
	Title   string
}

// NewComparison reads the runs and picks the axes: by, if given (it must
// name a setting of the runs, or mb_per_visit), else every numeric
// varying field, plus mb_per_visit where alert.stamps, alert.size or
// alerts_per_visit vary.
func NewComparison(dirs []string, by string, title string) (*Comparison, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no run archive given: `testbed report runs/<run-id>...`")
	}
	runs, err := Compare(dirs)
	if err != nil {
		return nil, err
	}
	cmpn := &Comparison{Runs: runs, Varying: VaryingFields(runs), Title: title}
	if by != "" {
		if _, ok := runs[0].Settings[by]; !ok && by != FieldMBPerVisit {
			return nil, fmt.Errorf("--by %q: not a setting of these runs; the settings that vary are %s (or %s; any field as a YAML path, e.g. topic.partitions)",
				by, cmp.Or(strings.Join(cmpn.Varying, ", "), "none"), FieldMBPerVisit)
		}
		if _, ok := numeric(runs, by); !ok {
			return nil, fmt.Errorf("--by %q: its values are not all numbers, so nothing can be plotted against it", by)
		}
		cmpn.By = []string{by}
		return cmpn, nil
	}
	volume := false
	for _, f := range cmpn.Varying {
		if slices.Contains(volumeFields, f) {
			volume = true
		}
		if _, ok := numeric(runs, f); ok {
			cmpn.By = append(cmpn.By, f)
		}
	}
	if volume {
		cmpn.By = append(cmpn.By, FieldMBPerVisit)
	}
	return cmpn, nil
}

// Ordered returns the runs by total time, shortest first (DMTN-028's
// order); runs without a complete visit last.
func (cm *Comparison) Ordered() []*Compared {
	out := slices.Clone(cm.Runs)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Total, out[j].Total
		switch {
		case math.IsNaN(a):
			return false
		case math.IsNaN(b):
			return true
		}
		return a < b
	})
	return out
}

// label is a run's distinguishing settings.
func (cm *Comparison) label(c *Compared) string {
	var parts []string
	for _, f := range cm.Varying {
		parts = append(parts, f+"="+c.Settings[f])
	}
	if len(parts) == 0 {
		return c.Run.Experiment.Name
	}
	return strings.Join(parts, " ")
}

// Series is the runs of one plotted line: those sharing the values of the
// varying fields other than the axis.
type Series struct {
	Name   string
	Runs   []*Compared
	Points map[string][]float64 // metric -> y, by Runs' order; x in X
	X      []float64
}

// Lines splits the runs into the lines of a plot against axis.
func (cm *Comparison) Lines(axis string) []Series {
	xs, _ := numeric(cm.Runs, axis)
	axisSig, _ := signature(cm.Runs, axis)
	others := []string{}
	for _, f := range cm.Varying {
		if f == axis || (axis == FieldMBPerVisit && slices.Contains(volumeFields, f)) {
			continue
		}
		// A field that varies with the axis (consumer copies with
		// consumer_groups) would split every line into points.
		if sig, _ := signature(cm.Runs, f); axis != FieldMBPerVisit && sig == axisSig {
			continue
		}
		others = append(others, f)
	}
	byName := map[string]*Series{}
	var names []string
	for i, c := range cm.Runs {
		var parts []string
		for _, f := range others {
			parts = append(parts, f+"="+c.Settings[f])
		}
		name := cmp.Or(strings.Join(parts, " "), "all runs")
		s := byName[name]
		if s == nil {
			s = &Series{Name: name, Points: map[string][]float64{}}
			byName[name] = s
			names = append(names, name)
		}
		s.Runs = append(s.Runs, c)
		s.X = append(s.X, xs[i])
		for _, m := range Metrics {
			s.Points[m.Name] = append(s.Points[m.Name], m.Value(c))
		}
	}
	out := make([]Series, 0, len(names))
	for _, n := range names {
		out = append(out, *byName[n])
	}
	return out
}

// FitOf fits metric over the series' points that have a value (a run
// without a complete visit has no transit or total).
func (s Series) FitOf(metric string) (Fit, bool) {
	var xs, ys []float64
	for i, y := range s.Points[metric] {
		if !math.IsNaN(y) {
			xs, ys = append(xs, s.X[i]), append(ys, y)
		}
	}
	return LeastSquares(xs, ys)
}

// PlotFile is the file of the plot of metric against axis, relative to
// the comparison's folder.
func PlotFile(axis, metric, ext string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return '-'
		}, strings.ToLower(s))
	}
	return "plots/" + clean(metric) + "-vs-" + clean(axis) + "." + ext
}

// FellBehindFile is the per-visit transit plot of the runs that fell
// behind (DMTN-028's figure 18).
const FellBehindFile = "plots/transit-per-visit-fell-behind"

// RunsCSV writes one row per run (in the given order): its settings that
// vary, and every figure of the comparison, as data for other tools.
func (cm *Comparison) RunsCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"run_id", "archive", "experiment"}
	head = append(head, cm.Varying...)
	head = append(head, "producing_mean_s", "producing_stddev_s", "transit_mean_s", "transit_stddev_s", "transit_group", "total_s",
		"lost", "duplicated", "not_received", "not_sent", "failed", "fell_behind", FieldMBPerVisit,
		"peak_broker_memory_bytes", "peak_broker_in_bytes_per_s", "peak_broker_out_bytes_per_s", "producer_cpu_cores", "consumer_cpu_cores", "broker_jit_seconds", "broker_jit_cpu_seconds", "cpu_busy_while_producing", "host_speed_mb_per_s")
	if err := cw.Write(head); err != nil {
		return err
	}
	g := func(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }
	// Not measured (archives from before it was): an empty cell, not NaN.
	gOrEmpty := func(f float64) string {
		if math.IsNaN(f) {
			return ""
		}
		return g(f)
	}
	for _, c := range cm.Runs {
		row := []string{c.Run.Meta.RunID, c.Run.Dir, c.Run.Experiment.Name}
		for _, f := range cm.Varying {
			row = append(row, c.Settings[f])
		}
		total := ""
		if !math.IsNaN(c.Total) {
			total = g(c.Total)
		}
		// A run without a complete visit has no times: empty cells, not 0.
		stat := func(s outcome.Stats) (string, string) {
			if s.N == 0 {
				return "", ""
			}
			return g(s.Mean.Seconds()), g(s.Stddev.Seconds())
		}
		pm, ps := stat(c.Producing)
		tm, ts := stat(c.Transit)
		row = append(row, pm, ps, tm, ts, c.TransitGroup, total,
			strconv.Itoa(c.Lost), strconv.Itoa(c.Duplicated), strconv.Itoa(c.NotReceived), strconv.Itoa(c.NotSent), strconv.FormatBool(c.Failed), strconv.FormatBool(c.FellBehind), g(c.MBPerVisit),
			g(c.PeakBrokerMemory), g(c.PeakBrokerIn), g(c.PeakBrokerOut), g(c.ProducerCPU), g(c.ConsumerCPU), gOrEmpty(c.BrokerJIT), gOrEmpty(c.BrokerJITCPU), gOrEmpty(c.CPUBusy), gOrEmpty(c.HostSpeed))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteComparison writes compare.md, runs.csv and the plots into dir.
func WriteComparison(dir string, cm *Comparison) error {
	if err := os.MkdirAll(filepath.Join(dir, "plots"), 0o755); err != nil {
		return err
	}
	for _, axis := range cm.By {
		lines := cm.Lines(axis)
		for _, m := range Metrics {
			if err := comparePlot(filepath.Join(dir, PlotFile(axis, m.Name, "png")), axis, lines, m); err != nil {
				return fmt.Errorf("plot of %s against %s: %w", m.Name, axis, err)
			}
		}
	}
	if behind := cm.fellBehind(); len(behind) > 0 {
		if err := fellBehindPlot(filepath.Join(dir, FellBehindFile+".png"), cm, behind); err != nil {
			return fmt.Errorf("per-visit transit plot: %w", err)
		}
	}
	f, err := os.Create(filepath.Join(dir, "runs.csv"))
	if err != nil {
		return err
	}
	if err := cm.RunsCSV(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	f, err = os.Create(filepath.Join(dir, "compare.md"))
	if err != nil {
		return err
	}
	cm.markdown(f)
	if err := f.Close(); err != nil {
		return err
	}
	return WriteHTML(dir, "compare.md", "compare.html", cmp.Or(cm.Title, "Comparison"))
}

func (cm *Comparison) fellBehind() []*Compared {
	var out []*Compared
	for _, c := range cm.Runs {
		if c.FellBehind {
			out = append(out, c)
		}
	}
	return out
}

func meanSD(s outcome.Stats) string {
	if s.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f ± %.2f", s.Mean.Seconds(), s.Stddev.Seconds())
}

func (cm *Comparison) markdown(w io.Writer) {
	fmt.Fprintf(w, "# %s\n\n", cmp.Or(cm.Title, fmt.Sprintf("Comparison of %d runs", len(cm.Runs))))
	envs := map[string]bool{}
	for _, c := range cm.Runs {
		m := c.Run.Meta
		managers, workers := m.Counts()
		envs[fmt.Sprintf("env %s, %d managers + %d workers (testbed %s)", m.Env, managers, workers, m.Testbed)] = true
	}
	fmt.Fprintf(w, "Measured on: %s.\n\n", strings.Join(sortedKeys(envs), "; "))
	if len(cm.Varying) > 0 {
		fmt.Fprintf(w, "Settings that differ between the runs: %s.\n\n", strings.Join(cm.Varying, ", "))
	}

	fmt.Fprintf(w, "## Summary (DMTN-028's table, ordered by total time)\n\n")
	fmt.Fprintf(w, "Producing: serialization and send to Kafka, per visit. Transit: from the visit's last acknowledgement to the slowest stream group's last receipt. "+
		"Total: their means' sum. Times in seconds, mean ± stddev over visits.\n\n")
	fmt.Fprintf(w, "| # | experiment | run | producing | transit (slowest group) | total | lost | duplicated | MB/visit | verdict | DMTN-028 (AWS 2018) producing / consuming / total |\n")
	fmt.Fprintf(w, "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---|\n")
	for i, c := range cm.Ordered() {
		verdict := "passed"
		switch {
		case c.Failed && c.FellBehind:
			verdict = "**FAILED**, fell behind"
		case c.Failed:
			verdict = "**FAILED**"
		case c.FellBehind:
			verdict = "**FELL BEHIND**"
		}
		total := "–"
		if !math.IsNaN(c.Total) {
			total = fmt.Sprintf("%.2f", c.Total)
		}
		transit := meanSD(c.Transit)
		if c.TransitGroup != "" {
			transit += " (" + c.TransitGroup + ")"
		}
		pub := "–"
		if p := c.Published; p != nil {
			pub = fmt.Sprintf("%.2f ± %.2f / %.2f ± %.2f / %.2f", p.Producing, p.ProducingSD, p.Consuming, p.ConsumingSD, p.Total)
			if n := c.Run.Experiment.AlertsPerVisit; n != DMTN028AlertsPerVisit {
				pub += fmt.Sprintf(" (at %d alerts/visit; this run %d)", DMTN028AlertsPerVisit, n)
			}
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %d | %d | %.1f | %s | %s |\n", i+1, cm.label(c), c.Run.Meta.RunID,
			meanSD(c.Producing), transit, total, c.Lost, c.Duplicated, c.MBPerVisit, verdict, pub)
	}
	fmt.Fprintf(w, "\nDMTN-028's rows were measured on AWS in 2018 (3 managers m4.16xlarge, 10 workers m4.4xlarge; "+
		"%d alerts per visit with stamps every 39 s); a row is shown beside a run with the same producers, consumer groups and partitions, with stamps.\n\n", DMTN028AlertsPerVisit)
	fmt.Fprintf(w, "Per-run data: `runs.csv`. Each run's own report: its archive's `report.md`.\n\n")

	for _, axis := range cm.By {
		fmt.Fprintf(w, "## Against %s\n\n", axis)
		lines := cm.Lines(axis)
		fmt.Fprintf(w, "Least-squares lines y = intercept + slope × %s, one per line of the plots that has two or more values of %s "+
			"(the other runs are points on the plots):\n\n", axis, axis)
		fmt.Fprintf(w, "| figure | line | slope | intercept | R² | runs |\n|---|---|---:|---:|---:|---:|\n")
		fits := 0
		for _, m := range Metrics {
			for _, s := range lines {
				if f, ok := s.FitOf(m.Name); ok {
					fmt.Fprintf(w, "| %s (%s) | %s | %.4g | %.4g | %.3f | %d |\n", m.Name, m.Unit, s.Name, f.Slope, f.Intercept, f.R2, f.N)
					fits++
				}
			}
		}
		if fits == 0 {
			fmt.Fprintf(w, "| – | no line has two values of %s | | | | |\n", axis)
		}
		fmt.Fprintln(w)
		for _, m := range Metrics {
			fmt.Fprintf(w, "![%s against %s](%s)\n\n", m.Name, axis, PlotFile(axis, m.Name, "png"))
		}
	}
	if behind := cm.fellBehind(); len(behind) > 0 {
		fmt.Fprintf(w, "## Runs that fell behind\n\nTransit time of each visit (slowest group), as DMTN-028's figure 18: a line that climbs is a group falling further behind with every visit.\n\n")
		fmt.Fprintf(w, "![transit per visit](%s.png)\n\n", FellBehindFile)
	}
	// The host's speed beside each run: runs on one machine at different
	// hours differ by it (hostspeed).
	fmt.Fprintf(w, "## Runs\n\nHost speed: the MB/s of a fixed workload on one core of the host just before the run (`host_speed` in `run.json`; local testbeds): a lower figure is a slower or busier host, and differences under about 10 %% are its noise.\n\n")
	fmt.Fprintf(w, "| run | experiment | archive | testbed | started | host speed (MB/s) |\n|---|---|---|---|---|---:|\n")
	for _, c := range cm.Runs {
		m := c.Run.Meta
		speed := "–"
		if m.HostSpeed != nil {
			speed = fmt.Sprintf("%.0f", m.HostSpeed.MBPerSec)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s (%s) | %s | %s |\n", m.RunID, c.Run.Experiment.Name, c.Run.Dir, m.Testbed, m.Env, m.Start.UTC().Format(time.RFC3339), speed)
	}
}

// SweepFile lists, in a comparison's folder, the runs it compares (paths
// relative to the folder), so that `testbed report` can make it again.
const SweepFile = "sweep.json"

// SweepIndex is sweep.json.
type SweepIndex struct {
	Title string   `json:"title"`
	Runs  []string `json:"runs"` // archives, relative to the comparison's folder
	By    string   `json:"by,omitempty"`
}

// WriteSweep writes the comparison of the runs in runDirs into dir, with
// its sweep.json.
func WriteSweep(dir string, runDirs []string, by, title string) error {
	cm, err := NewComparison(runDirs, by, title)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	idx := SweepIndex{Title: title, By: by}
	for _, d := range runDirs {
		// Relative, so that the folder moves with the runs beside it.
		rel, err := relPath(dir, d)
		if err != nil {
			return err
		}
		idx.Runs = append(idx.Runs, filepath.ToSlash(rel))
	}
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, SweepFile), append(data, '\n'), 0o644); err != nil {
		return err
	}
	return WriteComparison(dir, cm)
}

// ReadSweep reads a comparison folder's sweep.json; the runs' paths come
// back relative to the working directory.
func ReadSweep(dir string) (SweepIndex, error) {
	var idx SweepIndex
	data, err := os.ReadFile(filepath.Join(dir, SweepFile))
	if err != nil {
		return idx, err
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return idx, fmt.Errorf("%s: %w", filepath.Join(dir, SweepFile), err)
	}
	for i, r := range idx.Runs {
		if !filepath.IsAbs(r) {
			idx.Runs[i] = filepath.Join(dir, filepath.FromSlash(r))
		}
	}
	return idx, nil
}

func relPath(from, to string) (string, error) {
	a, err := filepath.Abs(from)
	if err != nil {
		return "", err
	}
	b, err := filepath.Abs(to)
	if err != nil {
		return "", err
	}
	return filepath.Rel(a, b)
}
