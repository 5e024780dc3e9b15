package run

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"golang.org/x/sync/errgroup"

	"github.com/alert-testbed/testbed/internal/experiment"
)

// Group is a consumer group of a run and the members it should have.
type Group struct {
	Name    string // Kafka group id
	Label   string // the experiment's name for it: consumer1, filters-1, ...
	Topic   string // what it reads
	Members int
	Stream  bool // reads the alert stream (accounted against the producers)
}

// External is a consumer group the testbed follows but did not start (a
// user's consumer) reading topic: of Members 0, any number, at least one
// (WaitGroups).
func External(name, topic string) Group {
	return Group{Name: name, Label: name, Topic: topic, Stream: true}
}

// Groups lists the consumer groups of a run, as its plan names them: the
// stream's consumer groups and filter groups, and one group per end-user
// task.
func Groups(e experiment.Experiment, runID string) []Group {
	_, groups := readers(e, Params{RunID: runID})
	return groups
}

// WaitGroups waits until every group is Stable with all its members, so
// that no rebalance moves partitions while the producers send. A group
// that is still rebalancing at the deadline is named in the error. A
// group of Members 0 (an external consumer's, of a size the run does not
// know) needs at least one member.
//
// The groups' coordinators are looked up once first, lookupParallel at a
// time, for the client to cache: sarama's DescribeConsumerGroups would
// look each one up in turn, a round trip per group (105 for the
// minibroker), and looks up again only those whose lookup failed. client
// must not be one whose connections a consumer's long-poll fetches hold
// (see readResults in internal/orchestrator): there, each lookup waited up
// to 500 ms, and the minibroker's groups took 35 s to describe, looked up
// in parallel or not.
func WaitGroups(ctx context.Context, client sarama.Client, admin sarama.ClusterAdmin, groups []Group, timeout time.Duration) error {
	names := make([]string, len(groups))
	want := map[string]int{}
	for i, g := range groups {
		names[i] = g.Name
		want[g.Name] = g.Members
	}
	deadline := time.Now().Add(timeout)
	lookUpCoordinators(client, names)
	for {
		descs, err := admin.DescribeConsumerGroups(names)
		var waiting []string
		if err != nil {
			waiting = []string{err.Error()}
		}
		seen := map[string]bool{}
		for _, d := range descs {
			seen[d.GroupId] = true
			if d.Err != sarama.ErrNoError {
				waiting = append(waiting, fmt.Sprintf("%s: %v", d.GroupId, d.Err))
			} else if w := want[d.GroupId]; w == 0 && (d.State != "Stable" || len(d.Members) == 0) {
				waiting = append(waiting, fmt.Sprintf("%s: %s with no member", d.GroupId, d.State))
			} else if w > 0 && (d.State != "Stable" || len(d.Members) != w) {
				waiting = append(waiting, fmt.Sprintf("%s: %s with %d of %d members", d.GroupId, d.State, len(d.Members), w))
			}
		}
		for _, n := range names {
			if !seen[n] && err == nil {
				waiting = append(waiting, n+": not described")
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			sort.Strings(waiting)
			return fmt.Errorf("consumer groups not ready after %s: %s", timeout, strings.Join(waiting, "; "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Lag returns, per group, how many records of its topic it has not
// committed yet: the sum over partitions of high-water mark minus committed
// offset (a partition without a commit counts from its start, since members
// read from the oldest offset).
func Lag(client sarama.Client, admin sarama.ClusterAdmin, groups []Group) (map[string]int64, error) {
	pos, err := Positions(client, admin, groups)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(pos))
	for g, p := range pos {
		out[g] = p.Lag
	}
	return out, nil
}

// Position is where a consumer group is on its topic, summed over the
// partitions: Lag as Lag says, Committed its committed offsets (a
// partition without a commit at its oldest offset).
type Position struct{ Lag, Committed int64 }

// Positions returns each group's Position: the topics' high-water marks
// read once per topic, then each group's committed offsets, both with up to
// lookupParallel requests in flight (sarama asks one partition's offset or
// one group's commits per round trip: one after another, a lag check of the
// minibroker's 105 groups on 100 topics is 205 round trips in a row, and a
// run checks lag every second).
func Positions(client sarama.Client, admin sarama.ClusterAdmin, groups []Group) (map[string]Position, error) {
	var topics []string
	seen := map[string]bool{}
	for _, g := range groups {
		if !seen[g.Topic] {
			seen[g.Topic] = true
			topics = append(topics, g.Topic)
		}
	}
	var mu sync.Mutex
	hwm := make(map[string]map[int32]int64, len(topics))
	var eg errgroup.Group
	eg.SetLimit(lookupParallel)
	for _, topic := range topics {
		eg.Go(func() error {
			parts, err := client.Partitions(topic)
			if err != nil {
				return fmt.Errorf("partitions of %s: %w", topic, err)
			}
			high := make(map[int32]int64, len(parts))
			for _, p := range parts {
				off, err := client.GetOffset(topic, p, sarama.OffsetNewest)
				if err != nil {
					return fmt.Errorf("high-water mark of %s/%d: %w", topic, p, err)
				}
				high[p] = off
			}
			mu.Lock()
			hwm[topic] = high
			mu.Unlock()
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}

	out := make(map[string]Position, len(groups))
	eg = errgroup.Group{}
	eg.SetLimit(lookupParallel)
	for _, g := range groups {
		high := hwm[g.Topic] // read only from here on
		eg.Go(func() error {
			parts := make([]int32, 0, len(high))
			for p := range high {
				parts = append(parts, p)
			}
			resp, err := admin.ListConsumerGroupOffsets(g.Name, map[string][]int32{g.Topic: parts})
			if err != nil {
				return fmt.Errorf("offsets of group %s: %w", g.Name, err)
			}
			var lag, sum int64
			for p, h := range high {
				committed := int64(0)
				if b := resp.GetBlock(g.Topic, p); b != nil && b.Offset >= 0 {
					committed = b.Offset
				} else if low, err := client.GetOffset(g.Topic, p, sarama.OffsetOldest); err == nil {
					committed = low
				}
				if h > committed {
					lag += h - committed
				}
				sum += committed
			}
			mu.Lock()
			out[g.Name] = Position{Lag: lag, Committed: sum}
			mu.Unlock()
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// lookupParallel bounds the requests the orchestrator has in flight when
// it asks about many groups or topics at once: enough to overlap the round
// trips of a loaded testbed, few enough not to queue behind the agents'
// own requests at the brokers.
const lookupParallel = 16

// lookUpCoordinators finds the coordinator of each group, lookupParallel
// at a time; the client caches them for DescribeConsumerGroups and
// ListConsumerGroupOffsets. A failed lookup is left to the call that
// needs it, which tries again and reports it.
func lookUpCoordinators(client sarama.Client, groups []string) {
	var eg errgroup.Group
	eg.SetLimit(lookupParallel)
	for _, g := range groups {
		eg.Go(func() error {
			_, _ = client.Coordinator(g)
			return nil
		})
	}
	_ = eg.Wait()
}

// TopicCount is the number of records in a topic: the sum over its
// partitions of high-water mark minus oldest offset.
func TopicCount(client sarama.Client, topic string) (int64, error) {
	parts, err := client.Partitions(topic)
	if err != nil {
		return 0, fmt.Errorf("partitions of %s: %w", topic, err)
	}
	var n int64
	for _, p := range parts {
		high, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return 0, err
		}
		low, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return 0, err
		}
		n += high - low
	}
	return n, nil
}
