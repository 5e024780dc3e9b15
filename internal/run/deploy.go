package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"
	"golang.org/x/sync/errgroup"

	"github.com/alert-testbed/testbed/agents/lifecycle"
)

// Deploy creates the agents' services in DMTN-081's order (Agents returns
// it: end users, filters, consumers): the services of one role are created
// together, at most createParallel at a time, and every one of their tasks
// must run before the next role's are created, so that readers are in
// place before anything is sent. Producers are created last and not waited
// for: they may finish fast.
//
// Creating the services of a role together matters at scale: the
// minibroker's 105 reader services took 4m18s created one after another,
// each waited for.
//
// registryAuth is the encoded login the nodes pull the agents image with
// (a private registry such as ECR); empty for the local testbed registry.
func Deploy(ctx context.Context, api *client.Client, agents []Agent, registryAuth string, timeout time.Duration) error {
	for start := 0; start < len(agents); {
		end := start + 1
		for end < len(agents) && agents[end].Role == agents[start].Role {
			end++
		}
		stage := agents[start:end]
		start = end
		ids := make([]string, len(stage))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(createParallel)
		for i, a := range stage {
			g.Go(func() error {
				resp, err := api.ServiceCreate(gctx, a.Spec, swarm.ServiceCreateOptions{EncodedRegistryAuth: registryAuth})
				if err != nil {
					return fmt.Errorf("create service %s: %w", a.Spec.Name, err)
				}
				ids[i] = resp.ID
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if stage[0].Role == RoleProducer {
			continue
		}
		want := map[string]serviceTasks{}
		for i, a := range stage {
			want[ids[i]] = serviceTasks{name: a.Spec.Name, n: *a.Spec.Mode.Replicated.Replicas}
		}
		if err := waitServices(ctx, api, want, swarm.TaskStateRunning, timeout); err != nil {
			return err
		}
	}
	return nil
}

// createParallel bounds the service creations in flight: the swarm's
// leader takes them one at a time anyway, and more would only queue.
const createParallel = 8

// serviceTasks is a service waited for: its name and how many tasks.
type serviceTasks struct {
	name string
	n    uint64
}

// waitServices waits until each service has its n tasks in state want,
// listing the tasks of all of them once a second; a task that failed or
// was rejected ends the wait with its error.
func waitServices(ctx context.Context, api *client.Client, want map[string]serviceTasks, state swarm.TaskState, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	args := filters.NewArgs()
	for id := range want {
		args.Add("service", id)
	}
	for {
		tasks, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: args})
		if err != nil {
			return err
		}
		done := map[string]uint64{}
		states := map[string][]string{}
		for _, t := range tasks {
			switch t.Status.State {
			case state:
				done[t.ServiceID]++
			case swarm.TaskStateFailed, swarm.TaskStateRejected:
				return fmt.Errorf("service %s: task %d %s: %s", want[t.ServiceID].name, t.Slot, t.Status.State, t.Status.Err)
			}
			states[t.ServiceID] = append(states[t.ServiceID], string(t.Status.State))
		}
		var behind []string
		for id, w := range want {
			if done[id] < w.n {
				behind = append(behind, fmt.Sprintf("%s: %d of %d tasks %s (states: %s)", w.name, done[id], w.n, state, strings.Join(states[id], ", ")))
			}
		}
		if len(behind) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			sort.Strings(behind)
			if len(behind) > 5 {
				behind = append(behind[:5], fmt.Sprintf("and %d more services", len(behind)-5))
			}
			return fmt.Errorf("after %s: %s", timeout, strings.Join(behind, "; "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Remove removes every service of the run and returns how many.
func Remove(ctx context.Context, api *client.Client, runID string) (int, error) {
	svcs, err := api.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelRun+"="+runID))})
	if err != nil {
		return 0, err
	}
	for _, s := range svcs {
		if err := api.ServiceRemove(ctx, s.ID); err != nil {
			return 0, fmt.Errorf("remove service %s: %w", s.Spec.Name, err)
		}
	}
	return len(svcs), nil
}

// Stop ends every agent of the run for good: SIGINT to each of their
// containers (SIGTERM would let a producer leave a visit it cut short to
// a next task; agents/lifecycle),
// on every node (nodes are the nodes' Docker APIs), then a wait until no
// task of the run's services runs. The members publish the records of the
// visits they still hold before they exit; the tasks end as complete, so
// that swarm keeps them and their logs (scaling to 0 would delete both).
// A task that swarm starts meanwhile (in the slot of one that failed just
// before) gets SIGINT too.
func Stop(ctx context.Context, api *client.Client, nodes []*client.Client, runID string, timeout time.Duration) error {
	if err := Signal(ctx, nodes, runID, "", "SIGINT"); err != nil {
		return err
	}
	signaled := time.Now()
	svcs, err := api.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelRun+"="+runID))})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		var live []string
		for _, s := range svcs {
			tasks, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", s.ID))})
			if err != nil {
				return err
			}
			for _, t := range tasks {
				if !stopped(t.Status.State) {
					live = append(live, fmt.Sprintf("%s.%d %s", s.Spec.Name, t.Slot, t.Status.State))
				}
			}
		}
		if len(live) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("agents still running %s after SIGINT: %s", timeout, strings.Join(live, ", "))
		}
		if time.Since(signaled) > agentRestartDelay {
			// Containers that already had it end within their grace;
			// a second SIGINT changes nothing for them.
			if err := Signal(ctx, nodes, runID, "", "SIGINT"); err != nil {
				return err
			}
			signaled = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// stopped says whether a task in state s runs no container any more.
func stopped(s swarm.TaskState) bool {
	switch s {
	case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed, swarm.TaskStateRejected, swarm.TaskStateRemove, swarm.TaskStateOrphaned:
		return true
	}
	return false
}

// ProducersDone reports whether every producer slot of the run has
// completed: its newest task (swarm starts a new task in the slot of one
// that failed, was killed or restarted, or ran on a drained node). A slot
// whose newest task failed and got no new task within restartWait (swarm's
// restarts of the slot used up) is an error naming it.
func ProducersDone(ctx context.Context, api *client.Client, runID string, replicas int) (bool, error) {
	svcs, err := api.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(
		filters.Arg("label", LabelRun+"="+runID), filters.Arg("label", LabelRole+"="+RoleProducer))})
	if err != nil {
		return false, err
	}
	if len(svcs) != 1 {
		return false, fmt.Errorf("run %s has %d producer services, want 1", runID, len(svcs))
	}
	tasks, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", svcs[0].ID))})
	if err != nil {
		return false, err
	}
	return slotsDone(tasks, replicas, time.Now())
}

// restartWait is how long a failed task's slot may stay without a newer
// task before it counts as given up: swarm creates the new task at once
// and starts it after agentRestartDelay.
const restartWait = agentRestartDelay + 15*time.Second

// slotsDone says whether the newest task of each of the replicas slots
// has completed, as of now.
func slotsDone(tasks []swarm.Task, replicas int, now time.Time) (bool, error) {
	newest := newestPerSlot(tasks)
	done := 0
	for _, slot := range sortedSlots(newest) {
		t := newest[slot]
		switch t.Status.State {
		case swarm.TaskStateComplete:
			done++
		case swarm.TaskStateFailed, swarm.TaskStateRejected:
			if now.Sub(t.Status.Timestamp) > restartWait {
				return false, fmt.Errorf("producer task %d %s: %s (no new task in its slot after %s: swarm's %d restarts of a slot used up)",
					t.Slot, t.Status.State, t.Status.Err, restartWait, agentRestarts)
			}
		}
	}
	return done >= replicas, nil
}

// newestPerSlot is the newest task (the last made) of each slot: swarm
// makes a new task in the slot of one that failed, was restarted or ran
// on a drained node.
func newestPerSlot(tasks []swarm.Task) map[int]swarm.Task {
	newest := map[int]swarm.Task{}
	for _, t := range tasks {
		if n, ok := newest[t.Slot]; !ok || t.Meta.CreatedAt.After(n.Meta.CreatedAt) {
			newest[t.Slot] = t
		}
	}
	return newest
}

func sortedSlots(m map[int]swarm.Task) []int {
	out := make([]int, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}

// logsTimeout bounds the reading of one service's logs through the swarm:
// swarm's log stream can wait forever for the logs of a task whose
// container was killed (seen with SIGKILLed members); the containers' own
// logs, from their nodes, are read instead.
const logsTimeout = 20 * time.Second

// Logs returns the logs (stdout and stderr, with timestamps) of every
// service of the run, by service name, for the archive. A service whose
// swarm log stream does not end within logsTimeout has its containers'
// logs read from every node (nodes: the nodes' Docker APIs) instead.
func Logs(ctx context.Context, api *client.Client, nodes []*client.Client, runID string) (map[string][]byte, error) {
	svcs, err := api.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelRun+"="+runID))})
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	var errs []error
	for _, s := range svcs {
		b, err := serviceLogs(ctx, api, s.ID)
		if err != nil {
			b, err = containerLogs(ctx, nodes, s.Spec.Name)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("logs of %s: %w", s.Spec.Name, err))
		}
		out[s.Spec.Name] = b
	}
	return out, errors.Join(errs...)
}

// serviceLogs reads a service's logs through the swarm, within logsTimeout.
func serviceLogs(ctx context.Context, api *client.Client, id string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, logsTimeout)
	defer cancel()
	rc, err := api.ServiceLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Details: true})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var b bytes.Buffer
	_, err = stdcopy.StdCopy(&b, &b, rc)
	return b.Bytes(), err
}

// containerLogs reads the logs of every container of a service, on every
// node, each line prefixed with its task's name, as swarm's would be.
func containerLogs(ctx context.Context, nodes []*client.Client, service string) ([]byte, error) {
	var all bytes.Buffer
	var errs []error
	for _, n := range nodes {
		cs, err := n.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name="+service))})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, c := range cs {
			cctx, cancel := context.WithTimeout(ctx, logsTimeout)
			rc, err := n.ContainerLogs(cctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true})
			if err != nil {
				cancel()
				errs = append(errs, err)
				continue
			}
			var b bytes.Buffer
			_, err = stdcopy.StdCopy(&b, &b, rc)
			rc.Close()
			cancel()
			if err != nil {
				errs = append(errs, err)
			}
			task := c.Labels["com.docker.swarm.task.name"]
			for _, line := range strings.SplitAfter(b.String(), "\n") {
				if line != "" {
					fmt.Fprintf(&all, "%s %s", task, line)
				}
			}
		}
	}
	return all.Bytes(), errors.Join(errs...)
}

// Vanished lists the run's agent tasks that ended before the run did, one
// line each: which service and slot (a consumer member is its service's
// slot), on which node, when, and how (a member killed by a fault, one
// that crashed, a producer that failed). Producers that completed are not
// listed. Call it before Stop, which ends every task.
func Vanished(ctx context.Context, api *client.Client, runID string) ([]string, error) {
	svcs, err := api.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelRun+"="+runID))})
	if err != nil {
		return nil, err
	}
	nodes := map[string]string{}
	var out []string
	for _, s := range svcs {
		tasks, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", s.ID))})
		if err != nil {
			return nil, err
		}
		sort.Slice(tasks, func(i, j int) bool { return tasks[i].Status.Timestamp.Before(tasks[j].Status.Timestamp) })
		newest := newestPerSlot(tasks)
		for _, t := range tasks {
			st := t.Status.State
			if !stopped(st) || (st == swarm.TaskStateComplete && s.Spec.Labels[LabelRole] == RoleProducer) {
				continue
			}
			node, ok := nodes[t.NodeID]
			if !ok && t.NodeID != "" {
				if n, _, err := api.NodeInspectWithRaw(ctx, t.NodeID); err == nil {
					node = n.Description.Hostname
				}
				nodes[t.NodeID] = node
			}
			how := string(st)
			if t.Status.Err != "" {
				how += ": " + t.Status.Err
			}
			if cs := t.Status.ContainerStatus; cs != nil && cs.ExitCode != 0 && !strings.Contains(how, "exit") {
				how += fmt.Sprintf(" (exit code %d)", cs.ExitCode)
			}
			if cs := t.Status.ContainerStatus; cs != nil && cs.ExitCode == lifecycle.RestartExitCode {
				how += ": stopped for a restart"
			}
			if newest[t.Slot].Meta.CreatedAt.After(t.Meta.CreatedAt) {
				how += "; swarm started a new task in its slot"
			}
			out = append(out, fmt.Sprintf("%s.%d on %s ended at %s: %s", s.Spec.Name, t.Slot, node, t.Status.Timestamp.Local().Format("15:04:05.0"), how))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Signal sends sig to every running container of the run's agents of the
// given role ("": every role), on every node (nodes are the nodes' Docker APIs): SIGINT to
// the producers stops them sending, and they publish the records of the
// visits they started.
func Signal(ctx context.Context, nodes []*client.Client, runID, role, sig string) error {
	var errs []error
	for _, n := range nodes {
		f := filters.NewArgs(filters.Arg("label", LabelRun+"="+runID), filters.Arg("status", "running"))
		if role != "" {
			f.Add("label", LabelRole+"="+role)
		}
		cs, err := n.ContainerList(ctx, container.ListOptions{Filters: f})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, c := range cs {
			if err := n.ContainerKill(ctx, c.ID, sig); err != nil && !errdefs.IsNotFound(err) && !errdefs.IsConflict(err) {
				errs = append(errs, fmt.Errorf("signal %s: %w", strings.Join(c.Names, ","), err))
			}
		}
	}
	return errors.Join(errs...)
}
