package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/internal/sizing"
)

// sizingCommand is `testbed sizing`: DMTN-028's Kafka sizing rules
// (internal/sizing) for an alert stream, optionally with the write
// throughput measured in a run archive.
func sizingCommand() *cli.Command {
	def := sizing.Defaults()
	return &cli.Command{
		Name:  "sizing",
		Usage: "size Kafka's disks, memory and partitions for an alert stream by DMTN-028's rules",
		Description: "Prints the assumptions (every input and where its default comes from), the\n" +
			"disks each retention and partition count need (disks x size per disk: each\n" +
			"partition replica on its own disk), the brokers' memory (write throughput x\n" +
			"buffer), and Confluent's partition bound (100 x brokers x replication factor).\n" +
			"The defaults reproduce DMTN-028's table: 10 million alerts of 150 KB a night\n" +
			"(1.5 TB), replication factor 1. Sizes are decimal: 1 GB = 10^9 bytes, 1 TB =\n" +
			"10^12. --from RUN_DIR takes the write throughput from a run archive: the\n" +
			"brokers' peak network ingest (metrics/services.csv) divided by the run's\n" +
			"replication factor, since the ingest includes replication between brokers.",
		Flags: []cli.Flag{
			&cli.Int64Flag{Name: "alerts-per-visit", Value: def.AlertsPerVisit, Usage: "alerts of one visit (LSST's nAlertVisitAvg)"},
			&cli.Int64Flag{Name: "visits-per-night", Value: def.VisitsPerNight, Usage: "visits per night (DMTN-028: 10 million alerts a night / 10,000 per visit)"},
			&cli.Int64Flag{Name: "alerts-per-night", Usage: "alerts per night, instead of --alerts-per-visit x --visits-per-night"},
			&cli.Int64Flag{Name: "alert-size", Value: def.AlertBytes, Usage: "bytes stored per alert (DMTN-028: ~1.5 TB a night / 10 million alerts)"},
			&cli.StringFlag{Name: "retention", Value: "1d,7d,14d,30d", Usage: "cache/rewind times, comma-separated: days (7d) or Go durations (12h)"},
			&cli.StringFlag{Name: "partitions", Value: "1,16,32,64,128", Usage: "partition counts of the alert topic, comma-separated"},
			&cli.IntFlag{Name: "replication-factor", Value: def.ReplicationFactor, Usage: "copies of each partition, 1 to --brokers (DMTN-028's table: 1; it recommends 2)"},
			&cli.IntFlag{Name: "brokers", Value: def.Brokers, Usage: "Kafka brokers (DMTN-028: at least 3)"},
			&cli.DurationFlag{Name: "buffer", Value: def.Buffer, Usage: "how long brokers buffer writes in memory (DMTN-028: 30-60 s)"},
			&cli.DurationFlag{Name: "burst", Value: def.Burst, Usage: "how long a visit's alerts take to arrive; write throughput = alerts per visit x alert size / burst (DMTN-028: 10,000 alerts/second)"},
			&cli.DurationFlag{Name: "visit-interval", Value: def.VisitInterval, Usage: "time between visits (DMTN-028: 39 s)"},
			&cli.Float64Flag{Name: "write-throughput", Usage: "bytes/s producers write into Kafka, instead of the one derived from --burst"},
			&cli.StringFlag{Name: "from", Usage: "a run archive folder (runs/RUN-ID): take the write throughput from its brokers' measured peak ingest", TakesFile: true},
		},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%w (`testbed sizing --help` lists the flags and their units)", err)
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("sizing takes no arguments, only flags (got %q): `testbed sizing --help` lists them", c.Args().First())
			}
			in := sizing.Inputs{
				AlertsPerVisit:    c.Int64("alerts-per-visit"),
				VisitsPerNight:    c.Int64("visits-per-night"),
				AlertBytes:        c.Int64("alert-size"),
				ReplicationFactor: c.Int("replication-factor"),
				Brokers:           c.Int("brokers"),
				Buffer:            c.Duration("buffer"),
				Burst:             c.Duration("burst"),
				VisitInterval:     c.Duration("visit-interval"),
			}
			if c.IsSet("alerts-per-night") {
				if c.IsSet("visits-per-night") {
					return fmt.Errorf("--alerts-per-night: given with --visits-per-night: give one of them")
				}
				in.AlertsPerNight = c.Int64("alerts-per-night")
				if in.AlertsPerNight < 1 {
					return fmt.Errorf("--alerts-per-night: %d: give a positive number of alerts per night (LSST: 10000000)", in.AlertsPerNight)
				}
			}
			if c.IsSet("write-throughput") {
				in.WriteThroughput = c.Float64("write-throughput")
				if in.WriteThroughput <= 0 {
					return fmt.Errorf("--write-throughput: %g: give the producers' write rate in bytes/s, a positive number (e.g. 1.5e9)", in.WriteThroughput)
				}
			}
			var err error
			if in.Retentions, err = sizing.ParseRetentions(c.String("retention")); err != nil {
				return err
			}
			if in.Partitions, err = sizing.ParsePartitions(c.String("partitions")); err != nil {
				return err
			}
			if c.IsSet("from") {
				if c.IsSet("write-throughput") {
					return fmt.Errorf("--write-throughput: given with --from: give one of them (--from measures the write throughput in a run)")
				}
				// Checked before the archive is read: a bad flag is named
				// before anything is opened.
				if err := in.Validate(); err != nil {
					return err
				}
				m, err := sizing.ReadRun(c.String("from"))
				if err != nil {
					return err
				}
				in.Measured = &m
			}
			r, err := sizing.Plan(in)
			if err != nil {
				return err
			}
			return r.WriteText(c.App.Writer)
		},
	}
}
