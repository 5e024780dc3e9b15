package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alert-testbed/testbed/internal/config"
)

// No name gives a testbed folder outside TESTBED_HOME/testbeds/, or
// testbeds/ itself: `down` removes that folder.
func TestTestbedPathStaysInside(t *testing.T) {
	w := Workspace{Root: t.TempDir()}
	for _, name := range []string{"", ".", "..", "../..", "a/b", "a/../..", "/etc", "A", "-x", strings.Repeat("a", 64)} {
		if dir, err := w.TestbedPath(name); err == nil {
			t.Errorf("TestbedPath(%q) = %s, want an error", name, dir)
		} else if !strings.HasPrefix(err.Error(), "invalid --name ") {
			t.Errorf("TestbedPath(%q): %v", name, err)
		}
		if _, _, err := w.LoadSettings(name); err == nil {
			t.Errorf("LoadSettings(%q) accepted the name", name)
		}
		if err := w.SaveSettings(name, Settings{}); err == nil {
			t.Errorf("SaveSettings(%q) accepted the name", name)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("TestbedDir(%q) did not panic", name)
				}
			}()
			w.TestbedDir(name)
		}()
	}
	if entries, _ := os.ReadDir(w.Root); len(entries) != 0 {
		t.Errorf("bad names made %v in the workspace", entries)
	}
	dir, err := w.TestbedPath("tb")
	if err != nil || dir != filepath.Join(w.Root, "testbeds", "tb") {
		t.Fatalf("TestbedPath(tb) = %q, %v", dir, err)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	w := Workspace{Root: t.TempDir()}
	if _, ok, err := w.LoadSettings("tb"); ok || err != nil {
		t.Fatalf("settings of a testbed never stood up: ok=%v err=%v", ok, err)
	}
	want := Settings{Testbed: config.Testbed{Env: "local", Managers: 3, Workers: 2}, KafkaClusterID: "id"}
	if err := w.SaveSettings("tb", want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := w.LoadSettings("tb")
	if err != nil || !ok || got.Env != want.Env || got.Managers != want.Managers || got.Workers != want.Workers || got.KafkaClusterID != "id" {
		t.Fatalf("LoadSettings = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	if names, err := w.Testbeds(); err != nil || len(names) != 1 || names[0] != "tb" {
		t.Fatalf("Testbeds() = %v, %v", names, err)
	}
}

// Ceilings saved for a testbed add up per place and topic settings; a new
// figure of the same replaces the old one.
func TestCeilings(t *testing.T) {
	w := Workspace{Root: t.TempDir()}
	if got, err := w.LoadCeilings("tb"); err != nil || len(got) != 0 {
		t.Fatalf("no ceiling yet: %v, %v", got, err)
	}
	a := CeilingFigure{From: "swarm", Partitions: 3, ReplicationFactor: 3, MBPerSec: 50.8, Producers: 1, Bench: "bench-1"}
	b := CeilingFigure{From: "swarm", Partitions: 1, ReplicationFactor: 3, MBPerSec: 43.0, Producers: 1, Bench: "bench-2"}
	if err := w.SaveCeilings("tb", []CeilingFigure{a}); err != nil {
		t.Fatal(err)
	}
	if err := w.SaveCeilings("tb", []CeilingFigure{b}); err != nil {
		t.Fatal(err)
	}
	a2 := a
	a2.MBPerSec, a2.Bench = 55, "bench-3"
	if err := w.SaveCeilings("tb", []CeilingFigure{a2}); err != nil {
		t.Fatal(err)
	}
	got, err := w.LoadCeilings("tb")
	if err != nil || len(got) != 2 {
		t.Fatalf("ceilings %+v, %v; want 2", got, err)
	}
	if f, ok := FindCeiling(got, "swarm", 3, 3); !ok || f.Bench != "bench-3" || f.MBPerSec != 55 {
		t.Errorf("swarm, 3 partitions, RF 3: %+v %v; want bench-3's 55 MB/s", f, ok)
	}
	if f, ok := FindCeiling(got, "swarm", 1, 3); !ok || f.Bench != "bench-2" {
		t.Errorf("swarm, 1 partition, RF 3: %+v %v", f, ok)
	}
	if _, ok := FindCeiling(got, "host", 3, 3); ok {
		t.Error("a host ceiling was found where none was measured")
	}
}

// A warm-up covers exactly the broker containers it warmed: a restarted
// broker (another container), one more or one fewer, or none known, is
// not warm.
func TestWarmUpCoversTheSameContainersOnly(t *testing.T) {
	w := Workspace{Root: t.TempDir()}
	if _, ok, err := w.LoadWarmUp("tb"); ok || err != nil {
		t.Fatalf("LoadWarmUp before any: found %v, %v", ok, err)
	}
	warmed := map[string]string{"kafka_kafka-1": "c1", "kafka_kafka-2": "c2", "kafka_kafka-3": "c3"}
	if err := w.SaveWarmUp("tb", WarmUp{Brokers: warmed, Rounds: 2}); err != nil {
		t.Fatal(err)
	}
	wu, ok, err := w.LoadWarmUp("tb")
	if err != nil || !ok || wu.Rounds != 2 {
		t.Fatalf("LoadWarmUp: %+v, %v, %v", wu, ok, err)
	}
	for _, c := range []struct {
		now  map[string]string
		want bool
	}{
		{map[string]string{"kafka_kafka-1": "c1", "kafka_kafka-2": "c2", "kafka_kafka-3": "c3"}, true},
		{map[string]string{"kafka_kafka-1": "c1", "kafka_kafka-2": "c2-restarted", "kafka_kafka-3": "c3"}, false},
		{map[string]string{"kafka_kafka-1": "c1", "kafka_kafka-2": "c2"}, false},
		{map[string]string{"kafka_kafka-1": "c1", "kafka_kafka-2": "c2", "kafka_kafka-3": "c3", "kafka_kafka-4": "c4"}, false},
		{map[string]string{}, false},
	} {
		if got := wu.Covers(c.now); got != c.want {
			t.Errorf("Covers(%v) = %v, want %v", c.now, got, c.want)
		}
	}
	if (WarmUp{}).Covers(map[string]string{}) {
		t.Errorf("an empty warm-up covers no brokers")
	}
}
