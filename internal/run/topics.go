package run

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/IBM/sarama"

	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/kafka"
)

// Topic is one topic a run creates.
type Topic struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	Configs           map[string]string
	// Assignment, when set, places the replicas (partition -> broker IDs,
	// the first the preferred leader) instead of Kafka; Partitions and
	// ReplicationFactor must agree with it.
	Assignment map[int32][]int32
}

// Topics returns the topics of a run: the alert stream as the experiment
// sets it, the results topic, and one topic per filter of the run's filter
// groups (single partition, as DMTN-081's Filter topics).
func Topics(e experiment.Experiment, resultsTopic string) []Topic {
	rf := int16(e.Topic.ReplicationFactor)
	minISR := strconv.Itoa(e.Topic.MinInsyncReplicas)
	retention := strconv.FormatInt(e.Topic.Retention.Milliseconds(), 10)
	stream := map[string]string{"min.insync.replicas": minISR, "retention.ms": retention}
	out := []Topic{
		{Name: e.Topic.Name, Partitions: int32(e.Topic.Partitions), ReplicationFactor: rf, Configs: stream},
		{Name: resultsTopic, Partitions: 1, ReplicationFactor: rf, Configs: map[string]string{"min.insync.replicas": minISR}},
	}
	defs := e.FilterDefs()
	for g := 0; g < e.Filters.Groups; g++ {
		first, last := e.FilterRange(g)
		for _, f := range defs[first-1 : last] {
			out = append(out, Topic{Name: f.Name, Partitions: 1, ReplicationFactor: rf, Configs: stream})
		}
	}
	return out
}

// CreateTopics creates the topics and returns once every broker knows them
// and each of their partitions has a leader (kafka.WaitTopicsReady), so
// that neither the orchestrator nor an agent asks a broker that has not
// heard of one yet. A topic that already exists is an error, because its
// old records would be counted as this run's.
func CreateTopics(ctx context.Context, admin sarama.ClusterAdmin, client sarama.Client, topics []Topic) error {
	ready := map[string]int32{}
	for _, t := range topics {
		ready[t.Name] = t.Partitions
		cfg := map[string]*string{}
		for k, v := range t.Configs {
			cfg[k] = &v
		}
		detail := &sarama.TopicDetail{NumPartitions: t.Partitions, ReplicationFactor: t.ReplicationFactor, ConfigEntries: cfg}
		if t.Assignment != nil {
			// Kafka takes either an assignment or the counts, not both.
			detail.NumPartitions, detail.ReplicationFactor, detail.ReplicaAssignment = -1, -1, t.Assignment
		}
		err := admin.CreateTopic(t.Name, detail, false)
		if errors.Is(err, sarama.ErrTopicAlreadyExists) {
			return fmt.Errorf("topic %s already exists (left by an earlier run?): delete it, or name the run's topic differently", t.Name)
		}
		if err != nil {
			return fmt.Errorf("create topic %s (%d partitions, replication factor %d): %w", t.Name, t.Partitions, t.ReplicationFactor, err)
		}
	}
	return kafka.WaitTopicsReady(ctx, client, ready, kafka.TopicReadyTimeout)
}

// DeleteTopics removes the topics a run made; those already gone are fine.
// It returns once the brokers no longer list them, so that the next run of
// a sweep can create topics of the same names.
func DeleteTopics(admin sarama.ClusterAdmin, topics []Topic) error {
	var errs []error
	for _, t := range topics {
		if err := admin.DeleteTopic(t.Name); err != nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("delete topic %s: %w", t.Name, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	deadline := time.Now().Add(deleteTimeout)
	for {
		listed, err := admin.ListTopics()
		if err != nil {
			return fmt.Errorf("list topics: %w", err)
		}
		var left []string
		for _, t := range topics {
			if _, ok := listed[t.Name]; ok {
				left = append(left, t.Name)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topics %v still listed %s after their deletion", left, deleteTimeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// deleteTimeout bounds the wait for deleted topics to go.
const deleteTimeout = time.Minute
