package archive

// FormatVersion is the version of the archive's layout, written into
// run.json as "format_version". It goes up when a file is added, removed
// or changes meaning; Load reads every version up to this one.
//
//	0: before the field existed (no metrics/totals.json, no metrics window
//	   in run.json): Load fills what it can and says what it could not.
//	1: the layout below.
const FormatVersion = 1

// The files of a run archive, relative to its folder (slash-separated).
// Everything a report shows is read from these files (report.FromArchive):
// the report is a pure function of the archive.
const (
	FileExperiment = "experiment.yaml"      // the experiment as run, every default filled in
	FileRun        = "run.json"             // Meta
	FileRecords    = "records.jsonl"        // every result record the agents published
	FileVisitsJSON = "visits.json"          // []outcome.VisitGroup, folded per visit and group
	FileVisitsCSV  = "visits.csv"           // the same, one row per visit and group (VisitsCSV)
	FileSummary    = "summary.json"         // outcome.Summary
	FileFaults     = "faults.json"          // []faults.Record (only with faults)
	FileServices   = "metrics/services.csv" // per-service series (monitoring.Series.WriteCSV)
	FileTotals     = "metrics/totals.json"  // per-service counters over the window (monitoring.Totals)
	DirTSDB        = "metrics/tsdb"         // Prometheus TSDB snapshot
	DirAgentLogs   = "agents"               // <service>.log per agent service
	FileReport     = "report.md"            // made from the files above
	DirPlots       = "plots"                // the report's plots
)

// Entry describes one file or folder of the layout.
type Entry struct {
	Name string // relative path; a folder ends in "/"
	What string
}

// Layout lists the archive's files in the order the report and the README
// list them.
var Layout = []Entry{
	{FileReport, "the report, made from the files below (`testbed report DIR` makes it again)"},
	{DirPlots + "/", "the report's plots"},
	{FileExperiment, "the experiment as run, every default filled in"},
	{FileRun, "format version, testbed, nodes, images and tool versions, git revision, times, metrics window, sweep"},
	{FileRecords, "every result record the agents published"},
	{FileVisitsJSON, "per visit and consumer group: counts and DMTN-028 timings"},
	{FileVisitsCSV, "the same as CSV"},
	{FileSummary, "the run's summary: timings, per-group counts, problems, notes"},
	{FileFaults, "the run's faults as they happened (with an experiment's faults): planned, fired and healed times, what each hit, each group's recovery"},
	{FileServices, "CPU, memory and network per service over the run window, 5 s samples"},
	{FileTotals, "CPU seconds and network bytes per service over the run window (cAdvisor counters)"},
	{DirTSDB + "/", "Prometheus TSDB snapshot: the whole testbed's metrics up to the run's end"},
	{DirAgentLogs + "/", "each agent service's output (stdout and stderr, timestamped)"},
}
