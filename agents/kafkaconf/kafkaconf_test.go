package kafkaconf

import (
	"flag"
	"testing"

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
	} {
		cc := ctx(t, c.args...)
		err := ApplyProducer(cc, Base(cc, "producer"))
		if err == nil || err.Error() != c.want {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}
	cc := ctx(t, "--initial-offset", "latest")
	if err := ApplyConsumer(cc, Base(cc, "consumer")); err == nil || err.Error() != `invalid --initial-offset "latest": use oldest or newest` {
		t.Errorf("got %v", err)
	}
}
