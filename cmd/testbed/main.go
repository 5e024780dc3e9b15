// Command testbed stands up an alert-distribution testbed (a Docker Swarm
// with a 3-broker Kafka cluster), runs experiments on it and archives them.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/images"
	"github.com/alert-testbed/testbed/internal/orchestrator"
	"github.com/alert-testbed/testbed/internal/toolchain"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "testbed: %v\n", err)
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "testbed: interrupted; `testbed down` removes whatever was created")
		}
		os.Exit(1)
	}
}

func nameFlag() cli.Flag {
	return &cli.StringFlag{Name: "name", Value: topology.Default().Name, EnvVars: []string{"TESTBED_NAME"},
		Usage: "name of the testbed (2 to 20 lower-case letters, digits and '-', starting with a letter, not ending with '-'); testbeds with different names live side by side"}
}

// testbedName is the checked --name (or $TESTBED_NAME) of a command: every
// command that takes --name calls it first, before it reads, contacts or
// creates anything.
func testbedName(c *cli.Context) (string, error) {
	name := c.String("name")
	return name, topology.ValidateName(name)
}

// testbedAndWorkspace is the checked --name of a command and the
// workspace its testbed lives in.
func testbedAndWorkspace(c *cli.Context) (string, workspace.Workspace, error) {
	name, err := testbedName(c)
	if err != nil {
		return "", workspace.Workspace{}, err
	}
	ws, err := workspace.Open()
	return name, ws, err
}

func app() *cli.App {
	return &cli.App{
		Name:  "testbed",
		Usage: "stand up an alert-distribution testbed (Docker Swarm + Kafka) and measure it",
		Description: "Builds a Docker Swarm of managers and workers with Terraform, runs a 3-broker\n" +
			"KRaft Kafka cluster on it, and reports its health. State and built tools live\n" +
			"under ./.testbed (or $TESTBED_HOME).",
		Commands: []*cli.Command{
			upCommand(),
			{
				Name:  "status",
				Usage: "show a testbed's nodes, services and Kafka health",
				Description: "Prints NODES (name, role, state, availability, manager\n" +
					"reachability, labels), SERVICES (replicas running/desired, image), TARGETS\n" +
					"(Prometheus scrape targets up per job), KAFKA (quorum, brokers, a replicated\n" +
					"round trip, bootstrap) and GRAFANA (address and login, or why it was left out).\n" +
					"Exits non-zero when\n" +
					"something is unhealthy or the testbed is not up.",
				Flags: []cli.Flag{nameFlag()},
				Action: func(c *cli.Context) error {
					name, ws, err := testbedAndWorkspace(c)
					if err != nil {
						return err
					}
					return orchestrator.Status(c.Context, ws, name, c.App.Writer)
				},
			},
			{
				Name:  "down",
				Usage: "remove a testbed and everything it created",
				Description: "Runs terraform destroy, then removes any container, network or volume still\n" +
					"labelled with the testbed's name (left by an interrupted or failed `up`), the\n" +
					"cgroups of the nodes' containers and the testbed's state folder. Works after\n" +
					"a failed or interrupted `up`. Prints what it removed.",
				Flags: []cli.Flag{nameFlag()},
				Action: func(c *cli.Context) error {
					// Down removes TESTBED_HOME/testbeds/NAME: a name such
					// as "" or ".." must never get that far.
					name, ws, err := testbedAndWorkspace(c)
					if err != nil {
						return err
					}
					start := time.Now()
					// Finish removing even if interrupted once more: a half
					// removed testbed is worse than a slow exit.
					r, err := orchestrator.Down(context.WithoutCancel(c.Context), ws, name, c.App.Writer)
					if err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "%s\n(%s)\n", r.Summary(name), time.Since(start).Round(100*time.Millisecond))
					return nil
				},
			},
			{
				Name:      "run",
				Usage:     "run experiments on a testbed and archive each run",
				ArgsUsage: "EXPERIMENT.yaml...",
				Description: "Loads and validates every experiment file first (a file with lists in place of\n" +
					"values expands into a sweep of runs); nothing touches the testbed if one is wrong.\n" +
					"Then, for each run: builds and pushes the agents image (once), creates the run's\n" +
					"topics, deploys the agents as swarm services on the workers in DMTN-081's order\n" +
					"(end users, filters, consumers, producers), waits until every consumer group is\n" +
					"stable with all its members, gives the producers a common start time, and prints a\n" +
					"line per visit (producing time, each group's alerts and transit time, lag). At the\n" +
					"end it stops the agents, reads every result record, prints the summary in\n" +
					"DMTN-028's form, removes the agents and topics (unless --keep) and writes the\n" +
					"archive RUNS-DIR/<run-id>/ (report.md, plots, summary.json, per-visit results,\n" +
					"records, a Prometheus TSDB snapshot, per-service CSV).\n" +
					"Ctrl-C stops the run cleanly and still writes what was measured.\n" +
					"Exits non-zero when an alert was lost or duplicated, a limit was passed, or the\n" +
					"run was interrupted.\n\n" + warmUpHelp,
				Flags: append([]cli.Flag{
					nameFlag(),
					&cli.StringFlag{Name: "runs-dir", Value: orchestrator.DefaultRunsDir, EnvVars: []string{"TESTBED_RUNS"}, Usage: "where run archives go"},
					&cli.BoolFlag{Name: "keep", Usage: "leave the agents' services and the run's topics after the run (to look at them)"},
					&cli.IntFlag{Name: "visits", Usage: "run this many visits instead of the files' (a short try of a long experiment)"},
					&cli.BoolFlag{Name: "check", Usage: "only load and validate the files, print the runs, and exit"},
				}, warmUpFlags()...),
				Action: func(c *cli.Context) error {
					// orchestrator.Run trusts the name: check it here.
					name, err := testbedName(c)
					if err != nil {
						return err
					}
					if c.NArg() == 0 {
						return fmt.Errorf("no experiment file given: `testbed run experiments/ztf-scale.yaml` (files are in ./experiments)")
					}
					warm, err := warmUpOptions(c)
					if err != nil {
						return err
					}
					var exps []experiment.Experiment
					for _, f := range c.Args().Slice() {
						es, err := experiment.Load(f)
						if err != nil {
							return err
						}
						exps = append(exps, es...)
					}
					if c.IsSet("visits") {
						for i := range exps {
							if err := exps[i].SetVisits(c.Int("visits")); err != nil {
								return fmt.Errorf("--visits: %w", err)
							}
						}
					}
					fmt.Fprintf(c.App.Writer, "%d run(s) from %d file(s), all valid\n", len(exps), c.NArg())
					if c.Bool("check") {
						for _, e := range exps {
							fmt.Fprint(c.App.Writer, e.String())
							// What is valid but will not do what it seems
							// to: a filter over a nullable field.
							for _, w := range e.Warnings() {
								fmt.Fprintf(c.App.Writer, "  warning:   %s\n", w)
							}
						}
						return nil
					}
					ws, err := workspace.Open()
					if err != nil {
						return err
					}
					_, err = orchestrator.Run(c.Context, ws, orchestrator.RunOptions{
						Testbed: name, Experiments: exps, RunsDir: c.String("runs-dir"),
						Keep: c.Bool("keep"), WarmUp: warm, Out: c.App.Writer,
					})
					return err
				},
			},
			streamCommand(),
			benchCommand(),
			watchCommand(),
			reportCommand(),
			sizingCommand(),
			{
				Name:  "toolchain",
				Usage: "find or build Terraform and its providers (skipped when already there)",
				Subcommands: []*cli.Command{{
					Name:  "build",
					Usage: "find or build Terraform and the kreuzwerker/docker provider, and with --aws the hashicorp/aws provider",
					Description: "Uses a Terraform 1.5 or later 1.x on PATH, else builds Terraform 1.5.7; takes the\n" +
						"providers from the Terraform registry where it answers, else builds them; builds go\n" +
						"from the Go module proxy into .testbed/cache (once; `up` does this itself).\n" +
						"The hashicorp/aws provider is built with only the EC2, ECR and STS services that the\n" +
						"aws module uses: about 4 minutes and 3.4 GB of memory on 2 cores; only the aws\n" +
						"environment and its tests need it.",
					Flags: []cli.Flag{&cli.BoolFlag{Name: "aws", Usage: "also build the hashicorp/aws provider"}},
					Action: func(c *cli.Context) error {
						ws, err := workspace.Open()
						if err != nil {
							return err
						}
						start := time.Now()
						build := toolchain.Ensure
						if c.Bool("aws") {
							build = toolchain.EnsureAWS
						}
						tc, err := build(c.Context, ws.CacheDir())
						if err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "%s; providers in %s (%s)\n", tc.Describe(), tc.MirrorDir, time.Since(start).Round(time.Second))
						return nil
					},
				}},
			},
			{
				Name:  "images",
				Usage: "build the testbed's container images",
				Subcommands: []*cli.Command{{
					Name:  "build",
					Usage: "build the node, registry, Kafka, monitoring and agents images offline (skipped when already built)",
					Description: "Builds from package registries only: Debian root file systems with\n" +
						"debootstrap, Apache Kafka and the JMX exporter from Maven Central, the\n" +
						"registry, Prometheus, node-exporter, cAdvisor and alertmanager from the Go\n" +
						"module proxy, the agents from this checkout. Each image is tagged with a hash of its\n" +
						"inputs; an image already built is not built again. Prints one line per image:\n" +
						"reference, built or cached, time, size. `up` runs this step itself.",
					Action: func(c *cli.Context) error {
						ws, err := workspace.Open()
						if err != nil {
							return err
						}
						b, closer, err := images.NewBuilder(ws.CacheDir())
						if err != nil {
							return err
						}
						defer closer.Close()
						_, results, err := b.Ensure(c.Context, func(name string) {
							fmt.Fprintf(c.App.Writer, " • building %s ...\n", name)
						})
						if err == nil {
							// The agents image is built from the checkout's source.
							if root, ferr := images.FindCheckout("."); ferr != nil {
								fmt.Fprintf(c.App.Writer, " - agents image not built: %v\n", ferr)
							} else {
								var r images.Result
								r, err = b.EnsureAgents(c.Context, root)
								if err == nil {
									results = append(results, r)
								}
							}
						}
						for _, r := range results {
							state := "cached"
							if r.Built {
								state = "built"
							}
							fmt.Fprintf(c.App.Writer, " ✓ %-30s %-6s %8s %5d MB\n", r.Image.Ref, state, r.Duration.Round(100*time.Millisecond), r.Size>>20)
						}
						if err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Build log: %s/logs/images.log\n", strings.TrimSuffix(ws.CacheDir(), "/"))
						return nil
					},
				}},
			},
		},
	}
}
