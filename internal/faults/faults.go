// Package faults breaks a running testbed on the schedule an experiment's
// `faults:` list gives (internal/experiment.Fault), heals it again, and
// records what it did, when, and how long each consumer group took to
// recover, for the run's archive (faults.json) and report.
//
// Targets are resolved when a fault fires, not before: a broker's task may
// have moved since the run started. A broker is the running task of the
// swarm service kafka_kafka-N; a consumer member, filter group or producer
// the task of that slot of the run's agent service (names as
// internal/experiment derives them); a worker the node of that index.
//
// Actions, and how each is done:
//   - kill: SIGKILL to the task's container, through its node's Docker API;
//     swarm's restart policy applies as deployed (on-failure for the
//     agents, any for the brokers: both come back).
//   - restart: a broker's container is restarted (docker restart: SIGTERM,
//     30 s grace, start); an agent gets SIGHUP, ends gracefully with the
//     exit status that makes swarm start a new task in its slot
//     (agents/lifecycle), and is killed if it has not within 30 s.
//   - pause: docker pause (the cgroup freezer: every process of the
//     container stops at once, as in a long GC pause), docker unpause at the
//     end.
//   - partition: the target's node loses the overlay network: its VXLAN
//     traffic (UDP 4789, what carries the swarm's overlay) is dropped both
//     ways with iptables, and the rules are removed at the end. Everything
//     on that node is cut off, as when a host's link fails.
//   - slow-network: tc netem (delay, jitter, loss) on the node's interfaces
//     (DMTN-149 §4.7), removed at the end.
//   - drain: the worker node's swarm availability set to drain (its tasks
//     are rescheduled), and to active again at the end (or when the run
//     ends).
//
// partition and slow-network run iptables and tc inside the node, which on
// the local environment is a container of this host (the host's Docker
// API); CheckEnvironment refuses them elsewhere before a run starts.
package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/inventory"
	tbswarm "github.com/alert-testbed/testbed/internal/swarm"
)

// Record is what happened to one fault of the experiment.
type Record struct {
	Index    int           `json:"index"` // 1-based, in the experiment's faults list
	Action   string        `json:"action"`
	Target   string        `json:"target"`             // as the experiment names it: "broker 2"
	Resolved string        `json:"resolved,omitempty"` // what it hit: "kafka_kafka-2.1 (container 3f2a…) on testbed-manager-2"
	Node     string        `json:"node,omitempty"`
	Visit    int           `json:"visit"`
	After    time.Duration `json:"after_ns"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	Planned  time.Time     `json:"planned"`          // T0 + (visit-1) x interval + after
	Fired    time.Time     `json:"fired,omitempty"`  // zero: never fired (the run ended first)
	Healed   time.Time     `json:"healed,omitempty"` // zero: an instant (kill, restart), or never healed
	Error    string        `json:"error,omitempty"`  // why it could not fire or heal
	// Recovery is, per consumer group (the experiment's name), the time
	// from the fault's firing to the first lag check after its end at
	// which the group's lag was 0 again; absent when it never was before
	// the run ended.
	Recovery map[string]time.Duration `json:"recovery_ns,omitempty"`
}

// End is when the fault stopped acting: Healed, or Fired for an instant.
func (r Record) End() time.Time {
	if !r.Healed.IsZero() {
		return r.Healed
	}
	return r.Fired
}

// String describes the fault in one line.
func (r Record) String() string {
	s := fmt.Sprintf("fault %d: %s %s", r.Index, r.Action, r.Target)
	if r.Duration > 0 {
		s += " for " + r.Duration.String()
	}
	return s
}

// Env is what the injector acts through.
type Env struct {
	Cluster *tbswarm.Cluster
	Inv     inventory.Inventory
	// Host is the Docker API of the machine the local environment's node
	// containers run on (partition, slow-network); nil elsewhere.
	Host  *client.Client
	RunID string
	Out   io.Writer // live lines; writes are serialized by the caller's writer
}

// CheckEnvironment says whether every fault of e can be carried out on this
// testbed: a worker index within the testbed's workers, and partition and
// slow-network only where the nodes are containers of this host.
func CheckEnvironment(e experiment.Experiment, inv inventory.Inventory, haveHost bool) error {
	workers := len(inv.Workers())
	for i, f := range e.Faults {
		p := fmt.Sprintf("%s: faults[%d]", e.File, i)
		if f.Target.Worker > workers {
			return fmt.Errorf("%s.target.worker: %d is not a worker of testbed %q (it has %d: 1 to %d)", p, f.Target.Worker, inv.Name, workers, workers)
		}
		if (f.Action == experiment.FaultPartition || f.Action == experiment.FaultSlowNetwork) && (inv.Env != "local" || !haveHost) {
			return fmt.Errorf("%s.action: %s needs the local environment (iptables and tc run inside the node containers); testbed %q is on %s", p, f.Action, inv.Name, inv.Env)
		}
		if f.Action == experiment.FaultDrain && workers == 0 {
			return fmt.Errorf("%s.action: drain needs a worker, and testbed %q has none", p, inv.Name)
		}
	}
	return nil
}

// Preflight tries, on the testbed itself, what a fault of e needs that
// the testbed's machine may lack, before anything of the run is made:
// slow-network needs the kernel's netem queueing discipline (sch_netem),
// which some kernels are built without (tc answers "Specified qdisc kind
// is unknown"). It adds and removes a netem qdisc on the first manager's
// loopback.
func Preflight(ctx context.Context, env Env, e experiment.Experiment) error {
	for i, f := range e.Faults {
		if f.Action != experiment.FaultSlowNetwork {
			continue
		}
		in := &Injector{env: env}
		node := env.Cluster.Leader().Name
		if err := in.nodeExec(ctx, node, "tc qdisc add dev lo root netem delay 1ms && tc qdisc del dev lo root"); err != nil {
			return fmt.Errorf("%s: faults[%d].action: slow-network needs the kernel's netem queueing discipline (sch_netem), and this machine's kernel lacks it (%v): run it on a kernel that has it (Debian's and EC2's do), or leave the fault out", e.File, i, err)
		}
		return nil
	}
	return nil
}

// Injector carries out one run's faults.
type Injector struct {
	env Env
	e   experiment.Experiment
	t0  time.Time

	mu      sync.Mutex
	records []Record
	heals   map[int]func(context.Context) error // fired faults still acting, by index
	cancel  context.CancelFunc
	done    chan struct{}
}

// New plans the faults of e for a run whose first visit starts at t0.
func New(env Env, e experiment.Experiment, t0 time.Time) *Injector {
	in := &Injector{env: env, e: e, t0: t0, heals: map[int]func(context.Context) error{}}
	for i, f := range e.Faults {
		in.records = append(in.records, Record{
			Index: i + 1, Action: f.Action, Target: f.Target.String(), Visit: f.At.Visit, After: f.At.After,
			Duration: f.Duration, Planned: t0.Add(e.FaultStart(i)),
		})
	}
	return in
}

// Start fires each fault at its time, and heals it after its duration,
// until Stop.
func (in *Injector) Start(ctx context.Context) {
	ctx, in.cancel = context.WithCancel(ctx)
	in.done = make(chan struct{})
	var wg sync.WaitGroup
	for i := range in.e.Faults {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in.play(ctx, i)
		}()
	}
	go func() {
		wg.Wait()
		close(in.done)
	}()
}

// play fires fault i at its time and heals it after its duration.
func (in *Injector) play(ctx context.Context, i int) {
	f := in.e.Faults[i]
	in.mu.Lock()
	planned := in.records[i].Planned
	in.mu.Unlock()
	if !sleepUntil(ctx, planned) {
		return
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	resolved, node, heal, err := in.fire(fctx, f)
	cancel()
	now := time.Now()
	in.mu.Lock()
	r := &in.records[i]
	r.Fired, r.Resolved, r.Node = now, resolved, node
	if err != nil {
		r.Error = err.Error()
		r.Fired = time.Time{}
	}
	if heal != nil {
		in.heals[i] = heal
	}
	line := r.String()
	in.mu.Unlock()
	if err != nil {
		fmt.Fprintf(in.env.Out, " ✗ %s (visit %d + %s): could not fire: %v\n", line, f.At.Visit, f.At.After, err)
		return
	}
	fmt.Fprintf(in.env.Out, " ! %s (visit %d + %s): %s at %s\n", line, f.At.Visit, f.At.After, resolved, now.Format("15:04:05.0"))
	if heal == nil {
		return
	}
	if f.Duration > 0 && !sleepUntil(ctx, now.Add(f.Duration)) {
		return // Stop heals it
	}
	if f.Duration == 0 {
		<-ctx.Done() // a drain without duration lasts until Stop
		return
	}
	in.healOne(i)
}

// healOne heals fault i if it is still acting, and records when.
func (in *Injector) healOne(i int) {
	in.mu.Lock()
	heal := in.heals[i]
	delete(in.heals, i)
	in.mu.Unlock()
	if heal == nil {
		return
	}
	hctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	err := heal(hctx)
	cancel()
	now := time.Now()
	in.mu.Lock()
	r := &in.records[i]
	r.Healed = now
	if err != nil {
		r.Error = strings.TrimPrefix(r.Error+"; heal: "+err.Error(), "; ")
	}
	line, fired := r.String(), r.Fired
	in.mu.Unlock()
	if err != nil {
		fmt.Fprintf(in.env.Out, " ✗ %s: could not heal: %v\n", line, err)
		return
	}
	fmt.Fprintf(in.env.Out, " ! %s: healed at %s, after %s\n", line, now.Format("15:04:05.0"), now.Sub(fired).Round(100*time.Millisecond))
}

// ObserveLag takes a lag check (per consumer group, by the experiment's
// name) and records, for each fault that has ended, the groups whose lag
// is back at 0 for the first time since.
func (in *Injector) ObserveLag(now time.Time, lag map[string]int64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := range in.records {
		r := &in.records[i]
		if r.Fired.IsZero() || in.heals[i] != nil || now.Before(r.End()) {
			continue
		}
		for g, l := range lag {
			if l != 0 {
				continue
			}
			if _, ok := r.Recovery[g]; ok {
				continue
			}
			if r.Recovery == nil {
				r.Recovery = map[string]time.Duration{}
			}
			r.Recovery[g] = now.Sub(r.Fired)
		}
	}
}

// Stop cancels the faults not fired yet, heals those still acting, and
// returns the records, in the experiment's order.
func (in *Injector) Stop() []Record {
	if in.cancel != nil {
		in.cancel()
		<-in.done
	}
	in.mu.Lock()
	var acting []int
	for i := range in.heals {
		acting = append(acting, i)
	}
	in.mu.Unlock()
	sort.Ints(acting)
	for _, i := range acting {
		in.healOne(i)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Record(nil), in.records...)
}

// fire carries out fault f and returns what it hit, on which node, and how
// to heal it (nil for an instant).
func (in *Injector) fire(ctx context.Context, f experiment.Fault) (resolved, node string, heal func(context.Context) error, err error) {
	if f.Action == experiment.FaultDrain || f.Action == experiment.FaultPartition || f.Action == experiment.FaultSlowNetwork {
		if f.Target.Worker > 0 {
			n, err := in.workerNode(f.Target.Worker)
			if err != nil {
				return "", "", nil, err
			}
			return in.fireOnNode(ctx, f, n)
		}
	}
	t, err := in.task(ctx, f.Target)
	if err != nil {
		return "", "", nil, err
	}
	switch f.Action {
	case experiment.FaultKill:
		err = t.node.API.ContainerKill(ctx, t.container, "SIGKILL")
		return t.String(), t.node.Name, nil, err
	case experiment.FaultRestart:
		if f.Target.Broker > 0 {
			grace := int(restartGrace.Seconds())
			err = t.node.API.ContainerRestart(ctx, t.container, container.StopOptions{Timeout: &grace})
			return t.String(), t.node.Name, nil, err
		}
		err = restartAgent(ctx, t)
		return t.String() + ": stopped gracefully; swarm starts a new task in its slot", t.node.Name, nil, err
	case experiment.FaultPause:
		if err := t.node.API.ContainerPause(ctx, t.container); err != nil {
			return t.String(), t.node.Name, nil, err
		}
		api, id := t.node.API, t.container
		return t.String(), t.node.Name, func(ctx context.Context) error { return api.ContainerUnpause(ctx, id) }, nil
	case experiment.FaultPartition, experiment.FaultSlowNetwork:
		resolved, node, heal, err := in.fireOnNode(ctx, f, t.node)
		return t.String() + ": " + resolved, node, heal, err
	}
	return "", "", nil, fmt.Errorf("action %q is not one of %s", f.Action, strings.Join(experiment.FaultActions, ", "))
}

// restartGrace is how long a restarted task has to stop gracefully before
// it is killed: docker stop's SIGTERM-then-SIGKILL, with the grace Kafka's
// brokers need to hand over their partitions.
const restartGrace = 30 * time.Second

// restartAgent stops an agent's task gracefully for a restart: SIGHUP,
// which the agents take as "end as for SIGTERM, then exit
// lifecycle.RestartExitCode" (agents/lifecycle), and a wait for the
// container to stop (SIGKILL after restartGrace). The exit status makes
// swarm's on-failure restart policy start a new task in the slot; restarting
// the container itself would run it outside swarm's view of the task.
func restartAgent(ctx context.Context, t target) error {
	if err := t.node.API.ContainerKill(ctx, t.container, "SIGHUP"); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, restartGrace)
	defer cancel()
	waitC, errC := t.node.API.ContainerWait(wctx, t.container, container.WaitConditionNotRunning)
	select {
	case <-waitC:
		return nil
	case err := <-errC:
		if errdefs.IsNotFound(err) {
			return nil // swarm removed it already: it stopped
		}
		if wctx.Err() == nil {
			return fmt.Errorf("wait for %s to stop: %w", t, err)
		}
	}
	if err := t.node.API.ContainerKill(ctx, t.container, "SIGKILL"); err != nil && !errdefs.IsNotFound(err) && !errdefs.IsConflict(err) {
		return fmt.Errorf("%s did not stop within %s of SIGHUP, and SIGKILL failed: %w", t, restartGrace, err)
	}
	return nil
}

// fireOnNode carries out a fault that acts on a whole node.
func (in *Injector) fireOnNode(ctx context.Context, f experiment.Fault, n tbswarm.Node) (string, string, func(context.Context) error, error) {
	switch f.Action {
	case experiment.FaultDrain:
		if err := in.setAvailability(ctx, n.Name, swarm.NodeAvailabilityDrain); err != nil {
			return n.Name, n.Name, nil, err
		}
		return "node " + n.Name + " drained", n.Name, func(ctx context.Context) error {
			return in.setAvailability(ctx, n.Name, swarm.NodeAvailabilityActive)
		}, nil
	case experiment.FaultPartition:
		if err := in.nodeExec(ctx, n.Name, partitionScript("-I")); err != nil {
			return n.Name, n.Name, nil, err
		}
		return "node " + n.Name + " cut off the overlay network (UDP 4789 dropped)", n.Name, func(ctx context.Context) error {
			return in.nodeExec(ctx, n.Name, partitionScript("-D"))
		}, nil
	case experiment.FaultSlowNetwork:
		if err := in.nodeExec(ctx, n.Name, netemScript(*f.Netem)); err != nil {
			return n.Name, n.Name, nil, err
		}
		return fmt.Sprintf("node %s network slowed (netem %s)", n.Name, netemArgs(*f.Netem)), n.Name, func(ctx context.Context) error {
			return in.nodeExec(ctx, n.Name, netemClearScript)
		}, nil
	}
	return "", "", nil, fmt.Errorf("%s acts on a task, not on node %s", f.Action, n.Name)
}

// partitionScript adds (-I) or deletes (-D) the rules that drop the node's
// VXLAN traffic both ways.
func partitionScript(op string) string {
	return fmt.Sprintf("iptables %[1]s INPUT -p udp --dport 4789 -j DROP && iptables %[1]s OUTPUT -p udp --dport 4789 -j DROP", op)
}

// netemArgs is tc netem's parameters for n.
func netemArgs(n experiment.Netem) string {
	args := fmt.Sprintf("delay %dus", n.Delay.Microseconds())
	if n.Jitter > 0 {
		args += fmt.Sprintf(" %dus", n.Jitter.Microseconds())
	}
	if n.Loss > 0 {
		args += " loss " + strconv.FormatFloat(n.Loss, 'f', -1, 64) + "%"
	}
	return args
}

// netemScript puts netem on every ethN interface of the node.
func netemScript(n experiment.Netem) string {
	return fmt.Sprintf("set -e; for d in $(ls /sys/class/net | grep '^eth'); do tc qdisc replace dev $d root netem %s; done", netemArgs(n))
}

const netemClearScript = "for d in $(ls /sys/class/net | grep '^eth'); do tc qdisc del dev $d root 2>/dev/null || true; done"

// nodeExec runs a shell script inside a local node's container, through
// the host's Docker API; a non-zero exit is an error with its output.
func (in *Injector) nodeExec(ctx context.Context, node, script string) error {
	if in.env.Host == nil {
		return errors.New("no Docker API of the nodes' host: partition and slow-network need the local environment")
	}
	ex, err := in.env.Host.ContainerExecCreate(ctx, node, container.ExecOptions{Cmd: []string{"sh", "-c", script}, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return fmt.Errorf("exec in node %s: %w", node, err)
	}
	att, err := in.env.Host.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return fmt.Errorf("exec in node %s: %w", node, err)
	}
	var out bytes.Buffer
	_, err = stdcopy.StdCopy(&out, &out, att.Reader)
	att.Close()
	if err != nil {
		return fmt.Errorf("exec in node %s: %w", node, err)
	}
	st, err := in.env.Host.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		return fmt.Errorf("exec in node %s: %w", node, err)
	}
	if st.ExitCode != 0 {
		return fmt.Errorf("in node %s, %q exited %d: %s", node, script, st.ExitCode, strings.TrimSpace(out.String()))
	}
	return nil
}

// setAvailability sets a node's swarm availability.
func (in *Injector) setAvailability(ctx context.Context, name string, a swarm.NodeAvailability) error {
	api := in.env.Cluster.Leader().API
	n, _, err := api.NodeInspectWithRaw(ctx, name)
	if err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}
	spec := n.Spec
	spec.Availability = a
	if err := api.NodeUpdate(ctx, n.ID, n.Version, spec); err != nil {
		return fmt.Errorf("set node %s %s: %w", name, a, err)
	}
	return nil
}

func (in *Injector) workerNode(index int) (tbswarm.Node, error) {
	for _, n := range in.env.Cluster.Nodes {
		if n.Role == inventory.RoleWorker && n.Index == index {
			return n, nil
		}
	}
	return tbswarm.Node{}, fmt.Errorf("testbed %q has no worker %d", in.env.Inv.Name, index)
}

// target is a resolved task: its service and slot, container and node.
type target struct {
	service   string
	slot      int
	container string
	node      tbswarm.Node
}

func (t target) String() string {
	return fmt.Sprintf("%s.%d (container %.12s) on %s", t.service, t.slot, t.container, t.node.Name)
}

// serviceAndSlot names the swarm service and task slot of a task target.
func (in *Injector) serviceAndSlot(t experiment.FaultTarget) (string, int, error) {
	switch {
	case t.Broker > 0:
		return fmt.Sprintf("kafka_kafka-%d", t.Broker), 0, nil // one task; its slot is 1 but restarts keep it
	case t.Consumer != "":
		return experiment.ServiceName(in.env.RunID, experiment.ConsumerLabel(t.Consumer)), t.Member, nil
	case t.FilterGroup > 0:
		return experiment.ServiceName(in.env.RunID, experiment.FiltersLabel(t.FilterGroup)), 1, nil
	case t.Producer > 0:
		return experiment.ServiceName(in.env.RunID, experiment.ProducerLabel), t.Producer, nil
	}
	return "", 0, fmt.Errorf("target %s is not a task", t)
}

// task finds the running task of a target and its container and node.
func (in *Injector) task(ctx context.Context, t experiment.FaultTarget) (target, error) {
	service, slot, err := in.serviceAndSlot(t)
	if err != nil {
		return target{}, err
	}
	api := in.env.Cluster.Leader().API
	tasks, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
		filters.Arg("service", service), filters.Arg("desired-state", "running"))})
	if err != nil {
		return target{}, fmt.Errorf("tasks of %s: %w", service, err)
	}
	for _, tk := range tasks {
		if tk.Status.State != swarm.TaskStateRunning || (slot > 0 && tk.Slot != slot) {
			continue
		}
		if tk.Status.ContainerStatus == nil || tk.Status.ContainerStatus.ContainerID == "" {
			continue
		}
		n, _, err := api.NodeInspectWithRaw(ctx, tk.NodeID)
		if err != nil {
			return target{}, fmt.Errorf("node of %s.%d: %w", service, tk.Slot, err)
		}
		for _, cn := range in.env.Cluster.Nodes {
			if cn.Name == n.Description.Hostname {
				return target{service: service, slot: tk.Slot, container: tk.Status.ContainerStatus.ContainerID, node: cn}, nil
			}
		}
		return target{}, fmt.Errorf("%s.%d runs on %s, which is not a node of testbed %q", service, tk.Slot, n.Description.Hostname, in.env.Inv.Name)
	}
	if slot > 0 {
		return target{}, fmt.Errorf("%s (%s) has no running task in slot %d", t, service, slot)
	}
	return target{}, fmt.Errorf("%s (%s) has no running task", t, service)
}

// sleepUntil waits until t or ctx's end, and says whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
