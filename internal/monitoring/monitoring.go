// Package monitoring renders the monitoring stack (swarm/monitoring.yml and
// the Prometheus and alertmanager configuration it mounts) for one testbed,
// and asks its Prometheus which scrape targets are up.
package monitoring

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"gopkg.in/yaml.v3"

	testbed "github.com/alert-testbed/testbed"
	"github.com/alert-testbed/testbed/internal/stacks"
	"github.com/alert-testbed/testbed/internal/swarm"
)

// StackName is the namespace of the monitoring stack.
const StackName = "monitoring"

// Images are the image references the nodes pull for the stack.
type Images struct {
	Prometheus, NodeExporter, CAdvisor, Alertmanager string
}

// Stack renders the monitoring stack for a testbed whose swarm has nodes.
func Stack(testbedName string, nodes []swarm.NodeState, img Images, retention string) (stacks.Stack, error) {
	files := map[string][]byte{}
	for _, f := range []string{"prometheus/prometheus.yml", "prometheus/rules.yml", "alertmanager/alertmanager.yml"} {
		data, err := testbed.Files.ReadFile("swarm/" + f)
		if err != nil {
			return stacks.Stack{}, err
		}
		if f == "prometheus/prometheus.yml" {
			data = []byte(os.Expand(string(data), func(k string) string {
				if k == "TESTBED_NAME" {
					return testbedName
				}
				return "${" + k + "}"
			}))
		}
		files[f] = data
	}
	info, err := NodeInfoRules(nodes)
	if err != nil {
		return stacks.Stack{}, err
	}
	files["prometheus/node-info.yml"] = info
	return stacks.Stack{
		Name: StackName,
		File: "swarm/monitoring.yml",
		Vars: map[string]string{
			"PROMETHEUS_IMAGE":     img.Prometheus,
			"NODE_EXPORTER_IMAGE":  img.NodeExporter,
			"CADVISOR_IMAGE":       img.CAdvisor,
			"ALERTMANAGER_IMAGE":   img.Alertmanager,
			"PROMETHEUS_RETENTION": retention,
		},
		Files: files,
	}, nil
}

// NodeInfoRules writes recording rules that make one constant series per
// swarm node, testbed_node_info{container_label_com_docker_swarm_node_id,
// node_name, role}, so that cAdvisor's series (which carry the node id)
// can be joined to node names.
func NodeInfoRules(nodes []swarm.NodeState) ([]byte, error) {
	type rule struct {
		Record string            `yaml:"record"`
		Expr   string            `yaml:"expr"`
		Labels map[string]string `yaml:"labels"`
	}
	var rules []rule
	for _, n := range nodes {
		rules = append(rules, rule{Record: "testbed_node_info", Expr: "vector(1)", Labels: map[string]string{
			"container_label_com_docker_swarm_node_id": n.ID,
			"node_name": n.Hostname,
			"role":      n.Role,
		}})
	}
	doc := map[string]any{"groups": []any{map[string]any{"name": "testbed-node-info", "rules": rules}}}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return append([]byte("# Written by testbed up from the swarm's node list.\n"), out...), nil
}

// Target is one scrape target's state.
type Target struct {
	Job, Instance, Health, LastError string
	Labels                           map[string]string
}

// Targets lists the active scrape targets of the Prometheus at url.
func Targets(ctx context.Context, url string) ([]Target, error) {
	c, err := api.NewClient(api.Config{Address: url, Client: &http.Client{Timeout: 10 * time.Second}})
	if err != nil {
		return nil, err
	}
	res, err := promv1.NewAPI(c).Targets(ctx)
	if err != nil {
		return nil, fmt.Errorf("Prometheus at %s: %w", url, err)
	}
	var out []Target
	for _, t := range res.Active {
		labels := map[string]string{}
		for k, v := range t.Labels {
			labels[string(k)] = string(v)
		}
		out = append(out, Target{Job: labels["job"], Instance: labels["instance"], Health: string(t.Health), LastError: t.LastError, Labels: labels})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Job != out[j].Job {
			return out[i].Job < out[j].Job
		}
		return out[i].Instance < out[j].Instance
	})
	return out, nil
}

// Want is how many up targets each job must have.
type Want map[string]int

// Check compares targets with want and says what is missing or down.
func Check(targets []Target, want Want) error {
	up := map[string]int{}
	var down []string
	for _, t := range targets {
		if t.Health == "up" {
			up[t.Job]++
		} else if _, ok := want[t.Job]; ok {
			down = append(down, fmt.Sprintf("%s %s (%s: %s)", t.Job, t.Instance, t.Health, t.LastError))
		}
	}
	var problems []string
	jobs := make([]string, 0, len(want))
	for j := range want {
		jobs = append(jobs, j)
	}
	sort.Strings(jobs)
	for _, j := range jobs {
		if up[j] < want[j] {
			problems = append(problems, fmt.Sprintf("%s %d/%d up", j, up[j], want[j]))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	if len(down) > 0 {
		problems = append(problems, "down: "+strings.Join(down, ", "))
	}
	return fmt.Errorf("scrape targets: %s", strings.Join(problems, "; "))
}

// WaitTargets waits until Check passes.
func WaitTargets(ctx context.Context, url string, want Want, timeout time.Duration) ([]Target, error) {
	deadline := time.Now().Add(timeout)
	for {
		targets, err := Targets(ctx, url)
		if err == nil {
			err = Check(targets, want)
			if err == nil {
				return targets, nil
			}
		}
		if time.Now().After(deadline) {
			return targets, fmt.Errorf("after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// DashboardExprs returns every PromQL expression of the dashboards in
// dashboards/*.json, by file name, in panel order.
func DashboardExprs() (map[string][]string, error) {
	files, err := fs.Glob(testbed.Files, "dashboards/*.json")
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, f := range files {
		data, err := testbed.Files.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var d struct {
			Panels []struct {
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, p := range d.Panels {
			for _, t := range p.Targets {
				out[path.Base(f)] = append(out[path.Base(f)], t.Expr)
			}
		}
	}
	return out, nil
}
