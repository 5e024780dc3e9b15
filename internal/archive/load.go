package archive

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/faults"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/run"
)

// Run is a run archive read back: everything its report is made of.
type Run struct {
	Dir        string
	Meta       Meta
	Experiment experiment.Experiment
	Summary    outcome.Summary
	Rows       []outcome.VisitGroup // visits.json
	Groups     []run.Group          // from the experiment and the run id, as the run named them
	Faults     []faults.Record      // faults.json; nil without faults
	// Series and Totals are nil when the run could not read them
	// (Meta.MetricsError says why) or the archive predates them.
	Series monitoring.Series
	Totals map[string]monitoring.Totals
	// ProducedBytes and ProducedVisits are the producers' acknowledged
	// bytes (record values) over the run and the visits they come from,
	// from records.jsonl: the stream's measured volume.
	ProducedBytes  int64
	ProducedVisits int
	// Missing lists what an archive of an older format lacks, for the
	// report to say.
	Missing []string
}

// MBPerVisit is the stream's measured volume per visit in MB (10^6 bytes),
// 0 without producer records.
func (r *Run) MBPerVisit() float64 {
	if r.ProducedVisits == 0 {
		return 0
	}
	return float64(r.ProducedBytes) / float64(r.ProducedVisits) / 1e6
}

// Load reads the archive in dir. An error names the file and what is
// wrong with it; a folder that is not a run archive says so.
func Load(dir string) (*Run, error) {
	meta, err := LoadMeta(dir)
	if err != nil {
		return nil, err
	}
	r := &Run{Dir: dir, Meta: meta}
	data, err := os.ReadFile(filepath.Join(dir, FileExperiment))
	if err != nil {
		return nil, err
	}
	exps, err := experiment.Parse(data, filepath.Join(dir, FileExperiment))
	if err != nil {
		return nil, err
	}
	if len(exps) != 1 {
		return nil, fmt.Errorf("%s: %d experiments, an archive holds the one that ran", filepath.Join(dir, FileExperiment), len(exps))
	}
	r.Experiment = exps[0]
	// What the file cannot say: where it came from and its sweep.
	r.Experiment.File, r.Experiment.Base, r.Experiment.Sweep = r.Meta.File, r.Meta.Base, r.Meta.Sweep
	if r.Experiment.Base == "" {
		r.Experiment.Base = r.Experiment.Name
	}
	r.Groups = run.Groups(r.Experiment, r.Meta.RunID)

	if err := readJSON(dir, FileSummary, &r.Summary); err != nil {
		return nil, err
	}
	if err := readJSON(dir, FileVisitsJSON, &r.Rows); err != nil {
		return nil, err
	}
	if len(r.Experiment.Faults) > 0 {
		if err := readJSON(dir, FileFaults, &r.Faults); err != nil {
			return nil, err
		}
	}
	if err := r.readProduced(); err != nil {
		return nil, err
	}
	if r.Meta.Window.From.IsZero() {
		// Format 0: the window was the run with 10 s either side.
		r.Meta.Window.From, r.Meta.Window.To = r.Meta.Start.Add(-10*time.Second), r.Meta.End.Add(10*time.Second)
	}
	if f, err := os.Open(filepath.Join(dir, FileServices)); err == nil {
		r.Series, err = monitoring.ReadCSV(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, FileServices), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	} else if r.Meta.MetricsError == "" {
		r.Missing = append(r.Missing, FileServices)
	}
	if err := readJSON(dir, FileTotals, &r.Totals); errors.Is(err, fs.ErrNotExist) {
		if r.Meta.MetricsError == "" {
			r.Missing = append(r.Missing, FileTotals)
		}
	} else if err != nil {
		return nil, err
	}
	return r, nil
}

// LoadMeta reads the archive's run.json alone, with Load's checks: a
// folder without it is not a run archive, and a newer format is refused.
func LoadMeta(dir string) (Meta, error) {
	var m Meta
	if err := readJSON(dir, FileRun, &m); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Meta{}, fmt.Errorf("%s is not a run archive: it has no %s (archives are RUNS-DIR/<run-id>/, runs/ by default)", dir, FileRun)
		}
		return Meta{}, err
	}
	if m.FormatVersion > FormatVersion {
		return Meta{}, fmt.Errorf("%s: format_version %d is newer than this testbed reads (%d): use the testbed that wrote it, or a newer one", filepath.Join(dir, FileRun), m.FormatVersion, FormatVersion)
	}
	return m, nil
}

// Has says whether the archive has the file or folder name.
func (r *Run) Has(name string) bool {
	_, err := os.Stat(filepath.Join(r.Dir, filepath.FromSlash(name)))
	return err == nil
}

func readJSON(dir, name string, v any) error {
	p := filepath.Join(dir, filepath.FromSlash(name))
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// readProduced sums the producers' records of records.jsonl.
func (r *Run) readProduced() error {
	p := filepath.Join(r.Dir, FileRecords)
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	// One record per producer and visit; should one come twice, it is
	// counted once.
	bytes := map[[2]int]int64{}
	visits := map[int]bool{}
	dec := json.NewDecoder(bufio.NewReader(f))
	for line := 1; ; line++ {
		var rec struct {
			Kind     string `json:"kind"`
			Producer *struct {
				Visit    int   `json:"visit"`
				Producer int   `json:"producer"`
				Bytes    int64 `json:"bytes"`
			} `json:"producer"`
		}
		if err := dec.Decode(&rec); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("%s: record %d: %w", p, line, err)
		}
		if rec.Kind == "producer" && rec.Producer != nil {
			bytes[[2]int{rec.Producer.Visit, rec.Producer.Producer}] = rec.Producer.Bytes
			visits[rec.Producer.Visit] = true
		}
	}
	for _, b := range bytes {
		r.ProducedBytes += b
	}
	r.ProducedVisits = len(visits)
	return nil
}
