package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/IBM/sarama"
)

// TopicReadyTimeout bounds WaitTopicsReady where callers have no better
// figure: a new topic is in every broker's metadata within a second or two
// on a healthy KRaft cluster (the controller pushes metadata to the
// brokers), so a minute means something is wrong.
const TopicReadyTimeout = time.Minute

// WaitTopicsReady returns once every broker of the cluster lists each topic
// (name -> partition count) with all its partitions and a leader for each:
// the state in which any client, whichever broker it asks, can produce to
// and fetch from the topic. Right after CreateTopics returns, the controller
// knows the topic, but a broker that has not yet applied the metadata answers
// UNKNOWN_TOPIC_OR_PARTITION; a client that asks it fails ("Request was for
// a topic or partition that does not exist on this broker").
//
// Every broker is asked directly (sarama's client would answer from any one
// of them). The error names the topics and brokers still missing at the
// deadline.
func WaitTopicsReady(ctx context.Context, client sarama.Client, topics map[string]int32, timeout time.Duration) error {
	if len(topics) == 0 {
		return nil
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	sort.Strings(names)
	deadline := time.Now().Add(timeout)
	for {
		// Only to learn of every broker: each is asked directly below.
		_ = client.RefreshMetadata()
		brokers := client.Brokers()
		var waiting []string
		if len(brokers) == 0 {
			waiting = append(waiting, "no broker in the client's metadata")
		}
		for _, b := range brokers {
			waiting = append(waiting, brokerMissing(client.Config(), b, names, topics)...)
		}
		if len(waiting) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topics not ready on every broker after %s: %s", timeout, strings.Join(waiting, "; "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// brokerMissing asks one broker for the topics' metadata and says what it
// lacks, one phrase each; nil when it has everything.
func brokerMissing(cfg *sarama.Config, b *sarama.Broker, names []string, want map[string]int32) []string {
	where := fmt.Sprintf("broker %d (%s)", b.ID(), b.Addr())
	if ok, _ := b.Connected(); !ok {
		if err := b.Open(cfg); err != nil && !errors.Is(err, sarama.ErrAlreadyConnected) {
			return []string{fmt.Sprintf("%s: %v", where, err)}
		}
	}
	req := sarama.NewMetadataRequest(cfg.Version, names)
	req.AllowAutoTopicCreation = false
	resp, err := b.GetMetadata(req)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", where, err)}
	}
	got := map[string]*sarama.TopicMetadata{}
	for _, t := range resp.Topics {
		got[t.Name] = t
	}
	var out []string
	for _, name := range names {
		t := got[name]
		switch {
		case t == nil || errors.Is(t.Err, sarama.ErrUnknownTopicOrPartition):
			out = append(out, fmt.Sprintf("%s does not know %s yet", where, name))
			continue
		case t.Err != sarama.ErrNoError:
			out = append(out, fmt.Sprintf("%s: %s: %v", where, name, t.Err))
			continue
		case int32(len(t.Partitions)) != want[name]:
			out = append(out, fmt.Sprintf("%s lists %d of the %d partitions of %s", where, len(t.Partitions), want[name], name))
			continue
		}
		for _, p := range t.Partitions {
			if p.Err == sarama.ErrLeaderNotAvailable || p.Leader < 0 {
				out = append(out, fmt.Sprintf("%s: %s/%d has no leader yet", where, name, p.ID))
				break
			}
		}
	}
	return out
}
