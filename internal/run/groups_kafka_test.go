package run

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/alert-testbed/testbed/agents/kafkaconf"
	"github.com/alert-testbed/testbed/internal/kafkatest"
)

// Against a real broker, with more groups and topics than lookupParallel:
// Positions gives each group its own lag and committed offsets (groups
// that committed part of a topic, groups that committed nothing), and
// WaitGroups returns once every group is Stable with its members, and
// names the group that is not.
func TestPositionsAndWaitGroupsOfManyGroups(t *testing.T) {
	addr := kafkatest.Start(t)
	cfg := sarama.NewConfig()
	cfg.Version = kafkaconf.KafkaVersion
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewRoundRobinPartitioner
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	client, err := sarama.NewClient([]string{addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		t.Fatal(err)
	}

	// 20 topics of 2 partitions; topic i holds 2(i+1) records, one
	// partition's worth committed by group "half-i", none by "none-i".
	const topics = 20
	suffix := kafkatest.RandHex(3)
	names := make([]string, topics)
	for i := range names {
		names[i] = fmt.Sprintf("pos-%s-%02d", suffix, i)
	}
	kafkatest.CreateTopics(t, addr, 2, names...)
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	for i, topic := range names {
		for k := 0; k < 2*(i+1); k++ {
			if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder("x")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var groups []Group
	for i, topic := range names {
		half := Group{Name: fmt.Sprintf("half-%s-%02d", suffix, i), Topic: topic, Members: 1}
		none := Group{Name: fmt.Sprintf("none-%s-%02d", suffix, i), Topic: topic, Members: 1}
		groups = append(groups, half, none)
		om, err := sarama.NewOffsetManagerFromClient(half.Name, client)
		if err != nil {
			t.Fatal(err)
		}
		pom, err := om.ManagePartition(topic, 0)
		if err != nil {
			t.Fatal(err)
		}
		pom.MarkOffset(int64(i+1), "") // all of partition 0 (round robin: i+1 records)
		om.Commit()
		pom.Close()
		om.Close()
	}

	pos, err := Positions(client, admin, groups)
	if err != nil {
		t.Fatal(err)
	}
	if len(pos) != len(groups) {
		t.Fatalf("%d positions for %d groups", len(pos), len(groups))
	}
	for i := range names {
		half, none := pos[groups[2*i].Name], pos[groups[2*i+1].Name]
		n := int64(i + 1)
		if half != (Position{Lag: n, Committed: n}) {
			t.Errorf("%s: %+v, want lag %d, committed %d", groups[2*i].Name, half, n, n)
		}
		if none != (Position{Lag: 2 * n, Committed: 0}) {
			t.Errorf("%s: %+v, want lag %d, committed 0", groups[2*i+1].Name, none, 2*n)
		}
	}

	// One member in each of the 20 "none" groups: WaitGroups returns when
	// all are Stable; asked for two members of one of them, it names that
	// group at its deadline.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	var members []Group
	for i := range names {
		g := groups[2*i+1]
		members = append(members, g)
		cg, err := sarama.NewConsumerGroup([]string{addr}, g.Name, cfg)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cg.Close()
			for ctx.Err() == nil {
				if err := cg.Consume(ctx, []string{g.Topic}, idleHandler{}); err != nil && ctx.Err() == nil {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	if err := WaitGroups(ctx, client, admin, members, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	short := append([]Group(nil), members...)
	short[7].Members = 2
	err = WaitGroups(ctx, client, admin, short, 2*time.Second)
	if err == nil || !strings.Contains(err.Error(), short[7].Name+": Stable with 1 of 2 members") {
		t.Fatalf("WaitGroups with a member missing: %v", err)
	}
}

// idleHandler is a member that reads nothing: it only holds its place in
// the group.
type idleHandler struct{}

func (idleHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (idleHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (idleHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	<-s.Context().Done()
	return nil
}
