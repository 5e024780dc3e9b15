// Package kafkaconf turns the agents' command-line flags into an IBM/sarama
// configuration. The defaults are tuned for LSST-sized records (about
// 136 KB each, 10,000 per visit): batches of about 1 MB per broker and at
// most 1,000,000 bytes per partition (the broker's message.max.bytes limits
// whole record batches, not records: 4 MB batches are refused), a short
// linger, and acks from every in-sync replica.
package kafkaconf

import (
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/urfave/cli/v2"
)

// KafkaVersion is the protocol version the agents speak: the Kafka image
// runs 4.3.1; sarama's newest protocol table covers 4.x brokers when told
// 3.9, and 4.x brokers dropped nothing the agents use.
var KafkaVersion = sarama.V3_9_0_0

// ClientFlags are the flags every agent has: where Kafka is and who it is.
func ClientFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "brokers", EnvVars: []string{"KAFKA_BROKERS"}, Value: "kafka-1:19092,kafka-2:19092,kafka-3:19092",
			Usage: "comma-separated bootstrap brokers"},
		&cli.StringFlag{Name: "client-id", EnvVars: []string{"KAFKA_CLIENT_ID"}, Usage: "Kafka client id (default: the agent's name and host)"},
	}
}

// ProducerFlags are the producer tuning flags (the alert producer and the
// filter, which produces to its filter topics).
func ProducerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "acks", EnvVars: []string{"KAFKA_ACKS"}, Value: "all", Usage: "acks: all, 1 or 0"},
		&cli.StringFlag{Name: "compression", EnvVars: []string{"KAFKA_COMPRESSION"}, Value: "none", Usage: "compression: none, gzip, snappy, lz4, zstd"},
		&cli.IntFlag{Name: "batch-bytes", EnvVars: []string{"KAFKA_BATCH_BYTES"}, Value: 1 << 20, Usage: "flush a broker's batch at this many bytes (sarama Producer.Flush.Bytes)"},
		&cli.IntFlag{Name: "batch-messages", EnvVars: []string{"KAFKA_BATCH_MESSAGES"}, Value: 0, Usage: "flush at this many messages (0: no message threshold)"},
		&cli.DurationFlag{Name: "linger", EnvVars: []string{"KAFKA_LINGER"}, Value: 5 * time.Millisecond, Usage: "flush at least this often (sarama Producer.Flush.Frequency)"},
		&cli.IntFlag{Name: "max-message-bytes", EnvVars: []string{"KAFKA_MAX_MESSAGE_BYTES"}, Value: 1_000_000,
			Usage: "largest record batch per partition the producer sends; must not exceed the broker's message.max.bytes (1 MiB + 12 by default), which applies to whole batches"},
		&cli.IntFlag{Name: "buffer", EnvVars: []string{"KAFKA_BUFFER"}, Value: 1024, Usage: "records buffered in the producer's input channel"},
		&cli.IntFlag{Name: "max-in-flight", EnvVars: []string{"KAFKA_MAX_IN_FLIGHT"}, Value: 5, Usage: "requests in flight per broker connection"},
		&cli.IntFlag{Name: "retries", EnvVars: []string{"KAFKA_RETRIES"}, Value: DefaultRetries,
			Usage: "send retries per record before it counts as an error (Kafka's retries); in practice as many as --delivery-timeout leaves room for"},
		&cli.DurationFlag{Name: "retry-backoff", EnvVars: []string{"KAFKA_RETRY_BACKOFF"}, Value: DefaultRetryBackoff,
			Usage: "wait before the first retry of a failed send, doubling on each further retry up to 1s (Kafka's retry.backoff.ms)"},
		&cli.DurationFlag{Name: "delivery-timeout", EnvVars: []string{"KAFKA_DELIVERY_TIMEOUT"}, Value: DefaultDeliveryTimeout,
			Usage: "a record not acknowledged this long after it was handed to the client counts as an error (Kafka's delivery.timeout.ms); at least --linger + 30s"},
		&cli.BoolFlag{Name: "idempotent", EnvVars: []string{"KAFKA_IDEMPOTENT"}, Usage: "idempotent producer (needs acks=all and max-in-flight 1)"},
		&cli.StringFlag{Name: "partitioner", EnvVars: []string{"KAFKA_PARTITIONER"}, Value: "roundrobin", Usage: "partitioner for keyless records: roundrobin, random or hash"},
	}
}

// Producer retry defaults: Kafka's retries, retry.backoff.ms and
// delivery.timeout.ms.
const (
	DefaultRetries         = math.MaxInt32
	DefaultRetryBackoff    = 100 * time.Millisecond
	DefaultDeliveryTimeout = 120 * time.Second
	// MaxRetryBackoff caps the exponential backoff between retries (Kafka's
	// retry.backoff.max.ms is 1s), unless --retry-backoff is longer.
	MaxRetryBackoff = time.Second
	// RequestTimeout is how long one produce request may take: sarama
	// waits this long for a response (its Net.ReadTimeout, set to it),
	// like Kafka's request.timeout.ms, which it equals (30 s).
	RequestTimeout = 30 * time.Second
	// maxClientRetries bounds sarama's Producer.Retry.Max whatever the
	// flags: sarama allocates Retry.Max+1 retry levels per partition.
	maxClientRetries = 1000
	// Metadata retries of a producer: a broker killed and a partition
	// leader moving take 10-20 s to settle; a leader lookup gives up after
	// about metadataRetries x metadataBackoff.
	metadataRetries = 40
	metadataBackoff = 500 * time.Millisecond
)

// DefaultBufferMemory is Kafka's buffer.memory (32 MiB): the bytes of
// records a producer holds before send blocks (alert-producer's
// --buffer-memory; sarama has no such bound). Measured on the 3+10 local
// testbed (2026-12-06, lsst-visit, 1,000 alerts of 136 KB per producer a
// visit): a producer that took a visit's alerts all at once held 1.4 GB
// over 10 producers, and the run used 269-275 CPU seconds (producers
// 34-37, brokers 164-165); with the client's queues cut to 32 records a
// stage, 209 (producers 22.5, brokers 132), and the visits were shorter.
const DefaultBufferMemory = 32 << 20

// ConsumerFlags are the consumer tuning flags.
func ConsumerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "initial-offset", EnvVars: []string{"KAFKA_INITIAL_OFFSET"}, Value: "newest", Usage: "where a group without committed offsets starts: oldest or newest"},
		&cli.IntFlag{Name: "fetch-max-bytes", EnvVars: []string{"KAFKA_FETCH_MAX_BYTES"}, Value: 16 << 20, Usage: "bytes a fetch request may return (sarama Consumer.Fetch.Max)"},
		&cli.IntFlag{Name: "fetch-default-bytes", EnvVars: []string{"KAFKA_FETCH_DEFAULT_BYTES"}, Value: 4 << 20, Usage: "bytes asked per partition per fetch (sarama Consumer.Fetch.Default)"},
		&cli.StringFlag{Name: "rebalance", EnvVars: []string{"KAFKA_REBALANCE"}, Value: "range", Usage: "partition assignment: range, roundrobin or sticky"},
	}
}

// Base returns the configuration common to all agents.
func Base(c *cli.Context, agent string) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = KafkaVersion
	cfg.ClientID = c.String("client-id")
	if cfg.ClientID == "" {
		host, _ := os.Hostname()
		cfg.ClientID = "testbed-" + agent + "-" + host
	}
	cfg.Metadata.Retry.Max = 10
	cfg.Metadata.Retry.Backoff = 500 * time.Millisecond
	cfg.Net.DialTimeout = 10 * time.Second
	return cfg
}

// Brokers splits the --brokers flag.
func Brokers(c *cli.Context) []string {
	var out []string
	for _, b := range strings.Split(c.String("brokers"), ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// ApplyProducer sets the producer part of cfg from the producer flags.
func ApplyProducer(c *cli.Context, cfg *sarama.Config) error {
	switch c.String("acks") {
	case "all", "-1":
		cfg.Producer.RequiredAcks = sarama.WaitForAll
	case "1":
		cfg.Producer.RequiredAcks = sarama.WaitForLocal
	case "0":
		cfg.Producer.RequiredAcks = sarama.NoResponse
	default:
		return fmt.Errorf("invalid --acks %q: use all, 1 or 0", c.String("acks"))
	}
	codec, err := Compression(c.String("compression"))
	if err != nil {
		return err
	}
	cfg.Producer.Compression = codec
	cfg.Producer.Flush.Bytes = c.Int("batch-bytes")
	cfg.Producer.Flush.Messages = c.Int("batch-messages")
	cfg.Producer.Flush.Frequency = c.Duration("linger")
	cfg.Producer.MaxMessageBytes = c.Int("max-message-bytes")
	cfg.ChannelBufferSize = c.Int("buffer")
	cfg.Net.MaxOpenRequests = c.Int("max-in-flight")
	if err := applyRetries(c, cfg); err != nil {
		return err
	}
	cfg.Producer.Idempotent = c.Bool("idempotent")
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	switch c.String("partitioner") {
	case "roundrobin":
		cfg.Producer.Partitioner = sarama.NewRoundRobinPartitioner
	case "random":
		cfg.Producer.Partitioner = sarama.NewRandomPartitioner
	case "hash":
		cfg.Producer.Partitioner = sarama.NewHashPartitioner
	default:
		return fmt.Errorf("invalid --partitioner %q: use roundrobin, random or hash", c.String("partitioner"))
	}
	for _, f := range []struct {
		name string
		min  int
	}{{"max-message-bytes", 1}, {"max-in-flight", 1}, {"batch-bytes", 0}, {"batch-messages", 0}, {"buffer", 0}} {
		if v := c.Int(f.name); v < f.min {
			return fmt.Errorf("invalid --%s %d: use %d or more", f.name, v, f.min)
		}
	}
	if l := c.Duration("linger"); l < 0 {
		return fmt.Errorf("invalid --linger %s: use 0 or more", l)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("producer settings: %w", err)
	}
	return nil
}

// applyRetries sets the producer's retries from --retries, --retry-backoff
// and --delivery-timeout. sarama has no delivery timeout: the backoff
// grows exponentially from --retry-backoff to MaxRetryBackoff, and
// Producer.Retry.Max is the smaller of --retries and the number of retries
// whose backoffs fit in --delivery-timeout less --linger. The rest of the
// bound (time spent in requests) is the programs' to enforce: see
// DeliveryTimeout. Metadata lookups are retried for about 20 s, so that a
// record rides out a partition leader moving.
func applyRetries(c *cli.Context, cfg *sarama.Config) error {
	retries, backoff, timeout, linger := c.Int("retries"), c.Duration("retry-backoff"), c.Duration("delivery-timeout"), c.Duration("linger")
	if retries < 0 {
		return fmt.Errorf("invalid --retries %d: use 0 or more", retries)
	}
	if backoff < 0 {
		return fmt.Errorf("invalid --retry-backoff %s: use 0 or more", backoff)
	}
	if min := linger + RequestTimeout; timeout < min {
		return fmt.Errorf("invalid --delivery-timeout %s: use at least --linger + the %s request timeout (%s), as Kafka's delivery.timeout.ms >= linger.ms + request.timeout.ms",
			timeout, RequestTimeout, min)
	}
	cfg.Net.ReadTimeout = RequestTimeout
	cfg.Producer.Retry.Backoff = backoff
	cfg.Producer.Retry.BackoffFunc = RetryBackoff(backoff)
	cfg.Producer.Retry.Max = RetriesWithin(backoff, timeout-linger, retries)
	cfg.Metadata.Retry.Max = metadataRetries
	cfg.Metadata.Retry.Backoff = metadataBackoff
	return nil
}

// RetryBackoff returns the backoff before retry n (1, 2, ...): base,
// doubling on each retry, at most max(base, MaxRetryBackoff).
func RetryBackoff(base time.Duration) func(retries, maxRetries int) time.Duration {
	return func(retries, _ int) time.Duration { return backoffAt(base, retries) }
}

func backoffAt(base time.Duration, n int) time.Duration {
	limit := max(base, MaxRetryBackoff)
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// RetriesWithin returns how many retries with RetryBackoff(base) have
// backoffs adding up to at most budget, and at most limit (and at most
// 1000, which sarama's per-partition retry state makes the practical
// limit).
func RetriesWithin(base, budget time.Duration, limit int) int {
	limit = min(limit, maxClientRetries)
	var total time.Duration
	n := 0
	for n < limit {
		total += backoffAt(base, n+1)
		if total > budget {
			break
		}
		n++
	}
	return n
}

// DeliveryTimeout is the --delivery-timeout: a program counts a record
// not acknowledged this long after it handed it to the client as an
// error.
func DeliveryTimeout(c *cli.Context) time.Duration { return c.Duration("delivery-timeout") }

// ApplyConsumer sets the consumer part of cfg from the consumer flags.
func ApplyConsumer(c *cli.Context, cfg *sarama.Config) error {
	switch c.String("initial-offset") {
	case "oldest":
		cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	case "newest":
		cfg.Consumer.Offsets.Initial = sarama.OffsetNewest
	default:
		return fmt.Errorf("invalid --initial-offset %q: use oldest or newest", c.String("initial-offset"))
	}
	if v := c.Int("fetch-max-bytes"); v < 0 || v > math.MaxInt32 {
		return fmt.Errorf("invalid --fetch-max-bytes %d: use 0 (no limit) to %d", v, math.MaxInt32)
	}
	if v := c.Int("fetch-default-bytes"); v < 1 || v > math.MaxInt32 {
		return fmt.Errorf("invalid --fetch-default-bytes %d: use 1 to %d", v, math.MaxInt32)
	}
	cfg.Consumer.Fetch.Max = int32(c.Int("fetch-max-bytes"))
	cfg.Consumer.Fetch.Default = int32(c.Int("fetch-default-bytes"))
	cfg.Consumer.Return.Errors = true
	switch c.String("rebalance") {
	case "range":
		cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	case "roundrobin":
		cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRoundRobin()}
	case "sticky":
		cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategySticky()}
	default:
		return fmt.Errorf("invalid --rebalance %q: use range, roundrobin or sticky", c.String("rebalance"))
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("consumer settings: %w", err)
	}
	return nil
}

// Compression parses a compression codec name.
func Compression(name string) (sarama.CompressionCodec, error) {
	switch name {
	case "none", "":
		return sarama.CompressionNone, nil
	case "gzip":
		return sarama.CompressionGZIP, nil
	case "snappy":
		return sarama.CompressionSnappy, nil
	case "lz4":
		return sarama.CompressionLZ4, nil
	case "zstd":
		return sarama.CompressionZSTD, nil
	}
	return 0, fmt.Errorf("invalid --compression %q: use none, gzip, snappy, lz4 or zstd", name)
}
