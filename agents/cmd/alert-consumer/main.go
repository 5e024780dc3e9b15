// Command alert-consumer is a member of a consumer group reading the alert
// stream (or a filter's topic). It accounts every alert exactly per visit
// and publishes one result record per visit to the results topic.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"sync/atomic"

	"github.com/IBM/sarama"
	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/alert/packet"
	"github.com/alert-testbed/testbed/agents/consume"
	"github.com/alert-testbed/testbed/agents/headers"
	"github.com/alert-testbed/testbed/agents/kafkaconf"
	"github.com/alert-testbed/testbed/agents/lifecycle"
)

func main() {
	ctx, sigs, stop := lifecycle.Notify()
	defer stop()
	signals = sigs
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	err := app().RunContext(ctx, os.Args)
	stop()
	sigs.Exit("alert-consumer", err)
}

// signals is what ended the program: SIGTERM (exit 0), SIGHUP (a restart:
// exit lifecycle.RestartExitCode), none.
var signals = &lifecycle.Signals{}

func app() *cli.App {
	flags := consume.Flags("topics to read, comma-separated (a filter's topic for an end user: Filter001)",
		"consumer group; the members of a group share the partitions")
	flags = append(flags,
		&cli.StringFlag{Name: "mode", EnvVars: []string{"MODE"}, Value: "count", Usage: "count (decode and count every alert), print-every (also print every Nth alert: DMTN-028's consumer1) or drop (do not decode: consumer2)"},
		&cli.IntFlag{Name: "print-every", EnvVars: []string{"PRINT_EVERY"}, Value: 100, Usage: "with --mode print-every: print every Nth alert"},
		&cli.BoolFlag{Name: "no-end-lines", EnvVars: []string{"NO_END_LINES"}, Usage: "do not print the status:end line at each partition end"},
	)
	flags = append(flags, kafkaconf.ClientFlags()...)
	flags = append(flags, kafkaconf.ConsumerFlags()...)
	return &cli.App{
		Name:  "alert-consumer",
		Usage: "read alerts as a consumer-group member and report each visit exactly",
		Description: "Prints DMTN-081's line 'topic:T, partition:P, status:end, offset:O, key:K, time:EPOCH' when it\n" +
			"reaches the end of a partition, one 'visit:...' line per visit (received, duplicates, first and\n" +
			"last receipt, latency p50/p99/max from the intended send time), and in print-every mode every\n" +
			"Nth alert's id. Publishes one JSON result record per visit (counts, a bitmap of received\n" +
			"sequence numbers per producer, an HdrHistogram of latency) to --results-topic.",
		Flags:  flags,
		Action: run,
	}
}

func run(c *cli.Context) error {
	mode := c.String("mode")
	if mode != "count" && mode != "print-every" && mode != "drop" {
		return fmt.Errorf("invalid --mode %q: use count, print-every or drop", mode)
	}
	if mode == "print-every" && c.Int("print-every") < 1 {
		return fmt.Errorf("invalid --print-every %d: use 1 or more", c.Int("print-every"))
	}
	cfg := kafkaconf.Base(c, "consumer")
	if err := kafkaconf.ApplyConsumer(c, cfg); err != nil {
		return err
	}
	codec, err := alert.LoadCodec(c.String("schema"), uint32(c.Uint("schema-id")))
	if err != nil {
		return err
	}
	// The testbed's own schema is decoded into its generated Go types
	// (agents/alert/packet, hamba/avro), as a Go broker with types made
	// from the schema decodes; any other schema into goavro's maps. Both
	// read every field of every alert.
	decode := func(b []byte) (alertID any, err error) {
		native, err := codec.Decode(b)
		return native["alertId"], err
	}
	if codec.Schema() == alert.AlertSchema() {
		typed, err := packet.NewDecoder(codec.SchemaID())
		if err != nil {
			return err
		}
		decode = func(b []byte) (any, error) {
			var a packet.Alert
			err := typed.Decode(b, &a)
			return a.AlertID, err
		}
	}
	var n atomic.Int64
	every := int64(c.Int("print-every"))
	var member *consume.Member
	member, err = consume.FromFlags(c, !c.Bool("no-end-lines"),
		func(ctx context.Context, msg *sarama.ConsumerMessage, meta headers.Meta) error {
			if mode == "drop" {
				return nil
			}
			alertID, err := decode(msg.Value)
			if err != nil {
				member.Metrics.DecodeErrors.WithLabelValues(meta.Run, c.String("group")).Inc()
				log.Printf("ERROR: %s/%d@%d: %v", msg.Topic, msg.Partition, msg.Offset, err)
				return nil
			}
			if k := n.Add(1); mode == "print-every" && k%every == 0 {
				fmt.Printf("alert:%v, visit:%d, producer:%d, seq:%d, topic:%s, partition:%d, offset:%d\n",
					alertID, meta.Visit, meta.Producer, meta.Seq, msg.Topic, msg.Partition, msg.Offset)
			}
			return nil
		})
	if err != nil {
		return err
	}
	ctx, cancel := consume.Context(c)
	defer cancel()
	log.Printf("member %s of group %s reading %v (mode %s, run %q)", member.Name, member.Group, member.Topics, mode, member.RunID)
	err = member.Run(ctx, kafkaconf.Brokers(c), cfg)
	if f := member.Foreign(); f > 0 {
		log.Printf("skipped %d records of other runs or without testbed headers", f)
	}
	return err
}
