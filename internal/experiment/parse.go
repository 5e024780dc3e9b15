package experiment

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/internal/alertschema"
)

// Error is a problem with an experiment: the file, the field and what is
// wrong with it, and for a run of a sweep, which run.
type Error struct {
	File  string // as given to Load or Parse; "" when not from a file
	Field string // YAML path, e.g. consumers[1].mode; "" for the whole file
	Msg   string // what is wrong and what is allowed
	Run   string // the run of a sweep it is about; "" without sweeps
	Err   error  // the cause, for errors.Is (a missing file: fs.ErrNotExist)
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	if e.Run != "" {
		fmt.Fprintf(&b, " (in sweep run %s)", e.Run)
	}
	return b.String()
}

func errorf(field, format string, args ...any) *Error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Load reads the experiment file at path: Parse of its contents. A
// missing file is an *Error that errors.Is(err, fs.ErrNotExist).
func Load(path string) ([]Experiment, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, &Error{File: path, Msg: "a folder, not an experiment file: give the files in it (" + filepath.Join(path, "*.yaml") + ")"}
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &Error{File: path, Msg: "no such experiment file (the ready-made ones are in ./experiments)", Err: err}
	case err != nil:
		return nil, &Error{File: path, Msg: err.Error(), Err: err}
	}
	return Parse(data, path)
}

// Parse reads an experiment file's contents: Decode (strict decoding, the
// sweeps found), Expand (one run per combination, defaults applied), then
// Validate of every run. file names the file in errors and is the folder a
// relative alert.replay is taken from. Without sweeps the result is one
// run. The first problem found is the error, an *Error.
//
// A file of several YAML documents (separated by ---) is several
// experiments, each with its own sweeps, run in file order; errors name
// the document ("file (document 2)"), and no two runs of the file may
// have the same name.
func Parse(data []byte, file string) ([]Experiment, error) {
	docs, perr := parseDocuments(data)
	if perr != nil {
		perr.File = file
		return nil, perr
	}
	var runs []Experiment
	names := map[string]string{}
	for i, doc := range docs {
		name := file
		if len(docs) > 1 {
			name = fmt.Sprintf("%s (document %d)", file, i+1)
		}
		f, err := decodeNode(doc, name)
		if err != nil {
			return nil, err
		}
		rs, err := f.Expand()
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if err := r.Validate(); err != nil {
				return nil, err
			}
			if prev, ok := names[r.Name]; ok {
				return nil, &Error{File: name, Field: "name", Msg: fmt.Sprintf("a run named %s is already in %s: give each document its own name", r.Name, prev)}
			}
			names[r.Name] = name
		}
		runs = append(runs, rs...)
		if len(runs) > MaxRuns {
			return nil, &Error{File: file, Msg: fmt.Sprintf("the file makes more than %d runs; split it", MaxRuns)}
		}
	}
	return runs, nil
}

// File is an experiment file decoded and checked against the schema (no
// unknown fields, every value of its field's type), its sweeps found but
// not yet expanded, and nothing validated. Expand changes the decoded
// document while it works: a File is not safe for concurrent use.
type File struct {
	Path   string  // as given to Decode
	Sweeps []Sweep // in file order; empty without sweeps

	doc  *yaml.Node
	axes []*axis
}

// Sweep is one swept field of a file.
type Sweep struct {
	Field  string   // YAML path, e.g. alert.stamps
	Label  string   // in run names, e.g. stamps
	Values []string // as written
}

// Runs is the number of runs the file expands to: the product of the
// sweeps' lengths.
func (f *File) Runs() int {
	n := 1
	for _, s := range f.Sweeps {
		n *= len(s.Values)
	}
	return n
}

// Decode reads an experiment file's contents strictly and finds its sweeps
// (see the package comment). Errors are *Error values naming file.
func Decode(data []byte, file string) (*File, error) {
	fail := func(e *Error) (*File, error) {
		e.File = file
		return nil, e
	}
	docs, perr := parseDocuments(data)
	if perr != nil {
		return fail(perr)
	}
	if len(docs) > 1 {
		return fail(errorf("", "%d YAML documents: Decode takes one experiment (Parse reads them all)", len(docs)))
	}
	return decodeNode(docs[0], file)
}

// decodeNode is Decode of one parsed document.
func decodeNode(doc *yaml.Node, file string) (*File, error) {
	fail := func(e *Error) (*File, error) {
		e.File = file
		return nil, e
	}
	p := &parser{seen: map[*yaml.Node]bool{}}
	if err := p.walk(doc.Content[0], reflect.TypeFor[fileExperiment](), "", false); err != nil {
		return fail(err)
	}
	f := &File{Path: file, doc: doc, axes: p.axes}
	labels := p.labels()
	for i, a := range p.axes {
		s := Sweep{Field: a.field, Label: labels[i]}
		for _, v := range a.values {
			s.Values = append(s.Values, v.Value)
		}
		f.Sweeps = append(f.Sweeps, s)
		if f.Runs() > MaxRuns {
			return fail(errorf(p.axes[0].field, "the sweeps make more than %d runs; split the file", MaxRuns))
		}
	}
	return f, nil
}

// Expand returns the runs of the file, the cartesian product of its
// sweeps in the order of the package comment (the first swept field in the
// file varying slowest), each with its defaults applied, its name suffix,
// its Sweep settings and a relative alert.replay made absolute. It does
// not validate them: see Experiment.Validate.
func (f *File) Expand() ([]Experiment, error) {
	var runs []Experiment
	names := map[string]bool{}
	idx := make([]int, len(f.axes)) // the current combination
	for range f.Runs() {
		var sweep []Setting
		suffix := ""
		for i, a := range f.axes {
			v := a.values[idx[i]]
			a.set(v)
			sweep = append(sweep, Setting{Field: a.field, Value: v.Value})
			suffix += "-" + f.Sweeps[i].Label + "-" + sanitize(v.Value)
		}
		var fe fileExperiment
		err := decodeStrict(f.doc, &fe)
		for _, a := range f.axes {
			a.restore()
		}
		if err != nil {
			return nil, &Error{File: f.Path, Msg: err.Error()}
		}
		e := applyDefaults(fe)
		e.File, e.Base, e.Name, e.Sweep = f.Path, e.Name, e.Name+suffix, sweep
		if e.Alert.Replay != "" && !filepath.IsAbs(e.Alert.Replay) {
			if abs, err := filepath.Abs(filepath.Join(filepath.Dir(f.Path), e.Alert.Replay)); err == nil {
				e.Alert.Replay = abs
			}
		}
		if e.Alert.Replay != "" && fe.Alert.SchemaID == nil {
			// Replayed records are framed with their file's schema id:
			// Rubin's convention for a Rubin alert file.
			if r, c, err := alert.OpenOCF(e.Alert.Replay); err == nil {
				e.Alert.SchemaID = alertschema.WriterConventionID(r.Schema(), DefaultSchemaID)
				c.Close()
			}
		}
		if e.Alert.ReplayPacing == ReplayPacingObserved && e.Alert.ReplayMode == alert.ReplaySinglePass {
			if fe.AlertsPerVisit != nil {
				return nil, &Error{File: f.Path, Field: "alerts_per_visit", Msg: "has no effect with alert.replay_pacing observed (each visit is one exposure of the file, with its own alerts): leave it out"}
			}
			e.observe(fe.Visits == nil, fe.Limits.RunTimeout == nil)
		} else if e.Alert.ReplayMode == alert.ReplaySinglePass && fe.Visits == nil {
			// A single pass has the visits its file fills; a file that
			// cannot be read is named by Validate.
			if n, err := alert.CountOCF(e.Alert.Replay); err == nil && n > 0 && e.AlertsPerVisit > 0 {
				e.Visits = alert.SinglePassVisits(n, e.AlertsPerVisit)
				if fe.Limits.RunTimeout == nil {
					e.Limits.RunTimeout = e.Duration() + DefaultRunSlack
				}
			}
		}
		if strings.HasSuffix(e.Alert.Schema, ".avsc") && !filepath.IsAbs(e.Alert.Schema) {
			if abs, err := filepath.Abs(filepath.Join(filepath.Dir(f.Path), e.Alert.Schema)); err == nil {
				e.Alert.Schema = abs
			}
		}
		if names[e.Name] {
			return nil, &Error{File: f.Path, Field: f.Sweeps[0].Field, Msg: fmt.Sprintf("two runs of the sweeps would be named %s: give distinct values", e.Name)}
		}
		names[e.Name] = true
		runs = append(runs, e)
		// The next combination: the last axis varies fastest.
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < len(f.axes[i].values) {
				break
			}
			idx[i] = 0
		}
	}
	return runs, nil
}

// parseDocuments reads the YAML documents of data; each one's Content[0]
// is its top-level mapping.
func parseDocuments(data []byte) ([]*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		where := ""
		if len(docs) > 0 {
			where = fmt.Sprintf("document %d: ", len(docs)+1)
		}
		if err != nil {
			return nil, errorf("", "%s%v", where, err)
		}
		top := resolve(doc.Content[0])
		if isNull(top) {
			continue // an empty document, such as after a trailing ---
		}
		if top.Kind != yaml.MappingNode {
			return nil, errorf("", "%swant a mapping of experiment fields (%s), got %s", where, fieldNames(reflect.TypeFor[fileExperiment]()), show(top))
		}
		docs = append(docs, &doc)
	}
	if len(docs) == 0 {
		return nil, errorf("", "empty file: want a mapping of experiment fields, at least a name")
	}
	return docs, nil
}

// decodeStrict decodes doc into v with yaml.v3's strict decoder: after the
// walker's checks it cannot find anything, but it is the final say.
func decodeStrict(doc *yaml.Node, v any) error {
	data, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// parser walks a document against the file types: it reports unknown,
// doubled and mistyped fields with their paths, and collects the sweeps.
type parser struct {
	axes []*axis
	seen map[*yaml.Node]bool // sequence nodes already made axes
}

// axis is one sweep: the list node, which set replaces by each value in
// turn (so that every alias of it follows).
type axis struct {
	field  string // path of the first field holding it
	node   *yaml.Node
	values []*yaml.Node
	saved  yaml.Node
}

func (a *axis) set(v *yaml.Node) {
	a.saved = *a.node
	a.node.Kind, a.node.Tag, a.node.Value, a.node.Style, a.node.Content = yaml.ScalarNode, v.Tag, v.Value, v.Style, nil
}

func (a *axis) restore() { *a.node = a.saved }

// labels names the axes in run names: the field's key, or its whole path
// when two axes share a key.
func (p *parser) labels() []string {
	count := map[string]int{}
	keys := make([]string, len(p.axes))
	for i, a := range p.axes {
		keys[i] = a.field[strings.LastIndex(a.field, ".")+1:]
		count[keys[i]]++
	}
	out := make([]string, len(p.axes))
	for i, a := range p.axes {
		out[i] = sanitize(keys[i])
		if count[keys[i]] > 1 {
			out[i] = sanitize(a.field)
		}
	}
	return out
}

type shape int

const (
	shapeScalar shape = iota
	shapeMapping
	shapeList
)

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func shapeOf(t reflect.Type) shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case reflect.PointerTo(t).Implements(unmarshalerType):
		return shapeScalar
	case t.Kind() == reflect.Struct:
		return shapeMapping
	case t.Kind() == reflect.Slice:
		return shapeList
	}
	return shapeScalar
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// walk checks node n against type t at path.
func (p *parser) walk(n *yaml.Node, t reflect.Type, path string, sweepable bool) *Error {
	n = resolve(n)
	if isNull(n) {
		return nil // left out
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch shapeOf(t) {
	case shapeMapping:
		if n.Kind == yaml.SequenceNode {
			return errorf(path, "a list here would be a sweep, but only single-value fields can be swept and %s is a mapping (of %s): put the list on one of its fields", path, fieldNames(t))
		}
		if n.Kind != yaml.MappingNode {
			return errorf(path, "want a mapping of %s, got %s", fieldNames(t), show(n))
		}
		return p.walkMapping(n, t, path)
	case shapeList:
		if n.Kind != yaml.SequenceNode {
			return errorf(path, "want %s, got %s", describe(t), show(n))
		}
		for i, e := range n.Content {
			if err := p.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), true); err != nil {
				return err
			}
		}
		return nil
	}
	// A scalar field: one value, or a list of them (a sweep).
	if n.Kind == yaml.SequenceNode {
		if !sweepable {
			return errorf(path, "a list here would be a sweep, but %s cannot be swept: give one value", path)
		}
		if len(n.Content) == 0 {
			return errorf(path, "empty list: a sweep needs at least one value")
		}
		first := map[string]int{}
		for i, v := range n.Content {
			v = resolve(v)
			vpath := fmt.Sprintf("%s[%d]", path, i)
			if v.Kind != yaml.ScalarNode {
				return errorf(vpath, "a sweep's values must be single values (%s), got %s", describe(t), show(v))
			}
			if isNull(v) {
				return errorf(vpath, "a sweep's values must not be empty")
			}
			if msg := checkScalar(v, t); msg != "" {
				return errorf(vpath, "%s", msg)
			}
			if j, dup := first[v.Value]; dup {
				return errorf(vpath, "%s is given twice in the sweep (also %s[%d]): give distinct values", show(v), path, j)
			}
			first[v.Value] = i
		}
		if !p.seen[n] {
			p.seen[n] = true
			a := &axis{field: path, node: n}
			for _, v := range n.Content {
				a.values = append(a.values, resolve(v))
			}
			p.axes = append(p.axes, a)
		}
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return errorf(path, "want %s, got %s", describe(t), show(n))
	}
	if msg := checkScalar(n, t); msg != "" {
		return errorf(path, "%s", msg)
	}
	return nil
}

// walkMapping checks the fields of mapping n, of struct type t. Merge keys
// (<<: *anchor) bring in the fields of other mappings; fields written in n
// itself may not repeat.
func (p *parser) walkMapping(n *yaml.Node, t reflect.Type, path string) *Error {
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			m := resolve(v)
			srcs := []*yaml.Node{m}
			if m.Kind == yaml.SequenceNode {
				srcs = m.Content
			}
			for _, s := range srcs {
				s = resolve(s)
				if s.Kind != yaml.MappingNode {
					return errorf(path, "a merge (<<) needs a mapping or a list of mappings, got %s", show(s))
				}
				if err := p.walkMapping(s, t, path); err != nil {
					return err
				}
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return errorf(path, "want field names (%s) as keys, got %s", fieldNames(t), show(k))
		}
		key := k.Value
		f, ok := fieldByKey(t, key)
		if !ok {
			msg := "unknown field"
			if s := suggest(key, t); s != "" {
				msg += "; did you mean " + s + "?"
			}
			return errorf(join(path, key), "%s (allowed: %s)", msg, fieldNames(t))
		}
		if line, dup := lines[key]; dup {
			return errorf(join(path, key), "given twice (lines %d and %d)", line, k.Line)
		}
		lines[key] = k.Line
		if err := p.walk(v, f.Type, join(path, key), f.Tag.Get("sweep") != "-"); err != nil {
			return err
		}
	}
	return nil
}

// checkScalar checks a scalar node against a scalar type, and says what is
// wrong ("" if nothing). It is stricter than yaml.v3 where yaml.v3 would
// quietly change a value: 1.5 into an int (1), yes into a bool, 39 into a
// duration (39ns).
func checkScalar(n *yaml.Node, t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	v := reflect.New(t).Interface()
	if _, ok := v.(yaml.Unmarshaler); ok {
		if err := n.Decode(v); err != nil {
			return err.Error()
		}
		return ""
	}
	tag := n.ShortTag()
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if tag != "!!int" {
			return show(n) + " is not an integer"
		}
		if n.Decode(v) != nil {
			return show(n) + " is too large"
		}
	case reflect.Float32, reflect.Float64:
		if (tag != "!!int" && tag != "!!float") || n.Decode(v) != nil {
			return show(n) + " is not a number"
		}
	case reflect.Bool:
		if tag != "!!bool" || n.Decode(v) != nil {
			return show(n) + " is not true or false"
		}
	case reflect.String:
		if n.Decode(v) != nil {
			return show(n) + " is not a single value"
		}
	}
	return ""
}

// describe says what a field of type t takes.
func describe(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeFor[duration]():
		return "a duration such as 39s"
	case reflect.TypeFor[endUsers]():
		return "true, false or a number of end users per filter"
	}
	switch shapeOf(t) {
	case shapeMapping:
		return "a mapping of " + fieldNames(t)
	case shapeList:
		return "a list of mappings of " + fieldNames(t.Elem())
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "a single value"
}

// show quotes a node for a message: strings quoted, other scalars as
// written, collections by kind.
func show(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.ShortTag() == "!!str" {
		return strconv.Quote(n.Value)
	}
	return n.Value
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); yamlName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

// fieldNames lists the yaml names of struct t's fields in schema order.
func fieldNames(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = yamlName(t.Field(i))
	}
	return strings.Join(names, ", ")
}

// suggest returns the field of t closest to a misspelt key, if close.
func suggest(key string, t reflect.Type) string {
	best, bestD := "", 3 // at most 2 edits
	if len(key) <= 3 {
		bestD = 2
	}
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if d := editDistance(strings.ToLower(key), name); d < bestD {
			best, bestD = name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance, with a swap of two adjacent
// characters counting as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// sanitize makes s fit a run name: lowercase a-z, 0-9 and single '-'.
func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	if out := strings.TrimSuffix(b.String(), "-"); out != "" {
		return out
	}
	return "none"
}

// observe paces a single pass by the alerts' own observation times: it
// reads the replay file's times (alert.ScanObserved) and makes one visit
// per exposure (Slots), their count the visits (setVisits), alerts per
// visit the largest exposure's (the digits of the seq header), and the
// default run timeout from the last exposure's start. A file that cannot
// be scanned is left to Validate to name.
func (e *Experiment) observe(setVisits, setTimeout bool) {
	if e.Alert.ReplaySpeedup <= 0 || e.Alert.ReplayMaxGap < 0 {
		return // Validate names them
	}
	o, err := alert.ScanObserved(e.Alert.Replay, e.Alert.ReplayTimeField)
	if err != nil {
		e.observedErr = err
		return
	}
	e.Observed = &o
	e.Alert.ReplayTimeField = o.Field
	e.Slots, _ = o.Slots(e.Alert.ReplaySpeedup, e.Alert.ReplayMaxGap)
	e.AlertsPerVisit = 0
	for _, s := range e.Slots {
		e.AlertsPerVisit = max(e.AlertsPerVisit, s.Alerts)
	}
	if setVisits {
		e.Visits = len(e.Slots)
	}
	if setTimeout {
		e.Limits.RunTimeout = e.Duration() + DefaultRunSlack
	}
}
