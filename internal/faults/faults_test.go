package faults

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/inventory"
)

func experimentWith(t *testing.T, faults string) experiment.Experiment {
	t.Helper()
	runs, err := experiment.Parse([]byte(`name: f
visits: 3
visit_interval: 20s
alerts_per_visit: 100
consumers:
  - {name: counting, members: 1}
faults:
`+faults), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return runs[0]
}

func TestCheckEnvironment(t *testing.T) {
	inv := inventory.Inventory{Name: "tb", Env: "local", Nodes: []inventory.Node{
		{Name: "tb-manager-1", Role: inventory.RoleManager, Index: 1},
		{Name: "tb-worker-1", Role: inventory.RoleWorker, Index: 1},
		{Name: "tb-worker-2", Role: inventory.RoleWorker, Index: 2},
	}}
	for _, c := range []struct {
		faults   string
		env      string
		haveHost bool
		want     string
	}{
		{"  - {action: drain, target: {worker: 2}, at: {visit: 1, after: 1s}}\n", "local", true, ""},
		{"  - {action: drain, target: {worker: 3}, at: {visit: 1, after: 1s}}\n", "local", true,
			`f.yaml: faults[0].target.worker: 3 is not a worker of testbed "tb" (it has 2: 1 to 2)`},
		{"  - {action: partition, target: {broker: 1}, at: {visit: 1, after: 1s}, duration: 5s}\n", "aws", false,
			`f.yaml: faults[0].action: partition needs the local environment (iptables and tc run inside the node containers); testbed "tb" is on aws`},
		{"  - {action: slow-network, target: {worker: 1}, at: {visit: 1, after: 1s}, duration: 5s, netem: {delay: 100ms}}\n", "local", false,
			`f.yaml: faults[0].action: slow-network needs the local environment (iptables and tc run inside the node containers); testbed "tb" is on local`},
		{"  - {action: kill, target: {broker: 1}, at: {visit: 1, after: 1s}}\n", "aws", false, ""},
	} {
		inv.Env = c.env
		err := CheckEnvironment(experimentWith(t, c.faults), inv, c.haveHost)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s on %s: got %q, want %q", strings.TrimSpace(c.faults), c.env, got, c.want)
		}
	}
}

func TestNetemArgs(t *testing.T) {
	got := netemArgs(experiment.Netem{Delay: 200 * time.Millisecond, Jitter: 50 * time.Millisecond, Loss: 1.5})
	if want := "delay 200000us 50000us loss 1.5%"; got != want {
		t.Errorf("netem %q, want %q", got, want)
	}
	if got := netemArgs(experiment.Netem{Loss: 10}); got != "delay 0us loss 10%" {
		t.Errorf("netem of loss alone %q", got)
	}
}

// The plan puts each fault at T0 + (visit-1) x interval + after; a fault
// that has ended records, per group, the first lag check at 0 after it;
// Stop heals what still acts and keeps the records in order.
func TestPlanRecoveryAndStop(t *testing.T) {
	e := experimentWith(t, "  - {action: kill, target: {broker: 2}, at: {visit: 2, after: 1s}}\n"+
		"  - {action: pause, target: {broker: 1}, at: {visit: 3, after: 0s}, duration: 10s}\n")
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var out strings.Builder
	in := New(Env{RunID: "r", Out: &out}, e, t0)
	if got := in.records[0].Planned; !got.Equal(t0.Add(21 * time.Second)) {
		t.Errorf("fault 1 planned at %s, want T0 + 21s", got)
	}
	if got := in.records[1].Planned; !got.Equal(t0.Add(40 * time.Second)) {
		t.Errorf("fault 2 planned at %s, want T0 + 40s", got)
	}
	// Fault 1 fired at T0+21s; fault 2 fired at T0+40s and still acts.
	healed := false
	in.records[0].Fired = t0.Add(21 * time.Second)
	in.records[1].Fired = t0.Add(40 * time.Second)
	in.heals[1] = func(context.Context) error { healed = true; return nil }

	in.ObserveLag(t0.Add(30*time.Second), map[string]int64{"counting": 500, "filters-1": 0})
	in.ObserveLag(t0.Add(45*time.Second), map[string]int64{"counting": 0, "filters-1": 0})
	in.ObserveLag(t0.Add(50*time.Second), map[string]int64{"counting": 0, "filters-1": 0})
	r := in.records[0]
	if r.Recovery["filters-1"] != 9*time.Second || r.Recovery["counting"] != 24*time.Second {
		t.Errorf("recovery of fault 1 %v, want filters-1 9s, counting 24s", r.Recovery)
	}
	if len(in.records[1].Recovery) != 0 {
		t.Errorf("a fault still acting has a recovery: %v", in.records[1].Recovery)
	}
	recs := in.Stop()
	if !healed || recs[1].Healed.IsZero() || recs[0].Index != 1 || recs[1].Index != 2 {
		t.Errorf("Stop: healed %v, records %+v", healed, recs)
	}
	if !strings.Contains(out.String(), " ! fault 2: pause broker 1 for 10s: healed at ") {
		t.Errorf("no healed line: %q", out.String())
	}
	if recs[1].End() != recs[1].Healed || recs[0].End() != recs[0].Fired {
		t.Errorf("End: %s, %s", recs[0].End(), recs[1].End())
	}
}
