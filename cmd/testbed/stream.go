package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/orchestrator"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// streamCommand is `testbed stream`: an experiment's stream without end.
func streamCommand() *cli.Command {
	return &cli.Command{
		Name:      "stream",
		Usage:     "send an experiment's alert stream without end, for your own consumer, until Ctrl-C",
		ArgsUsage: "EXPERIMENT.yaml",
		Description: "Prints the Kafka bootstrap for this host first; builds and pushes the agents image;\n" +
			"creates the experiment's topic (with --retention) and starts its producers alone,\n" +
			"visit after visit at its pacing, without end. Prints a line per visit (alerts, MB,\n" +
			"producing time) and, for each consumer group followed (the experiment's\n" +
			"external_consumers and --group), whether it caught up with the visit before the next\n" +
			"was due, or how far behind it is and whether that grows. Ctrl-C stops the producers,\n" +
			"prints the totals and each group's verdict (KEEPING UP / FALLING BEHIND), and removes\n" +
			"the producers' service and the topics (unless --keep). One stream per testbed; `testbed\n" +
			"watch` follows groups against it from another terminal.\n\n" + warmUpHelp,
		Flags: append([]cli.Flag{
			nameFlag(),
			&cli.StringSliceFlag{Name: "group", Usage: "follow this consumer group (its group.id) too; repeatable"},
			&cli.DurationFlag{Name: "retention", Usage: "the stream topic's retention.ms (default: 5 visit intervals, at least 2m; the experiment's topic.retention is for runs)"},
			&cli.BoolFlag{Name: "keep", Usage: "leave the producers' service and the topics when stopped"},
		}, warmUpFlags()...),
		Action: func(c *cli.Context) error {
			name, err := testbedName(c)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return fmt.Errorf("give one experiment file: `testbed stream experiments/lsst-visit.yaml` (files are in ./experiments)")
			}
			exps, err := experiment.Load(c.Args().First())
			if err != nil {
				return err
			}
			if len(exps) != 1 {
				return fmt.Errorf("%s: a stream runs one experiment, and this file is a sweep of %d runs: give a file without lists in place of values", c.Args().First(), len(exps))
			}
			if c.IsSet("retention") && c.Duration("retention") <= 0 {
				return fmt.Errorf("--retention %s: give a positive duration, e.g. 10m", c.Duration("retention"))
			}
			warm, err := warmUpOptions(c)
			if err != nil {
				return err
			}
			ws, err := workspace.Open()
			if err != nil {
				return err
			}
			return orchestrator.Stream(c.Context, ws, orchestrator.StreamOptions{
				Testbed: name, Experiment: exps[0], Groups: c.StringSlice("group"),
				Retention: c.Duration("retention"), Keep: c.Bool("keep"), WarmUp: warm, Out: c.App.Writer,
			})
		},
	}
}

// watchCommand is `testbed watch`: consumer groups against a running stream.
func watchCommand() *cli.Command {
	return &cli.Command{
		Name:  "watch",
		Usage: "follow consumer groups against the stream running on a testbed: are they keeping up?",
		Description: "Follows each --group from its committed offsets against the testbed's running stream\n" +
			"(`testbed stream`, in another terminal): a line per visit from the next one on, saying\n" +
			"whether the group caught up with the visit before the next was due (+X s after its last\n" +
			"alert was produced) or how far behind it is (alerts, seconds of stream) and whether\n" +
			"that grows; at Ctrl-C or the stream's end, each group's verdict (KEEPING UP / FALLING\n" +
			"BEHIND at N alerts/visit).",
		Flags: []cli.Flag{
			nameFlag(),
			&cli.StringSliceFlag{Name: "group", Required: true, Usage: "a consumer group (its group.id) to follow; repeatable"},
		},
		Action: func(c *cli.Context) error {
			name, err := testbedName(c)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return fmt.Errorf("watch takes no arguments (got %q): name the groups with --group", c.Args().Slice())
			}
			ws, err := workspace.Open()
			if err != nil {
				return err
			}
			return orchestrator.Watch(c.Context, ws, orchestrator.WatchOptions{Testbed: name, Groups: c.StringSlice("group"), Out: c.App.Writer})
		},
	}
}
