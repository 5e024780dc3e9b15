package workspace

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// Stream is what a `testbed stream` saves while it runs, beside the
// testbed's settings (stream.json): for `testbed watch`, which follows
// consumer groups against it, and for the next stream or run, which clear
// what a stream whose process is gone left behind (its producers send
// until they are stopped).
type Stream struct {
	PID        int    `json:"pid"` // of the `testbed stream` process, on this host
	RunID      string `json:"run_id"`
	Experiment string `json:"experiment"`
	Topic      string `json:"topic"`
	// ResultsTopic holds the producers' per-visit records.
	ResultsTopic string `json:"results_topic"`
	// T0 is when visit 1 was due; visit v is due at T0 + (v-1) x
	// VisitInterval.
	T0             time.Time     `json:"t0"`
	VisitInterval  time.Duration `json:"visit_interval_ns"`
	AlertsPerVisit int           `json:"alerts_per_visit"`
	Producers      int           `json:"producers"`
	Bootstrap      []string      `json:"bootstrap"` // from this host
	StartedAt      time.Time     `json:"started_at"`
}

// streamFile holds a testbed's Stream in its folder.
const streamFile = "stream.json"

// Alive says whether the stream's process still runs on this host.
func (s Stream) Alive() bool {
	if s.PID <= 0 {
		return false
	}
	err := syscall.Kill(s.PID, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// LoadStream returns the stream saved for testbed name, or ok=false when
// none is.
func (w Workspace) LoadStream(name string) (s Stream, ok bool, err error) {
	ok, err = w.load(name, streamFile, &s)
	return s, ok, err
}

// SaveStream writes the stream of testbed name.
func (w Workspace) SaveStream(name string, s Stream) error {
	return w.save(name, streamFile, s)
}

// RemoveStream removes the stream saved for testbed name, if any.
func (w Workspace) RemoveStream(name string) error {
	path, err := w.file(name, streamFile)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
