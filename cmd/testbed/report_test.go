package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Runs of one sweep are compared in RUNS-DIR/<sweep-id>/ unless that
// folder holds the comparison of other runs (the whole sweep's): a subset
// goes to a compare-<time> folder of its own, and never replaces it.
func TestDefaultCompareDir(t *testing.T) {
	runs := t.TempDir()
	var dirs []string
	for _, id := range []string{"20261201-100000-aaaa", "20261201-100100-bbbb", "20261201-100200-cccc"} {
		d := filepath.Join(runs, id)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "run.json"), []byte(`{"format_version":1,"run_id":"`+id+`","sweep_id":"sweep-x"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	sweep := filepath.Join(runs, "sweep-x")
	if got := defaultCompareDir(dirs[:2]); got != sweep {
		t.Errorf("no comparison yet: %s, want %s", got, sweep)
	}
	os.MkdirAll(sweep, 0o755)
	index := `{"title":"Sweep","runs":["../20261201-100000-aaaa","../20261201-100100-bbbb","../20261201-100200-cccc"]}`
	if err := os.WriteFile(filepath.Join(sweep, "sweep.json"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := defaultCompareDir([]string{dirs[2], dirs[0], dirs[1]}); got != sweep {
		t.Errorf("the whole sweep again: %s, want %s", got, sweep)
	}
	if got := defaultCompareDir(dirs[:2]); !strings.HasPrefix(got, filepath.Join(runs, "compare-")) {
		t.Errorf("two of the sweep's three runs: %s, want a compare-<time> folder beside them", got)
	}
}
