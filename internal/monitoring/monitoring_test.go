package monitoring

import (
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/alert-testbed/testbed/internal/swarm"
)

var nodes = []swarm.NodeState{
	{ID: "n1", Hostname: "tb-manager-1", Role: "manager"},
	{ID: "n2", Hostname: "tb-worker-1", Role: "worker"},
}

func TestCheck(t *testing.T) {
	targets := []Target{
		{Job: "node-exporter", Instance: "10.0.0.2:9100", Health: "up"},
		{Job: "node-exporter", Instance: "10.0.0.3:9100", Health: "down", LastError: "connection refused"},
		{Job: "kafka", Instance: "10.0.0.4:7071", Health: "up"},
		{Job: "other", Instance: "x", Health: "down"},
	}
	err := Check(targets, Want{"node-exporter": 2, "kafka": 1})
	want := "scrape targets: node-exporter 1/2 up; down: node-exporter 10.0.0.3:9100 (down: connection refused)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if err := Check(targets, Want{"kafka": 1, "node-exporter": 1}); err != nil {
		t.Fatalf("satisfied want rejected: %v", err)
	}
	if err := Check(nil, Want{"cadvisor": 1}); err == nil || err.Error() != "scrape targets: cadvisor 0/1 up" {
		t.Fatalf("got %v", err)
	}
}

// Every rule file the stack mounts is valid for Prometheus' own rule
// parser, expressions included.
func TestRuleFilesParse(t *testing.T) {
	st, err := Stack("tb", nodes, Images{"p", "n", "c", "a"}, "15d")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"prometheus/rules.yml", "prometheus/node-info.yml"} {
		groups, errs := rulefmt.Parse(st.Files[f], false, model.UTF8Validation)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", f, errs)
		}
		if len(groups.Groups) == 0 {
			t.Fatalf("%s: no rule groups", f)
		}
	}
	info := string(st.Files["prometheus/node-info.yml"])
	for _, want := range []string{"container_label_com_docker_swarm_node_id: n2", "node_name: tb-worker-1", "record: testbed_node_info"} {
		if !strings.Contains(info, want) {
			t.Errorf("node-info.yml lacks %q:\n%s", want, info)
		}
	}
	if !strings.Contains(string(st.Files["prometheus/prometheus.yml"]), "testbed: tb") {
		t.Error("prometheus.yml external label not rendered")
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(st.Files["prometheus/prometheus.yml"], &cfg); err != nil {
		t.Fatal(err)
	}
	if st.Vars["PROMETHEUS_RETENTION"] != "15d" || st.Vars["CADVISOR_IMAGE"] != "c" {
		t.Errorf("vars %v", st.Vars)
	}
}

// Grafana's template variables ($run, $service) are replaced as Grafana
// would before parsing.
func expandVars(expr string) string {
	return strings.NewReplacer("$service", ".*", "$run", "r1").Replace(expr)
}

func TestDashboardExpressionsParse(t *testing.T) {
	n := 0
	all, err := DashboardExprs()
	if err != nil || len(all) != 4 {
		t.Fatalf("dashboards: %d files, %v", len(all), err)
	}
	for f, exprs := range all {
		for _, e := range exprs {
			n++
			if _, err := parser.ParseExpr(expandVars(e)); err != nil {
				t.Errorf("%s: %q: %v", f, e, err)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d expressions found", n)
	}
}
