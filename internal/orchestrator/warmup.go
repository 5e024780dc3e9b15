package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/alert-testbed/testbed/internal/bench"
	"github.com/alert-testbed/testbed/internal/experiment"
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
const (
	warmUpRecords    = 10_000
	warmUpRecordSize = 136_000 // bytes
	// The topics are replicated as runs' topics are by default
	// (experiment.DefaultReplicationFactor, DefaultMinInsyncReplicas): the
	// leader compiles the code that waits for and serves its followers
	// too.
)

// DefaultWarmUpRounds is how many warm-up rounds new brokers get. Measured
// as above: after 1 round (77 s) the next run's compiler threads still
// took 26.9 s of CPU; after 4 rounds (5 min 7 s) 4.7 s, as on brokers
// warmed by three runs.
const DefaultWarmUpRounds = 4

// warmBrokers warms the testbed's brokers' JVMs before runs are measured:
// rounds warm-up rounds (warmUp), less those the last warm-up already
// made on the same broker containers (a restarted broker is a new JVM,
// and all of them are warmed again). 0 rounds does nothing. Each round
// prints a line with its brokers' JIT time; the whole is one step line.
func warmBrokers(ctx context.Context, env *runEnv, ws workspace.Workspace, name string, rounds int, out io.Writer) error {
	if rounds <= 0 {
		return nil
	}
	api := env.cluster.Leader().API
	containers, err := brokerContainers(ctx, api)
	if err != nil {
		return err
	}
	last, ok, err := ws.LoadWarmUp(name)
	if err != nil {
		return err
	}
	done := 0
	if ok && last.Covers(containers) {
		done = last.Rounds
	}
	p := &steps.Printer{W: out}
	title := fmt.Sprintf("Warming the brokers' JVMs (%s: an LSST visit led by each broker)", steps.Count(rounds, "round"))
	if done >= rounds {
		return p.Run(title, func(s *steps.Step) error {
			s.Unchanged()
			s.Detail("%s, the last ending at %s UTC, on the same broker containers", steps.Count(last.Rounds, "round"), last.At.UTC().Format("15:04:05"))
			return nil
		})
	}
	return p.Run(title, func(s *steps.Step) error {
		for round := done + 1; round <= rounds; round++ {
			if err := warmUpRound(ctx, env, round, out); err != nil {
				return fmt.Errorf("warming the brokers, round %d: %w (`--warm-up-rounds 0` runs on cold brokers: slower while their JVMs compile, README \"Where an LSST visit's time goes\")", round, err)
			}
			// Saved after each round: an interrupted warm-up goes on
			// from there.
			if err := ws.SaveWarmUp(name, workspace.WarmUp{Brokers: containers, At: time.Now().UTC(), Rounds: round}); err != nil {
				return err
			}
		}
		s.Detail("%d alerts of %d bytes through each of %d brokers as partition leader a round; %s made before on these brokers",
			warmUpRecords, warmUpRecordSize, len(containers), steps.Count(done, "round"))
		return nil
	})
}

// warmUpRound runs one round (warmUp) and prints its time and the
// brokers' JIT compilation over it, as Prometheus scraped it (the
// compiler threads' elapsed time, waits for a core included: it stays
// high on a busy machine while their CPU time falls).
func warmUpRound(ctx context.Context, env *runEnv, round int, out io.Writer) error {
	start := time.Now()
	if err := warmUp(ctx, env, out); err != nil {
		return err
	}
	took := time.Since(start)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(warmUpScrapeDelay):
	}
	line := fmt.Sprintf("   round %d: %s", round, took.Round(100*time.Millisecond))
	totals, err := monitoring.ServiceTotals(ctx, promURL(env.inv), monitoring.BrokerService.String(), start, time.Now())
	if err != nil {
		fmt.Fprintf(out, "%s; brokers' JIT compilation not read: %v\n", line, err)
		return nil
	}
	figures := report.JITFigures(totals)
	if figures == "" {
		figures = "not scraped (`testbed status` lists the scrape targets)"
	}
	fmt.Fprintf(out, "%s; brokers' JIT compilation %s\n", line, figures)
	return nil
}

// warmUpScrapeDelay lets Prometheus scrape the brokers (every 5 s) after
// a round before its JIT time is read.
const warmUpScrapeDelay = 6 * time.Second

// warmUp sends the warm-up's load through each broker as leader, the
// brokers at once.
func warmUp(ctx context.Context, env *runEnv, out io.Writer) error {
	id := "warm-up-" + NewRunID(time.Now())
	b := &bencher{env: env, out: out, id: id, swarmBrokers: brokersInSwarm,
		cfg:        bench.Config{Records: warmUpRecords, RecordSize: warmUpRecordSize},
		tryTimeout: tryTimeout(warmUpRecords, warmUpRecordSize)}
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
