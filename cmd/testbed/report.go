package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/internal/archive"
	"github.com/alert-testbed/testbed/internal/report"
)

// reportCommand is `testbed report`: a run's report made again from its
// archive, or a comparison of several runs.
func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "make a run's report again from its archive, or compare runs",
		ArgsUsage: "RUN_DIR... | SWEEP_DIR",
		Description: "With one run archive (runs/<run-id>/): writes its report.md and plots again from\n" +
			"the archive's files alone, in place or into -o DIR.\n" +
			"With several: one comparison report over them (compare.md, runs.csv, plots/):\n" +
			"DMTN-028's summary table ordered by total time with lost and duplicated alerts per\n" +
			"run and DMTN-028's published value beside a matching run, and for each setting that\n" +
			"varies (or --by FIELD) plots of producing, transit and total time, peak broker\n" +
			"memory and network, producer and consumer CPU against it, each with a least-squares\n" +
			"line whose slope, intercept and R² the report prints. It goes into -o DIR, by default\n" +
			"RUNS-DIR/<sweep-id>/ when the runs are a whole sweep (or its comparison is not made\n" +
			"yet), else RUNS-DIR/compare-<time>/.\n" +
			"With a comparison's folder (it has sweep.json): makes that comparison again.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "folder to write the report into"},
			&cli.StringFlag{Name: "by", Usage: "compare against this setting only (a YAML path of the experiment, e.g. producers, topic.partitions, alert.size; consumer_groups; mb_per_visit)"},
		},
		Action: func(c *cli.Context) error {
			// urfave/cli stops at the first argument; the usage puts
			// -o and --by after the folders too.
			dirs, late, err := trailingFlags(c.Args().Slice(), "output", "o", "by")
			if err != nil {
				return err
			}
			out, by := firstNonEmpty(late["output"], late["o"], c.String("output")), firstNonEmpty(late["by"], c.String("by"))
			if len(dirs) == 0 {
				return fmt.Errorf("no archive given: `testbed report runs/<run-id>` makes a run's report again, `testbed report runs/A runs/B...` compares runs")
			}
			for _, d := range dirs {
				if st, err := os.Stat(d); err != nil {
					return fmt.Errorf("%s: %w", d, errors.Unwrap(err))
				} else if !st.IsDir() {
					return fmt.Errorf("%s is a file; give a run's archive folder (runs/<run-id>/)", d)
				}
			}
			if len(dirs) == 1 {
				if idx, err := report.ReadSweep(dirs[0]); err == nil {
					// A comparison's folder: make it again.
					out = firstNonEmpty(out, dirs[0])
					by := firstNonEmpty(by, idx.By)
					if err := report.WriteSweep(out, idx.Runs, by, idx.Title); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "Comparison of %d runs: %s\n", len(idx.Runs), filepath.Join(out, "compare.md"))
					return nil
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
				if by != "" {
					return fmt.Errorf("--by compares runs: give two or more archives")
				}
				out = firstNonEmpty(out, dirs[0])
				if err := report.Render(dirs[0], out); err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "Report of run %s: %s\n", filepath.Base(filepath.Clean(dirs[0])), filepath.Join(out, archive.FileReport))
				return nil
			}
			if out == "" {
				out = defaultCompareDir(dirs)
			}
			if err := report.WriteSweep(out, dirs, by, fmt.Sprintf("Comparison of %d runs", len(dirs))); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "Comparison of %d runs: %s\n", len(dirs), filepath.Join(out, "compare.md"))
			return nil
		},
	}
}

// defaultCompareDir is RUNS-DIR/<sweep-id> when every run has the same
// sweep id and that folder holds no comparison of other runs (a subset of
// the sweep must not replace the sweep's own comparison), else
// RUNS-DIR/compare-<time>, RUNS-DIR being the first run's parent.
func defaultCompareDir(dirs []string) string {
	parent := filepath.Dir(filepath.Clean(dirs[0]))
	sweep := ""
	for i, d := range dirs {
		// run.json only: the comparison reads the archives whole after.
		m, _ := archive.LoadMeta(d)
		if i == 0 {
			sweep = m.SweepID
		} else if m.SweepID != sweep {
			sweep = ""
		}
	}
	if sweep != "" {
		dir := filepath.Join(parent, sweep)
		idx, err := report.ReadSweep(dir)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && sameRuns(idx.Runs, dirs)) {
			return dir
		}
	}
	return filepath.Join(parent, "compare-"+time.Now().UTC().Format("20060102-150405"))
}

// sameRuns says whether two lists of run archives name the same runs
// (their folders' names, the run ids), in any order.
func sameRuns(a, b []string) bool {
	ids := func(dirs []string) []string {
		out := make([]string, len(dirs))
		for i, d := range dirs {
			out[i] = filepath.Base(filepath.Clean(d))
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(ids(a), ids(b))
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// trailingFlags takes the named value flags (-o DIR, --by=FIELD) out of
// args, wherever they are, and returns the rest.
func trailingFlags(args []string, names ...string) (rest []string, values map[string]string, err error) {
	values = map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i+1:]...), values, nil
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !slices.Contains(names, name) {
			return nil, nil, fmt.Errorf("flag %s is not one of this command's (see --help)", a)
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, nil, fmt.Errorf("flag %s needs a value", a)
			}
			i++
			value = args[i]
		}
		values[name] = value
	}
	return rest, values, nil
}
