package run

import (
	"strings"
	"testing"

	"github.com/alert-testbed/testbed/internal/experiment"
)

func TestGroupsNameWhatAgentsDeploys(t *testing.T) {
	e := load(t, "minibroker.yaml")
	e.Consumers = []experiment.ConsumerGroup{{Name: "c", Members: 3, Mode: "count", Copies: 2}}
	gs := Groups(e, "r9")
	var stream, endUsers int
	for _, g := range gs {
		if g.Stream {
			stream++
		} else {
			endUsers++
			if !strings.HasPrefix(g.Name, "r9-enduser-Filter") || g.Topic == e.Topic.Name {
				t.Errorf("end-user group %+v", g)
			}
		}
	}
	if stream != 2+5 || endUsers != 100 || gs[0].Name != "r9-c-1" || gs[0].Members != 3 || gs[2].Name != "r9-filters-1" {
		t.Fatalf("%d stream groups, %d end users, first %+v", stream, endUsers, gs[0])
	}
	// The agents' GROUP variables are exactly these names.
	agents, err := Agents(e, Params{RunID: "r9", Image: "i", Brokers: "b", ResultsTopic: "res", Network: "n", Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, g := range gs {
		names[g.Name] = true
	}
	for _, a := range agents {
		for _, kv := range a.Spec.TaskTemplate.ContainerSpec.Env {
			if g, ok := strings.CutPrefix(kv, "GROUP="); ok {
				g = strings.ReplaceAll(g, "{{.Task.Slot}}", "1")
				if !names[g] {
					t.Errorf("service %s joins group %s, which Groups does not list", a.Spec.Name, g)
				}
			}
		}
	}
}
