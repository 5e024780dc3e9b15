package orchestrator

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/alert-testbed/testbed/internal/kafka"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// WatchOptions are the settings of `testbed watch`.
type WatchOptions struct {
	Testbed string
	Groups  []string // consumer group ids to follow, at least one
	Out     io.Writer
}

// Watch follows consumer groups against the stream running on the testbed
// (testbed stream, from another terminal), from their committed offsets:
// a line per visit due after it started, saying for each group whether it
// caught up with the visit before the next was due or how far behind it
// is; and, when ctx is done or the stream ends, each group's verdict.
func Watch(ctx context.Context, ws workspace.Workspace, o WatchOptions) error {
	groups, err := followedGroups(nil, o.Groups)
	if err != nil {
		return err
	}
	if len(groups) == 0 {
		return fmt.Errorf("no --group given: name the consumer group(s) to follow (their group.id)")
	}
	st, ok, err := ws.LoadStream(o.Testbed)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no stream is running on testbed %q: start one with `testbed stream --name %s EXPERIMENT.yaml` in another terminal", o.Testbed, o.Testbed)
	}
	if !st.Alive() {
		return fmt.Errorf("the stream %s on testbed %q is not running any more (its process %d is gone): start a new one with `testbed stream --name %s EXPERIMENT.yaml`, which also removes what that one left", st.RunID, o.Testbed, st.PID, o.Testbed)
	}
	client, err := sarama.NewClient(st.Bootstrap, kafka.Config())
	if err != nil {
		return fmt.Errorf("Kafka at %v: %w", st.Bootstrap, err)
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return err
	}
	records, stopReading, err := readResults(st.Bootstrap, st.ResultsTopic)
	if err != nil {
		return fmt.Errorf("the stream's results topic: %w", err)
	}
	defer stopReading()

	start := time.Now()
	fmt.Fprintf(o.Out, "Watching %s on stream %s of testbed %q (experiment %s: topic %s, %d alerts every %s): a line per visit from the next one; Ctrl-C to stop\n",
		strings.Join(groups, ", "), st.RunID, o.Testbed, st.Experiment, st.Topic, st.AlertsPerVisit, st.VisitInterval)
	f := newFollower(client, admin, o.Out, st, groups, start)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var nextCheck time.Time
	ended := ""
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case m := <-records:
			f.record(m.Value)
		case now := <-tick.C:
			f.tick(now)
			if now.After(nextCheck) {
				nextCheck = now.Add(2 * time.Second)
				cur, ok, err := ws.LoadStream(o.Testbed)
				if err == nil && (!ok || cur.RunID != st.RunID || !cur.Alive()) {
					ended = "the stream ended"
					break loop
				}
			}
		}
	}
	if ended != "" {
		drainRecords(records, f, 3*time.Second)
		fmt.Fprintf(o.Out, "%s\n", ended)
	}
	f.flush()
	fmt.Fprintf(o.Out, "Watched stream %s: ", st.RunID)
	f.summary(time.Since(start))
	return nil
}
