package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/alert-testbed/testbed/internal/bench"
	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/kafka"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/report"
	"github.com/alert-testbed/testbed/internal/run"
	"github.com/alert-testbed/testbed/internal/steps"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// The warm-up's load, per broker and round: one LSST visit (DMTN-028:
// 10,000 alerts of about 136 KB with stamps) into a topic that broker
// leads, read by a consumer group as it is written.
//
// Why per leader: a run's topic has one partition, led by one broker,
// and that leader does most of the run's broker work (it takes the
// produce requests, waits for the ISR, serves the followers and the
// groups). Measured on the 3+10 local testbed (2026-12-02, README "Where
// an LSST visit's time goes"): after the brokers restarted, each of the
// first three 5-visit lsst-visit runs was led by a broker that had not
// led a run yet, and the leader's JVM compiled through the run (its JIT
// time 35-61 s against 4-7 s on the followers of the third); the
// brokers' compiler threads took 41.7, 28.5 and 14.9 s of CPU in those
// runs, and 4.1 and 3.2 s in the next two, led by a broker that had led
// before.
//
// The topics are replicated as runs' topics are by default
// (experiment.DefaultReplicationFactor, DefaultMinInsyncReplicas): the
// leader compiles the code that waits for and serves its followers too.
const (
	DefaultWarmUpAlerts = 10_000  // alerts each broker leads a round: an LSST visit
	warmUpRecordSize    = 136_000 // bytes
	// MinWarmUpAlerts and MaxWarmUpAlerts bound --warm-up-alerts: fewer
	// than 100 alerts are a few produce requests, not a load to compile
	// for; 100,000 alerts of 136 KB are 13.6 GB a broker and round, on
	// the nodes' disks.
	MinWarmUpAlerts = 100
	MaxWarmUpAlerts = 100_000
)

// WarmUpOptions are a run's, stream's or bench's warm-up of the brokers.
type WarmUpOptions struct {
	// Rounds is the most rounds the brokers get, counting those already
	// made on the same broker containers; 0: none.
	Rounds int
	// Alerts is how many alerts of 136,000 bytes each broker leads in a
	// round; 0: DefaultWarmUpAlerts. Smaller rounds are quicker and warm
	// less: by the same measure (WarmUpSettledCPU) they settle sooner.
	Alerts int
}

// alerts is o.Alerts, defaulted.
func (o WarmUpOptions) alerts() int {
	if o.Alerts == 0 {
		return DefaultWarmUpAlerts
	}
	return o.Alerts
}

// Validate checks the options as the flags give them (Alerts set: 0 is
// not a size there).
func (o WarmUpOptions) Validate() error {
	if o.Rounds < 0 {
		return fmt.Errorf("--warm-up-rounds %d: give the most warm-up rounds, 0 for none (default %d; the warm-up ends sooner once the brokers' JIT compilers settle)", o.Rounds, DefaultWarmUpRounds)
	}
	if o.Alerts < MinWarmUpAlerts || o.Alerts > MaxWarmUpAlerts {
		return fmt.Errorf("--warm-up-alerts %d: give the alerts of %d bytes each broker leads in a warm-up round, from %d to %d (default %d, an LSST visit)",
			o.Alerts, warmUpRecordSize, MinWarmUpAlerts, MaxWarmUpAlerts, DefaultWarmUpAlerts)
	}
	return nil
}

// roundAlerts is the alerts per broker of a saved warm-up's rounds:
// warm-up.json files written before they were recorded had
// DefaultWarmUpAlerts.
func roundAlerts(w workspace.WarmUp) int {
	if w.AlertsPerRound == 0 {
		return DefaultWarmUpAlerts
	}
	return w.AlertsPerRound
}

// warmUpLoad names a round's load per broker, for the step's title.
func warmUpLoad(alerts int) string {
	if alerts == DefaultWarmUpAlerts {
		return "an LSST visit"
	}
	return fmt.Sprintf("%d alerts of %d bytes", alerts, warmUpRecordSize)
}

// DefaultWarmUpRounds is the most warm-up rounds new brokers get; the
// warm-up ends before when a round leaves the JVMs settled
// (WarmUpSettledCPU): after 3 and after 5 rounds on the two fresh 3+10
// local testbeds of 2026-12-06. On the first, 10 rounds were made (the
// compiler threads' CPU read in /proc every 10 s): their compiler CPU was
// about 40, 18, 3.2, 6.5, 2.7, 1.9, 2.8, 1.0, 1.0 and 0.8 s, the 5-visit
// run after them compiled 3.9 s, and the rounds' brokers' CPU stayed at
// 61-71 s from round 3 on. 8 leaves room for JVMs that settle late.
const DefaultWarmUpRounds = 8

// WarmUpSettledCPU is the compiler threads' CPU time over a round, summed
// over the brokers, at or under which the round shows the brokers' JVMs
// settled and ends the warm-up: by then compiling is under 10 % of the
// round's broker CPU (61-71 s, as above), and a run's compiling is a few
// seconds of its CPU.
const WarmUpSettledCPU = 5 * time.Second

// warmBrokers warms the testbed's brokers' JVMs before runs are measured:
// warm-up rounds (warmUp) until one leaves the JVMs settled (its
// compiler threads used at most WarmUpSettledCPU) or o.Rounds of them
// are made, counting those the last warm-up made on the same broker
// containers with rounds at least as large (a restarted broker is a new
// JVM, and all of them are warmed again). 0 rounds does nothing. Each
// round prints a line with its brokers' compiler CPU and JIT time; the
// whole is one step line.
func warmBrokers(ctx context.Context, env *runEnv, ws workspace.Workspace, name string, o WarmUpOptions, out io.Writer) error {
	rounds, alerts := o.Rounds, o.alerts()
	if rounds <= 0 {
		return nil
	}
	api := env.cluster.Leader().API
	containers, err := brokerContainers(ctx, api)
	if err != nil {
		return err
	}
	last, _, err := ws.LoadWarmUp(name) // none: the zero WarmUp, which covers no containers
	if err != nil {
		return err
	}
	done := roundsDone(last, containers, alerts)
	p := &steps.Printer{W: out}
	title := fmt.Sprintf("Warming the brokers' JVMs (up to %s, %s led by each broker, until the JIT compilers settle)", steps.Count(rounds, "round"), warmUpLoad(alerts))
	if done > 0 && (last.Settled || done >= rounds) {
		return p.Run(title, func(s *steps.Step) error {
			s.Unchanged()
			state := "settled"
			if !last.Settled {
				state = "not settled"
			}
			s.Detail("%s of %d alerts a broker, %s, the last ending at %s UTC, on the same broker containers", steps.Count(last.Rounds, "round"), roundAlerts(last), state, last.At.UTC().Format("15:04:05"))
			return nil
		})
	}
	return p.Run(title, func(s *steps.Step) error {
		round, cpu, settled, err := warmUntilSettled(done, rounds, func(round int) (time.Duration, error) {
			cpu, err := warmUpRound(ctx, env, containers, round, alerts, out)
			if err != nil {
				return 0, fmt.Errorf("warming the brokers, round %d: %w (`--warm-up-rounds 0` runs on cold brokers: slower while their JVMs compile, README \"Where an LSST visit's time goes\")", round, err)
			}
			return cpu, nil
		}, func(round int, settled bool) error {
			return ws.SaveWarmUp(name, workspace.WarmUp{Brokers: containers, At: time.Now().UTC(), Rounds: round, Settled: settled, AlertsPerRound: alerts})
		})
		if err != nil {
			return err
		}
		state := fmt.Sprintf("settled in round %d: its compiler threads used %.1f s of CPU, at most %.0f s", round, cpu.Seconds(), WarmUpSettledCPU.Seconds())
		if !settled {
			state = fmt.Sprintf("not settled after %s: the last one's compiler threads used %.1f s of CPU, more than %.0f s, so runs will compile too (a larger --warm-up-rounds warms longer)",
				steps.Count(round, "round"), cpu.Seconds(), WarmUpSettledCPU.Seconds())
		}
		s.Detail("%s; %d alerts of %d bytes through each of %d brokers as partition leader a round; %s made before on these brokers",
			state, alerts, warmUpRecordSize, len(containers), steps.Count(done, "round"))
		return nil
	})
}

// roundsDone is how many rounds of a warm-up of alerts a broker the last
// one (the zero WarmUp: none) made: its rounds when it warmed these
// broker containers (service -> container ID) with rounds at least as
// large, else 0.
func roundsDone(last workspace.WarmUp, containers map[string]string, alerts int) int {
	if last.Covers(containers) && roundAlerts(last) >= alerts {
		return last.Rounds
	}
	return 0
}

// warmUntilSettled makes warm-up rounds done+1, done+2, ... (round)
// until one's compiler CPU is at most WarmUpSettledCPU or round `rounds`
// is made, and saves the state after each (save): an interrupted warm-up
// goes on from there. It returns the last round made, its compiler CPU
// and whether it settled the JVMs.
func warmUntilSettled(done, rounds int, round func(int) (time.Duration, error), save func(round int, settled bool) error) (last int, cpu time.Duration, settled bool, err error) {
	for last = done; last < rounds && !settled; {
		last++
		if cpu, err = round(last); err != nil {
			return last, cpu, false, err
		}
		settled = cpu <= WarmUpSettledCPU
		if err := save(last, settled); err != nil {
			return last, cpu, settled, err
		}
	}
	return last, cpu, settled, nil
}

// warmUpRound runs one round (warmUp) and prints its time, the CPU time
// of the brokers' JIT compiler threads over it (read in the broker
// containers' /proc: kafka.CompilerThreads) and their JIT time as
// Prometheus scraped it (the compiler threads' elapsed time, waits for a
// core included: it stays high on a busy machine while their CPU time
// falls). It returns the compiler CPU summed over the brokers.
func warmUpRound(ctx context.Context, env *runEnv, containers map[string]string, round, alerts int, out io.Writer) (time.Duration, error) {
	before, err := readCompilerThreads(ctx, env, containers)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := warmUp(ctx, env, alerts, out); err != nil {
		return 0, err
	}
	took := time.Since(start)
	after, err := readCompilerThreads(ctx, env, containers)
	if err != nil {
		return 0, err
	}
	perBroker := compilerCPUSince(before, after)
	cpu := time.Duration(report.SumJITCPU(perBroker) * float64(time.Second))
	line := fmt.Sprintf("   round %d: %s; brokers' JIT compilers: %s", round, took.Round(100*time.Millisecond), report.JITCPUFigures(perBroker))
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(warmUpScrapeDelay):
	}
	totals, err := monitoring.ServiceTotals(ctx, promURL(env.inv), monitoring.BrokerService.String(), start, time.Now())
	switch elapsed, brokers := report.SumBrokersJIT(totals); {
	case err != nil:
		fmt.Fprintf(out, "%s; JIT time not read: %v\n", line, err)
	case len(brokers) == 0:
		fmt.Fprintf(out, "%s; JIT time not scraped (`testbed status` lists the scrape targets)\n", line)
	default:
		fmt.Fprintf(out, "%s, %.1f s elapsed\n", line, elapsed)
	}
	return cpu, nil
}

// jitReading is the brokers' compiler threads at a run's start, for
// their CPU over the run (archive.Meta.BrokersJITCPU).
type jitReading struct {
	containers map[string]string // broker service -> container ID
	threads    map[string]kafka.CompilerThreads
	err        error
}

func startJITReading(ctx context.Context, env *runEnv) jitReading {
	containers, err := brokerContainers(ctx, env.cluster.Leader().API)
	if err != nil {
		return jitReading{err: err}
	}
	threads, err := readCompilerThreads(ctx, env, containers)
	return jitReading{containers: containers, threads: threads, err: err}
}

// end reads the compiler threads again: each broker's CPU since the
// start, for the brokers whose container read then still runs (swarm
// replaces a stopped broker with a new task: a new container and JVM,
// whose compiling before the end is left out with the old one's).
// missing names the brokers left out and why; err says why none could be
// read.
func (r jitReading) end(ctx context.Context, env *runEnv) (cpu map[string]float64, missing string, err error) {
	if r.err != nil {
		return nil, "", r.err
	}
	after, failed := readEachCompilerThreads(ctx, env, r.containers)
	if len(after) == 0 {
		return nil, "", joinByBroker(failed)
	}
	gone := slices.Sorted(maps.Keys(failed))
	for i, svc := range gone {
		gone[i] = strings.TrimPrefix(svc, "kafka_")
	}
	cpu = compilerCPUSince(r.threads, after)
	if len(gone) > 0 {
		missing = strings.Join(gone, ", ") + " left out: its container of the run's start no longer runs (a restarted broker)"
	}
	return cpu, missing, nil
}

// compilerCPUSince is each broker's compiler CPU (seconds) from one
// reading of readCompilerThreads to a later one, for the brokers in both.
func compilerCPUSince(before, after map[string]kafka.CompilerThreads) map[string]float64 {
	out := map[string]float64{}
	for svc, threads := range after {
		if prev, ok := before[svc]; ok {
			out[svc] = threads.Since(prev).Seconds()
		}
	}
	return out
}

// readCompilerThreads reads the compiler threads of each broker's
// container (service -> container ID), on the manager node that runs it
// (topology: manager i carries broker i); any broker not read is an
// error.
func readCompilerThreads(ctx context.Context, env *runEnv, containers map[string]string) (map[string]kafka.CompilerThreads, error) {
	out, failed := readEachCompilerThreads(ctx, env, containers)
	if len(failed) > 0 {
		return nil, fmt.Errorf("reading the JIT compiler threads: %w", joinByBroker(failed))
	}
	return out, nil
}

// joinByBroker joins the brokers' errors in the brokers' order.
func joinByBroker(failed map[string]error) error {
	var errs []error
	for _, svc := range slices.Sorted(maps.Keys(failed)) {
		errs = append(errs, failed[svc])
	}
	return errors.Join(errs...)
}

// readEachCompilerThreads reads what it can: the brokers' compiler
// threads, and for each broker not read (by service) why.
func readEachCompilerThreads(ctx context.Context, env *runEnv, containers map[string]string) (map[string]kafka.CompilerThreads, map[string]error) {
	out, failed := map[string]kafka.CompilerThreads{}, map[string]error{}
	for svc := range containers {
		failed[svc] = fmt.Errorf("%s: not on the first %d managers", svc, topology.BrokerCount)
	}
	for i := 1; i <= topology.BrokerCount && i <= len(env.cluster.Nodes); i++ {
		svc := topology.BrokerServiceName(i)
		id, ok := containers[svc]
		if !ok {
			continue
		}
		threads, err := kafka.ReadCompilerThreads(ctx, env.cluster.Nodes[i-1].API, id)
		if err != nil {
			failed[svc] = fmt.Errorf("%s: %w", svc, err)
			continue
		}
		delete(failed, svc)
		out[svc] = threads
	}
	return out, failed
}

// warmUpScrapeDelay lets Prometheus scrape the brokers (every 5 s) after
// a round before its JIT time is read.
const warmUpScrapeDelay = 6 * time.Second

// warmUp sends the warm-up's load, alerts of warmUpRecordSize bytes,
// through each broker as leader, the brokers at once.
func warmUp(ctx context.Context, env *runEnv, alerts int, out io.Writer) error {
	id := "warm-up-" + NewRunID(time.Now())
	b := &bencher{env: env, out: out, id: id, swarmBrokers: brokersInSwarm,
		cfg:        bench.Config{Records: alerts, RecordSize: warmUpRecordSize},
		tryTimeout: tryTimeout(alerts, warmUpRecordSize)}
	var ids []int32
	for _, br := range env.client.Brokers() {
		ids = append(ids, br.ID())
	}
	if len(ids) == 0 {
		return errors.New("the Kafka client knows no broker")
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var topics []run.Topic
	for i, leader := range ids {
		replicas := []int32{leader}
		for k := 1; k < min(experiment.DefaultReplicationFactor, len(ids)); k++ {
			replicas = append(replicas, ids[(i+k)%len(ids)])
		}
		topics = append(topics, run.Topic{Name: fmt.Sprintf("%s-leader-%d", id, leader), Partitions: 1,
			ReplicationFactor: int16(len(replicas)), Assignment: map[int32][]int32{0: replicas},
			Configs: map[string]string{"min.insync.replicas": strconv.Itoa(min(experiment.DefaultMinInsyncReplicas, len(replicas)))}})
	}
	if err := run.CreateTopics(ctx, env.admin, env.client, topics); err != nil {
		return err
	}
	defer func() {
		if err := run.DeleteTopics(env.admin, topics); err != nil {
			fmt.Fprintf(out, "   warm-up topics left on the brokers: %v\n", err)
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, 2*len(topics))
	for i, t := range topics {
		runID := t.Name // alert-consumer accounts only the records of this producer
		wg.Add(2)
		go func() {
			defer wg.Done()
			if try := b.alertProducer(ctx, bench.FromSwarm, t.Name, runID); try.Error != "" {
				errs[2*i] = fmt.Errorf("alert-producer into %s: %s", t.Name, try.Error)
			}
		}()
		go func() {
			defer wg.Done()
			if try := b.alertConsumer(ctx, bench.FromSwarm, t.Name, runID, t.Name+"-group"); try.Error != "" {
				errs[2*i+1] = fmt.Errorf("alert-consumer of %s: %s", t.Name, try.Error)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Join(errs...)
}

// brokerContainers maps each broker's swarm service (kafka_kafka-N) to
// the container of its running task.
func brokerContainers(ctx context.Context, api *client.Client) (map[string]string, error) {
	services, err := api.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("name", topology.BrokerServicePrefix))})
	if err != nil {
		return nil, fmt.Errorf("list the brokers' services: %w", err)
	}
	out := map[string]string{}
	for _, svc := range services {
		if !monitoring.BrokerService.MatchString(svc.Spec.Name) {
			continue
		}
		tasks, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
			filters.Arg("service", svc.ID), filters.Arg("desired-state", "running"))})
		if err != nil {
			return nil, fmt.Errorf("list the tasks of %s: %w", svc.Spec.Name, err)
		}
		for _, t := range tasks {
			if t.Status.State == swarm.TaskStateRunning && t.Status.ContainerStatus != nil && t.Status.ContainerStatus.ContainerID != "" {
				out[svc.Spec.Name] = t.Status.ContainerStatus.ContainerID
			}
		}
		if out[svc.Spec.Name] == "" {
			return nil, fmt.Errorf("broker service %s has no running task (`testbed status` shows the services; `testbed up` repairs them)", svc.Spec.Name)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no broker service (kafka_kafka-N) on the swarm: `testbed up` deploys them")
	}
	return out, nil
}
