// Package filter holds the user-written alert filters of the DMTN-081
// mini-broker: boolean expressions over an alert's fields (expr-lang/expr),
// e.g. `diaSource.snr > 5 && diaSource.psfFlux > 3.6e-5`, each with an
// output topic and a per-visit cap.
package filter

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"sync/atomic"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// Def is one filter as a user writes it.
type Def struct {
	Name string `yaml:"name"` // also the output topic, e.g. Filter001
	Expr string `yaml:"expr"`
}

// Filter is a compiled filter.
type Filter struct {
	Def
	program *vm.Program
	errors  atomic.Int64
}

// functions available in filter expressions.
var functions = []expr.Option{
	// mag converts a flux in nJy to an AB magnitude (31.4 - 2.5 log10 f).
	expr.Function("mag", func(args ...any) (any, error) {
		f, ok := toFloat(args[0])
		if !ok {
			return nil, fmt.Errorf("mag: %v is not a number", args[0])
		}
		if f <= 0 {
			return math.Inf(1), nil
		}
		return 31.4 - 2.5*math.Log10(f), nil
	}, new(func(float64) float64)),
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// Compile checks and compiles defs against a sample alert (in the plain
// form filters see), so a misspelt top-level field or a non-boolean
// expression fails at start, naming the filter.
func Compile(defs []Def, sample map[string]any) ([]*Filter, error) {
	seen := map[string]bool{}
	var out []*Filter
	for i, d := range defs {
		if d.Name == "" {
			return nil, fmt.Errorf("filter %d has no name", i+1)
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("filter %s is defined twice", d.Name)
		}
		seen[d.Name] = true
		opts := append([]expr.Option{expr.Env(sample), expr.AsBool()}, functions...)
		p, err := expr.Compile(d.Expr, opts...)
		if err != nil {
			return nil, fmt.Errorf("filter %s (%q): %v", d.Name, d.Expr, err)
		}
		out = append(out, &Filter{Def: d, program: p})
	}
	return out, nil
}

// Test runs the filter on a plain alert for the stream: it never fails. An
// alert the expression fails on (diaObject.nDiaSources > 3 on an alert
// whose diaObject is null) does not pass; err is the failure, counted in
// Errors, and first says it is the filter's first, to be logged once.
func (f *Filter) Test(alert map[string]any) (pass, first bool, err error) {
	pass, err = f.Match(alert)
	if err != nil {
		return false, f.errors.Add(1) == 1, err
	}
	return pass, false, nil
}

// Errors is how many alerts the filter's expression failed on in Test.
func (f *Filter) Errors() int64 { return f.errors.Load() }

// Match runs the filter on a plain alert.
func (f *Filter) Match(alert map[string]any) (bool, error) {
	v, err := expr.Run(f.program, alert)
	if err != nil {
		return false, fmt.Errorf("filter %s: %w", f.Name, err)
	}
	// expr.AsBool makes a non-boolean result a run-time error above.
	return v.(bool), nil
}

// Load reads filter definitions from a YAML file: a list of {name, expr}.
// Unknown fields are errors.
func Load(path string) ([]Def, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var defs []Def
	if err := dec.Decode(&defs); err != nil {
		return nil, fmt.Errorf("%s: %w (want a list of {name: Filter001, expr: \"diaSource.snr > 5\"})", path, err)
	}
	for i, d := range defs {
		if d.Expr == "" {
			return nil, fmt.Errorf("%s: filter %d (%s) has no expr", path, i+1, d.Name)
		}
	}
	return defs, nil
}

// DMTN081 returns n filters named Filter001.. in the manner of DMTN-081's
// prototype: simple magnitude cuts, each a little fainter than the last, on
// alerts with a signal-to-noise ratio over 5. The limits run from 19 to
// 24.5 mag, so that over the generator's fluxes (median about 23.5 mag) the
// first filters pass a few alerts per visit and the last ones most of them.
// diaSource.snr and .psfFlux are nullable in the schema (never null in
// generated alerts): the filters test them first, so that an alert
// without them simply does not pass.
func DMTN081(n int) []Def {
	defs := make([]Def, n)
	for i := range defs {
		limit := 19.0 + 5.5*float64(i+1)/float64(n) // 19 < limit <= 24.5 mag
		defs[i] = Def{Name: fmt.Sprintf("Filter%03d", i+1),
			Expr: fmt.Sprintf("diaSource.snr != nil && diaSource.psfFlux != nil && diaSource.snr > 5 && mag(diaSource.psfFlux) < %.2f", limit)}
	}
	return defs
}

// Select returns filters first..last (1-based, inclusive) of defs.
func Select(defs []Def, first, last int) ([]Def, error) {
	if first < 1 || last < first || last > len(defs) {
		return nil, fmt.Errorf("invalid filter range %d..%d: %d filters are defined, use 1 <= first <= last <= %d", first, last, len(defs), len(defs))
	}
	return defs[first-1 : last], nil
}

// Caps counts passing alerts per (visit, filter) and says which may still
// be forwarded: at most Cap per filter per visit (DMTN-081: 20).
type Caps struct {
	Cap    int
	counts map[int][]int
	n      int
}

// NewCaps returns caps for n filters.
func NewCaps(n, cap int) *Caps { return &Caps{Cap: cap, counts: map[int][]int{}, n: n} }

// Take records a pass of filter i in visit v and reports whether it is
// within the cap.
func (c *Caps) Take(visit, i int) bool {
	cs, ok := c.counts[visit]
	if !ok {
		cs = make([]int, c.n)
		c.counts[visit] = cs
	}
	cs[i]++
	return cs[i] <= c.Cap
}

// Forget drops the counts of visits before v (bounded memory on long runs).
func (c *Caps) Forget(before int) {
	for v := range c.counts {
		if v < before {
			delete(c.counts, v)
		}
	}
}
