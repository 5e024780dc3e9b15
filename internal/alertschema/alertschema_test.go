package alertschema

import (
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"
)

// Named types from other files are defined at their first use, used by
// name after it, and the docs are dropped: the result is one schema that
// goavro compiles.
func TestCompactInlinesNamedTypes(t *testing.T) {
	types := map[string]map[string]any{
		"ns.src": {"type": "record", "name": "src", "namespace": "ns", "doc": "a source",
			"fields": []any{map[string]any{"name": "ra", "type": "double", "doc": "deg"}}},
	}
	top := `{"type": "record", "name": "alert", "namespace": "ns", "fields": [
		{"name": "diaSource", "type": "ns.src"},
		{"name": "prv", "type": ["null", {"type": "array", "items": "ns.src"}]}]}`
	got, err := Compact(top, types)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "doc") || strings.Count(got, `"fields"`) != 2 || !strings.Contains(got, `"items":"ns.src"`) {
		t.Errorf("Compact = %s", got)
	}
	if _, err := goavro.NewCodec(got); err != nil {
		t.Errorf("goavro: %v", err)
	}
	if _, err := Compact(top, nil); err == nil || err.Error() != `field diaSource: type "ns.src" is used but not defined` {
		t.Errorf("without the type: %v", err)
	}
}

func TestCheckAndConventionID(t *testing.T) {
	for name, id := range map[string]int{"testbed": 1, "rubin": 1101, "rubin-7.4": 704, "rubin-10.0": 1000, "mine.avsc": 1} {
		if err := Check(name); err != nil {
			t.Errorf("Check(%s): %v", name, err)
		}
		if got := ConventionID(name, 1); got != id {
			t.Errorf("ConventionID(%s) = %d, want %d", name, got, id)
		}
	}
	for _, bad := range []string{"", "Rubin", "rubin-7", "rubin-v7.4", "ztf", "schema.json"} {
		if err := Check(bad); err == nil {
			t.Errorf("Check(%q) accepted", bad)
		}
	}
}
