package run

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/IBM/sarama"

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
func WaitGroups(ctx context.Context, admin sarama.ClusterAdmin, groups []Group, timeout time.Duration) error {
	names := make([]string, len(groups))
	want := map[string]int{}
	for i, g := range groups {
		names[i] = g.Name
		want[g.Name] = g.Members
	}
	deadline := time.Now().Add(timeout)
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

// Positions returns each group's Position, the topics' high-water marks
// read once per topic.
func Positions(client sarama.Client, admin sarama.ClusterAdmin, groups []Group) (map[string]Position, error) {
	hwm := map[string]map[int32]int64{}
	out := map[string]Position{}
	for _, g := range groups {
		if hwm[g.Topic] == nil {
			parts, err := client.Partitions(g.Topic)
			if err != nil {
				return nil, fmt.Errorf("partitions of %s: %w", g.Topic, err)
			}
			hwm[g.Topic] = map[int32]int64{}
			for _, p := range parts {
				off, err := client.GetOffset(g.Topic, p, sarama.OffsetNewest)
				if err != nil {
					return nil, fmt.Errorf("high-water mark of %s/%d: %w", g.Topic, p, err)
				}
				hwm[g.Topic][p] = off
			}
		}
		parts := make([]int32, 0, len(hwm[g.Topic]))
		for p := range hwm[g.Topic] {
			parts = append(parts, p)
		}
		resp, err := admin.ListConsumerGroupOffsets(g.Name, map[string][]int32{g.Topic: parts})
		if err != nil {
			return nil, fmt.Errorf("offsets of group %s: %w", g.Name, err)
		}
		var lag, sum int64
		for p, high := range hwm[g.Topic] {
			committed := int64(0)
			if b := resp.GetBlock(g.Topic, p); b != nil && b.Offset >= 0 {
				committed = b.Offset
			} else if low, err := client.GetOffset(g.Topic, p, sarama.OffsetOldest); err == nil {
				committed = low
			}
			if high > committed {
				lag += high - committed
			}
			sum += committed
		}
		out[g.Name] = Position{Lag: lag, Committed: sum}
	}
	return out, nil
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
