package run

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/experiment"
)

func load(t *testing.T, file string) experiment.Experiment {
	t.Helper()
	es, err := experiment.Load(filepath.Join("..", "..", "experiments", file))
	if err != nil {
		t.Fatal(err)
	}
	return es[0]
}

var params = Params{RunID: "r1", Image: "tb-registry:5000/testbed/agents:abc", Brokers: "kafka-1:19092",
	ResultsTopic: "testbed-results", Network: "testbed", Workers: 10}

var producersT0 = time.Date(2026, 11, 22, 10, 0, 39, 0, time.UTC)

// Agents plans a run and returns its services in start order, the
// producers' with T0 producersT0.
func Agents(e experiment.Experiment, p Params) ([]Agent, error) {
	pl, err := NewPlan(e, p)
	if err != nil {
		return nil, err
	}
	return append(pl.Readers, pl.Producers(producersT0)), nil
}

func env(a Agent) map[string]string {
	out := map[string]string{}
	for _, kv := range a.Spec.TaskTemplate.ContainerSpec.Env {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

func TestMinibrokerAgentsInDMTN081Order(t *testing.T) {
	e := load(t, "minibroker.yaml")
	agents, err := Agents(e, params)
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	count := map[string]int{}
	for _, a := range agents {
		if len(roles) == 0 || roles[len(roles)-1] != a.Role {
			roles = append(roles, a.Role)
		}
		count[a.Role]++
	}
	// minibroker.yaml has no plain consumer groups.
	if got := strings.Join(roles, ","); got != "end-user,filter,producer" {
		t.Fatalf("start order %s, want end users, filters, producers", got)
	}
	if count[RoleEndUser] != e.Filters.Groups*e.Filters.FiltersPerGroup || count[RoleFilter] != e.Filters.Groups || count[RoleProducer] != 1 {
		t.Fatalf("services per role %v for %d groups x %d filters", count, e.Filters.Groups, e.Filters.FiltersPerGroup)
	}
	f2 := env(agents[count[RoleEndUser]+1])
	if f2["FIRST_FILTER"] != "21" || f2["LAST_FILTER"] != "40" || f2["FILTER_CAP"] != "20" || f2["GROUP"] != "r1-filters-2" {
		t.Errorf("second filter group env %v", f2)
	}
	p := agents[len(agents)-1]
	if *p.Spec.Mode.Replicated.Replicas != uint64(e.Producers) || env(p)["T0"] != "2026-11-22T10:00:39Z" || env(p)["PRODUCER_SLOT"] != "{{.Task.Slot}}" {
		t.Errorf("producer service %+v env %v", p.Spec.Mode, env(p))
	}
	for _, a := range agents {
		s := a.Spec
		if !strings.HasPrefix(s.Name, "run-r1-") || s.Labels[LabelRun] != "r1" || s.TaskTemplate.Placement.Constraints[0] != "node.role==worker" ||
			s.TaskTemplate.Networks[0].Aliases[0] != MetricsAlias || string(s.TaskTemplate.RestartPolicy.Condition) != "on-failure" {
			t.Errorf("service %s: %+v", s.Name, s)
		}
	}
}

// Every environment variable a service sets is one the agent program
// reads: a misspelt name would silently leave a flag at its default.
func TestEveryAgentEnvVarIsAFlag(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./agents/cmd/...")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build agents: %v\n%s", err, out)
	}
	help := map[string]string{}
	for _, prog := range []string{"alert-producer", "alert-consumer", "alert-filter"} {
		out, _ := exec.Command(filepath.Join(bin, prog), "--help").CombinedOutput()
		help["/bin/"+prog] = string(out)
	}
	for _, file := range []string{"minibroker.yaml", "ztf-scale.yaml", "dmtn149-bursts.yaml"} {
		agents, err := Agents(load(t, file), params)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range agents {
			prog := a.Spec.TaskTemplate.ContainerSpec.Command[0]
			for k := range env(a) {
				if !strings.Contains(help[prog], "[$"+k+"]") && !strings.Contains(help[prog], ", $"+k+"]") {
					t.Errorf("%s: %s sets %s, which %s does not read", file, a.Spec.Name, k, prog)
				}
			}
		}
	}
}

func TestConsumersStartBeforeProducers(t *testing.T) {
	e := load(t, "ztf-scale.yaml")
	agents, err := Agents(e, params)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range agents {
		names = append(names, a.Role+":"+a.Spec.Name)
	}
	want := "consumer:run-r1-consumer-consumer1,consumer:run-r1-consumer-consumer2,producer:run-r1-producer"
	if strings.Join(names, ",") != want {
		t.Fatalf("services %v, want %s", names, want)
	}
	c1 := env(agents[0])
	if c1["MODE"] != "print-every" || c1["PRINT_EVERY"] != "100" || c1["GROUP"] != "r1-consumer1" || c1["KAFKA_INITIAL_OFFSET"] != "oldest" || c1["TOPIC"] != e.Topic.Name {
		t.Errorf("consumer1 env %v", c1)
	}
}

func TestAgentsErrors(t *testing.T) {
	e := load(t, "ztf-scale.yaml")
	p := params
	p.RunID = "Run_1"
	if _, err := Agents(e, p); err == nil || err.Error() != `run id "Run_1": use 1 to 24 lower-case letters, digits and '-'` {
		t.Fatalf("got %v", err)
	}
	p = params
	p.Workers = 0
	agents, err := Agents(e, p)
	if err != nil || agents[0].Spec.TaskTemplate.Placement.Constraints[0] != "node.role==manager" {
		t.Fatalf("with no workers the agents must go to managers: %v", err)
	}
}

// The plan names each consumer group once: the groups it lists are those
// its readers' services join (an end user's group per task slot).
func TestPlanGroupsAreTheReadersGroups(t *testing.T) {
	for _, file := range []string{"minibroker.yaml", "ztf-scale.yaml", "reference.yaml"} {
		e := load(t, file)
		pl, err := NewPlan(e, params)
		if err != nil {
			t.Fatal(err)
		}
		joined := map[string]int{}
		for _, a := range pl.Readers {
			g := env(a)["GROUP"]
			n := int(*a.Spec.Mode.Replicated.Replicas)
			if strings.Contains(g, "{{.Task.Slot}}") {
				for slot := 1; slot <= n; slot++ {
					joined[strings.ReplaceAll(g, "{{.Task.Slot}}", fmt.Sprint(slot))]++
				}
				continue
			}
			joined[g] += n
		}
		if len(joined) != len(pl.Groups) {
			t.Errorf("%s: the readers join %d groups, the plan lists %d", file, len(joined), len(pl.Groups))
		}
		for _, g := range pl.Groups {
			if joined[g.Name] != g.Members {
				t.Errorf("%s: group %s: %d members join it, the plan says %d", file, g.Name, joined[g.Name], g.Members)
			}
		}
		if got := Groups(e, params.RunID); len(got) != len(pl.Groups) {
			t.Errorf("%s: Groups lists %d, the plan %d", file, len(got), len(pl.Groups))
		}
		if tp := pl.Topics; len(tp) < 2 || tp[0].Name != e.Topic.Name {
			t.Errorf("%s: topics %+v", file, tp)
		}
	}
}
