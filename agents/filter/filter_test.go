package filter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alert-testbed/testbed/agents/alert"
)

var sample = map[string]any{
	"alertId":   int64(1),
	"diaSource": map[string]any{"snr": 7.5, "psfFlux": 3.6e5, "band": "r"},
}

func TestCompileAndMatch(t *testing.T) {
	fs, err := Compile([]Def{
		{Name: "Bright", Expr: `diaSource.snr > 5 && diaSource.psfFlux > 3.6e-5`},
		{Name: "Faint", Expr: `mag(diaSource.psfFlux) > 25`},
		{Name: "Red", Expr: `diaSource.band in ["r", "i"]`},
	}, sample)
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, true}
	for i, f := range fs {
		got, err := f.Match(sample)
		if err != nil {
			t.Fatal(err)
		}
		if got != want[i] {
			t.Errorf("%s: %v, want %v", f.Name, got, want[i])
		}
	}
	// mag(3.6e5 nJy) = 31.4 - 2.5*5.556 = 17.51
	fs, _ = Compile([]Def{{Name: "M", Expr: `mag(diaSource.psfFlux) > 17.5 && mag(diaSource.psfFlux) < 17.52`}}, sample)
	if ok, _ := fs[0].Match(sample); !ok {
		t.Error("mag() is off")
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		defs []Def
		want string
	}{
		{[]Def{{Name: "A", Expr: `diaSource.snr +`}}, "filter A (\"diaSource.snr +\"): "},
		{[]Def{{Name: "A", Expr: `nosuchfield > 3`}}, "filter A (\"nosuchfield > 3\"): unknown name nosuchfield"},
		{[]Def{{Name: "A", Expr: "true"}, {Name: "A", Expr: "false"}}, "filter A is defined twice"},
		{[]Def{{Expr: "true"}}, "filter 1 has no name"},
	} {
		_, err := Compile(c.defs, sample)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v: error %v, want prefix %q", c.defs, err, c.want)
		}
	}
}

func TestNonBooleanResultIsAnError(t *testing.T) {
	fs, err := Compile([]Def{{Name: "A", Expr: `diaSource.snr`}}, sample)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs[0].Match(sample); err == nil || !strings.HasPrefix(err.Error(), "filter A: invalid operation: bool(float64)") {
		t.Fatalf("got %v", err)
	}
}

func TestDMTN081AndSelect(t *testing.T) {
	defs := DMTN081(100)
	if len(defs) != 100 || defs[0].Name != "Filter001" || defs[99].Name != "Filter100" {
		t.Fatalf("names %s..%s", defs[0].Name, defs[99].Name)
	}
	if _, err := Compile(defs, sample); err != nil {
		t.Fatal(err)
	}
	g, err := Select(defs, 21, 40)
	if err != nil || len(g) != 20 || g[0].Name != "Filter021" || g[19].Name != "Filter040" {
		t.Fatalf("select 21..40: %v %v", err, g)
	}
	if _, err := Select(defs, 90, 101); err == nil || err.Error() != "invalid filter range 90..101: 100 filters are defined, use 1 <= first <= last <= 100" {
		t.Fatalf("got %v", err)
	}
}

func TestCaps(t *testing.T) {
	c := NewCaps(2, 3)
	for i := 0; i < 3; i++ {
		if !c.Take(1, 0) {
			t.Fatalf("pass %d refused under the cap", i+1)
		}
	}
	if c.Take(1, 0) {
		t.Fatal("fourth pass allowed with cap 3")
	}
	if !c.Take(1, 1) || !c.Take(2, 0) {
		t.Fatal("caps leak between filters or visits")
	}
	c.Forget(2)
	if !c.Take(1, 0) {
		t.Fatal("Forget did not reset visit 1")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "f.yaml")
	os.WriteFile(good, []byte("- name: Filter001\n  expr: diaSource.snr > 5\n"), 0o644)
	defs, err := Load(good)
	if err != nil || len(defs) != 1 || defs[0].Expr != "diaSource.snr > 5" {
		t.Fatalf("%v %v", defs, err)
	}
	bad := filepath.Join(dir, "g.yaml")
	os.WriteFile(bad, []byte("- name: Filter001\n  expression: diaSource.snr > 5\n"), 0o644)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "field expression not found") {
		t.Fatalf("misspelt field: %v", err)
	}
}

// A filter over a nullable field, run on generated alerts some of which
// have it null, completes: those alerts do not pass and are counted as
// errors, the first one reported as first.
func TestNullFieldCountsAsError(t *testing.T) {
	o := alert.DefaultOptions()
	o.Stamps = false
	g, err := alert.NewGenerator(o)
	if err != nil {
		t.Fatal(err)
	}
	var plains []map[string]any
	nulls := 0
	for seq := 0; seq < 400; seq++ {
		p := alert.Plain(g.Alert(alert.ID{Visit: 1, Seq: seq}))
		if p["diaObject"] == nil {
			nulls++
		}
		plains = append(plains, p)
	}
	if nulls == 0 {
		t.Fatal("no generated alert has a null diaObject: the test tests nothing")
	}
	fs, err := Compile([]Def{{Name: "Nsrc", Expr: `diaObject.nDiaSources > 3`}, {Name: "Safe", Expr: `diaObject != nil && diaObject.nDiaSources > 3`}}, plains[0])
	if err != nil {
		t.Fatal(err)
	}
	passed, firsts := make([]int, 2), 0
	for _, p := range plains {
		for i, f := range fs {
			pass, first, err := f.Test(p)
			if pass {
				passed[i]++
			}
			if first {
				firsts++
				if !strings.Contains(err.Error(), "filter Nsrc: cannot fetch nDiaSources from <nil>") {
					t.Errorf("first error %v", err)
				}
			}
			if err != nil && pass {
				t.Error("an alert the filter failed on passed")
			}
		}
	}
	if got := fs[0].Errors(); got != int64(nulls) {
		t.Errorf("Nsrc: %d errors, want %d (the alerts without diaObject)", got, nulls)
	}
	if fs[1].Errors() != 0 || firsts != 1 {
		t.Errorf("Safe: %d errors; %d first errors, want 1", fs[1].Errors(), firsts)
	}
	if passed[0] != passed[1] || passed[0] == 0 {
		t.Errorf("Nsrc passed %d alerts, the null-safe form %d", passed[0], passed[1])
	}
	t.Logf("%d alerts, %d without diaObject, %d passed", len(plains), nulls, passed[0])
}
