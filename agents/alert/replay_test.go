package alert

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeSample(t *testing.T, alerts []map[string]any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "alerts.avro")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteOCF(f, alerts); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplay(t *testing.T) {
	o := DefaultOptions()
	o.StampSide, o.StampPool = 16, 2
	g := mustGen(t, o)
	var alerts []map[string]any
	for _, id := range testIDs(7) {
		alerts = append(alerts, g.Alert(id))
	}
	alerts = append(alerts, g.Alert(ssID(t, g)))
	path := writeSample(t, alerts)

	r, err := OpenReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Schema() == "" {
		t.Fatal("empty schema")
	}
	c, err := NewCodecForSchema(5, r.Schema())
	if err != nil {
		t.Fatalf("codec from the file's schema: %v", err)
	}
	for pass := 0; pass < 3; pass++ {
		for i, want := range alerts {
			got, err := r.Next()
			if err != nil {
				t.Fatalf("pass %d, alert %d: %v", pass, i, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("pass %d, alert %d (alertId %v): differs from what was written", pass, i, want["alertId"])
			}
			if _, err := c.Append(nil, got); err != nil {
				t.Fatalf("replayed alert does not encode: %v", err)
			}
		}
		if r.Passes() != pass {
			t.Fatalf("after pass %d: Passes() = %d", pass, r.Passes())
		}
	}
}

func TestReplayErrors(t *testing.T) {
	empty := writeSample(t, nil)
	r, err := OpenReplay(empty)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err == nil || !strings.HasSuffix(err.Error(), "the file holds no alerts") {
		t.Fatalf("Next on an empty file: %v", err)
	}

	junk := filepath.Join(t.TempDir(), "junk.avro")
	if err := os.WriteFile(junk, []byte("not avro at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReplay(junk); err == nil || !strings.Contains(err.Error(), "not an Avro object container file") {
		t.Fatalf("OpenReplay of junk: %v", err)
	}
	if _, err := OpenReplay(filepath.Join(t.TempDir(), "missing.avro")); err == nil {
		t.Fatal("OpenReplay of a missing file: no error")
	}
}
