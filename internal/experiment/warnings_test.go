package experiment

import (
	"reflect"
	"strings"
	"testing"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/filter"
)

func parseWarnings(t *testing.T, yml string) []string {
	t.Helper()
	runs, err := Parse([]byte(yml), "warn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
	return runs[0].Warnings()
}

// A filter over a nullable field gets one warning naming the filter, the
// field and the null-safe form; the filters the run does not use, and
// null-safe ones, get none.
func TestWarnings(t *testing.T) {
	got := parseWarnings(t, `name: x
filters:
  groups: 2
  filters_per_group: 3
  expressions:
    - {name: nsrc, expr: diaObject.nDiaSources > 3}
    - {name: bright, expr: diaSource.snr > 5}
    - {name: safe, expr: diaObject != nil && diaObject.nDiaSources > 3}
    - {name: either, expr: diaObject.nDiaSources > 3 || diaSource.reliability > 0.9}
    - {name: history, expr: len(prvDiaSources) > 3}
    - {name: inside, expr: 'any(prvDiaForcedSources, .psfFlux > 1000)'}
    - {name: unused, expr: diaObject.nDiaSources > 30}
`)
	want := []string{
		"filters.expressions[0] (nsrc): diaObject can be null in an alert; the expression fails there and the alert does not pass: write diaObject != nil && diaObject.nDiaSources > 3",
		"filters.expressions[1] (bright): diaSource.snr can be null in an alert; the expression fails there and the alert does not pass: write diaSource.snr != nil && diaSource.snr > 5",
		"filters.expressions[3] (either): diaSource.reliability and diaObject can be null in an alert; the expression fails there and the alert does not pass: write diaSource.reliability != nil && diaObject != nil && (diaObject.nDiaSources > 3 || diaSource.reliability > 0.9)",
		"filters.expressions[4] (history): prvDiaSources can be null in an alert; the expression fails there and the alert does not pass: write prvDiaSources != nil && len(prvDiaSources) > 3",
		"filters.expressions[5] (inside): prvDiaForcedSources and prvDiaForcedSources[].psfFlux can be null in an alert; the expression fails there and the alert does not pass: test the field for nil (field != nil && ...) before using it",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The suggested form compiles and runs on an alert with the field null;
// the original fails there.
func TestWarningsSuggestionRunsOnNull(t *testing.T) {
	sample := alert.Plain(mustAlert(t))
	sample["diaObject"] = nil
	for _, c := range []struct{ orig, safe string }{
		{"diaObject.nDiaSources > 3", "diaObject != nil && diaObject.nDiaSources > 3"},
	} {
		fs, err := filter.Compile([]filter.Def{{Name: "o", Expr: c.orig}, {Name: "s", Expr: c.safe}}, nullSamples().bases[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fs[0].Match(sample); err == nil {
			t.Errorf("%s runs on a null diaObject", c.orig)
		}
		if ok, err := fs[1].Match(sample); err != nil || ok {
			t.Errorf("%s on a null diaObject: %v, %v", c.safe, ok, err)
		}
	}
	// Optional chaining alone is not null-safe in expr (nil > 3 fails).
	fs, err := filter.Compile([]filter.Def{{Name: "c", Expr: "diaObject?.nDiaSources > 3"}, {Name: "d", Expr: "(diaObject?.nDiaSources ?? 0) > 3"}}, nullSamples().bases[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs[0].Match(sample); err == nil {
		t.Error("diaObject?.nDiaSources > 3 runs on a null diaObject: the warnings could suggest it")
	}
	if ok, err := fs[1].Match(sample); err != nil || ok {
		t.Errorf("(diaObject?.nDiaSources ?? 0) > 3: %v %v", ok, err)
	}
}

func mustAlert(t *testing.T) map[string]any {
	t.Helper()
	o := alert.DefaultOptions()
	o.Stamps = false
	g, err := alert.NewGenerator(o)
	if err != nil {
		t.Fatal(err)
	}
	return g.Alert(alert.ID{})
}

// No mini-broker, no warnings; the built-in DMTN-081 filters are
// null-safe.
func TestNoWarnings(t *testing.T) {
	if got := parseWarnings(t, "name: x\nfilters:\n  groups: 0\n  expressions: [{name: nsrc, expr: diaObject.nDiaSources > 3}]\n"); len(got) != 0 {
		t.Errorf("groups 0: %q", got)
	}
	if got := parseWarnings(t, "name: x\nfilters:\n  groups: 5\n  filters_per_group: 20\n"); len(got) != 0 {
		t.Errorf("built-in filters: %d warnings, the first %q", len(got), got[0])
	}
}
