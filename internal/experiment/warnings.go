package experiment

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/filter"
)

// Warnings returns what in e is valid but probably not what was meant,
// one line each, naming the field of the experiment file. For now: the
// filters the run uses (the first filters.groups x filters_per_group)
// whose expressions fail on an alert in which a nullable field is null
// (diaObject.nDiaSources > 3 on an alert without diaObject). A filter
// counts such an alert as not passing and goes on, so the run works; the
// warning says which field and how to write the expression null-safe.
//
// The null-safe form is a nil test first: diaObject != nil &&
// diaObject.nDiaSources > 3. expr's optional chaining alone does not do:
// diaObject?.nDiaSources > 3 still fails on a null diaObject (nil > 3);
// (diaObject?.nDiaSources ?? 0) > 3 works but decides what a missing value
// means.
func (e Experiment) Warnings() []string {
	if e.Filters.Groups <= 0 {
		return nil
	}
	defs := e.FilterDefs()
	if n := e.Filters.Groups * e.Filters.FiltersPerGroup; n < len(defs) {
		defs = defs[:max(n, 0)]
	}
	ns := nullSamples()
	var out []string
	for i, d := range defs {
		where := fmt.Sprintf("filters (built-in %s)", d.Name)
		if len(e.Filters.Expressions) > 0 {
			where = fmt.Sprintf("filters.expressions[%d] (%s)", i, d.Name)
		}
		if w := ns.check(d); w != "" {
			out = append(out, where+": "+w)
		}
	}
	return out
}

// nullable is a nullable field of the alert schema: a path of field
// names, with each marking an array whose every element the rest of the
// path applies to.
type nullable []pathStep

type pathStep struct {
	name string
	each bool // the field is an array: the rest of the path is in its elements
}

func (p nullable) String() string {
	var b strings.Builder
	for i, s := range p {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
		if s.each && i < len(p)-1 {
			b.WriteString("[]")
		}
	}
	return b.String()
}

// inArray says the field is inside an array's elements: no nil test at
// the top of the expression reaches it.
func (p nullable) inArray() bool {
	for _, s := range p[:len(p)-1] {
		if s.each {
			return true
		}
	}
	return false
}

// samples are the alerts a filter is tried on: bases in which no field is
// null, and the nullable fields to set to null in them one at a time.
type samples struct {
	bases  []map[string]any
	fields []nullable
}

// nullSamples builds the samples once: a base from the schema (every
// field a plain value of its type: 1, "r", true; one element per array)
// and bases from generated alerts (their null fields filled from the
// first base), so that an expression whose && or || stops early on one
// base's values is still tried to the field on another.
var nullSamples = sync.OnceValue(func() *samples {
	var schema any
	if err := json.Unmarshal([]byte(alert.AlertSchema()), &schema); err != nil {
		panic(err) // the embedded schema is valid JSON (agents/alert tests)
	}
	w := &schemaWalk{named: map[string]any{}}
	dummy, _ := w.value(schema, "", nil, 0)
	s := &samples{bases: []map[string]any{dummy.(map[string]any)}, fields: w.fields}
	o := alert.DefaultOptions()
	o.Stamps = false
	g, err := alert.NewGenerator(o)
	if err != nil {
		panic(err) // the default options are valid (agents/alert tests)
	}
	for seq := 0; len(s.bases) < 4 && seq < 100; seq++ {
		a := alert.Plain(g.Alert(alert.ID{Seq: seq}))
		fill(a, s.bases[0])
		s.bases = append(s.bases, a)
	}
	return s
})

// check returns the warning for d, or "" when d runs on every sample (or
// does not compile: Validate reports that).
func (s *samples) check(d filter.Def) string {
	fs, err := filter.Compile([]filter.Def{d}, s.bases[0])
	if err != nil {
		return ""
	}
	f := fs[0]
	var failing []nullable
	var failed []map[string]any // the null samples it failed on
	for _, field := range s.fields {
		for _, b := range s.bases {
			if _, err := f.Match(b); err != nil {
				continue // fails without any null: not a null field's doing
			}
			n := setNil(b, field)
			if _, err := f.Match(n); err != nil {
				failing = append(failing, field)
				failed = append(failed, n)
				break
			}
		}
	}
	if len(failing) == 0 {
		return ""
	}
	names := make([]string, len(failing))
	var guards []string
	inArray := false
	for i, p := range failing {
		names[i] = p.String()
		if p.inArray() {
			inArray = true
		} else {
			guards = append(guards, p.String()+" != nil")
		}
	}
	msg := joinAnd(names) + " can be null in an alert; the expression fails there and the alert does not pass"
	if !inArray {
		safe := strings.Join(guards, " && ") + " && " + wrap(d.Expr)
		if s.runsOn(filter.Def{Name: d.Name, Expr: safe}, failed) {
			return msg + ": write " + safe
		}
	}
	return msg + ": test the field for nil (field != nil && ...) before using it"
}

// runsOn says d compiles and runs without error on every base and on
// samples.
func (s *samples) runsOn(d filter.Def, samples []map[string]any) bool {
	fs, err := filter.Compile([]filter.Def{d}, s.bases[0])
	if err != nil {
		return false
	}
	for _, a := range append(append([]map[string]any{}, s.bases...), samples...) {
		if _, err := fs[0].Match(a); err != nil {
			return false
		}
	}
	return true
}

// lowPrecedence finds the operators that bind less tightly than &&: the
// expression is parenthesized after a nil test when it has one.
var lowPrecedence = regexp.MustCompile(`\|\||\?|\||\bor\b|\blet\b|;`)

func wrap(expr string) string {
	expr = strings.TrimSpace(expr)
	if lowPrecedence.MatchString(expr) {
		return "(" + expr + ")"
	}
	return expr
}

func joinAnd(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// setNil returns a copy of a in which field is null (in every element of
// the arrays on its path); a is not changed.
func setNil(a map[string]any, field nullable) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	s := field[0]
	if len(field) == 1 {
		out[s.name] = nil
		return out
	}
	switch v := a[s.name].(type) {
	case map[string]any:
		out[s.name] = setNil(v, field[1:])
	case []any:
		elems := make([]any, len(v))
		for i, e := range v {
			if m, ok := e.(map[string]any); ok {
				elems[i] = setNil(m, field[1:])
			} else {
				elems[i] = e
			}
		}
		out[s.name] = elems
	}
	return out
}

// fill sets the null fields of a (a plain alert) from base, in place,
// recursively, so that a has no null field.
func fill(a, base map[string]any) {
	for k, bv := range base {
		av, ok := a[k]
		if !ok || av == nil {
			a[k] = bv
			continue
		}
		switch av := av.(type) {
		case map[string]any:
			if bm, ok := bv.(map[string]any); ok {
				fill(av, bm)
			}
		case []any:
			bs, ok := bv.([]any)
			if !ok || len(bs) == 0 {
				continue
			}
			if len(av) == 0 {
				a[k] = bs
				continue
			}
			if bm, ok := bs[0].(map[string]any); ok {
				for _, e := range av {
					if em, ok := e.(map[string]any); ok {
						fill(em, bm)
					}
				}
			}
		}
	}
}

// schemaWalk builds a plain value of an Avro schema with no null in it and
// lists the nullable fields.
type schemaWalk struct {
	named  map[string]any // full name -> record, enum or fixed definition
	fields []nullable
}

// value returns a plain value of type t (in namespace ns) at path, and
// false for a type Plain leaves out (bytes, fixed).
func (w *schemaWalk) value(t any, ns string, path nullable, depth int) (any, bool) {
	if depth > 16 {
		return nil, true // a recursive type: stop
	}
	switch t := t.(type) {
	case string:
		switch t {
		case "null":
			return nil, true
		case "boolean":
			return true, true
		case "int", "long":
			return int64(1), true
		case "float", "double":
			return float64(1), true
		case "string":
			return "r", true
		case "bytes":
			return nil, false
		}
		def, ok := w.named[t]
		if !ok && ns != "" {
			def, ok = w.named[ns+"."+t]
		}
		if !ok {
			return nil, true
		}
		return w.value(def, ns, path, depth+1)
	case []any: // a union: the first member that is not null
		for _, m := range t {
			if m != "null" {
				return w.value(m, ns, path, depth)
			}
		}
		return nil, true
	case map[string]any:
		if n, ok := t["namespace"].(string); ok {
			ns = n
		}
		kind, _ := t["type"].(string)
		if name, ok := t["name"].(string); ok && (kind == "record" || kind == "enum" || kind == "fixed") {
			full := name
			if !strings.Contains(name, ".") && ns != "" {
				full = ns + "." + name
			}
			w.named[full] = t
		}
		switch kind {
		case "record", "error":
			out := map[string]any{}
			fields, _ := t["fields"].([]any)
			for _, f := range fields {
				fm, _ := f.(map[string]any)
				name, _ := fm["name"].(string)
				p := append(append(nullable{}, path...), pathStep{name: name})
				if isNullable(fm["type"]) && !skipped(fm["type"]) {
					w.fields = append(w.fields, p)
				}
				if v, keep := w.value(fm["type"], ns, p, depth+1); keep {
					out[name] = v
				}
			}
			return out, true
		case "array":
			if len(path) > 0 {
				path = append(append(nullable{}, path[:len(path)-1]...), pathStep{name: path[len(path)-1].name, each: true})
			}
			v, keep := w.value(t["items"], ns, path, depth+1)
			if !keep {
				return []any{}, true
			}
			return []any{v}, true
		case "map":
			v, keep := w.value(t["values"], ns, path, depth+1)
			if !keep {
				return map[string]any{}, true
			}
			return map[string]any{"k": v}, true
		case "enum":
			if syms, ok := t["symbols"].([]any); ok && len(syms) > 0 {
				return syms[0], true
			}
			return "", true
		case "fixed":
			return nil, false
		default: // {"type": "long", "logicalType": ...}
			return w.value(kind, ns, path, depth)
		}
	}
	return nil, true
}

func isNullable(t any) bool {
	u, ok := t.([]any)
	if !ok {
		return false
	}
	for _, m := range u {
		if m == "null" {
			return true
		}
	}
	return false
}

// skipped says a nullable field is left out by Plain whatever its value
// (the cutouts: bytes): no filter can use it.
func skipped(t any) bool {
	for _, m := range t.([]any) {
		if m != "null" && m != "bytes" && m != "fixed" {
			return false
		}
	}
	return true
}
