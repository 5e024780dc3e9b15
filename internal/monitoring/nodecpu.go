package monitoring

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// NodeCPU is how busy one swarm node's CPUs were over a time range, as its
// node-exporter counts them.
type NodeCPU struct {
	Node  string  // the swarm node's hostname (node_uname_info's nodename)
	Cores int     // CPUs node-exporter sees
	Busy  float64 // 0 to 1: the CPUs' time not idle ÷ their time
}

// NodeCPUBusy returns each node's CPU use over [start, end], busiest
// first. Busy is the same ratio as the testbed:node_cpu_busy_ratio rule
// (swarm/prometheus/rules.yml) that Grafana and the NodeCPUHigh alert use:
// 1 - the mean over the node's CPUs of the rate of their idle seconds.
// A range shorter than two scrapes (10 s) is widened to 10 s ending at end.
// On the local environment every node reads the host's /proc/stat: all
// nodes show the host's CPUs.
func NodeCPUBusy(ctx context.Context, url string, start, end time.Time) ([]NodeCPU, error) {
	p, err := newAPI(url)
	if err != nil {
		return nil, err
	}
	w := int(end.Sub(start).Round(time.Second).Seconds())
	w = max(w, 10)
	queries := []string{
		fmt.Sprintf(`(1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[%ds]))) * on (instance) group_left (nodename) node_uname_info`, w),
		`count by (instance) (node_cpu_seconds_total{mode="idle"}) * on (instance) group_left (nodename) node_uname_info`,
	}
	byNode := map[string]*NodeCPU{}
	for i, q := range queries {
		vec, err := queryVector(ctx, p, url, q, end)
		if err != nil {
			return nil, err
		}
		for _, s := range vec {
			name := string(s.Metric["nodename"])
			n := byNode[name]
			if n == nil {
				n = &NodeCPU{Node: name}
				byNode[name] = n
			}
			if i == 0 {
				n.Busy = float64(s.Value)
			} else {
				n.Cores = int(s.Value)
			}
		}
	}
	out := make([]NodeCPU, 0, len(byNode))
	for _, n := range byNode {
		if n.Cores > 0 {
			out = append(out, *n)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Busy != out[j].Busy {
			return out[i].Busy > out[j].Busy
		}
		return out[i].Node < out[j].Node
	})
	return out, nil
}
