package orchestrator

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/internal/alertschema"
	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/run"
)

// replaySource reads e's alert.replay file, when it has one, before
// anything is made (run.ScanReplay): the run's replay source, and the
// schema the agents decode with, the file's writer schema. Without one it
// returns nil and schema as it is.
func replaySource(e experiment.Experiment, id string, schema alertschema.Schema) (*run.Replay, alertschema.Schema, error) {
	if e.Alert.Replay == "" {
		return nil, schema, nil
	}
	r, err := run.ScanReplay(e, id)
	if err != nil {
		return nil, schema, err
	}
	return &r, alertschema.Schema{Name: "of " + filepath.Base(r.File), JSON: r.Schema, ID: uint32(e.Alert.SchemaID)}, nil
}

// loadReplay loads r into its source topic, made with the run's topics,
// and says what it loaded and how the passes after the first differ.
func (env *runEnv) loadReplay(ctx context.Context, r *run.Replay) error {
	took, err := r.Load(ctx, Bootstrap(env.inv))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.out, " ✓ Loaded the %d alerts of %s (%.1f MB, codec %s, largest %d bytes) into %s in %.1fs\n",
		r.Records, r.File, float64(r.Bytes)/1e6, r.Codec, r.MaxRecord, r.Topic, took.Seconds())
	if r.Mode == alert.ReplayInfinite {
		fmt.Fprintf(env.out, "   %s\n", passShift(r.Shift))
	}
	return nil
}

// passShift says what an infinite replay's passes after the first change.
func passShift(s alert.Shift) string {
	ids := "no alert or source id field found: the ids repeat"
	if len(s.IDStrides) > 0 {
		var each []string
		for _, name := range slices.Sorted(maps.Keys(s.IDStrides)) {
			each = append(each, fmt.Sprintf("+%d to %s", s.IDStrides[name], name))
		}
		ids = strings.Join(each, ", ") + " (" + strings.Join(s.IDFields, ", ") + ")"
	}
	times := "no time field found"
	if len(s.TimeFields) > 0 {
		times = fmt.Sprintf("+%g days to %s", s.Days, strings.Join(s.TimeFields, ", "))
	}
	return fmt.Sprintf("each pass after the first: %s; %s", ids, times)
}
