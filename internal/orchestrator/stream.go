package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/IBM/sarama"
	"github.com/docker/docker/client"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/internal/alertschema"
	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/run"
	"github.com/alert-testbed/testbed/internal/swarm"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// StreamOptions are the settings of `testbed stream`.
type StreamOptions struct {
	Testbed    string
	Experiment experiment.Experiment // valid (experiment.Load); ValidateStream is checked here
	// Groups are consumer groups to follow besides the experiment's
	// external_consumers.
	Groups []string
	// Retention is the stream topic's retention.ms; 0: StreamRetention of
	// the visit interval. The experiment's topic.retention (an hour by
	// default) is for runs: a stream without end at LSST's rate would
	// fill this machine's disk in minutes with it.
	Retention time.Duration
	Keep      bool // leave the producers' service and the topics
	// WarmUp is the brokers' warm-up (warmBrokers) before the stream starts.
	WarmUp WarmUpOptions
	Out    io.Writer
}

// StreamRetention is a stream topic's retention by default: 5 visits (3.25
// minutes at LSST's 39 s), at least 2 minutes: time for a consumer to be
// restarted and catch up, and at LSST's rate and RF 3 (105 MB/s) under 30
// GB on the nodes' disks with the segment and retention check.
func StreamRetention(interval time.Duration) time.Duration {
	return max(5*interval, 2*time.Minute)
}

// retentionCheck is how often the brokers delete segments past their
// retention (log.retention.check.interval.ms, set in swarm/kafka.yml): a
// topic holds up to retention + a segment + this much.
const retentionCheck = 30 * time.Second

// Stream sends the experiment's stream without end (its producers alone,
// visit after visit) into its topic on the testbed until ctx is done
// (Ctrl-C), for a user to point their own consumer at; it prints the
// Kafka bootstrap for this host first, a line per visit, and for each
// group followed whether it keeps up. At the end it stops the producers,
// prints the totals and verdicts, and removes the producers' service and
// the topics (unless Keep). One stream per testbed at a time.
func Stream(ctx context.Context, ws workspace.Workspace, o StreamOptions) error {
	e, name := o.Experiment, o.Testbed
	if err := e.ValidateStream(); err != nil {
		return err
	}
	if o.Retention == 0 {
		o.Retention = StreamRetention(e.VisitInterval)
	}
	if o.Retention < e.VisitInterval {
		return fmt.Errorf("--retention %s is shorter than the experiment's visit_interval %s: alerts could be deleted before they are read", o.Retention, e.VisitInterval)
	}
	groups, err := followedGroups(e.ExternalConsumers, o.Groups)
	if err != nil {
		return err
	}
	if err := refuseLiveStream(ws, name, "a second stream"); err != nil {
		return err
	}
	inv, err := LoadInventory(ws, name)
	if err != nil {
		return err
	}
	bootstrap := Bootstrap(inv)
	fmt.Fprintf(o.Out, "Kafka bootstrap from this host: %s\n", strings.Join(bootstrap, ","))

	env, closeEnv, err := openRunEnv(ctx, ws, name, o.Out)
	if err != nil {
		return err
	}
	defer closeEnv()
	if err := clearStaleStream(ctx, env, ws, name); err != nil {
		return err
	}
	if err := warmBrokers(ctx, env, ws, name, o.WarmUp, o.Out); err != nil {
		return err
	}
	id := NewRunID(time.Now())
	schema, err := alertschema.Resolve(ctx, e.Alert.Schema, filepath.Dir(e.File), env.cacheDir)
	if err != nil {
		return fmt.Errorf("%s: alert.schema: %w", e.File, err)
	}
	replay, schema, err := replaySource(e, id, schema)
	if err != nil {
		return err
	}
	resultsTopic := "testbed-results-" + id
	plan, err := run.NewStreamPlan(e, run.Params{RunID: id, Image: env.agentsRef, Brokers: brokersInSwarm,
		ResultsTopic: resultsTopic, Network: swarm.NetworkName, Workers: len(inv.Workers()), Schema: schema, Replay: replay})
	if err != nil {
		return err
	}
	segment := max(e.VisitInterval, o.Retention/4)
	plan.Topics[0].Configs["retention.ms"] = strconv.FormatInt(o.Retention.Milliseconds(), 10)
	plan.Topics[0].Configs["segment.ms"] = strconv.FormatInt(segment.Milliseconds(), 10)
	// Bytes a second into the stream topic over all its replicas, records
	// at their largest.
	record := e.MaxRecordSize()
	if replay != nil {
		record = e.ReplayRecordSize(replay.MaxRecord + alert.HeaderSize)
	}
	perSecond := float64(e.AlertsPerVisit) * float64(record.Total) / e.VisitInterval.Seconds() * float64(e.Topic.ReplicationFactor)
	if env.host != nil {
		if err := checkHostDisk(ctx, env.host, perSecond, segment, o.Retention); err != nil {
			return err
		}
	}

	fmt.Fprintf(o.Out, "Stream %s on testbed %q: experiment %s, %d alerts every %s by %d producer(s), without end\n",
		id, name, e.Name, e.AlertsPerVisit, e.VisitInterval, e.Producers)
	// Until the stream is saved, a failure removes the topics here; after,
	// the stop below does, or the next stream or run.
	saved := false
	defer func() {
		if !saved {
			_ = run.DeleteTopics(env.admin, plan.Topics)
		}
	}()
	if err := run.CreateTopics(ctx, env.admin, env.client, plan.Topics); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, " ✓ Created topic %s (%d partition(s), replication factor %d, retention %s: at most %.1f GB on the nodes' disks at this rate) and %s\n",
		e.Topic.Name, e.Topic.Partitions, e.Topic.ReplicationFactor, o.Retention, topicHolds(perSecond, segment, o.Retention)/1e9, strings.Join(topicNames(plan.Topics[1:]), ", "))
	if replay != nil {
		if err := env.loadReplay(ctx, replay); err != nil {
			return err
		}
	}
	records, stopReading, err := readResults(Bootstrap(env.inv), resultsTopic)
	if err != nil {
		return err
	}
	defer stopReading()

	t0 := time.Now().Add(producerLead).Truncate(time.Second)
	st := workspace.Stream{PID: os.Getpid(), RunID: id, Experiment: e.Name, Topic: e.Topic.Name, ResultsTopic: resultsTopic,
		T0: t0, VisitInterval: e.VisitInterval, AlertsPerVisit: e.AlertsPerVisit, Producers: e.Producers,
		Bootstrap: bootstrap, StartedAt: time.Now().UTC()}
	// Saved before the producers exist: if this process dies from here
	// on, the next stream or run finds what it left and removes it.
	if err := ws.SaveStream(name, st); err != nil {
		return err
	}
	saved = true
	api := env.cluster.Leader().API
	start := time.Now()
	streamErr := run.Deploy(ctx, api, []run.Agent{plan.Producers(t0)}, env.registryAuth, readersTimeout)
	f := newFollower(env.client, env.admin, o.Out, st, groups, time.Time{})
	if streamErr == nil {
		fmt.Fprintf(o.Out, " ✓ Started %d producer(s): visit 1 at %s, then every %s until Ctrl-C\n", e.Producers, t0.Format("15:04:05"), e.VisitInterval)
		fmt.Fprintf(o.Out, "Point your consumer at topic %s, bootstrap %s (Avro, schema %s, Confluent wire format with schema id %d),\n"+
			"  e.g. kcat -C -b %s -G my-broker %s\n", e.Topic.Name, strings.Join(bootstrap, ","), schema.Name, e.Alert.SchemaID, bootstrap[0], e.Topic.Name)
		fmt.Fprintf(o.Out, "Follow a consumer group from another terminal: testbed watch --name %s --group GROUP\n", name)
		if len(groups) > 0 {
			fmt.Fprintf(o.Out, "Following %s: each is judged per visit once it has a member\n", strings.Join(groups, ", "))
		}
		streamErr = followStream(ctx, env, f, records, id, e.Producers)
	}

	// Stopping must finish even after Ctrl-C.
	cctx := context.WithoutCancel(ctx)
	fmt.Fprintf(o.Out, "Stopping the stream\n")
	var problems []string
	if err := run.Stop(cctx, api, env.nodeAPIs(), id, stopTimeout); err != nil {
		problems = append(problems, "stopping the producers: "+err.Error())
	}
	// The records of the visits the producers were in when stopped.
	drainRecords(records, f, 3*time.Second)
	f.flush()
	fmt.Fprintf(o.Out, "Stream %s: ", id)
	f.summary(time.Since(start))
	if o.Keep {
		fmt.Fprintf(o.Out, " - Kept the producers' service (run-%s-*) and the topics %s (--keep)\n", id, strings.Join(topicNames(plan.Topics), ", "))
	} else {
		n, err := run.Remove(cctx, api, id)
		if err == nil {
			err = run.DeleteTopics(env.admin, plan.Topics)
		}
		if err != nil {
			problems = append(problems, "removing the stream's service and topics: "+err.Error())
		} else {
			fmt.Fprintf(o.Out, " ✓ Removed %d service(s) and the topics %s\n", n, strings.Join(topicNames(plan.Topics), ", "))
		}
	}
	if err := ws.RemoveStream(name); err != nil {
		problems = append(problems, err.Error())
	}
	if streamErr != nil && ctx.Err() == nil {
		problems = append([]string{streamErr.Error()}, problems...)
	}
	if len(problems) > 0 {
		return fmt.Errorf("stream %s: %s", id, strings.Join(problems, "; "))
	}
	return nil
}

// followStream follows the stream until ctx is done (nil) or its
// producers fail or end (an error).
func followStream(ctx context.Context, env *runEnv, f *follower, records <-chan *sarama.ConsumerMessage, id string, producers int) error {
	api := env.cluster.Leader().API
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var nextTasks time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-records:
			f.record(m.Value)
		case now := <-tick.C:
			f.tick(now)
			if now.After(nextTasks) {
				nextTasks = now.Add(5 * time.Second)
				done, err := run.ProducersDone(ctx, api, id, producers)
				if ctx.Err() != nil {
					return nil
				}
				if err != nil {
					return err
				}
				if done {
					return errors.New("the producers ended: a stream's producers send until they are stopped (see their log: docker service logs run-" + id + "-producers)")
				}
			}
		}
	}
}

// drainRecords takes the records that come within wait.
func drainRecords(records <-chan *sarama.ConsumerMessage, f *follower, wait time.Duration) {
	deadline := time.After(wait)
	for {
		select {
		case m := <-records:
			f.record(m.Value)
		case <-deadline:
			return
		}
	}
}

// followedGroups are the experiment's external consumers and the ones
// asked for, each once, in that order.
func followedGroups(external, asked []string) ([]string, error) {
	var out []string
	for _, g := range append(slices.Clone(external), asked...) {
		if strings.TrimSpace(g) == "" || strings.ContainsAny(g, " \t\n") {
			return nil, fmt.Errorf("--group %q: give a consumer group id (its group.id), without spaces", g)
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}

// refuseLiveStream refuses what (a run, a second stream) while a stream
// runs on the testbed: it would share the brokers and nodes, and disturb
// what each measures.
func refuseLiveStream(ws workspace.Workspace, name, what string) error {
	st, ok, err := ws.LoadStream(name)
	if err != nil || !ok || !st.Alive() {
		return err
	}
	return fmt.Errorf("testbed %q has a stream running (%s of experiment %s, process %d, since %s): stop it (Ctrl-C in its terminal) before %s, which would share its brokers and nodes",
		name, st.RunID, st.Experiment, st.PID, st.StartedAt.Local().Format("15:04:05"), what)
}

// clearStaleStream removes what a stream whose process is gone left on
// the testbed: its producers (they send until stopped), its service and
// its topics.
func clearStaleStream(ctx context.Context, env *runEnv, ws workspace.Workspace, name string) error {
	st, ok, err := ws.LoadStream(name)
	if err != nil || !ok || st.Alive() {
		return err
	}
	api := env.cluster.Leader().API
	if err := run.Stop(ctx, api, env.nodeAPIs(), st.RunID, stopTimeout); err != nil {
		return fmt.Errorf("stopping the producers of stream %s, whose process %d is gone: %w", st.RunID, st.PID, err)
	}
	n, err := run.Remove(ctx, api, st.RunID)
	if err != nil {
		return err
	}
	var topics []run.Topic
	for _, t := range []string{st.Topic, st.ResultsTopic, run.ReplayTopic(st.RunID)} {
		if _, err := env.client.Partitions(t); err == nil {
			topics = append(topics, run.Topic{Name: t})
		}
	}
	if err := run.DeleteTopics(env.admin, topics); err != nil {
		return err
	}
	fmt.Fprintf(env.out, " ✓ Removed what stream %s left (its process %d is gone): %d service(s), %d topic(s)\n", st.RunID, st.PID, n, len(topics))
	return ws.RemoveStream(name)
}

// topicHolds is the most a stream topic holds on disk, in bytes, taking
// perSecond bytes a second over all its replicas: its retention, a
// segment and a retention check's worth.
func topicHolds(perSecond float64, segment, retention time.Duration) float64 {
	return perSecond * (retention + segment + retentionCheck).Seconds()
}

// checkHostDisk refuses a stream whose topic would hold more than 80% of
// the free disk of the Engine the local nodes run on (their Kafka data is
// in its volumes).
func checkHostDisk(ctx context.Context, host *client.Client, perSecond float64, segment, retention time.Duration) error {
	info, err := host.Info(ctx)
	if err != nil {
		return nil // the brokers' disks are checked by Kafka itself then
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(info.DockerRootDir, &fs); err != nil {
		return nil
	}
	return diskRefusal(perSecond, float64(fs.Bavail)*float64(fs.Bsize), info.DockerRootDir, segment, retention)
}

// diskRefusal refuses a stream topic that would hold more than 80% of
// free (bytes, on dir), taking perSecond bytes a second over all
// replicas, and names the longest --retention that fits.
func diskRefusal(perSecond, free float64, dir string, segment, retention time.Duration) error {
	held := topicHolds(perSecond, segment, retention)
	if held <= 0.8*free {
		return nil
	}
	fits := time.Duration((0.8*free/perSecond - (segment + retentionCheck).Seconds()) * float64(time.Second)).Truncate(time.Second)
	hint := "fewer alerts per visit, smaller alerts or a lower replication factor"
	if fits > 0 {
		hint = fmt.Sprintf("--retention %s or less, or %s", fits, hint)
	}
	return fmt.Errorf("the stream topic would hold up to %.1f GB (%.1f MB/s over all replicas, kept for --retention %s plus a segment and the brokers' 30 s retention check), more than 80%% of the %.1f GB free on this host's disk (%s): use %s",
		held/1e9, perSecond/1e6, retention, free/1e9, dir, hint)
}

// topicNames are the names of topics.
func topicNames(topics []run.Topic) []string {
	var out []string
	for _, t := range topics {
		out = append(out, t.Name)
	}
	return out
}
