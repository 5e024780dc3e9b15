package kafkaconf

import (
	"flag"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/urfave/cli/v2"
)

// ctx parses args with the client, producer and consumer flags.
func ctx(t *testing.T, args ...string) *cli.Context {
	t.Helper()
	set := flag.NewFlagSet("test", flag.ContinueOnError)
	flags := append(append(ClientFlags(), ProducerFlags()...), ConsumerFlags()...)
	for _, f := range flags {
		if err := f.Apply(set); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.Parse(args); err != nil {
		t.Fatal(err)
	}
	return cli.NewContext(&cli.App{}, set, nil)
}

func TestProducerDefaultsFitLSSTAlerts(t *testing.T) {
	c := ctx(t)
	cfg := Base(c, "producer")
	if err := ApplyProducer(c, cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Producer.RequiredAcks != sarama.WaitForAll {
		t.Error("default acks is not all")
	}
	// The broker's message.max.bytes (1048588) limits whole batches.
	if cfg.Producer.MaxMessageBytes > 1048588 || cfg.Producer.MaxMessageBytes < 136_000 {
		t.Errorf("max message bytes %d: must hold a 136 KB alert and fit the broker's default limit", cfg.Producer.MaxMessageBytes)
	}
	if cfg.Producer.Compression != sarama.CompressionNone || !cfg.Producer.Return.Successes {
		t.Error("unexpected defaults")
	}
	if got := Brokers(ctx(t, "--brokers", " a:1, b:2 ,,")); len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Errorf("brokers %v", got)
	}
}

func TestProducerSettings(t *testing.T) {
	c := ctx(t, "--acks", "1", "--compression", "zstd", "--linger", "20ms", "--batch-bytes", "65536", "--partitioner", "hash")
	cfg := Base(c, "producer")
	if err := ApplyProducer(c, cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Producer.RequiredAcks != sarama.WaitForLocal || cfg.Producer.Compression != sarama.CompressionZSTD ||
		cfg.Producer.Flush.Frequency.Milliseconds() != 20 || cfg.Producer.Flush.Bytes != 65536 {
		t.Errorf("settings not applied: %+v", cfg.Producer)
	}
}

func TestBadSettings(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--acks", "2"}, `invalid --acks "2": use all, 1 or 0`},
		{[]string{"--compression", "brotli"}, `invalid --compression "brotli": use none, gzip, snappy, lz4 or zstd`},
		{[]string{"--partitioner", "sticky"}, `invalid --partitioner "sticky": use roundrobin, random or hash`},
		{[]string{"--idempotent"}, "producer settings: kafka: invalid configuration (Idempotent producer requires Net.MaxOpenRequests to be 1)"},
		{[]string{"--idempotent", "--max-in-flight", "1", "--retries", "0"}, "producer settings: kafka: invalid configuration (Idempotent producer requires Producer.Retry.Max >= 1)"},
		{[]string{"--max-in-flight", "0"}, "invalid --max-in-flight 0: use 1 or more"},
		{[]string{"--max-message-bytes", "0"}, "invalid --max-message-bytes 0: use 1 or more"},
		{[]string{"--batch-messages", "-1"}, "invalid --batch-messages -1: use 0 or more"},
		{[]string{"--buffer", "-1"}, "invalid --buffer -1: use 0 or more"},
		{[]string{"--linger", "-1ms"}, "invalid --linger -1ms: use 0 or more"},
		{[]string{"--retries", "-1"}, "invalid --retries -1: use 0 or more"},
		{[]string{"--retry-backoff", "-1s"}, "invalid --retry-backoff -1s: use 0 or more"},
		{[]string{"--delivery-timeout", "1s"}, "invalid --delivery-timeout 1s: use at least --linger + the 30s request timeout (30.005s), as Kafka's delivery.timeout.ms >= linger.ms + request.timeout.ms"},
		{[]string{"--delivery-timeout", "32s", "--linger", "3s"}, "invalid --delivery-timeout 32s: use at least --linger + the 30s request timeout (33s), as Kafka's delivery.timeout.ms >= linger.ms + request.timeout.ms"},
	} {
		cc := ctx(t, c.args...)
		err := ApplyProducer(cc, Base(cc, "producer"))
		if err == nil || err.Error() != c.want {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rebalance", "greedy"}, `invalid --rebalance "greedy": use range, roundrobin or sticky`},
		{[]string{"--fetch-max-bytes", "-1"}, `invalid --fetch-max-bytes -1: use 0 (no limit) to 2147483647`},
		{[]string{"--fetch-default-bytes", "0"}, `invalid --fetch-default-bytes 0: use 1 to 2147483647`},
	} {
		cc := ctx(t, c.args...)
		if err := ApplyConsumer(cc, Base(cc, "consumer")); err == nil || err.Error() != c.want {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}
	cc := ctx(t, "--initial-offset", "latest")
	if err := ApplyConsumer(cc, Base(cc, "consumer")); err == nil || err.Error() != `invalid --initial-offset "latest": use oldest or newest` {
		t.Errorf("got %v", err)
	}
}

// The retry flags become sarama's Retry.Max and an exponential BackoffFunc
// whose backoffs fit in the delivery timeout; metadata lookups ride out a
// leader election (about 20 s).
func TestRetryConfig(t *testing.T) {
	for _, c := range []struct {
		args     []string
		max      int
		backoffs map[int]time.Duration // retry -> backoff
	}{
		// Kafka's defaults: 100ms, 200ms, 400ms, 800ms (1.5s), then 1s each:
		// 118 more fit in 120s - 5ms of linger.
		{nil, 122, map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 100: time.Second}},
		{[]string{"--retries", "3"}, 3, nil},
		{[]string{"--retries", "0"}, 0, nil},
		{[]string{"--retry-backoff", "2s"}, 59, map[int]time.Duration{1: 2 * time.Second, 30: 2 * time.Second}}, // backoff above the 1s cap stays constant
		{[]string{"--retry-backoff", "300ms", "--delivery-timeout", "40s", "--linger", "1s"}, 40, map[int]time.Duration{1: 300 * time.Millisecond, 2: 600 * time.Millisecond, 3: time.Second}},
		{[]string{"--retry-backoff", "0s"}, 1000, map[int]time.Duration{1: 0, 50: 0}}, // no backoff: sarama's practical limit
	} {
		cc := ctx(t, c.args...)
		cfg := Base(cc, "producer")
		if err := ApplyProducer(cc, cfg); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		r := cfg.Producer.Retry
		if r.Max != c.max {
			t.Errorf("%v: Retry.Max %d, want %d", c.args, r.Max, c.max)
		}
		if r.BackoffFunc == nil {
			t.Fatalf("%v: no BackoffFunc", c.args)
		}
		for n, want := range c.backoffs {
			if got := r.BackoffFunc(n, r.Max); got != want {
				t.Errorf("%v: backoff before retry %d is %s, want %s", c.args, n, got, want)
			}
		}
		var total time.Duration
		for n := 1; n <= r.Max; n++ {
			total += r.BackoffFunc(n, r.Max)
		}
		if limit := DeliveryTimeout(cc) - cc.Duration("linger"); total > limit {
			t.Errorf("%v: the backoffs of %d retries add up to %s, more than the delivery timeout less linger %s", c.args, r.Max, total, limit)
		}
		if m := cfg.Metadata.Retry; time.Duration(m.Max)*m.Backoff < 15*time.Second {
			t.Errorf("%v: metadata retries %d x %s cannot ride out a leader election", c.args, m.Max, m.Backoff)
		}
	}
	c := ctx(t)
	if c.Int("retries") != 2147483647 || c.Duration("retry-backoff") != 100*time.Millisecond || DeliveryTimeout(c) != 120*time.Second {
		t.Errorf("defaults: retries %d, retry-backoff %s, delivery-timeout %s; want Kafka's", c.Int("retries"), c.Duration("retry-backoff"), DeliveryTimeout(c))
	}
}
