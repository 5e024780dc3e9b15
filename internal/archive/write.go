package archive

import (
	"io"
	"strings"

	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/faults"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/run"
)

// Contents is everything a run's archive holds besides the metrics
// snapshot (copied into DirTSDB by internal/monitoring) and the report
// (made from these files by internal/report), as the run gathered it.
type Contents struct {
	Meta       Meta
	Experiment experiment.Experiment
	Records    [][]byte             // the results topic's records, as read
	Rows       []outcome.VisitGroup // the fold: one row per visit and group
	Groups     []run.Group
	Summary    outcome.Summary
	Faults     []faults.Record // written when the experiment has faults
	// Series and Totals are the services' metrics over the run's window;
	// nil when they could not be read (Meta.MetricsError says why).
	Series monitoring.Series
	Totals map[string]monitoring.Totals
	// Logs are the agents' logs by swarm service name; each is written
	// under DirAgentLogs, named without the "run-<id>-" prefix.
	Logs map[string][]byte
}

// Write writes c's files into the archive, each named as the layout
// (layout.go) says.
func (a Archive) Write(c Contents) error {
	if c.Series != nil {
		if err := a.WriteWith(FileServices, c.Series.WriteCSV); err != nil {
			return err
		}
	}
	if c.Totals != nil {
		if err := a.WriteJSON(FileTotals, c.Totals); err != nil {
			return err
		}
	}
	if err := a.WriteYAML(FileExperiment, c.Experiment); err != nil {
		return err
	}
	if err := a.WriteJSON(FileRun, c.Meta); err != nil {
		return err
	}
	if err := a.WriteLines(FileRecords, c.Records); err != nil {
		return err
	}
	if err := a.WriteJSON(FileVisitsJSON, c.Rows); err != nil {
		return err
	}
	if err := a.WriteWith(FileVisitsCSV, func(w io.Writer) error { return VisitsCSV(w, c.Rows, c.Groups) }); err != nil {
		return err
	}
	if err := a.WriteJSON(FileSummary, c.Summary); err != nil {
		return err
	}
	if len(c.Experiment.Faults) > 0 {
		if err := a.WriteJSON(FileFaults, c.Faults); err != nil {
			return err
		}
	}
	prefix := "run-" + c.Meta.RunID + "-"
	for svc, log := range c.Logs {
		write := func(w io.Writer) error { _, err := w.Write(log); return err }
		if err := a.WriteWith(DirAgentLogs+"/"+strings.TrimPrefix(svc, prefix)+".log", write); err != nil {
			return err
		}
	}
	return nil
}
