package kafka

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// HealthTopic is the topic `up` writes and reads to prove the cluster
// works; it is kept (it is tiny) so later checks reuse it.
const HealthTopic = "testbed-health"

// Config returns the sarama configuration the orchestrator's own clients
// use: the broker version the images run, and acks from every in-sync
// replica.
func Config() *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = "testbed-orchestrator"
	c.Version = sarama.V3_9_0_0
	c.Net.DialTimeout = 5 * time.Second
	c.Metadata.Retry.Max = 2
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Producer.Idempotent = false
	c.Consumer.Return.Errors = true
	return c
}

// Health is what a round trip found.
type Health struct {
	Brokers   int           // brokers in the cluster metadata
	Partition int32         // partition the probe went to
	Offset    int64         // offset of the probe
	RoundTrip time.Duration // produce + consume
}

// RoundTrip ensures HealthTopic exists with the given replication factor
// and min.insync.replicas 2, produces a unique record with acks=all and
// reads it back from its partition and offset.
func RoundTrip(ctx context.Context, bootstrap []string, replication int16) (Health, error) {
	var h Health
	cfg := Config()
	client, err := sarama.NewClient(bootstrap, cfg)
	if err != nil {
		return h, fmt.Errorf("connect to Kafka at %v: %w", bootstrap, err)
	}
	defer client.Close()
	h.Brokers = len(client.Brokers())

	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return h, err
	}
	minISR := "2"
	err = admin.CreateTopic(HealthTopic, &sarama.TopicDetail{
		NumPartitions:     3,
		ReplicationFactor: replication,
		ConfigEntries:     map[string]*string{"min.insync.replicas": &minISR},
	}, false)
	if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
		return h, fmt.Errorf("create topic %s (replication factor %d, min.insync.replicas 2): %w", HealthTopic, replication, err)
	}
	if err := WaitTopicsReady(ctx, client, map[string]int32{HealthTopic: 3}, TopicReadyTimeout); err != nil {
		return h, err
	}

	start := time.Now()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return h, err
	}
	defer producer.Close()
	nonce := make([]byte, 8)
	rand.Read(nonce)
	want := "testbed health probe " + hex.EncodeToString(nonce)
	part, off, err := producer.SendMessage(&sarama.ProducerMessage{Topic: HealthTopic, Value: sarama.StringEncoder(want)})
	if err != nil {
		return h, fmt.Errorf("produce to %s with acks=all: %w", HealthTopic, err)
	}
	h.Partition, h.Offset = part, off

	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return h, err
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(HealthTopic, part, off)
	if err != nil {
		return h, fmt.Errorf("consume %s/%d from offset %d: %w", HealthTopic, part, off, err)
	}
	defer pc.Close()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case m := <-pc.Messages():
			if m.Offset == off {
				if string(m.Value) != want {
					return h, fmt.Errorf("read back %q at %s/%d@%d, wrote %q", m.Value, HealthTopic, part, off, want)
				}
				h.RoundTrip = time.Since(start)
				return h, nil
			}
		case err := <-pc.Errors():
			return h, fmt.Errorf("consume %s/%d: %w", HealthTopic, part, err)
		case <-timeout.C:
			return h, fmt.Errorf("record produced to %s/%d@%d not read back within 30s", HealthTopic, part, off)
		case <-ctx.Done():
			return h, ctx.Err()
		}
	}
}

// NewClusterID returns a Kafka cluster id: 16 random bytes in URL-safe
// base64 without padding, the form `kafka-storage random-uuid` prints, and
// like Kafka's own Uuid.randomUuid never one that begins with '-' (the
// storage tool would read it as an option).
func NewClusterID() string {
	for {
		b := make([]byte, 16)
		rand.Read(b)
		if id := base64.RawURLEncoding.EncodeToString(b); id[0] != '-' {
			return id
		}
	}
}
