package run

import (
	"context"
	"strings"
	"testing"

	"github.com/IBM/sarama"

	"github.com/alert-testbed/testbed/agents/kafkaconf"
	"github.com/alert-testbed/testbed/internal/kafkatest"
)

func TestTopicsOfTheMinibroker(t *testing.T) {
	e := load(t, "minibroker.yaml")
	ts := Topics(e, "testbed-results")
	if len(ts) != 2+e.Filters.Groups*e.Filters.FiltersPerGroup {
		t.Fatalf("%d topics", len(ts))
	}
	if ts[0].Name != e.Topic.Name || ts[0].Partitions != int32(e.Topic.Partitions) || ts[2].Name != "Filter001" || ts[len(ts)-1].Name != "Filter100" {
		t.Fatalf("topics %v ... %v", ts[:3], ts[len(ts)-1])
	}
	if ts[0].Configs["retention.ms"] != "3600000" || ts[0].Configs["min.insync.replicas"] != "1" {
		t.Errorf("stream configs %v", ts[0].Configs)
	}
}

// Against a real broker: the run's topics are made with their partitions
// and settings, a second creation refuses to reuse them, and they go.
func TestCreateAndDeleteTopics(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a Docker Engine and the Kafka image (kafkatest.Start); `make unit` (-short) needs neither: `make test` runs it")
	}
	addr := kafkatest.Start(t)
	cfg := sarama.NewConfig()
	cfg.Version = kafkaconf.KafkaVersion
	admin, err := sarama.NewClusterAdmin([]string{addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	client, err := sarama.NewClient([]string{addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	e := load(t, "ztf-scale.yaml") // replication factor 1: one broker here
	e.Topic.Name = "alerts-" + kafkatest.RandHex(3)
	e.Topic.Partitions = 3
	ts := Topics(e, "results-"+kafkatest.RandHex(3))
	if err := CreateTopics(context.Background(), admin, client, ts); err != nil {
		t.Fatal(err)
	}
	meta, err := admin.DescribeTopics([]string{e.Topic.Name})
	if err != nil || len(meta) != 1 || len(meta[0].Partitions) != 3 {
		t.Fatalf("topic %s: %v %+v", e.Topic.Name, err, meta)
	}
	entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: e.Topic.Name, ConfigNames: []string{"retention.ms"}})
	if err != nil || len(entries) != 1 || entries[0].Value != "3600000" {
		t.Fatalf("retention.ms of %s: %v %+v", e.Topic.Name, err, entries)
	}
	if err := CreateTopics(context.Background(), admin, client, ts); err == nil || !strings.Contains(err.Error(), "already exists (left by an earlier run?)") {
		t.Fatalf("second create: %v", err)
	}
	if err := DeleteTopics(admin, ts); err != nil {
		t.Fatal(err)
	}
	if err := DeleteTopics(admin, ts); err != nil {
		t.Fatalf("deleting deleted topics: %v", err)
	}
}
