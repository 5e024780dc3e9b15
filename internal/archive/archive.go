// Package archive writes a run's archive folder, runs/<run-id>/: the
// experiment as run, what it ran on (nodes, image and tool versions, the
// project's git revision), the raw result records, the per-visit results and
// the summary. The metrics snapshot and the report are written into the
// same folder by internal/monitoring and internal/report.
package archive

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/hostspeed"
	"github.com/alert-testbed/testbed/internal/images"
	"github.com/alert-testbed/testbed/internal/inventory"
	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/run"
	"github.com/alert-testbed/testbed/internal/toolchain"
)

// Archive is one run's folder.
type Archive struct{ Dir string }

// Create makes the folder; an existing one is refused, so that no run's
// archive is ever overwritten.
func Create(dir string) (Archive, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Archive{}, err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return Archive{}, fmt.Errorf("archive %s already exists; a run never overwrites another's", dir)
		}
		return Archive{}, err
	}
	return Archive{Dir: dir}, nil
}

// WriteWith writes the file name (made with its folders) through write.
func (a Archive) WriteWith(name string, write func(io.Writer) error) error {
	p := filepath.Join(a.Dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = write(w)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// WriteJSON writes v as indented JSON.
func (a Archive) WriteJSON(name string, v any) error {
	return a.WriteWith(name, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// WriteYAML writes v as YAML.
func (a Archive) WriteYAML(name string, v any) error {
	return a.WriteWith(name, func(w io.Writer) error {
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(v); err != nil {
			return err
		}
		return enc.Close()
	})
}

// WriteLines writes one line per item.
func (a Archive) WriteLines(name string, lines [][]byte) error {
	return a.WriteWith(name, func(w io.Writer) error {
		for _, l := range lines {
			if _, err := w.Write(l); err != nil {
				return err
			}
			if _, err := w.Write([]byte{'\n'}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Meta is run.json: what the run ran on, and when.
type Meta struct {
	// FormatVersion is the archive layout's version (FormatVersion).
	FormatVersion int    `json:"format_version"`
	RunID         string `json:"run_id"`
	Experiment    string `json:"experiment"`
	File          string `json:"file"`
	// Base is the experiment's name in its file, and Sweep the swept
	// fields' values of this run, for a run of a sweep.
	Base  string               `json:"base,omitempty"`
	Sweep []experiment.Setting `json:"sweep,omitempty"`
	// SweepID names the comparison of the runs started together with this
	// one: RUNS-DIR/<sweep-id>/ (empty for a run started alone).
	SweepID     string            `json:"sweep_id,omitempty"`
	Testbed     string            `json:"testbed"`
	Env         string            `json:"env"`
	Nodes       []inventory.Node  `json:"nodes"`
	Start       time.Time         `json:"start"` // agents deployed from here
	T0          time.Time         `json:"t0"`    // visit 1's start
	End         time.Time         `json:"end"`   // last record accounted, or the run stopped
	Keep        bool              `json:"kept_agents_and_topics"`
	Versions    map[string]string `json:"versions"`
	GitRevision string            `json:"git_revision"`
	// Window is the span the metrics cover: the run with a scrape
	// interval either side.
	Window struct {
		From time.Time `json:"from"`
		To   time.Time `json:"to"`
	} `json:"metrics_window"`
	// BrokersJITCPU is the CPU time, in seconds, each broker's JIT
	// compiler threads used from Start to End (broker service ->
	// seconds; kafka.CompilerThreads), read in the broker containers'
	// /proc. A broker whose container changed during the run (a fault
	// restarted it) is left out; none when it could not be read, or for
	// archives from before it was measured. JITCPUNote says which
	// brokers are left out and why, or why none was read.
	BrokersJITCPU map[string]float64 `json:"brokers_jit_cpu_seconds,omitempty"`
	JITCPUNote    string             `json:"brokers_jit_cpu_note,omitempty"`
	// HostSpeed is a fixed workload timed on the host just before the
	// run (hostspeed.Measure): on a local testbed the nodes share the
	// host's cores, so runs on one machine compare by it. nil on AWS (the
	// orchestrator's machine is not the nodes') and in archives from
	// before it was measured; HostSpeedError says why it is missing
	// otherwise.
	HostSpeed      *hostspeed.Reading `json:"host_speed,omitempty"`
	HostSpeedError string             `json:"host_speed_error,omitempty"`
	// MetricsError says why metrics/services.csv or metrics/totals.json
	// is missing.
	MetricsError  string `json:"metrics_error,omitempty"`
	Snapshot      string `json:"prometheus_snapshot,omitempty"`
	SnapshotBytes int64  `json:"prometheus_snapshot_bytes,omitempty"`
	// SnapshotError says why there is no TSDB snapshot.
	SnapshotError string   `json:"prometheus_snapshot_error,omitempty"`
	Grafana       []string `json:"grafana,omitempty"`
	Problems      []string `json:"problems"`
}

// Counts returns how many managers and workers the run's testbed had.
func (m Meta) Counts() (managers, workers int) {
	for _, n := range m.Nodes {
		if n.Role == "manager" {
			managers++
		} else {
			workers++
		}
	}
	return managers, workers
}

// Versions lists the images and tools of the testbed: the content-hashed
// image references (which name their inputs exactly), Kafka, Terraform and
// its provider, Go.
func Versions(agentsRef string) map[string]string {
	v := map[string]string{
		"kafka":                     images.KafkaVersion,
		"terraform":                 toolchain.Paths("").TerraformVersion,
		"terraform-provider-docker": toolchain.DockerProviderVersion,
		"go":                        runtime.Version(),
		"image:agents":              agentsRef,
	}
	for _, img := range images.Planned().All() {
		v["image:"+img.Name] = img.Ref
	}
	return v
}

// GitRevision is the checkout's commit, with "+dirty" when it has changes
// that are not committed, or why it is unknown.
func GitRevision(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown (" + strings.TrimSpace(err.Error()) + ")"
	}
	rev := strings.TrimSpace(string(out))
	st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output()
	if err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += "+dirty"
	}
	return rev
}

// VisitsCSV writes the folded rows, one per visit (numbered from 1) and
// stream group.
func VisitsCSV(w io.Writer, rows []outcome.VisitGroup, groups []run.Group) error {
	label := map[string]string{}
	for _, g := range groups {
		label[g.Name] = g.Label
	}
	if _, err := fmt.Fprintln(w, "visit,group,producers,members,expected,acked,received,unique,lost,not_received,not_sent,duplicated,redelivered,producer_duplicates,resent,stray,producing_s,transit_s,total_s,latency_p50_s,latency_p99_s,latency_max_s,complete"); err != nil {
		return err
	}
	for _, r := range rows {
		g := label[r.Group]
		if g == "" {
			g = r.Group
		}
		if _, err := fmt.Fprintf(w, "%d,%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%t\n",
			r.Visit, g, r.Producers, r.Members, r.Expected, r.Acked, r.Received, r.Unique, r.Lost, r.NotReceived, r.NotSent,
			r.Duplicated, r.Redelivered, r.ProducerDuplicates, r.Resent, r.Stray,
			r.ProducingTime.Seconds(), r.TransitTime.Seconds(), r.TotalTime.Seconds(),
			r.LatencyP50.Seconds(), r.LatencyP99.Seconds(), r.LatencyMax.Seconds(), r.Complete); err != nil {
			return err
		}
	}
	return nil
}
