package orchestrator

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alert-testbed/testbed/internal/inventory"
	"github.com/alert-testbed/testbed/internal/kafka"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/stacks"
	"github.com/alert-testbed/testbed/internal/steps"
	"github.com/alert-testbed/testbed/internal/swarm"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// Status prints the nodes (role, state), the services (replicas running /
// desired) and the brokers' health of a testbed. It returns an error when
// anything is unhealthy, after printing what it found.
func Status(ctx context.Context, ws workspace.Workspace, name string, out io.Writer) error {
	if err := topology.ValidateName(name); err != nil {
		return err
	}
	inv, err := LoadInventory(ws, name)
	if err != nil {
		return err
	}
	settings, found, err := ws.LoadSettings(name)
	if err != nil {
		return err
	}
	if line := lifetime(settings, time.Now()); found && line != "" {
		// First: it matters most when the testbed is unreachable.
		fmt.Fprintln(out, line)
	}
	env, err := savedEnvironment(settings, found)
	if err != nil {
		return err
	}
	cluster, err := swarm.Connect(ctx, inv, sshKeys(ws, name), 10*time.Second)
	if err != nil {
		return fmt.Errorf("testbed %q: %w (%s `testbed up --name %s` repairs a testbed)", name, err, env.UnreachableHint(), name)
	}
	defer cluster.Close()
	var problems []string

	nodes, err := cluster.NodeStates(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Testbed %q (env %s)\n\nNODES\n", name, inv.Env)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tAVAILABILITY\tMANAGER\tLABELS")
	for _, n := range nodes {
		mgr := n.Reachability
		if n.Leader {
			mgr = "leader"
		}
		if n.State != "ready" {
			problems = append(problems, fmt.Sprintf("node %s is %s", n.Hostname, n.State))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n.Hostname, n.Role, n.State, n.Availability, dash(mgr), labels(n.Labels))
	}
	tw.Flush()
	if len(nodes) != len(inv.Nodes) {
		problems = append(problems, fmt.Sprintf("%d nodes in the swarm, %d in the inventory", len(nodes), len(inv.Nodes)))
	}

	svcs, err := stacks.Services(ctx, cluster.Leader().API, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nSERVICES\n")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tREPLICAS\tIMAGE")
	for _, s := range svcs {
		running, desired := stacks.Replicas(s)
		if running < desired {
			problems = append(problems, fmt.Sprintf("service %s runs %d of %d", s.Spec.Name, running, desired))
		}
		img := s.Spec.TaskTemplate.ContainerSpec.Image
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\n", s.Spec.Name, running, desired, img)
	}
	tw.Flush()

	fmt.Fprintf(out, "\nTARGETS (Prometheus %s)\n", promURL(inv))
	targets, err := monitoring.Targets(ctx, promURL(inv))
	if err != nil {
		problems = append(problems, err.Error())
		fmt.Fprintf(out, "  %v\n", err)
	} else {
		type count struct{ up, all int }
		byJob := map[string]*count{}
		var jobs []string
		for _, t := range targets {
			c := byJob[t.Job]
			if c == nil {
				c = &count{}
				byJob[t.Job] = c
				jobs = append(jobs, t.Job)
			}
			c.all++
			if t.Health == "up" {
				c.up++
			}
		}
		tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "JOB\tUP")
		for _, j := range jobs {
			fmt.Fprintf(tw, "%s\t%d/%d\n", j, byJob[j].up, byJob[j].all)
		}
		tw.Flush()
		if err := monitoring.Check(targets, WantTargets(len(inv.Nodes))); err != nil {
			problems = append(problems, err.Error())
		}
	}

	fmt.Fprintf(out, "\nKAFKA\n")
	if err := checkKafka(ctx, cluster, inv); err != nil {
		problems = append(problems, err.Error())
		fmt.Fprintf(out, "  quorum:    %v\n", err)
	} else {
		fmt.Fprintf(out, "  quorum:    brokers 1-%d are voters, one leader, all caught up\n", topology.BrokerCount)
	}
	h, err := kafka.RoundTrip(ctx, Bootstrap(inv), topology.BrokerCount)
	if err != nil {
		problems = append(problems, err.Error())
		fmt.Fprintf(out, "  brokers:   %v\n", err)
	} else {
		fmt.Fprintf(out, "  brokers:   %d in the cluster metadata\n", h.Brokers)
		fmt.Fprintf(out, "  round trip: acks=all to %s (replication factor 3, min.insync.replicas 2) and back in %s\n", kafka.HealthTopic, h.RoundTrip.Round(time.Millisecond))
	}
	fmt.Fprintf(out, "  bootstrap: %s\n", strings.Join(Bootstrap(inv), ","))
	if line, err := warmUpState(ctx, ws, name, cluster); err != nil {
		problems = append(problems, err.Error())
	} else {
		fmt.Fprintf(out, "  warm-up:   %s\n", line)
	}

	fmt.Fprintf(out, "\nGRAFANA\n")
	if g := settings.Grafana(); g == "" {
		fmt.Fprintf(out, "  left out (no image could be had when the testbed was made; `testbed up --name %s --grafana-image IMAGE` adds it)\n", name)
	} else if c := findGrafana(ctx, inv, settings); c == nil {
		problems = append(problems, "Grafana ("+g+") does not answer at "+grafanaURL(inv))
		fmt.Fprintf(out, "  %s: does not answer (%s)\n", grafanaURL(inv), g)
	} else {
		fmt.Fprintf(out, "  %s (admin / %s), %s\n", grafanaURL(inv), settings.GrafanaPassword, g)
	}
	if st, ok, err := ws.LoadStream(name); err != nil {
		problems = append(problems, err.Error())
	} else if ok {
		fmt.Fprintf(out, "\nSTREAM\n")
		if st.Alive() {
			fmt.Fprintf(out, "  %s: experiment %s on topic %s since %s (process %d); `testbed watch --name %s --group GROUP` follows a consumer group against it\n",
				st.RunID, st.Experiment, st.Topic, st.StartedAt.Local().Format("2006-01-02 15:04:05"), st.PID, name)
		} else {
			fmt.Fprintf(out, "  %s: its process %d is gone and its producers may still send; the next `testbed stream` or `testbed run` removes them\n", st.RunID, st.PID)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("testbed %q is not healthy: %s", name, strings.Join(problems, "; "))
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func labels(l map[string]string) string {
	var parts []string
	for _, k := range []string{swarm.LabelRole, swarm.LabelIndex, swarm.LabelBroker} {
		if v, ok := l[k]; ok {
			parts = append(parts, strings.TrimPrefix(k, "testbed.")+"="+v)
		}
	}
	return strings.Join(parts, ",")
}

// grafanaURL is where the host reaches the testbed's Grafana.
func grafanaURL(inv inventory.Inventory) string {
	return "http://" + net.JoinHostPort(inv.Managers()[0].Address, "3000")
}

// promURL is where the host reaches the testbed's Prometheus.
func promURL(inv inventory.Inventory) string {
	return "http://" + net.JoinHostPort(inv.Managers()[0].Address, "9090")
}

// lifetime says how old a testbed is and, for a cloud testbed, how that
// compares with its expiry tag; "" when nothing is known.
func lifetime(s workspace.Settings, now time.Time) string {
	var parts []string
	if created, err := time.Parse(time.RFC3339, s.CreatedAt); err == nil {
		parts = append(parts, fmt.Sprintf("age %s (made %s)", now.Sub(created).Round(time.Minute), s.CreatedAt))
	}
	if s.AWS != nil {
		exp, err := time.Parse(time.RFC3339, s.AWS.ExpiresAt)
		switch {
		case err != nil:
			parts = append(parts, fmt.Sprintf("expiry tag %q unreadable", s.AWS.ExpiresAt))
		case now.After(exp):
			parts = append(parts, fmt.Sprintf("EXPIRED %s ago (expiry tag %s): take it down with `testbed down`", now.Sub(exp).Round(time.Minute), s.AWS.ExpiresAt))
		default:
			parts = append(parts, fmt.Sprintf("expires in %s (expiry tag %s)", exp.Sub(now).Round(time.Minute), s.AWS.ExpiresAt))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Lifetime: " + strings.Join(parts, ", ")
}

// warmUpState says whether the brokers' JVMs are warm: the last warm-up
// (warm-up.json) if it warmed the broker containers running now, or that
// the next run or bench warms them first.
func warmUpState(ctx context.Context, ws workspace.Workspace, name string, cluster *swarm.Cluster) (string, error) {
	containers, err := brokerContainers(ctx, cluster.Leader().API)
	if err != nil {
		return "", err
	}
	last, ok, err := ws.LoadWarmUp(name)
	if err != nil {
		return "", err
	}
	if !ok || !last.Covers(containers) {
		return "none on these broker containers: the next `testbed run`, `stream` or `bench` warms them first (README \"Where an LSST visit's time goes\")", nil
	}
	state := "JIT compilers settled"
	if !last.Settled {
		state = "JIT compilers not settled: a larger --warm-up-rounds goes on"
	}
	return fmt.Sprintf("%s of %d alerts a broker on these broker containers, %s, the last ending at %s UTC", steps.Count(last.Rounds, "round"), roundAlerts(last), state, last.At.UTC().Format("2006-01-02 15:04:05")), nil
}
