package experiment

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/alert-testbed/testbed/agents/filter"
	"github.com/alert-testbed/testbed/agents/kafkaconf"
	"github.com/alert-testbed/testbed/agents/pacing"
)

func parseOne(t *testing.T, src string) Experiment {
	t.Helper()
	runs, err := Parse([]byte(src), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	return runs[0]
}

// A file with only a name gets DMTN-028's setup.
func TestDefaults(t *testing.T) {
	e := parseOne(t, "name: minimal\n")
	checks := []struct {
		what      string
		got, want any
	}{
		{"name", e.Name, "minimal"},
		{"visits", e.Visits, 10},
		{"alerts per visit", e.AlertsPerVisit, 10000},
		{"visit interval", e.VisitInterval, 39 * time.Second},
		{"producers", e.Producers, 1},
		{"stamps", e.Alert.Stamps, true},
		{"alert size", e.Alert.Size, 0},
		{"replay", e.Alert.Replay, ""},
		{"schema id", e.Alert.SchemaID, 1},
		{"pacing", e.Pacing.Model, pacing.Visit},
		{"bursts", e.Pacing.Bursts, 189},
		{"topic", e.Topic.Name, "alerts"},
		{"partitions", e.Topic.Partitions, 1},
		{"replication factor", e.Topic.ReplicationFactor, 3},
		{"min insync", e.Topic.MinInsyncReplicas, 2},
		{"retention", e.Topic.Retention, time.Hour},
		{"consumers", e.Consumers, []ConsumerGroup{
			{Name: "consumer1", Members: 1, Mode: "print-every", PrintEvery: 100, Copies: 1},
			{Name: "consumer2", Members: 1, Mode: "drop", PrintEvery: 100, Copies: 1},
		}},
		{"filter groups", e.Filters.Groups, 0},
		{"filters per group", e.Filters.FiltersPerGroup, 20},
		{"filter cap", e.Filters.Cap, 20},
		{"end users", e.Filters.EndUsers, 0},
		{"acks", e.Kafka.Acks, "all"},
		{"compression", e.Kafka.Compression, "none"},
		{"batch bytes", e.Kafka.BatchBytes, 1 << 20},
		{"linger", e.Kafka.Linger, 5 * time.Millisecond},
		{"max message bytes", e.Kafka.MaxMessageBytes, 1_000_000},
		{"buffer", e.Kafka.Buffer, 1024},
		{"max in flight", e.Kafka.MaxInFlight, 5},
		{"idempotent", e.Kafka.Idempotent, false},
		{"retries", e.Kafka.Retries, 2147483647},
		{"retry backoff", e.Kafka.RetryBackoff, 100 * time.Millisecond},
		{"delivery timeout", e.Kafka.DeliveryTimeout, 120 * time.Second},
		{"needs", e.Needs, ""},
		{"faults", len(e.Faults), 0},
		{"expect duplicates", e.Expect.Duplicates, (*int)(nil)},
		{"run timeout", e.Limits.RunTimeout, 10*39*time.Second + 10*time.Minute},
		{"max lag", e.Limits.MaxLag, 0},
		{"visit deadline", e.Limits.VisitDeadline, time.Duration(0)},
		{"sweep", len(e.Sweep), 0},
		{"base", e.Base, "minimal"},
		{"file", e.File, "test.yaml"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	d := Defaults()
	d.Name, d.Base, d.File = "minimal", "minimal", "test.yaml"
	if !reflect.DeepEqual(d, e) {
		t.Errorf("Defaults() differs from a minimal file:\n%+v\n%+v", d, e)
	}
}

// Defaults that depend on other fields of the run.
func TestDependentDefaults(t *testing.T) {
	e := parseOne(t, "name: x\npacing: {model: ccd-bursts}\n")
	if e.VisitInterval != 37*time.Second {
		t.Errorf("ccd-bursts interval %s, want DMTN-149's 37s", e.VisitInterval)
	}
	if e.Limits.RunTimeout != 10*37*time.Second+DefaultRunSlack {
		t.Errorf("run timeout %s", e.Limits.RunTimeout)
	}
	e = parseOne(t, "name: x\npacing: {model: ccd-bursts}\nvisit_interval: 60s\nvisits: 2\n")
	if e.VisitInterval != time.Minute || e.Limits.RunTimeout != 2*time.Minute+DefaultRunSlack {
		t.Errorf("interval %s, run timeout %s", e.VisitInterval, e.Limits.RunTimeout)
	}
	e = parseOne(t, "name: x\ntopic: {replication_factor: 1}\n")
	if e.Topic.MinInsyncReplicas != 1 {
		t.Errorf("min insync with replication 1: %d, want 1", e.Topic.MinInsyncReplicas)
	}
	e = parseOne(t, "name: x\nconsumers: [{name: c}]\n")
	if want := (ConsumerGroup{Name: "c", Members: 1, Mode: "count", PrintEvery: 100, Copies: 1}); e.Consumers[0] != want {
		t.Errorf("consumer defaults %+v, want %+v", e.Consumers[0], want)
	}
	// null is the same as leaving a field out.
	e = parseOne(t, "name: x\nvisits: ~\nalert:\nconsumers:\n")
	if e.Visits != DefaultVisits || !e.Alert.Stamps || len(e.Consumers) != 2 {
		t.Errorf("null fields did not get defaults: %+v", e)
	}
	e = parseOne(t, "name: x\nfilters: {groups: 1, end_users: 3}\n")
	if e.Filters.EndUsers != 3 {
		t.Errorf("end users %d, want 3", e.Filters.EndUsers)
	}
	e = parseOne(t, "name: x\nfilters: {groups: 1, end_users: false}\n")
	if e.Filters.EndUsers != 0 {
		t.Errorf("end users %d, want 0", e.Filters.EndUsers)
	}
}

// The defaults are the agents' defaults.
func TestDefaultsMatchAgents(t *testing.T) {
	want := map[string]any{
		"acks":              DefaultAcks,
		"compression":       DefaultCompression,
		"batch-bytes":       DefaultBatchBytes,
		"linger":            DefaultLinger,
		"max-message-bytes": DefaultMaxMessageBytes,
		"buffer":            DefaultBuffer,
		"max-in-flight":     DefaultMaxInFlight,
		"idempotent":        false,
		"retries":           DefaultRetries,
		"retry-backoff":     DefaultRetryBackoff,
		"delivery-timeout":  DefaultDeliveryTimeout,
	}
	for _, f := range kafkaconf.ProducerFlags() {
		name := f.Names()[0]
		w, ok := want[name]
		if !ok {
			continue
		}
		var got any
		switch f := f.(type) {
		case *cli.StringFlag:
			got = f.Value
		case *cli.IntFlag:
			got = f.Value
		case *cli.DurationFlag:
			got = f.Value
		case *cli.BoolFlag:
			got = f.Value
		}
		if got != w {
			t.Errorf("kafkaconf --%s defaults to %v, experiment to %v", name, got, w)
		}
		delete(want, name)
	}
	for name := range want {
		t.Errorf("kafkaconf has no --%s", name)
	}
	pd := pacing.Defaults(pacing.Visit)
	e := Defaults()
	if e.AlertsPerVisit != pd.AlertsPerVisit || e.VisitInterval != pd.Interval || e.Producers != pd.Producers {
		t.Errorf("experiment defaults differ from pacing.Defaults: %+v", pd)
	}
	if got := len(filter.DMTN081(BuiltinFilters)); got != 100 {
		t.Errorf("built-in filters %d", got)
	}
}

// The sweep of the package comment: producers [1, 10] x stamps [true,
// false] is four runs, producers varying slowest.
func TestSweep(t *testing.T) {
	runs, err := Parse([]byte("name: scaling\nproducers: [1, 10]\nalert:\n  stamps: [true, false]\n  size: 50000\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name      string
		producers int
		stamps    bool
		sweep     []Setting
	}{
		{"scaling-producers-1-stamps-true", 1, true, []Setting{{"producers", "1"}, {"alert.stamps", "true"}}},
		{"scaling-producers-1-stamps-false", 1, false, []Setting{{"producers", "1"}, {"alert.stamps", "false"}}},
		{"scaling-producers-10-stamps-true", 10, true, []Setting{{"producers", "10"}, {"alert.stamps", "true"}}},
		{"scaling-producers-10-stamps-false", 10, false, []Setting{{"producers", "10"}, {"alert.stamps", "false"}}},
	}
	if len(runs) != len(want) {
		t.Fatalf("%d runs, want %d", len(runs), len(want))
	}
	for i, w := range want {
		r := runs[i]
		if r.Name != w.name || r.Producers != w.producers || r.Alert.Stamps != w.stamps {
			t.Errorf("run %d: %s producers %d stamps %t, want %s %d %t", i, r.Name, r.Producers, r.Alert.Stamps, w.name, w.producers, w.stamps)
		}
		if r.Base != "scaling" || r.Alert.Size != 50000 || r.File != "s.yaml" {
			t.Errorf("run %d: base %q, size %d, file %q", i, r.Base, r.Alert.Size, r.File)
		}
		if !reflect.DeepEqual(r.Sweep, w.sweep) {
			t.Errorf("run %d: sweep %v, want %v", i, r.Sweep, w.sweep)
		}
	}
}

// Decode finds the sweeps; Expand gives the runs without validating them,
// and gives the same runs each time.
func TestDecodeExpand(t *testing.T) {
	f, err := Decode([]byte("name: d\ntopic: {partitions: [0, 2]}\nalert: {stamps: [true, false], size: [1000, 2000, 3000]}\n"), "d.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Sweep{
		{Field: "topic.partitions", Label: "partitions", Values: []string{"0", "2"}},
		{Field: "alert.stamps", Label: "stamps", Values: []string{"true", "false"}},
		{Field: "alert.size", Label: "size", Values: []string{"1000", "2000", "3000"}},
	}
	if !reflect.DeepEqual(f.Sweeps, want) || f.Runs() != 12 {
		t.Fatalf("sweeps %+v (%d runs), want %+v (12)", f.Sweeps, f.Runs(), want)
	}
	first, err := f.Expand()
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 12 || !reflect.DeepEqual(first, again) {
		t.Fatalf("Expand gave %d runs, then different ones", len(first))
	}
	if r := first[0]; r.Name != "d-partitions-0-stamps-true-size-1000" || r.Topic.Partitions != 0 {
		t.Errorf("first run %s with %d partitions", r.Name, r.Topic.Partitions)
	}
	want0 := "d.yaml: topic.partitions: must be at least 1, got 0 (in sweep run d-partitions-0-stamps-true-size-1000)"
	if err := first[0].Validate(); err == nil || err.Error() != want0 {
		t.Errorf("Validate of the first run: %v, want %s", err, want0)
	}
	if r := first[11]; r.Name != "d-partitions-2-stamps-false-size-3000" || r.Validate() != nil {
		t.Errorf("last run %s: %v", r.Name, r.Validate())
	}
}

// The order follows the file, not the schema: stamps written first varies
// slowest.
func TestSweepFileOrder(t *testing.T) {
	runs, err := Parse([]byte("name: s\nalert: {stamps: [false, true]}\nproducers: [10, 1]\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"s-stamps-false-producers-10", "s-stamps-false-producers-1", "s-stamps-true-producers-10", "s-stamps-true-producers-1"}
	if got := names(runs); !slices.Equal(got, want) {
		t.Errorf("runs %v, want %v", got, want)
	}
}

func names(runs []Experiment) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.Name)
	}
	return out
}

// Sweeps inside list entries, labels made unique by their paths, values
// made name-safe, defaults per run.
func TestSweepLabels(t *testing.T) {
	src := `name: s
topic: {partitions: 4}
pacing: {model: [visit, ccd-bursts]}
consumers:
  - {name: a, members: [1, 4]}
  - {name: b, members: [2]}
kafka: {linger: [5ms, 1.5s]}
`
	runs, err := Parse([]byte(src), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 8 {
		t.Fatalf("%d runs, want 8: %v", len(runs), names(runs))
	}
	want := "s-model-ccd-bursts-consumers-0-members-4-consumers-1-members-2-linger-1-5s"
	last := runs[7]
	if last.Name != want {
		t.Errorf("last run %s, want %s", last.Name, want)
	}
	if last.Consumers[0].Members != 4 || last.Consumers[1].Members != 2 || last.Kafka.Linger != 1500*time.Millisecond {
		t.Errorf("last run values %+v %s", last.Consumers, last.Kafka.Linger)
	}
	// Defaults are per run: the ccd-bursts runs get 37 s, the others 39 s.
	for _, r := range runs {
		want := 39 * time.Second
		if r.Pacing.Model == pacing.CCDBursts {
			want = 37 * time.Second
		}
		if r.VisitInterval != want {
			t.Errorf("%s: interval %s, want %s", r.Name, r.VisitInterval, want)
		}
	}
}

// An anchored list and its aliases are one sweep.
func TestSweepAlias(t *testing.T) {
	runs, err := Parse([]byte("name: z\ntopic: {partitions: &p [1, 10]}\nconsumers: [{name: c, members: *p}]\n"), "z.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(runs); !slices.Equal(got, []string{"z-partitions-1", "z-partitions-10"}) {
		t.Fatalf("runs %v", got)
	}
	for _, r := range runs {
		if r.Consumers[0].Members != r.Topic.Partitions {
			t.Errorf("%s: %d members on %d partitions", r.Name, r.Consumers[0].Members, r.Topic.Partitions)
		}
	}
}

// Copies expand into groups NAME-1..NAME-N.
func TestGroupsAndFilters(t *testing.T) {
	e := parseOne(t, "name: x\nconsumers:\n  - {name: print, mode: print-every, copies: 3}\n  - {name: drop, mode: drop}\nfilters: {groups: 5, end_users: true}\n")
	var gs []string
	for _, g := range e.Groups() {
		gs = append(gs, g.Name)
		if g.Copies != 1 {
			t.Errorf("group %s has copies %d", g.Name, g.Copies)
		}
	}
	if want := []string{"print-1", "print-2", "print-3", "drop"}; !slices.Equal(gs, want) {
		t.Errorf("groups %v, want %v", gs, want)
	}
	if first, last := e.FilterRange(4); first != 81 || last != 100 {
		t.Errorf("filter group 4: %d..%d, want 81..100", first, last)
	}
	if d := e.FilterDefs(); len(d) != 100 || d[0].Name != "Filter001" {
		t.Errorf("filter defs: %d, first %v", len(d), d[0])
	}
	if e.Filters.EndUsers != 1 {
		t.Errorf("end users %d, want 1", e.Filters.EndUsers)
	}
}

func TestPacingConfig(t *testing.T) {
	e := parseOne(t, "name: x\nalerts_per_visit: 5000\nproducers: 3\nvisit_interval: 30s\npacing: {model: ccd-bursts, bursts: 100, burst_min: 20, burst_max: 100, burst_mean: 40, burst_spread: 2s, seed: 7}\n")
	want := pacing.Config{Model: pacing.CCDBursts, AlertsPerVisit: 5000, Interval: 30 * time.Second, Producers: 3,
		Bursts: 100, BurstMin: 20, BurstMax: 100, BurstMean: 40, BurstSpread: 2 * time.Second, Rate: pacing.DefaultRate, Seed: 7}
	got := e.PacingConfig()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("PacingConfig\n got %+v\nwant %+v", got, want)
	}
	total := 0
	for p := range e.Producers {
		plan, err := pacing.Plan(got, 0, p)
		if err != nil {
			t.Fatal(err)
		}
		total += pacing.Total(plan)
	}
	if total != 5000 {
		t.Errorf("the producers' plans add up to %d alerts, want 5000", total)
	}
}

// yaml.Marshal of a run gives a file that loads back to the same run.
func TestMarshalRoundTrip(t *testing.T) {
	files := experimentFiles(t)
	for _, f := range files {
		runs, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			data, err := yaml.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(data, f)
			if err != nil {
				t.Fatalf("%s: marshalled run does not load: %v\n%s", r.Name, err, data)
			}
			if len(back) != 1 {
				t.Fatalf("%s: marshalled run loads as %d runs", r.Name, len(back))
			}
			b := back[0]
			if len(r.Sweep) > 0 && !strings.HasPrefix(string(data), "# run "+r.Name+" of a sweep: ") {
				t.Errorf("%s: no comment naming the run:\n%s", r.Name, data)
			}
			// File names the document of a file of several.
			b.Name, b.Sweep, b.File = r.Name, r.Sweep, r.File
			if !reflect.DeepEqual(b, r) {
				t.Errorf("%s: round trip\n got %+v\nwant %+v", r.Name, b, r)
			}
		}
	}
}

func experimentFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../experiments/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no experiment files in ../../experiments")
	}
	return files
}

// Every ready-made experiment loads, and says in comments what it is.
func TestExperimentFiles(t *testing.T) {
	entries, err := os.ReadDir("../../experiments")
	if err != nil {
		t.Fatal(err)
	}
	loaded := map[string][]Experiment{}
	for _, ent := range entries {
		if ent.IsDir() {
			continue
		}
		path := filepath.Join("../../experiments", ent.Name())
		switch filepath.Ext(path) {
		case ".yaml":
		case ".md":
			continue
		default:
			t.Errorf("%s: experiment files end in .yaml", path)
			continue
		}
		runs, err := Load(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		data, _ := os.ReadFile(path)
		if !strings.HasPrefix(string(data), "# ") {
			t.Errorf("%s: does not begin with a comment saying what it reproduces", path)
		}
		// A file of several documents names each base-something.
		for _, r := range runs {
			if base := strings.TrimSuffix(ent.Name(), ".yaml"); r.Base != base && !strings.HasPrefix(r.Base, base+"-") {
				t.Errorf("%s: name %q, want the file's name %q", path, r.Base, base)
			}
		}
		loaded[ent.Name()] = runs
	}
	for _, want := range []string{"ztf-scale.yaml", "lsst-visit.yaml", "dmtn028-alert-volume.yaml", "dmtn028-producers.yaml",
		"dmtn028-consumers.yaml", "dmtn028-partitions.yaml", "minibroker.yaml", "dmtn149-bursts.yaml", "reference.yaml"} {
		if _, ok := loaded[want]; !ok {
			t.Errorf("experiments/%s is missing or does not load", want)
		}
	}

	if r := loaded["ztf-scale.yaml"]; len(r) == 1 {
		e := r[0]
		if e.AlertsPerVisit != 1000 || e.Producers != 1 || !e.Alert.Stamps || e.VisitInterval != 39*time.Second ||
			len(e.Consumers) != 2 || e.Consumers[0].Mode != ModePrintEvery || e.Consumers[0].PrintEvery != 100 || e.Consumers[1].Mode != ModeDrop {
			t.Errorf("ztf-scale is not DMTN-028's first benchmark:\n%s", e)
		}
	}
	if r := loaded["lsst-visit.yaml"]; len(r) == 1 && (r[0].AlertsPerVisit != 10000 || r[0].Producers != 10) {
		t.Errorf("lsst-visit:\n%s", r[0])
	}
	sweepCheck := func(file string, want []string, check func(Experiment) string) {
		runs := loaded[file]
		var got []string
		for _, r := range runs {
			got = append(got, check(r))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: runs %v, want %v", file, got, want)
		}
	}
	sweepCheck("dmtn028-alert-volume.yaml",
		[]string{"100 true", "100 false", "1000 true", "1000 false", "10000 true", "10000 false"},
		func(e Experiment) string {
			return strings.Join([]string{itoa(e.AlertsPerVisit), btoa(e.Alert.Stamps)}, " ")
		})
	sweepCheck("dmtn028-producers.yaml",
		[]string{"1 true 10000", "1 false 10000", "10 true 10000", "10 false 10000", "100 true 10000", "100 false 10000"},
		func(e Experiment) string {
			return strings.Join([]string{itoa(e.Producers), btoa(e.Alert.Stamps), itoa(e.AlertsPerVisit)}, " ")
		})
	sweepCheck("dmtn028-consumers.yaml",
		[]string{"2 true", "2 false", "4 true", "4 false", "6 true", "6 false", "11 true", "11 false"},
		func(e Experiment) string {
			return strings.Join([]string{itoa(len(e.Groups())), btoa(e.Alert.Stamps)}, " ")
		})
	sweepCheck("dmtn028-partitions.yaml",
		[]string{"1 partitions, 11 groups of 1", "10 partitions, 11 groups of 10"},
		func(e Experiment) string {
			return itoa(e.Topic.Partitions) + " partitions, " + itoa(len(e.Groups())) + " groups of " + itoa(e.Groups()[10].Members)
		})
	if r := loaded["minibroker.yaml"]; len(r) == 1 {
		f := r[0].Filters
		if r[0].AlertsPerVisit != 10000 || f.Groups != 5 || f.FiltersPerGroup != 20 || f.Cap != 20 || f.EndUsers < 1 || len(r[0].Consumers) != 0 {
			t.Errorf("minibroker is not DMTN-081's:\n%s", r[0])
		}
	}
	if r := loaded["dmtn149-bursts.yaml"]; len(r) == 1 {
		want := pacing.Defaults(pacing.CCDBursts)
		want.Seed = r[0].Pacing.Seed
		if got := r[0].PacingConfig(); !reflect.DeepEqual(got, want) {
			t.Errorf("dmtn149-bursts pacing %+v, want DMTN-149's %+v", got, want)
		}
	}
	// reference.yaml is the defaults, written out.
	if r := loaded["reference.yaml"]; len(r) == 1 {
		d := Defaults()
		got := r[0]
		got.Name, got.Description, got.File, got.Base = "", "", "", ""
		if !reflect.DeepEqual(got, d) {
			t.Errorf("reference.yaml is not the defaults:\n got %+v\nwant %+v", got, d)
		}
	}
}

func itoa(n int) string  { return strconv.Itoa(n) }
func btoa(b bool) string { return strconv.FormatBool(b) }

func TestString(t *testing.T) {
	runs, err := Load("../../experiments/minibroker.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := runs[0].String()
	for _, want := range []string{"minibroker (../../experiments/minibroker.yaml)", "10 every 39s", "5 groups x 20 filters", "consumers: none", "visit deadline 39s"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	runs, err = Parse([]byte("name: s\nproducers: [1, 2]\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s := runs[1].String(); !strings.HasPrefix(s, "s-producers-2 (s.yaml; sweep producers=2)\n") {
		t.Errorf("summary of a sweep run:\n%s", s)
	}
}

// A file that sets every field to something other than its default: each
// field of the file reaches the Experiment (applyDefaults forgets none).
const everyField = `name: every
description: every field set
needs: more cores
visits: 3
visit_interval: 40s
alerts_per_visit: 5000
producers: 2
alert: {stamps: false, size: 20000, schema: rubin-7.4, schema_id: 7, null_rate: 0.2}
pacing: {model: ccd-bursts, bursts: 100, burst_min: 20, burst_max: 150, burst_mean: 40, burst_spread: 2s, rate: 400, seed: 9}
topic: {name: t, partitions: 4, replication_factor: 2, min_insync_replicas: 1, retention: 2h}
consumers: [{name: g, members: 2, mode: print-every, print_every: 10, copies: 2}]
external_consumers: [my-broker]
filters:
  groups: 1
  filters_per_group: 2
  cap: 5
  expressions: [{name: F1, expr: diaSource.snr > 5}, {name: F2, expr: diaSource.snr > 6}]
  end_users: 2
kafka: {acks: 1, compression: lz4, batch_bytes: 500000, linger: 10ms, max_message_bytes: 900000, buffer: 10, buffer_memory: 1000000, max_in_flight: 1,
  retries: 5, retry_backoff: 250ms, delivery_timeout: 1m}
limits: {run_timeout: 1h, max_lag: 100, visit_deadline: 30s}
faults:
  - {action: slow-network, target: {consumer: g-2, member: 2}, at: {visit: 2, after: 1s}, duration: 10s, netem: {delay: 100ms, jitter: 10ms, loss: 1.5}}
expect: {duplicates: 0}
`

func TestEveryFieldApplied(t *testing.T) {
	e := parseOne(t, everyField)
	// Left at their defaults here: replay and its settings need a file (TestReplay, TestReplayObserved),
	// idempotent needs acks all (below); the rest are not file fields.
	skip := map[string]bool{"Alert.Replay": true, "Alert.ReplayMode": true, "Alert.ReplayPacing": true, "Alert.ReplayTimeField": true, "Alert.ReplaySpeedup": true, "Alert.ReplayMaxGap": true, "Slots": true, "Observed": true, "observedErr": true, "Kafka.Idempotent": true, "File": true, "Base": true, "Sweep": true}
	var walk func(path string, got, def reflect.Value)
	walk = func(path string, got, def reflect.Value) {
		if skip[path] {
			return
		}
		if got.Kind() == reflect.Struct {
			for i := range got.NumField() {
				name := got.Type().Field(i).Name
				if path != "" {
					name = path + "." + name
				}
				walk(name, got.Field(i), def.Field(i))
			}
			return
		}
		if reflect.DeepEqual(got.Interface(), def.Interface()) {
			t.Errorf("%s: %v is the default: the file's value was not applied", path, got.Interface())
		}
	}
	walk("", reflect.ValueOf(e), reflect.ValueOf(Defaults()))

	e = parseOne(t, "name: x\nkafka: {idempotent: true, max_in_flight: 1}\n")
	if !e.Kafka.Idempotent {
		t.Error("kafka.idempotent: true was not applied")
	}
}

// After the walker, yaml.v3's strict decoder has the final say.
func TestDecodeStrictIsStrict(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("name: x\nbogus: 1\n"), &doc); err != nil {
		t.Fatal(err)
	}
	var f fileExperiment
	err := decodeStrict(&doc, &f)
	if err == nil || !strings.Contains(err.Error(), "field bogus not found") {
		t.Errorf("decodeStrict of an unknown field: %v", err)
	}
}
