package orchestrator

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/IBM/sarama"
	"github.com/docker/docker/client"

	"github.com/alert-testbed/testbed/internal/alertschema"
	"github.com/alert-testbed/testbed/internal/archive"
	"github.com/alert-testbed/testbed/internal/bench"
	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/faults"
	"github.com/alert-testbed/testbed/internal/grafana"
	"github.com/alert-testbed/testbed/internal/hostspeed"
	"github.com/alert-testbed/testbed/internal/inventory"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/report"
	"github.com/alert-testbed/testbed/internal/run"
	"github.com/alert-testbed/testbed/internal/swarm"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// DefaultRunsDir is where run archives go unless --runs-dir says
// otherwise (relative to the working folder).
const DefaultRunsDir = "runs"

// RunOptions are the settings of `testbed run`.
type RunOptions struct {
	Testbed     string
	Experiments []experiment.Experiment // validated, in the order to run
	RunsDir     string                  // archives go to RunsDir/<run-id>
	Keep        bool                    // leave the agents' services and the run's topics
	// WarmUp is the brokers' warm-up (warmBrokers) before each run.
	WarmUp WarmUpOptions
	Out    io.Writer
}

// RunResult is one finished (or interrupted) run.
type RunResult struct {
	ID      string
	Dir     string // the archive
	Summary outcome.Summary
}

// ErrRunFailed marks a run that lost or duplicated alerts, missed a limit
// or was interrupted; its archive is written all the same.
var ErrRunFailed = errors.New("run failed")

// Timeouts of the run protocol.
const (
	readersTimeout = 3 * time.Minute // reader tasks running
	groupsTimeout  = 2 * time.Minute // groups Stable with all members
	// externalTimeout bounds the wait for the external consumers: a user
	// starts them by hand.
	externalTimeout = 3 * time.Minute
	// producerLead is the time between the producers' creation and visit
	// 1: their containers start, and cAdvisor samples them before the first
	// burst (its samples are 5 to 9 s apart).
	producerLead = 20 * time.Second
	stopTimeout  = 90 * time.Second
	// visitGrace is how long after a visit's interval ends its line is
	// printed even if incomplete: the members publish a visit's record 5 s
	// after its last alert.
	visitGrace = 20 * time.Second
	lagEvery   = outcome.LagCheck
	// stopDrain bounds how long a run that stops early lets its groups
	// read what was already sent, once the producers are stopped, before
	// it counts what is still unread as not received.
	stopDrain = 15 * time.Second
	// stallTimeout is how long a run whose producers have finished waits
	// for progress (a result record, a group's lag going down) before it
	// stops with visits incomplete.
	stallTimeout = 30 * time.Second
	// foldEvery bounds how often the live loop folds the records.
	foldEvery = 3 * time.Second
)

// brokersInSwarm is the bootstrap the agents use, on the overlay network.
const brokersInSwarm = "kafka-1:19092,kafka-2:19092,kafka-3:19092"

// Run runs the experiments one after the other on a testbed that is up,
// archiving each. It returns the runs made; the error says which failed
// (ErrRunFailed) or what stopped them.
func Run(ctx context.Context, ws workspace.Workspace, o RunOptions) ([]RunResult, error) {
	if o.RunsDir == "" {
		o.RunsDir = DefaultRunsDir
	}
	if err := refuseLiveStream(ws, o.Testbed, "a run"); err != nil {
		return nil, err
	}
	o.Out = &syncWriter{w: o.Out} // the fault injector prints from its goroutines
	env, closeEnv, err := openRunEnv(ctx, ws, o.Testbed, o.Out)
	if err != nil {
		return nil, err
	}
	defer closeEnv()
	env.keep = o.Keep
	if err := clearStaleStream(ctx, env, ws, o.Testbed); err != nil {
		return nil, err
	}

	if len(o.Experiments) > 1 {
		env.sweepID = "sweep-" + NewRunID(time.Now())
	}
	var out []RunResult
	var failed []string
	var table []sweepRow
	for i, e := range o.Experiments {
		if ctx.Err() != nil {
			for _, rest := range o.Experiments[i:] {
				table = append(table, sweepRow{name: rest.Name, verdict: "not started (interrupted)"})
			}
			failed = append(failed, fmt.Sprintf("%d run(s) not started (interrupted)", len(o.Experiments)-i))
			break
		}
		if len(o.Experiments) > 1 {
			fmt.Fprintf(o.Out, "\n=== run %d of %d\n", i+1, len(o.Experiments))
		}
		// Before each run: a fault of the one before may have restarted
		// a broker.
		if err := warmBrokers(ctx, env, ws, o.Testbed, o.WarmUp, o.Out); err != nil {
			return out, err
		}
		res, err := env.runOne(ctx, e, o.RunsDir)
		if res.ID != "" {
			out = append(out, res)
		}
		if len(o.Experiments) == 1 && err != nil && !errors.Is(err, ErrRunFailed) {
			return out, err // refused or broken before its archive: the error says it all
		}
		row := sweepRow{id: res.ID, name: e.Name, dir: res.Dir, verdict: "passed"}
		if err != nil {
			// A run that failed, whatever the cause, does not stop the
			// sweep: its archive says why, and the next run goes on.
			row.verdict = "FAILED"
			if !errors.Is(err, ErrRunFailed) {
				row.verdict = "FAILED: " + err.Error()
				fmt.Fprintf(o.Out, " ✗ run %s: %v\n", e.Name, err)
			}
			failed = append(failed, fmt.Sprintf("%s (%s)", cmp.Or(res.ID, "no archive"), e.Name))
		}
		table = append(table, row)
	}
	if len(o.Experiments) > 1 {
		printSweep(o.Out, table)
		// The comparison of the runs that have an archive, made from
		// their archives as `testbed report` makes it.
		var dirs []string
		for _, r := range out {
			if r.Dir != "" {
				if _, err := os.Stat(filepath.Join(r.Dir, archive.FileRun)); err == nil {
					dirs = append(dirs, r.Dir)
				}
			}
		}
		if len(dirs) > 0 {
			dir := filepath.Join(o.RunsDir, env.sweepID)
			title := fmt.Sprintf("Sweep %s: %d runs", env.sweepID, len(dirs))
			if err := report.WriteSweep(dir, dirs, "", title); err != nil {
				fmt.Fprintf(o.Out, " ✗ comparison of the sweep's runs: %v\n", err)
				failed = append(failed, "the sweep's comparison ("+err.Error()+")")
			} else {
				fmt.Fprintf(o.Out, "Comparison: %s\n", filepath.Join(dir, "compare.md"))
			}
		}
	}
	if len(failed) > 0 {
		return out, fmt.Errorf("%w: %s; see the PROBLEMS above and each run's report.md", ErrRunFailed, strings.Join(failed, ", "))
	}
	return out, nil
}

// sweepRow is one run of a sweep, for the table at its end.
type sweepRow struct{ id, name, dir, verdict string }

// printSweep prints which runs of a sweep passed.
func printSweep(w io.Writer, rows []sweepRow) {
	fmt.Fprintf(w, "\nSWEEP: %d runs\n", len(rows))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  run\tverdict\tarchive\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.name, r.verdict, cmp.Or(r.dir, "-"))
	}
	tw.Flush()
}

type runEnv struct {
	inv       inventory.Inventory
	cluster   *swarm.Cluster
	client    sarama.Client
	admin     sarama.ClusterAdmin
	root      string
	cacheDir  string // the workspace's cache (Rubin's alert schemas)
	agentsRef string
	// agentsHostRef is the agents image as this host's Engine has it
	// (testbed bench runs clients from the host).
	agentsHostRef string
	// registryAuth is the encoded login the nodes pull the agents image
	// with: ECR's on aws, none for the local registry.
	registryAuth string
	settings     workspace.Settings
	// ceilings are the testbed's, as `testbed bench --ceiling` measured
	// them: a run's summary sets its producing rate against the one of
	// its topic settings.
	ceilings []workspace.CeilingFigure
	grafana  *grafana.Client
	out      io.Writer
	keep     bool
	// host is the Docker API of the local environment's host (faults that
	// act inside the node containers); nil elsewhere.
	host *client.Client
	// sweepID names the comparison of a sweep's runs, RUNS-DIR/<sweep-id>/;
	// empty for a single run.
	sweepID string
}

// NewRunID is a run id: UTC date and time and 4 random hex digits,
// 20260102-150405-a1b2, sortable and unique.
func NewRunID(now time.Time) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// liveRun is the state of a run while it goes.
type liveRun struct {
	e        experiment.Experiment
	id       string
	groups   []run.Group
	t0       time.Time
	coll     outcome.Collector
	printed  int // visits whose line is printed
	maxLag   map[string]int64
	lastLag  int64
	problems []string
	notes    []string
	// lagPerVisit holds each stream group's lag at the end of each visit
	// (when the next is due), visit 1 first; lagVisits how many
	// visits' ends have been sampled.
	lagPerVisit map[string][]int64
	lagVisits   int
	// behind are the groups that fell behind: named by a limit, or still
	// behind when the run stopped early.
	behind   map[string]bool
	stopped  *outcome.Stopped
	injector *faults.Injector
	faults   []faults.Record
	// progress is the last time a result record came or the stream
	// groups' lag went down: a run whose visits are incomplete waits for
	// them while there is progress.
	progress time.Time
	// producersDone is when every producer task had completed (zero
	// before).
	producersDone time.Time
	// external are the experiment's external_consumers as groups on the
	// stream topic, and externalLag their lag checks, in time order.
	external    []run.Group
	externalLag map[string][]outcome.LagSample
	// rows is the last fold, of the first folded records, at foldedAt.
	rows     []outcome.VisitGroup
	folded   int
	foldedAt time.Time
	// jitCPU is the brokers' compiler CPU over the run, jitMissing the
	// brokers left out, jitErr why none could be read
	// (archive.Meta.BrokersJITCPU).
	jitCPU     map[string]float64
	jitMissing string
	jitErr     error
	// hostSpeed is the host's speed just before the run, or why it was
	// not read (archive.Meta.HostSpeed).
	hostSpeed    *hostspeed.Reading
	hostSpeedErr error
}

// hostSpeed times hostspeed's workload on a local testbed's host (runs
// and bench rounds); on AWS it returns nothing (the orchestrator's
// machine is not the nodes').
func hostSpeed(ctx context.Context, env *runEnv) (*hostspeed.Reading, error) {
	if env.inv.Env != topology.EnvLocal {
		return nil, nil
	}
	r, err := hostspeed.Measure(ctx, hostspeed.DefaultDuration)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// measureHostSpeed is hostSpeed before a run, its figure printed under the
// run's settings. A failure is returned for the archive and printed, and
// the run goes on.
func measureHostSpeed(ctx context.Context, env *runEnv) (*hostspeed.Reading, error) {
	r, err := hostSpeed(ctx, env)
	switch {
	case err != nil:
		fmt.Fprintf(env.out, "  host:      speed not measured: %v\n", err)
	case r != nil:
		fmt.Fprintf(env.out, "  host:      %s\n", report.HostSpeedLine(r))
	}
	return r, err
}

// syncWriter serializes the writes of the run's live lines: the fault
// injector prints from its own goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (env *runEnv) runOne(ctx context.Context, e experiment.Experiment, runsDir string) (RunResult, error) {
	id := NewRunID(time.Now())
	res := RunResult{ID: id, Dir: filepath.Join(runsDir, id)}
	resultsTopic := "testbed-results-" + id
	workers := len(env.inv.Workers())
	// Whatever the testbed must have for the faults, checked before
	// anything is made.
	if err := faults.CheckEnvironment(e, env.inv, env.host != nil); err != nil {
		return RunResult{}, err
	}
	if err := faults.Preflight(ctx, faults.Env{Cluster: env.cluster, Inv: env.inv, Host: env.host}, e); err != nil {
		return RunResult{}, err
	}
	schema, err := alertschema.Resolve(ctx, e.Alert.Schema, filepath.Dir(e.File), env.cacheDir)
	if err != nil {
		return RunResult{}, fmt.Errorf("%s: alert.schema: %w", e.File, err)
	}
	replay, schema, err := replaySource(e, id, schema)
	if err != nil {
		return RunResult{}, err
	}
	plan, err := run.NewPlan(e, run.Params{RunID: id, Image: env.agentsRef, Brokers: brokersInSwarm,
		ResultsTopic: resultsTopic, Network: swarm.NetworkName, Workers: workers, Schema: schema, Replay: replay})
	if err != nil {
		return RunResult{}, err
	}
	topics := plan.Topics
	lr := &liveRun{e: e, id: id, groups: plan.Groups, maxLag: map[string]int64{},
		lagPerVisit: map[string][]int64{}, behind: map[string]bool{},
		coll: outcome.Collector{RunID: id, StreamTopic: e.Topic.Name}, externalLag: map[string][]outcome.LagSample{}}
	for _, g := range e.ExternalConsumers {
		lr.external = append(lr.external, run.External(g, e.Topic.Name))
	}
	fmt.Fprintf(env.out, "Run %s on testbed %q: %s", id, env.inv.Name, e.String())
	for _, w := range e.Warnings() {
		fmt.Fprintf(env.out, " ! warning: %s\n", w)
	}
	lr.hostSpeed, lr.hostSpeedErr = measureHostSpeed(ctx, env)
	start := time.Now()
	jit := startJITReading(ctx, env)

	// Whatever happens from here on, the agents are stopped, the records
	// collected and the archive written.
	api := env.cluster.Leader().API
	if err := run.CreateTopics(ctx, env.admin, env.client, topics); err != nil {
		_ = run.DeleteTopics(env.admin, topics)
		return RunResult{}, err
	}
	filterTopics, source := len(topics)-2, ""
	if replay != nil {
		filterTopics, source = filterTopics-1, ", "+replay.Topic
	}
	fmt.Fprintf(env.out, " ✓ Created %d topics (%s, %s%s, %d filter topics); every broker knows them\n", len(topics), e.Topic.Name, resultsTopic, source, filterTopics)
	if replay != nil {
		if err := env.loadReplay(ctx, replay); err != nil {
			_ = run.DeleteTopics(env.admin, topics)
			return RunResult{}, err
		}
	}
	records, stopReading, err := readResults(Bootstrap(env.inv), resultsTopic)
	if err != nil {
		_ = run.DeleteTopics(env.admin, topics)
		return RunResult{}, err
	}
	defer stopReading()
	var offset int64 = -1 // last offset read

	runErr := env.deployAndWatch(ctx, lr, plan, records, &offset)
	if ctx.Err() != nil {
		runErr = fmt.Errorf("interrupted at %s", time.Now().Format("15:04:05"))
	}
	streamGroups := lr.streamGroups()
	if runErr != nil {
		lr.stopped = &outcome.Stopped{Reason: runErr.Error(), At: time.Now()}
		lr.problems = append(lr.problems, runErr.Error())
		// Which groups were behind when it stopped.
		if lag, err := run.Lag(env.client, env.admin, streamGroups); err == nil {
			for g, l := range lag {
				if l > 0 {
					lr.behind[g] = true
				}
			}
		}
	}
	end := time.Now()
	// Cleanup and collection must finish even after Ctrl-C.
	cctx := context.WithoutCancel(ctx)
	lr.jitCPU, lr.jitMissing, lr.jitErr = jit.end(cctx, env)
	if ctx.Err() != nil {
		fmt.Fprintf(env.out, "Interrupted: stopping the agents and writing what was measured\n")
	}
	if lr.injector != nil {
		lr.faults = lr.injector.Stop()
	}
	nodeAPIs := env.nodeAPIs()
	if runErr != nil && !lr.t0.IsZero() {
		env.drainStopped(cctx, lr, nodeAPIs, records, &offset)
	}
	vanished, err := run.Vanished(cctx, api, id)
	if err != nil {
		lr.problems = append(lr.problems, "listing the agents' tasks: "+err.Error())
	}
	for _, v := range vanished {
		lr.notes = append(lr.notes, "agent vanished: "+v)
	}
	if err := run.Stop(cctx, api, nodeAPIs, id, stopTimeout); err != nil {
		lr.problems = append(lr.problems, "stopping the agents: "+err.Error())
	}
	if err := drain(env.client, resultsTopic, records, &offset, lr); err != nil {
		lr.problems = append(lr.problems, "reading the results topic: "+err.Error())
	}
	rows, summary := env.account(cctx, lr, runErr, end)
	res.Summary = summary
	logs, err := run.Logs(cctx, api, nodeAPIs, id)
	if err != nil {
		fmt.Fprintf(env.out, " ✗ Agent logs: %v\n", err)
	}

	if env.keep {
		fmt.Fprintf(env.out, " - Kept the agents' services (run-%s-*) and the run's topics (--keep)\n", id)
	} else {
		n, err := run.Remove(cctx, api, id)
		if err == nil {
			err = run.DeleteTopics(env.admin, topics)
		}
		if err != nil {
			fmt.Fprintf(env.out, " ✗ Removing the run's services and topics: %v\n", err)
		} else {
			fmt.Fprintf(env.out, " ✓ Removed %d agent services and %d topics\n", n, len(topics))
		}
	}

	fmt.Fprintln(env.out)
	res.Summary.Print(env.out)
	if err := env.writeArchive(cctx, res, e, lr, rows, logs, start, end); err != nil {
		return res, fmt.Errorf("writing the archive %s: %w", res.Dir, err)
	}
	fmt.Fprintf(env.out, "Archive: %s (report: %s)\n", res.Dir, filepath.Join(res.Dir, "report.md"))
	if !res.Summary.OK() {
		return res, ErrRunFailed
	}
	return res, nil
}

// account folds the run's records once the agents have stopped: the
// stream groups' visits, the end users, what each group had not read when
// it stopped (not received, not lost), the faults' notes and problems; and
// summarizes the run (outcome.Summarize).
func (env *runEnv) account(ctx context.Context, lr *liveRun, runErr error, end time.Time) ([]outcome.VisitGroup, outcome.Summary) {
	e := lr.e
	rows, err := lr.coll.Fold(e.Visits, lr.groups)
	if err != nil {
		lr.problems = append(lr.problems, err.Error())
	}
	endUsers, err := lr.coll.FoldEndUsers(lr.groups, func(t string) (n int64, err error) {
		err = retryKafka(env.client, func() (err error) { n, err = run.TopicCount(env.client, t); return err })
		return n, err
	})
	if err != nil {
		lr.problems = append(lr.problems, "end users: "+err.Error())
	}
	// What each group had not read when the agents stopped (they commit
	// all they accounted for on their way out) is not received, not lost.
	var lagAtEnd map[string]int64
	if err := retryKafka(env.client, func() (err error) {
		lagAtEnd, err = run.Lag(env.client, env.admin, lr.groups)
		return err
	}); err != nil {
		lr.problems = append(lr.problems, "lag at the end: "+err.Error())
	} else {
		outcome.MarkNotReceived(rows, lagAtEnd)
		outcome.MarkEndUsersNotReceived(endUsers, lagAtEnd)
	}
	if n := len(lr.coll.Bad); n > 0 {
		lr.problems = append(lr.problems, fmt.Sprintf("%d result records could not be read; first: %s", n, lr.coll.Bad[0]))
	}
	if runErr != nil && !lr.t0.IsZero() {
		// The line of every visit that started, as far as it got.
		_ = env.printVisits(lr, rows, end, true)
	}
	lr.notes = append(faultNotes(lr.faults, lr.groups), lr.notes...)
	for _, f := range lr.faults {
		// The run did not test what it was asked to.
		if f.Error != "" {
			lr.problems = append(lr.problems, fmt.Sprintf("%s: %s", f, f.Error))
		}
	}
	cpu, err := env.producingCPU(ctx, rows)
	if err != nil {
		lr.notes = append(lr.notes, "CPU while producing not read: "+err.Error())
	}
	return rows, outcome.Summarize(outcome.Facts{
		RunID: lr.id, Experiment: e.Name, Visits: e.Visits, Groups: lr.groups, Rows: rows, EndUsers: endUsers,
		MaxLag: lr.maxLag, LagPerVisit: lr.lagPerVisit, Behind: lr.behind, Stopped: lr.stopped,
		Expect: e.Expect.Duplicates, Problems: lr.problems, Notes: lr.notes,
		External: e.ExternalConsumers, ExternalLag: lr.externalLag, T0: lr.t0, End: end,
		Schedule: e.Schedule(), Ceiling: env.ceiling(e.Topic), CPU: cpu,
	})
}

// producingCPU is the busiest node's CPU use over the producing times of
// the visits the producers finished (from when each was due to its last
// ack), each visit's busy ratio weighted by its producing time; nil
// without such a visit.
func (env *runEnv) producingCPU(ctx context.Context, rows []outcome.VisitGroup) (*outcome.ProducingCPU, error) {
	done := map[int]bool{}
	busy := map[string]float64{} // node: busy ratio x seconds
	cores := map[string]int{}
	var total float64
	for _, r := range rows {
		if done[r.Visit] || !r.ProducersFinished() || r.ProducingTime <= 0 {
			continue
		}
		done[r.Visit] = true
		nodes, err := monitoring.NodeCPUBusy(ctx, promURL(env.inv), r.IntendedStart, r.IntendedStart.Add(r.ProducingTime))
		if err != nil {
			return nil, err
		}
		secs := r.ProducingTime.Seconds()
		total += secs
		for _, n := range nodes {
			busy[n.Node] += n.Busy * secs
			cores[n.Node] = n.Cores
		}
	}
	if total == 0 || len(busy) == 0 {
		return nil, nil
	}
	var out *outcome.ProducingCPU
	for _, node := range slices.Sorted(maps.Keys(busy)) {
		if b := busy[node] / total; out == nil || b > out.Busy {
			out = &outcome.ProducingCPU{Node: node, Cores: cores[node], Busy: b}
		}
	}
	out.Shared = env.inv.Env == topology.EnvLocal
	return out, nil
}

// ceiling is the testbed's ceiling from the swarm (where the producers
// run) at the topic's partitions and replication factor; nil when none
// was measured.
func (env *runEnv) ceiling(t experiment.Topic) *workspace.CeilingFigure {
	f, ok := workspace.FindCeiling(env.ceilings, bench.FromSwarm, t.Partitions, t.ReplicationFactor)
	if !ok {
		return nil
	}
	return &f
}

// followingExternal says whether the run still follows its external
// consumer groups at now: until the last visit's window has closed (the
// run's end, when a next visit would be due, or OverrunGrace and a lag
// check after the last visit's last acknowledgement when its producing
// ran past the end), so that every visit is judged over a whole window.
func (lr *liveRun) followingExternal(now time.Time) bool {
	if len(lr.external) == 0 {
		return false
	}
	if now.Before(lr.t0.Add(lr.e.Duration())) || lr.producersDone.IsZero() {
		return true
	}
	var last time.Time
	for _, r := range lr.rows {
		if r.Visit == lr.e.Visits && r.LastAck.After(last) {
			last = r.LastAck
		}
	}
	return now.Before(last.Add(outcome.OverrunGrace + outcome.LagCheck))
}

// streamGroups are the run's groups that read the alert stream.
func (lr *liveRun) streamGroups() []run.Group {
	var out []run.Group
	for _, g := range lr.groups {
		if g.Stream {
			out = append(out, g)
		}
	}
	return out
}

// drainStopped is the end of a run that stops early: the producers are
// stopped for good (SIGINT: they publish the records of the visits they
// began, with what they did not send; agents/lifecycle), and the
// groups get up to stopDrain to read what was already sent, so that an
// alert in flight is counted as received, and only what is still unread
// after that as not received.
func (env *runEnv) drainStopped(ctx context.Context, lr *liveRun, nodes []*client.Client, records <-chan *sarama.ConsumerMessage, offset *int64) {
	if err := run.Signal(ctx, nodes, lr.id, run.RoleProducer, "SIGINT"); err != nil {
		lr.problems = append(lr.problems, "stopping the producers: "+err.Error())
	}
	deadline := time.Now().Add(stopDrain)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lag map[string]int64
	for time.Now().Before(deadline) {
		select {
		case m := <-records:
			lr.coll.Add(m.Value)
			*offset = m.Offset
			continue
		case <-tick.C:
		}
		l, err := run.Lag(env.client, env.admin, lr.groups)
		if err != nil {
			continue
		}
		lag = l
		var total int64
		for _, v := range l {
			total += v
		}
		if total == 0 {
			fmt.Fprintf(env.out, " ✓ Stopped the producers; every group has read all that was sent\n")
			return
		}
	}
	var behind []string
	for _, g := range lr.groups {
		if lag[g.Name] > 0 {
			behind = append(behind, fmt.Sprintf("%s %d", g.Label, lag[g.Name]))
		}
	}
	fmt.Fprintf(env.out, " - Stopped the producers; after %s still unread (lag): %s\n", stopDrain, strings.Join(behind, ", "))
}

// faultNotes describes each fault of the run: what it hit, when, when it
// healed, and how long each group took to be back at lag 0.
func faultNotes(recs []faults.Record, groups []run.Group) []string {
	var out []string
	for _, r := range recs {
		var b strings.Builder
		b.WriteString(r.String())
		switch {
		case r.Fired.IsZero() && r.Error != "":
			fmt.Fprintf(&b, ": could not fire: %s", r.Error)
		case r.Fired.IsZero():
			b.WriteString(": never fired (the run ended first)")
		default:
			fmt.Fprintf(&b, " at %s (visit %d + %s), %s", r.Fired.Format("15:04:05.0"), r.Visit, r.After, r.Resolved)
			if !r.Healed.IsZero() {
				fmt.Fprintf(&b, ", healed after %s", r.Healed.Sub(r.Fired).Round(100*time.Millisecond))
			}
			var rec []string
			for _, g := range groups {
				if !g.Stream {
					continue
				}
				if d, ok := r.Recovery[g.Label]; ok {
					rec = append(rec, fmt.Sprintf("%s %.1f s", g.Label, d.Seconds()))
				} else {
					rec = append(rec, g.Label+" never")
				}
			}
			if len(rec) > 0 {
				fmt.Fprintf(&b, "; back at lag 0: %s", strings.Join(rec, ", "))
			}
			if r.Error != "" {
				fmt.Fprintf(&b, "; %s", r.Error)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// deployAndWatch deploys the agents, gives the producers their start time
// once every reader has joined its group, and follows the run until every
// visit is accounted, a limit is passed or ctx ends.
func (env *runEnv) deployAndWatch(ctx context.Context, lr *liveRun, plan run.Plan, records <-chan *sarama.ConsumerMessage, offset *int64) error {
	api := env.cluster.Leader().API
	e := lr.e
	readers := plan.Readers
	t := time.Now()
	if err := run.Deploy(ctx, api, readers, env.registryAuth, readersTimeout); err != nil {
		return err
	}
	running := time.Since(t)
	if err := run.WaitGroups(ctx, env.client, env.admin, lr.groups, groupsTimeout); err != nil {
		return err
	}
	fmt.Fprintf(env.out, " ✓ Started %d reader services; %d consumer groups stable with all members (%s: tasks running in %s)\n",
		len(readers), len(lr.groups), time.Since(t).Round(100*time.Millisecond), running.Round(100*time.Millisecond))
	if len(lr.external) > 0 {
		// The user starts these, now if not before: the run waits for
		// them so that visit 1 is not over before they read.
		fmt.Fprintf(env.out, " • Waiting up to %s for the external consumer groups %s to have a member on topic %s (bootstrap from this host: %s)\n",
			externalTimeout, strings.Join(e.ExternalConsumers, ", "), e.Topic.Name, strings.Join(Bootstrap(env.inv), ","))
		t := time.Now()
		if err := run.WaitGroups(ctx, env.client, env.admin, lr.external, externalTimeout); err != nil {
			return fmt.Errorf("%w: start each external consumer (its group.id, topic %s, bootstrap %s) before or during `testbed run`, or take it out of external_consumers", err, e.Topic.Name, strings.Join(Bootstrap(env.inv), ","))
		}
		fmt.Fprintf(env.out, " ✓ External consumer groups joined (%s)\n", time.Since(t).Round(100*time.Millisecond))
	}
	t0 := time.Now().Add(producerLead).Truncate(time.Second)
	if err := run.Deploy(ctx, api, []run.Agent{plan.Producers(t0)}, env.registryAuth, readersTimeout); err != nil {
		return err
	}
	lr.t0 = t0
	if len(e.Slots) > 0 {
		fmt.Fprintf(env.out, " ✓ Started %d producers: visit 1 at %s, then each exposure at its observed time, the last (visit %d) at %s, until %s\n",
			e.Producers, lr.t0.Format("15:04:05"), e.Visits, lr.t0.Add(e.VisitStart(e.Visits)).Format("15:04:05"), lr.t0.Add(e.Duration()).Format("15:04:05"))
	} else {
		fmt.Fprintf(env.out, " ✓ Started %d producers: visit 1 at %s, then every %s until %s\n",
			e.Producers, lr.t0.Format("15:04:05"), e.VisitInterval, lr.t0.Add(e.Duration()).Format("15:04:05"))
	}
	if len(e.Faults) > 0 {
		lr.injector = faults.New(faults.Env{Cluster: env.cluster, Inv: env.inv, Host: env.host, RunID: lr.id, Out: env.out}, e, lr.t0)
		lr.injector.Start(ctx)
		fmt.Fprintf(env.out, " ✓ Scheduled %d faults, the first at %s\n", len(e.Faults), lr.t0.Add(e.FaultStart(0)).Format("15:04:05.0"))
	}

	deadline := lr.t0.Add(e.Limits.RunTimeout)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var nextLag, nextTasks time.Time
	streamGroups := lr.streamGroups()
	lagGroups := append(streamGroups[:len(streamGroups):len(streamGroups)], lr.external...)
	label := map[string]string{}
	for _, g := range lr.groups {
		label[g.Name] = g.Label
	}
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted at %s", time.Now().Format("15:04:05"))
		case m := <-records:
			lr.coll.Add(m.Value)
			*offset = m.Offset
			lr.progress = time.Now()
			continue
		case now := <-tick.C:
			if now.After(nextLag) && len(lagGroups) > 0 {
				nextLag = now.Add(lagEvery)
				// One check for the run's stream groups and the external
				// ones, which read the same topic (its high-water marks are
				// read once); the external samples are stamped when it is
				// made, not when the tick fired (the loop may take the tick
				// late).
				at := time.Now()
				if pos, err := run.Positions(env.client, env.admin, lagGroups); err == nil {
					lag := make(map[string]int64, len(pos))
					for g, p := range pos {
						lag[g] = p.Lag
					}
					for _, g := range lr.external {
						lr.externalLag[g.Name] = append(lr.externalLag[g.Name], outcome.LagSample{Time: at, Lag: pos[g.Name].Lag, Committed: pos[g.Name].Committed})
						delete(lag, g.Name)
					}
					if len(streamGroups) > 0 {
						if err := lr.observeLag(now, lag, label); err != nil {
							return err
						}
					}
				}
			}
			if lr.producersDone.IsZero() && now.After(nextTasks) {
				nextTasks = now.Add(3 * time.Second)
				done, err := run.ProducersDone(ctx, api, lr.id, e.Producers)
				if err != nil {
					return err
				}
				if done {
					lr.producersDone = now
				}
			}
			// The fold goes over every record of the run, and members
			// publish every second: fold again only when records came,
			// and at most every foldEvery.
			if len(lr.coll.Raw) != lr.folded && now.Sub(lr.foldedAt) >= foldEvery {
				rows, err := lr.coll.Fold(e.Visits, lr.groups)
				if err != nil {
					return err
				}
				lr.rows, lr.folded, lr.foldedAt = rows, len(lr.coll.Raw), now
			}
			rows := lr.rows
			if err := env.printVisits(lr, rows, now, false); err != nil {
				return err
			}
			if done, err := lr.ending(now, rows, deadline); done || err != nil {
				return err
			}
		}
	}
}

// ending says whether the live loop ends at now, with rows the latest
// fold: done (nil error) once every visit is printed and complete, the
// producers have finished and the external groups' windows have closed;
// an error when it gives up. It gives up on visits that never complete,
// once the producers have finished, visitGrace has passed and nothing
// moves any more (no record comes and no group's lag goes down: a record
// delayed by a broker's failover still counts), and at
// limits.run_timeout. A run whose visits are all complete and which only
// waits for the external windows to close is never a stall.
func (lr *liveRun) ending(now time.Time, rows []outcome.VisitGroup, deadline time.Time) (bool, error) {
	e := lr.e
	complete := lr.printed == e.Visits && allComplete(rows) && !lr.producersDone.IsZero()
	if complete && !lr.followingExternal(now) {
		return true, nil
	}
	if !complete && !lr.producersDone.IsZero() && now.Sub(lr.producersDone) > visitGrace && lr.printed == e.Visits && now.Sub(lr.progress) > stallTimeout {
		return true, fmt.Errorf("not every visit was received by every group, and nothing has moved for %s since (no result record, no group's lag going down)", stallTimeout)
	}
	if now.After(deadline) {
		return true, fmt.Errorf("limits.run_timeout %s passed before every visit was accounted", e.Limits.RunTimeout)
	}
	return false, nil
}

// observeLag takes one lag check of the stream groups: the largest lag of
// each, the lag at each visit's end, the faults' recovery, and
// limits.max_lag.
func (lr *liveRun) observeLag(now time.Time, lag map[string]int64, label map[string]string) error {
	e := lr.e
	before := lr.lastLag
	lr.lastLag = 0
	for g, l := range lag {
		lr.maxLag[g] = max(lr.maxLag[g], l)
		lr.lastLag += l
	}
	if lr.lastLag < before {
		lr.progress = now
	}
	for lr.lagVisits < e.Visits && !now.Before(lr.t0.Add(e.VisitStart(lr.lagVisits+2))) {
		for g, l := range lag {
			lr.lagPerVisit[g] = append(lr.lagPerVisit[g], l)
		}
		lr.lagVisits++
	}
	if lr.injector != nil {
		byLabel := make(map[string]int64, len(lag))
		for g, l := range lag {
			byLabel[label[g]] = l
		}
		lr.injector.ObserveLag(now, byLabel)
	}
	for g, l := range lag {
		if e.Limits.MaxLag > 0 && l > int64(e.Limits.MaxLag) {
			lr.behind[g] = true
			return fmt.Errorf("group %s fell %d alerts behind, more than limits.max_lag %d", label[g], l, e.Limits.MaxLag)
		}
	}
	return nil
}

func allComplete(rows []outcome.VisitGroup) bool {
	for _, r := range rows {
		if !r.Complete {
			return false
		}
	}
	return true
}

// printVisits prints the line of each visit, in order, once every group
// has it complete or its grace has passed; it fails the run when a visit
// misses limits.visit_deadline. final (the run stopped early) prints the
// line of every visit that started by now, as far as it got.
func (env *runEnv) printVisits(lr *liveRun, rows []outcome.VisitGroup, now time.Time, final bool) error {
	e := lr.e
	byVisit := map[int][]outcome.VisitGroup{}
	for _, r := range rows {
		byVisit[r.Visit] = append(byVisit[r.Visit], r)
	}
	label := map[string]string{}
	for _, g := range lr.groups {
		label[g.Name] = g.Label
	}
	for lr.printed < e.Visits {
		v := lr.printed + 1 // visits are numbered from 1
		vrows := byVisit[v]
		start, end := lr.t0.Add(e.VisitStart(v)), lr.t0.Add(e.VisitStart(v+1))
		complete := len(vrows) > 0
		var late []string
		for _, r := range vrows {
			ok := r.Complete && r.Producers == e.Producers
			complete = complete && ok
			if !ok {
				late = append(late, label[r.Group])
				if !final && e.Limits.VisitDeadline > 0 && now.After(start.Add(e.Limits.VisitDeadline)) {
					lr.behind[r.Group] = true
				}
			}
		}
		if final && now.Before(start) {
			return nil // never started
		}
		if !final && !complete && e.Limits.VisitDeadline > 0 && now.After(start.Add(e.Limits.VisitDeadline)) {
			return fmt.Errorf("visit %d not received by %s within limits.visit_deadline %s", v, strings.Join(late, ", "), e.Limits.VisitDeadline)
		}
		if !final && !complete && now.Before(end.Add(visitGrace)) {
			return nil
		}
		// Producers behind their schedule (each sends its visits in
		// turn) have not reported the visit yet: its line waits for them,
		// unless they have finished.
		if !final && !complete && lr.producersDone.IsZero() && (len(vrows) == 0 || vrows[0].Producers < e.Producers) {
			return nil
		}
		var b strings.Builder
		if len(vrows) > 0 && vrows[0].Producers > 0 {
			fmt.Fprintf(&b, "visit %d/%d: produced %d in %.2f s", v, e.Visits, vrows[0].Acked, vrows[0].ProducingTime.Seconds())
		} else {
			fmt.Fprintf(&b, "visit %d/%d: no producer record yet", v, e.Visits)
		}
		var lost, notReceived, notSent int
		for _, r := range vrows {
			if r.Complete {
				fmt.Fprintf(&b, " | %s %d/%d %+.2f s", label[r.Group], r.Unique, r.Expected, r.TransitTime.Seconds())
			} else {
				fmt.Fprintf(&b, " | %s %d/%d so far", label[r.Group], r.Unique, r.Expected)
			}
			if r.Redelivered > 0 {
				fmt.Fprintf(&b, " (%d re-delivered)", r.Redelivered)
			}
			lost += r.Lost
			notReceived += r.NotReceived
			notSent += r.NotSent
		}
		if !final {
			fmt.Fprintf(&b, " | lag %d", lr.lastLag)
		}
		switch {
		case final && !complete:
			fmt.Fprintf(&b, " | run stopped: %d not received, %d not sent, %d lost", notReceived, notSent, lost)
		case !complete:
			fmt.Fprintf(&b, " | INCOMPLETE: %d missing so far", lost+notReceived+notSent)
		}
		fmt.Fprintln(env.out, b.String())
		lr.printed++
	}
	return nil
}

// drain reads the results topic up to its high-water mark, now that no
// agent writes to it any more.
func drain(client sarama.Client, topic string, records <-chan *sarama.ConsumerMessage, offset *int64, lr *liveRun) error {
	var hwm int64
	err := retryKafka(client, func() (err error) {
		hwm, err = client.GetOffset(topic, 0, sarama.OffsetNewest)
		return err
	})
	if err != nil {
		return err
	}
	timeout := time.After(60 * time.Second)
	for *offset+1 < hwm {
		select {
		case m := <-records:
			lr.coll.Add(m.Value)
			*offset = m.Offset
		case <-timeout:
			return fmt.Errorf("read up to offset %d of %d after 60 s", *offset+1, hwm)
		}
	}
	return nil
}

// retryKafka calls f until it succeeds, for up to kafkaSettle: after a
// broker's failover, the client's metadata can name a leader that no
// longer is one, and a group's coordinator may still be loading its
// offsets. Between tries the client's metadata is refreshed.
func retryKafka(client sarama.Client, f func() error) error {
	deadline := time.Now().Add(kafkaSettle)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(time.Second)
		_ = client.RefreshMetadata()
	}
}

// kafkaSettle bounds retryKafka: a leader election and a coordinator's
// offset loading take seconds.
const kafkaSettle = 30 * time.Second

// findGrafana returns a client of the testbed's Grafana if one answers on
// manager 1, nil otherwise (it is deployed where its image can be had).
func findGrafana(ctx context.Context, inv inventory.Inventory, s workspace.Settings) *grafana.Client {
	c, err := grafana.New(grafanaURL(inv), "admin", s.GrafanaPassword, grafana.WithTimeout(5*time.Second))
	if err != nil {
		return nil
	}
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if c.Health(hctx) != nil {
		return nil
	}
	return c
}

// writeArchive gathers what the archive holds besides the run's own
// records (the services' metrics over the run's window, the TSDB
// snapshot, Grafana's annotations and snapshot) and has internal/archive
// write it into res.Dir, then internal/report make the report from it.
func (env *runEnv) writeArchive(ctx context.Context, res RunResult, e experiment.Experiment, lr *liveRun, rows []outcome.VisitGroup, logs map[string][]byte, start, end time.Time) error {
	a, err := archive.Create(res.Dir)
	if err != nil {
		return err
	}
	promURL := promURL(env.inv)
	// The window the metrics cover: from the readers' start to the end,
	// with a scrape interval either side.
	from, to := start.Add(-10*time.Second), end.Add(10*time.Second)
	// The last samples of the window must be scraped and recorded first.
	if wait := time.Until(to.Add(5 * time.Second)); wait > 0 {
		time.Sleep(wait)
	}

	meta := archive.Meta{
		FormatVersion: archive.FormatVersion,
		RunID:         res.ID, Experiment: e.Name, File: e.File, Base: e.Base, Sweep: e.Sweep, SweepID: env.sweepID,
		Testbed: env.inv.Name, Env: env.inv.Env,
		Nodes: env.inv.Nodes, Start: start, End: end, T0: lr.t0, Keep: env.keep,
		Versions:    archive.Versions(env.agentsRef),
		GitRevision: archive.GitRevision(env.root),
		Problems:    res.Summary.Problems,
	}
	meta.Window.From, meta.Window.To = from, to
	meta.BrokersJITCPU, meta.JITCPUNote = lr.jitCPU, lr.jitMissing
	meta.HostSpeed = lr.hostSpeed
	if lr.hostSpeedErr != nil {
		meta.HostSpeedError = lr.hostSpeedErr.Error()
	}
	if lr.jitErr != nil {
		meta.JITCPUNote = "not read: " + lr.jitErr.Error()
	}
	// The testbed's stacks and this run's agents; not the stale series of
	// earlier runs' agents, which Prometheus still returns for 5 minutes.
	services := fmt.Sprintf("(%s|%s|grafana)_.*|run-%s-.*", monitoring.StackName, topology.KafkaStack, res.ID)
	c := archive.Contents{Experiment: e, Records: lr.coll.Raw, Rows: rows, Groups: lr.groups, Summary: res.Summary, Faults: lr.faults, Logs: logs}
	if c.Series, err = monitoring.ServiceSeries(ctx, promURL, services, from, to, 5*time.Second); err != nil {
		c.Series, meta.MetricsError = nil, err.Error()
	}
	if c.Totals, err = monitoring.ServiceTotals(ctx, promURL, services, from, to); err != nil {
		c.Totals = nil
		if meta.MetricsError == "" {
			meta.MetricsError = err.Error()
		}
	}
	if jit := report.BrokersJIT(meta.BrokersJITCPU, meta.JITCPUNote, c.Totals); jit != "" {
		// Beside the summary: why the first runs on fresh brokers are slower.
		fmt.Fprintf(env.out, "  %s\n", jit)
	}
	name, err := monitoring.Snapshot(ctx, promURL)
	if err == nil {
		var n int64
		n, err = monitoring.CopySnapshot(ctx, env.cluster.Nodes[0].API, name, filepath.Join(res.Dir, filepath.FromSlash(archive.DirTSDB)))
		if err == nil {
			meta.Snapshot, meta.SnapshotBytes = name, n
		}
	}
	if err != nil {
		meta.SnapshotError = err.Error()
	}

	var links []string
	if env.grafana != nil {
		text := fmt.Sprintf("run %s: %s", res.ID, e.Name)
		if _, err := env.grafana.Annotate(ctx, text, []string{"testbed-run", res.ID}, start, end); err != nil {
			links = append(links, "annotation failed: "+err.Error())
		} else {
			links = append(links, fmt.Sprintf("annotation %q (tag testbed-run)", text))
		}
		for _, f := range lr.faults {
			if f.Fired.IsZero() {
				continue
			}
			if _, err := env.grafana.Annotate(ctx, fmt.Sprintf("run %s: %s (%s)", res.ID, f, f.Resolved), []string{"testbed-fault", res.ID}, f.Fired, f.End()); err != nil {
				links = append(links, fmt.Sprintf("annotation of fault %d failed: %v", f.Index, err))
			}
		}
		links = append(links, fmt.Sprintf("[run dashboard](%s/d/testbed-run?var-run=%s&from=%d&to=%d)", env.grafana.BaseURL(), res.ID, from.UnixMilli(), to.UnixMilli()))
		if u, _, err := env.grafana.Snapshot(ctx, "testbed-run", "run "+res.ID, from, to, 0); err != nil {
			links = append(links, "dashboard snapshot failed: "+err.Error())
		} else {
			links = append(links, fmt.Sprintf("[dashboard snapshot](%s)", u))
		}
		meta.Grafana = links
	}

	c.Meta = meta
	if err := a.Write(c); err != nil {
		return err
	}
	// The report is made from the archive's files alone, as `testbed
	// report` makes it again.
	return report.Render(res.Dir, res.Dir)
}
