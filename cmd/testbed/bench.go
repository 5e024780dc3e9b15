package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/internal/bench"
	"github.com/alert-testbed/testbed/internal/orchestrator"
	"github.com/alert-testbed/testbed/internal/topology"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure the testbed's producer and consumer against Kafka's own tools on a running testbed",
		Description: "Per round and place (--from host: a container on this machine's Docker Engine, through\n" +
			"the brokers' external listeners; --from swarm: a one-task service on a worker, over the\n" +
			"overlay network): alert-producer and Kafka's ProducerPerformance each fill a fresh topic\n" +
			"with --records records of --record-size bytes (acks all, 1 MiB batches, linger 5 ms, 5 in\n" +
			"flight, not idempotent), then alert-consumer (drop) and ConsumerPerformance each read\n" +
			"alert-producer's topic; which of a pair goes first alternates by round, and the round's\n" +
			"topics are deleted after it. Prints each try (records/s, MB/s, ack p50/p99), then the\n" +
			"ratio project ÷ Kafka's tool per round with its min, median and max, and writes\n" +
			"RUNS-DIR/bench-<id>/ (bench.json, report.txt). Exits non-zero when a try failed.\n\n" +
			"With --ceiling, the bench instead finds this testbed's ceiling from each --from place: Kafka's\n" +
			"ProducerPerformance run by 1, 2, 4, ... instances at once, each with its share of --records, into\n" +
			"one topic per step, until a doubling gains less than 5 %; it prints each step's MB/s and the best.\n\n" +
			warmUpHelp,
		Flags: append([]cli.Flag{
			nameFlag(),
			&cli.IntFlag{Name: "record-size", Value: bench.DefaultRecordSize, Usage: "bytes of each record (alert-producer makes alerts of about this size)"},
			&cli.IntFlag{Name: "records", Value: bench.DefaultRecords, Usage: "records per try"},
			&cli.IntFlag{Name: "partitions", Value: bench.DefaultPartitions, Usage: "partitions of each try's topic"},
			&cli.IntFlag{Name: "replication-factor", Value: bench.DefaultRF, Usage: "replication factor of each try's topic (min.insync.replicas is one less, at least 1)"},
			&cli.IntFlag{Name: "rounds", Value: bench.DefaultRounds, Usage: "rounds of the four tries"},
			&cli.StringFlag{Name: "from", Value: "both", Usage: "where the clients run: host, swarm or both"},
			&cli.BoolFlag{Name: "ceiling", Usage: "instead of the comparisons, find the MB/s the brokers take from Kafka's ProducerPerformance run by 1, 2, 4, ... instances at once (each with its share of --records), from each --from place"},
			&cli.StringFlag{Name: "runs-dir", Value: orchestrator.DefaultRunsDir, EnvVars: []string{"TESTBED_RUNS"}, Usage: "where the bench archive goes"},
		}, warmUpFlags()...),
		Action: func(c *cli.Context) error {
			name, ws, err := testbedAndWorkspace(c)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return fmt.Errorf("testbed bench takes no arguments (got %q): the settings are flags, see --help", c.Args().First())
			}
			from, err := bench.ParseFrom(c.String("from"))
			if err != nil {
				return err
			}
			warm, err := warmUpOptions(c)
			if err != nil {
				return err
			}
			if c.Bool("ceiling") && c.IsSet("rounds") {
				return fmt.Errorf("--rounds with --ceiling: the ceiling search has steps, not rounds (1, 2, 4, ... producers until a doubling gains less than %.0f %%); leave --rounds out", (bench.CeilingGain-1)*100)
			}
			cfg := bench.Config{RecordSize: c.Int("record-size"), Records: c.Int("records"), Partitions: c.Int("partitions"),
				ReplicationFactor: c.Int("replication-factor"), Rounds: c.Int("rounds"), From: from, Ceiling: c.Bool("ceiling")}
			// The flags are checked before anything is contacted.
			if err := cfg.Validate(topology.BrokerCount); err != nil {
				return err
			}
			_, err = orchestrator.Bench(c.Context, ws, name, orchestrator.BenchOptions{Config: cfg, RunsDir: c.String("runs-dir"), WarmUp: warm}, c.App.Writer)
			return err
		},
	}
}

// warmUpHelp is what `run` and `bench` say of the brokers' warm-up.
var warmUpHelp = fmt.Sprintf("First it warms the brokers' JVMs when they are new (a new testbed, a restarted broker):\n"+
	"rounds of one LSST visit (10,000 alerts of 136,000 bytes) through each broker as partition leader,\n"+
	"read by a consumer group (one to three minutes a round on the local testbed), until a round's JIT\n"+
	"compiler threads use at most %.0f s of CPU or --warm-up-rounds rounds are made, counting those already\n"+
	"made on the same broker containers. Runs on cold brokers are slower while the JVMs compile Kafka's\n"+
	"hot code; --warm-up-rounds 0 measures them so. --warm-up-alerts makes the rounds smaller (quicker,\n"+
	"and they warm less) for small visits or a quick try.", orchestrator.WarmUpSettledCPU.Seconds())

// warmUpFlags are --warm-up-rounds and --warm-up-alerts.
func warmUpFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "warm-up-rounds", Value: orchestrator.DefaultWarmUpRounds,
			Usage: "the most warm-up rounds new brokers get first; fewer once their JIT settles (0: none, measure cold brokers)"},
		&cli.IntFlag{Name: "warm-up-alerts", Value: orchestrator.DefaultWarmUpAlerts,
			Usage: fmt.Sprintf("alerts each broker leads in a warm-up round, %d to %d; brokers warmed with smaller rounds are warmed again", orchestrator.MinWarmUpAlerts, orchestrator.MaxWarmUpAlerts)},
	}
}

// warmUpOptions reads --warm-up-rounds and --warm-up-alerts, checked.
func warmUpOptions(c *cli.Context) (orchestrator.WarmUpOptions, error) {
	o := orchestrator.WarmUpOptions{Rounds: c.Int("warm-up-rounds"), Alerts: c.Int("warm-up-alerts")}
	return o, o.Validate()
}
