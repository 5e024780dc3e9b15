package orchestrator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/alert-testbed/testbed/internal/bench"
	"github.com/alert-testbed/testbed/internal/images"
	"github.com/alert-testbed/testbed/internal/report"
	"github.com/alert-testbed/testbed/internal/run"
	tbswarm "github.com/alert-testbed/testbed/internal/swarm"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// BenchOptions are one `testbed bench`.
type BenchOptions struct {
	Config  bench.Config // defaulted and validated by Bench
	RunsDir string       // the archive goes to RunsDir/bench-<id>/
	// WarmUp is the brokers' warm-up (warmBrokers) first.
	WarmUp WarmUpOptions
}

// Bench measures the testbed's own clients against Kafka's on a running
// testbed: per round and place (bench.FromHost, bench.FromSwarm),
// alert-producer and ProducerPerformance each fill a fresh topic with
// Records records of RecordSize bytes, then alert-consumer (drop) and
// ConsumerPerformance each read alert-producer's topic in a group of their
// own; which of a pair goes first alternates by round. The round's topics
// are deleted after it (a 10,000 x 136 KB topic holds 4 GB at RF 3). It
// prints each try as it ends and the tables at the end, and writes the
// bench archive; the returned directory is the archive's.
func Bench(ctx context.Context, ws workspace.Workspace, name string, o BenchOptions, out io.Writer) (string, error) {
	c := o.Config
	c.Testbed = name
	c.Default()
	if err := c.Validate(topology.BrokerCount); err != nil {
		return "", err
	}
	if o.RunsDir == "" {
		o.RunsDir = DefaultRunsDir
	}
	env, closeAll, err := openRunEnv(ctx, ws, name, out)
	if err != nil {
		return "", err
	}
	defer closeAll()
	if brokers := len(env.client.Brokers()); c.ReplicationFactor > brokers {
		return "", fmt.Errorf("--replication-factor %d: the testbed has %d brokers", c.ReplicationFactor, brokers)
	}
	b := &bencher{env: env, cfg: c, out: out, id: "bench-" + NewRunID(time.Now())}
	if err := b.findImages(ctx); err != nil {
		return "", err
	}
	if err := warmBrokers(ctx, env, ws, name, o.WarmUp, out); err != nil {
		return "", err
	}
	res := bench.Result{ID: b.id, Config: c, Started: time.Now().UTC(), Images: map[string]string{
		"agents (host)": b.agentsHost, "agents (swarm)": env.agentsRef, "kafka (host)": b.kafkaHost, "kafka (swarm)": b.kafkaSwarm}}
	what := fmt.Sprintf("%d rounds of %d records", c.Rounds, c.Records)
	if c.Ceiling {
		what = fmt.Sprintf("the ceiling, %d records a step", c.Records)
	}
	fmt.Fprintf(out, "Bench %s: %s of %d bytes from %s; topics of %d partitions, RF %d, min ISR %d\n",
		b.id, what, c.RecordSize, strings.Join(c.From, " and "), c.Partitions, c.ReplicationFactor, c.MinISR)
	if c.Ceiling {
		fmt.Fprintf(out, "Searching the ceiling: 1, 2, 4, ... ProducerPerformance at once, until a doubling gains less than %.0f %%\n",
			(bench.CeilingGain-1)*100)
		for _, from := range c.From {
			var steps []bench.CeilingStep
			for k := bench.NextCeilingStep(nil); k > 0 && ctx.Err() == nil; k = bench.NextCeilingStep(steps) {
				s, err := b.ceilingStep(ctx, from, k)
				bench.PrintCeilingStep(out, s)
				steps = append(steps, s)
				if err != nil {
					return "", err
				}
			}
			res.Ceiling = append(res.Ceiling, steps...)
		}
	} else {
		for round := 1; round <= c.Rounds && ctx.Err() == nil; round++ {
			for _, from := range c.From {
				tries, err := b.round(ctx, round, from)
				res.Tries = append(res.Tries, tries...)
				if err != nil {
					return "", err
				}
			}
		}
	}
	res.Ended = time.Now().UTC()
	dir := filepath.Join(o.RunsDir, b.id)
	if err := res.Write(dir); err != nil {
		return "", err
	}
	fmt.Fprintln(out)
	res.Print(out)
	fmt.Fprintf(out, "\nArchive: %s\n", dir)
	if c.Ceiling && ctx.Err() == nil && len(res.FailedSteps()) == 0 {
		// A whole search only: a cut-short one may not have found the top.
		var figs []workspace.CeilingFigure
		for _, from := range c.From {
			if best, ok := bench.Ceiling(res.Ceiling, from); ok {
				figs = append(figs, workspace.CeilingFigure{From: from, Partitions: c.Partitions, ReplicationFactor: c.ReplicationFactor,
					RecordSize: c.RecordSize, MBPerSec: best.MBPerSec(), Producers: best.Producers, Bench: b.id, MeasuredAt: res.Ended})
			}
		}
		if err := ws.SaveCeilings(name, figs); err != nil {
			return dir, fmt.Errorf("saving the ceiling with testbed %q: %w", name, err)
		}
		if _, ok := bench.Ceiling(res.Ceiling, bench.FromSwarm); ok {
			fmt.Fprintf(out, "Saved with testbed %q: runs whose topic has %d partition(s) and RF %d set their producing rate against the swarm's ceiling in their summary\n",
				name, c.Partitions, c.ReplicationFactor)
		}
	}
	if ctx.Err() != nil {
		if c.Ceiling {
			return dir, fmt.Errorf("interrupted after %d ceiling steps", len(res.Ceiling))
		}
		return dir, fmt.Errorf("interrupted after %d tries", len(res.Tries))
	}
	if f := res.Failed(); len(f) > 0 {
		return dir, fmt.Errorf("%d of %d tries failed (see above)", len(f), len(res.Tries))
	}
	if f := res.FailedSteps(); len(f) > 0 {
		return dir, fmt.Errorf("%d of %d ceiling steps failed (see above)", len(f), len(res.Ceiling))
	}
	return dir, nil
}

// bencher runs one bench's tries.
type bencher struct {
	env                       *runEnv
	cfg                       bench.Config
	out                       io.Writer
	id                        string
	agentsHost, kafkaHost     string // image references on this host's Engine
	kafkaSwarm                string // the brokers' image, as the nodes pull it
	hostBrokers, swarmBrokers string
	tryTimeout                time.Duration
	jitUnread                 bool // tryWithJIT said it could not read the brokers' JIT
}

// findImages finds the clients' images: the agents image openRunEnv built
// (and pushed), the brokers' Kafka image as their service runs it (the
// nodes pull it from the testbed's registry) and, for tries from the
// host, both on this host's Engine.
func (b *bencher) findImages(ctx context.Context) error {
	api := b.env.cluster.Leader().API
	svc, _, err := api.ServiceInspectWithRaw(ctx, topology.BrokerServiceName(1), swarm.ServiceInspectOptions{})
	if err != nil {
		return fmt.Errorf("the brokers' service %s: %w (`testbed status` shows the services)", topology.BrokerServiceName(1), err)
	}
	b.kafkaSwarm = svc.Spec.TaskTemplate.ContainerSpec.Image
	planned := images.Planned()
	b.kafkaHost = planned.Kafka.Ref
	b.agentsHost = b.env.agentsHostRef
	b.hostBrokers = strings.Join(Bootstrap(b.env.inv), ",")
	b.swarmBrokers = brokersInSwarm
	b.tryTimeout = tryTimeout(b.cfg.Records, b.cfg.RecordSize)
	if !b.from(bench.FromHost) {
		return nil
	}
	if b.env.host == nil {
		return errors.New("--from host needs the testbed's nodes on this machine (the local environment): use --from swarm")
	}
	for _, ref := range []string{b.kafkaHost, b.agentsHost} {
		if _, err := b.env.host.ImageInspect(ctx, ref); err != nil {
			return fmt.Errorf("image %s is not on this host's Docker Engine (%v): `testbed up --name %s` builds it", ref, err, b.cfg.Testbed)
		}
	}
	return nil
}

func (b *bencher) from(place string) bool {
	for _, f := range b.cfg.From {
		if f == place {
			return true
		}
	}
	return false
}

// round runs one round's four tries from one place.
func (b *bencher) round(ctx context.Context, round int, from string) (tries []bench.Try, err error) {
	prefix := fmt.Sprintf("%s-r%d-%s", b.id, round, from)
	runID := prefix // alert-producer's run id: alert-consumer accounts only its records
	topics := []run.Topic{b.topic(prefix + "-" + bench.AlertProducer), b.topic(prefix + "-" + bench.ProducerPerformance)}
	if err := run.CreateTopics(ctx, b.env.admin, b.env.client, topics); err != nil {
		return nil, err
	}
	defer func() {
		// A topic left behind holds gigabytes: not deleting it ends the
		// bench.
		if derr := run.DeleteTopics(b.env.admin, topics); derr != nil && err == nil {
			err = fmt.Errorf("deleting round %d's topics: %w", round, derr)
		}
	}()
	// The host's speed before the round's tries: rounds' ratios move with
	// it on the local testbed (README "Where an LSST visit's time goes").
	var speed float64
	if r, err := hostSpeed(ctx, b.env); err == nil && r != nil {
		speed = r.MBPerSec
		fmt.Fprintf(b.out, "  round %d  %-5s  host speed %.0f MB/s (%s)\n", round, from, speed, r.Workload)
	}
	projectFirst := round%2 == 1
	pairs := []struct {
		kind    string
		project func() bench.Try
		kafka   func() bench.Try
	}{
		{bench.Produce,
			func() bench.Try { return b.alertProducer(ctx, from, topics[0].Name, runID) },
			func() bench.Try { return b.producerPerformance(ctx, from, topics[1].Name) }},
		{bench.Consume,
			func() bench.Try { return b.alertConsumer(ctx, from, topics[0].Name, runID, prefix+"-ac") },
			func() bench.Try { return b.consumerPerformance(ctx, from, topics[0].Name, prefix+"-cp") }},
	}
	var produced bench.Try
	for _, p := range pairs {
		order := []func() bench.Try{p.project, p.kafka}
		if !projectFirst {
			order = []func() bench.Try{p.kafka, p.project}
		}
		for i, f := range order {
			if p.kind == bench.Consume && (produced.Error != "" || produced.Records == 0) {
				// Nothing to read: alert-producer's pass failed.
				break
			}
			t := b.tryWithJIT(ctx, f)
			t.Round, t.From, t.Kind, t.First, t.HostSpeed = round, from, p.kind, i == 0, speed
			if t.Client == bench.AlertProducer {
				produced = t
			}
			if t.Client == bench.AlertConsumer && t.Error == "" && produced.Records > 0 {
				// alert-consumer does not count bytes: the topic's
				// records are alert-producer's.
				t.Bytes = produced.Bytes * t.Records / produced.Records
			}
			bench.PrintTry(b.out, t)
			tries = append(tries, t)
			if ctx.Err() != nil {
				return tries, nil
			}
		}
	}
	return tries, nil
}

// tryWithJIT runs a try and reads the brokers' JIT compiler CPU over it
// (bench.Try.BrokersJITCPU), as a run reads it over the run (jitReading),
// but of every broker or none: a sum over fewer brokers would not compare.
// A failed reading leaves it out and is said once: the try's own figures
// stand without it.
func (b *bencher) tryWithJIT(ctx context.Context, try func() bench.Try) bench.Try {
	jit := startJITReading(ctx, b.env)
	t := try()
	cpu, missing, err := jit.end(ctx, b.env)
	if err == nil && missing != "" {
		err = errors.New(missing)
	}
	if err != nil {
		if !b.jitUnread {
			fmt.Fprintf(b.out, "  (the brokers' JIT compiler CPU is not read: %v)\n", err)
			b.jitUnread = true
		}
		return t
	}
	s := report.SumJITCPU(cpu)
	t.BrokersJITCPU = &s
	return t
}

// ceilingStep runs producers ProducerPerformance instances from one place
// at once into a fresh topic (deleted after the step), each with its
// share of the records (bench.CeilingShares). The instances wait for a
// common start time, so that their containers' start-up (a swarm task
// is scheduled, a JVM starts) does not stretch the step's window; the
// window is read from the instances' own times (bench.ParseInstance). The
// error is one that ends the search (the topic could not be made or
// deleted); a failed instance fails the step only.
func (b *bencher) ceilingStep(ctx context.Context, from string, producers int) (step bench.CeilingStep, err error) {
	step = bench.CeilingStep{From: from, Producers: producers}
	topic := b.topic(fmt.Sprintf("%s-ceiling-%s-%d", b.id, from, producers))
	step.Topic = topic.Name
	if err := run.CreateTopics(ctx, b.env.admin, b.env.client, []run.Topic{topic}); err != nil {
		step.Error = err.Error()
		return step, err
	}
	defer func() {
		if derr := run.DeleteTopics(b.env.admin, []run.Topic{topic}); derr != nil && err == nil {
			err = fmt.Errorf("deleting the ceiling step's topic: %w", derr)
		}
	}()
	// Every container is up by then on this machine: a task is
	// scheduled and started in 2 to 5 s, more when many start at once.
	start := time.Now().Add(ceilingLead + time.Duration(producers)*time.Second).Unix()
	shares := bench.CeilingShares(b.cfg.Records, producers)
	step.Instances = make([]bench.Instance, producers)
	errs := make([]error, producers)
	var wg sync.WaitGroup
	for i, n := range shares {
		wg.Add(1)
		go func() {
			defer wg.Done()
			script := fmt.Sprintf(`while [ "$(date +%%s)" -lt %d ]; do sleep 0.1; done; %s`, start, bench.InstanceEndScript)
			args := []string{script, "ceiling", "/opt/kafka/bin/kafka-run-class.sh", "org.apache.kafka.tools.ProducerPerformance",
				"--topic", topic.Name, "--num-records", strconv.Itoa(n), "--record-size", strconv.Itoa(b.cfg.RecordSize),
				"--throughput", "-1", "--producer-props", "bootstrap.servers=" + b.brokers(from)}
			args = append(args, strings.Fields(producerProps)...)
			out, err := b.exec(ctx, from, b.kafkaImage(from), []string{"/bin/sh", "-c"}, args, kafkaToolEnv)
			if err == nil {
				step.Instances[i], err = bench.ParseInstance(out, b.cfg.RecordSize)
			}
			if err != nil {
				errs[i] = fmt.Errorf("instance %d of %d: %w (%s)", i+1, producers, err, lastLines(out, 3))
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		step.Error = err.Error()
		return step, nil
	}
	return bench.CombineInstances(step), nil
}

// tryTimeout bounds one client's try of records records of recordSize
// bytes: a try that takes longer than at 1 MB/s has failed (a 10,000 x
// 136 KB try takes about 20 s on this machine).
func tryTimeout(records, recordSize int) time.Duration {
	return 2*time.Minute + time.Duration(int64(records)*int64(recordSize)/1_000_000)*time.Second
}

// ceilingLead is the least wait before a ceiling step's instances send.
const ceilingLead = 8 * time.Second

func (b *bencher) topic(name string) run.Topic {
	return run.Topic{Name: name, Partitions: int32(b.cfg.Partitions), ReplicationFactor: int16(b.cfg.ReplicationFactor),
		Configs: map[string]string{"min.insync.replicas": strconv.Itoa(b.cfg.MinISR)}}
}

func (b *bencher) brokers(from string) string {
	if from == bench.FromHost {
		return b.hostBrokers
	}
	return b.swarmBrokers
}

// The client settings of both producers: agents/kafkaconf's defaults,
// spelled out for alert-producer so that a change of default does not
// change a bench unnoticed, and given to ProducerPerformance in Kafka's
// terms.
var producerFlags = []string{"--acks", "all", "--batch-bytes", "1048576", "--linger", "5ms", "--max-in-flight", "5", "--compression", "none"}

const producerProps = "acks=all batch.size=1048576 linger.ms=5 max.in.flight.requests.per.connection=5 enable.idempotence=false compression.type=none"

// consumerProps are alert-consumer's fetch sizes (agents/kafkaconf:
// 16 MiB a fetch, 4 MiB a partition) for ConsumerPerformance.
const consumerProps = "fetch.max.bytes=16777216\nmax.partition.fetch.bytes=4194304\n"

func (b *bencher) alertProducer(ctx context.Context, from, topic, runID string) bench.Try {
	args := append([]string{"--brokers", b.brokers(from), "--topic", topic, "--run-id", runID,
		"--alerts-per-visit", strconv.Itoa(b.cfg.Records), "--visits", "1", "--alert-size", strconv.Itoa(b.cfg.RecordSize),
		// The visit starts 3 to 4 s after the producer: its client has
		// connected by then, as ProducerPerformance's has before its
		// first send.
		"--t0", "auto", "--interval", "1s", "--lead", "3s",
		"--results-topic", "", "--metrics-addr", ""}, producerFlags...)
	out, err := b.exec(ctx, from, b.agentsImage(from), []string{"alert-producer"}, args, nil)
	t, perr := bench.ParseAlertProducer(out)
	return finish(bench.AlertProducer, topic, t, out, err, perr)
}

func (b *bencher) producerPerformance(ctx context.Context, from, topic string) bench.Try {
	args := []string{"org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
		"--num-records", strconv.Itoa(b.cfg.Records), "--record-size", strconv.Itoa(b.cfg.RecordSize), "--throughput", "-1",
		"--producer-props", "bootstrap.servers=" + b.brokers(from)}
	args = append(args, strings.Fields(producerProps)...)
	// sh -c SCRIPT $0 ARGS...: the shell runs the tool ("$0" "$@") and
	// then prints its CPU time (bench.WithCPUTimes).
	out, err := b.exec(ctx, from, b.kafkaImage(from), []string{"/bin/sh", "-c", bench.WithCPUTimes(`"$0" "$@"`), "/opt/kafka/bin/kafka-run-class.sh"}, args, kafkaToolEnv)
	t, perr := bench.ParseProducerPerformance(out, b.cfg.RecordSize)
	return finish(bench.ProducerPerformance, topic, t, out, err, perr)
}

func (b *bencher) alertConsumer(ctx context.Context, from, topic, runID, group string) bench.Try {
	args := []string{"--brokers", b.brokers(from), "--topic", topic, "--group", group, "--member", group,
		"--run-id", runID, "--mode", "drop", "--initial-offset", "oldest", "--stop-after", strconv.Itoa(b.cfg.Records),
		"--no-end-lines", "--visit-idle", "2s", "--duration", b.tryTimeout.String(),
		"--results-topic", "", "--metrics-addr", ""}
	out, err := b.exec(ctx, from, b.agentsImage(from), []string{"alert-consumer"}, args, nil)
	t, perr := bench.ParseAlertConsumer(out)
	if perr == nil && t.Records < int64(b.cfg.Records) {
		perr = fmt.Errorf("alert-consumer received %d of %d records", t.Records, b.cfg.Records)
	}
	return finish(bench.AlertConsumer, topic, t, out, err, perr)
}

func (b *bencher) consumerPerformance(ctx context.Context, from, topic, group string) bench.Try {
	// The consumer settings go in a file (ConsumerPerformance takes them
	// so); --timeout is the longest wait for a record.
	script := fmt.Sprintf("printf '%s' > /tmp/consumer.properties && /opt/kafka/bin/kafka-run-class.sh org.apache.kafka.tools.ConsumerPerformance --bootstrap-server %s --topic %s --group %s --messages %d --timeout 60000 --consumer.config /tmp/consumer.properties",
		strings.ReplaceAll(consumerProps, "\n", `\n`), b.brokers(from), topic, group, b.cfg.Records)
	out, err := b.exec(ctx, from, b.kafkaImage(from), []string{"/bin/sh", "-c"}, []string{bench.WithCPUTimes(script)}, kafkaToolEnv)
	t, perr := bench.ParseConsumerPerformance(out)
	if perr == nil && t.Records < int64(b.cfg.Records) {
		perr = fmt.Errorf("ConsumerPerformance read %d of %d records", t.Records, b.cfg.Records)
	}
	return finish(bench.ConsumerPerformance, topic, t, out, err, perr)
}

// kafkaToolEnv gives Kafka's tools the heap their own scripts give them
// (kafka-producer-perf-test.sh: 512 MiB).
var kafkaToolEnv = []string{"KAFKA_HEAP_OPTS=-Xmx512M"}

// finish makes a try of a client's figures, or of why it has none.
func finish(clientName, topic string, t bench.Try, out string, runErr, parseErr error) bench.Try {
	t.Client, t.Topic = clientName, topic
	switch {
	case runErr != nil:
		t = bench.Try{Client: clientName, Topic: topic, Error: runErr.Error(), Output: tail(out, 2000)}
	case parseErr != nil:
		t = bench.Try{Client: clientName, Topic: topic, Error: parseErr.Error(), Output: tail(out, 2000)}
	default:
		if cpu, ok := bench.ParseClientCPU(out); ok {
			t.ClientCPU = &cpu
		}
	}
	return t
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func (b *bencher) agentsImage(from string) string {
	if from == bench.FromHost {
		return b.agentsHost
	}
	return b.env.agentsRef
}

func (b *bencher) kafkaImage(from string) string {
	if from == bench.FromHost {
		return b.kafkaHost
	}
	return b.kafkaSwarm
}

// exec runs one client to its end and returns what it printed (stdout
// and stderr): from the host, a container on this host's Engine on the
// host network; from the swarm, a one-task service on a worker on the
// testbed's overlay network. Either is removed after it ends, also when
// it fails or ctx ends. A client that exits non-zero is an error.
func (b *bencher) exec(ctx context.Context, from, image string, entrypoint, args, env []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, b.tryTimeout)
	defer cancel()
	if from == bench.FromHost {
		return execHost(ctx, b.env.host, image, entrypoint, args, env)
	}
	return b.execSwarm(ctx, image, entrypoint, args, env)
}

func execHost(ctx context.Context, api *client.Client, image string, entrypoint, args, env []string) (string, error) {
	resp, err := api.ContainerCreate(ctx, &container.Config{Image: image, Entrypoint: entrypoint, Cmd: args, Env: env,
		Labels: map[string]string{"testbed.bench": "true"}},
		&container.HostConfig{NetworkMode: "host"}, nil, nil, "")
	if err != nil {
		return "", fmt.Errorf("create the client's container: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// With its anonymous volumes: the Kafka image declares three
		// (VOLUME in its Dockerfile), which would otherwise stay behind
		// on this host's Engine, three a try.
		_ = api.ContainerRemove(rctx, resp.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	}()
	if err := api.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return "", fmt.Errorf("start the client's container: %w", err)
	}
	waitC, errC := api.ContainerWait(ctx, resp.ID, container.WaitConditionNotRunning)
	var code int64
	var waitErr error
	select {
	case w := <-waitC:
		code = w.StatusCode
	case waitErr = <-errC:
	}
	out := hostLogs(resp.ID, api)
	switch {
	case waitErr != nil:
		return out, fmt.Errorf("waiting for the client: %w", waitErr)
	case code != 0:
		return out, fmt.Errorf("the client exited %d: %s", code, lastLines(out, 3))
	}
	return out, nil
}

func hostLogs(id string, api *client.Client) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := api.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var buf bytes.Buffer
	_, _ = stdcopy.StdCopy(&buf, &buf, rc)
	return buf.String()
}

// execSwarm runs the client as a service of one task that is not
// restarted, placed as the run's agents are.
func (b *bencher) execSwarm(ctx context.Context, image string, entrypoint, args, env []string) (string, error) {
	api := b.env.cluster.Leader().API
	one := uint64(1)
	constraint := "node.role==worker"
	if len(b.env.inv.Workers()) == 0 {
		constraint = "node.role==manager"
	}
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: fmt.Sprintf("bench-%d", time.Now().UnixNano()), Labels: map[string]string{"testbed.bench": b.id}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: image, Command: entrypoint, Args: args, Env: env},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone},
			Placement:     &swarm.Placement{Constraints: []string{constraint}},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: tbswarm.NetworkName}},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
	resp, err := api.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{EncodedRegistryAuth: b.env.registryAuth})
	if err != nil {
		return "", fmt.Errorf("create the client's service: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = api.ServiceRemove(rctx, resp.ID)
	}()
	var task swarm.Task
	for {
		tasks, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", resp.ID))})
		if err != nil {
			return "", err
		}
		if len(tasks) > 0 {
			task = tasks[0]
			if s := task.Status.State; s == swarm.TaskStateComplete || s == swarm.TaskStateFailed || s == swarm.TaskStateRejected || s == swarm.TaskStateShutdown {
				break
			}
		}
		select {
		case <-ctx.Done():
			out := b.taskOutput(task)
			return out, fmt.Errorf("the client did not end within %s (task %s)", b.tryTimeout, task.Status.State)
		case <-time.After(500 * time.Millisecond):
		}
	}
	out := b.taskOutput(task)
	if task.Status.State != swarm.TaskStateComplete {
		return out, fmt.Errorf("the client's task %s: %s %s", task.Status.State, task.Status.Err, lastLines(out, 3))
	}
	if out == "" {
		return out, errors.New("the client's output could not be read from its node")
	}
	return out, nil
}

// taskOutput is what a one-task service's container printed, read from
// the node it ran on (swarm's service log stream can hang when a
// container has gone; run.Logs says more): each node is asked for the
// container, which only one has.
func (b *bencher) taskOutput(task swarm.Task) string {
	if task.Status.ContainerStatus == nil || task.Status.ContainerStatus.ContainerID == "" {
		return ""
	}
	for _, n := range b.env.cluster.Nodes {
		if out := hostLogs(task.Status.ContainerStatus.ContainerID, n.API); out != "" {
			return out
		}
	}
	return ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
