package alert

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/linkedin/goavro/v2"
)

// Shift is what an infinite replay adds to the alerts of each pass after
// the first, so that no two alerts it sends are the same (DMTN-149's
// simulator repeats its sample the same way): pass p adds p x the stride
// of its name to every alert and source id and p x Days to every
// observation time.
//
// Which fields these are is decided by name and type, anywhere in the
// record (the alert, its sources, its history):
//   - ids: long fields named alertId, alert_id or candid (ZTF), or ending
//     in SourceId (Rubin's diaSourceId, diaForcedSourceId, ssSourceId).
//     Object ids (diaObjectId, objectId) stay: a later pass is new
//     detections of the same objects.
//   - times: double or float fields in days, named jd* (ZTF's jd,
//     jdstarthist, ...), *mjd* in any case (Rubin's midpointMjdTai, ...)
//     or *Tai (midPointTai); and every timestamp logical type.
//
// An id name's stride is the span of its values in the alerts themselves
// (outside arrays: ZTF's candid and candidate.candid, not
// prv_candidates[].candid), plus one: a pass's alerts do not meet another
// pass's. The history's ids of that name move with them, so that a
// history still names the same earlier sources; a parent id
// (parentDiaSourceId) moves with the ids it names (diaSourceId). Names
// only histories have (Rubin's diaForcedSourceId) stay, and so does a
// parent id of 0 (Rubin's "no parent"). A history's id or a parent id that would
// pass the largest long stays too; an alert's own id is an error.
type Shift struct {
	// IDStrides is the stride of each id field name (candid, diaSourceId).
	IDStrides map[string]int64 `json:"id_strides,omitempty"`
	// Days is the span of the alerts' own times (each alert's latest time
	// outside its history) rounded up to whole days, plus one: each pass
	// on a later night, at the same time of night.
	Days float64 `json:"days"`
	// IDFields and TimeFields are the fields' paths, for the run's output.
	IDFields   []string `json:"id_fields,omitempty"`
	TimeFields []string `json:"time_fields,omitempty"`
}

// isIDField and isTimeField are the naming rules of Shift.
func isIDField(name string) bool {
	return name == "alertId" || name == "alert_id" || name == "candid" || strings.HasSuffix(name, "SourceId")
}

// idFamily is the name whose stride an id field takes: its own, or for
// a parent id the name of the ids it names.
func idFamily(name string) string {
	if rest, ok := strings.CutPrefix(name, "parent"); ok && rest != "" {
		return strings.ToLower(rest[:1]) + rest[1:]
	}
	return name
}

func isTimeField(name string) bool {
	l := strings.ToLower(name)
	return strings.HasPrefix(l, "jd") || strings.Contains(l, "mjd") || strings.HasSuffix(name, "Tai")
}

// shiftScan finds a file's Shift from its records, decoded.
type shiftScan struct {
	ids        map[string]*span // by idFamily: the alerts' own values
	minT, maxT float64
	idPaths    map[string]bool // in the alerts and in their histories
	timePaths  map[string]bool
}

type span struct{ lo, hi int64 }

func (s *span) add(x int64) { s.lo, s.hi = min(s.lo, x), max(s.hi, x) }

func newShiftScan() *shiftScan {
	return &shiftScan{ids: map[string]*span{}, minT: math.Inf(1), maxT: math.Inf(-1),
		idPaths: map[string]bool{}, timePaths: map[string]bool{}}
}

// add takes one record in goavro's native form.
func (s *shiftScan) add(v any) {
	// The alert's own time is its latest outside the history (ZTF's
	// candidate.jd, not jdstarthist; Rubin's diaSource.midpointMjdTai,
	// not diaObject.firstDiaSourceMjdTai).
	own := math.Inf(-1)
	walkShift(v, "", false, func(path, name string, inArray bool, x any) any {
		var days float64
		switch x := x.(type) {
		case int64:
			if !isIDField(name) {
				return x
			}
			s.idPaths[path] = true
			// The span is the alerts' own ids': not the histories', not
			// a parent id's (a reference to ids).
			if f := idFamily(name); !inArray && f == name {
				if sp := s.ids[f]; sp != nil {
					sp.add(x)
				} else {
					s.ids[f] = &span{lo: x, hi: x}
				}
			}
			return x
		case float64:
			days = x
		case float32:
			days = float64(x)
		case time.Time:
			s.timePaths[path] = true
			return x
		default:
			return x
		}
		if isTimeField(name) && !math.IsNaN(days) && !math.IsInf(days, 0) {
			s.timePaths[path] = true
			if !inArray {
				own = max(own, days)
			}
		}
		return x
	})
	if !math.IsInf(own, -1) {
		s.minT, s.maxT = min(s.minT, own), max(s.maxT, own)
	}
}

func (s *shiftScan) shift() Shift {
	sh := Shift{TimeFields: slices.Sorted(maps.Keys(s.timePaths)), Days: 1, IDStrides: map[string]int64{}}
	for name, sp := range s.ids {
		if stride := sp.hi - sp.lo + 1; stride > 0 { // else the span overflows a long
			sh.IDStrides[name] = stride
		}
	}
	for _, p := range slices.Sorted(maps.Keys(s.idPaths)) {
		if sh.IDStrides[idFamily(lastName(p))] > 0 {
			sh.IDFields = append(sh.IDFields, p)
		}
	}
	if s.maxT >= s.minT {
		sh.Days = math.Ceil(s.maxT-s.minT) + 1
	}
	return sh
}

// walkShift calls f for every scalar of goavro's native form v, with the
// dotted path of record field names ([] for array items), the name of the
// field that holds it and whether it is inside an array; f's result
// replaces the scalar. A union's value ({"long": 5}) is the field's.
func walkShift(v any, path string, inArray bool, f func(path, name string, inArray bool, x any) any) any {
	return walkNamed(v, path, lastName(path), inArray, f)
}

func walkNamed(v any, path, name string, inArray bool, f func(path, name string, inArray bool, x any) any) any {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 && isUnionBranch(v) {
			for k, x := range v {
				v[k] = walkNamed(x, path, name, inArray, f)
			}
			return v
		}
		for k, x := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			v[k] = walkNamed(x, p, k, inArray, f)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = walkNamed(x, path+"[]", name, true, f)
		}
		return v
	case nil, []byte, string, bool:
		return v
	default:
		return f(path, name, inArray, v)
	}
}

// isUnionBranch tells goavro's wrapping of a union's value ({"long": 5},
// {"lsst.v7_0.diaSource": {...}}) from a record of one field: its key is
// a primitive type or a dotted name.
func isUnionBranch(m map[string]any) bool {
	for k := range m {
		switch {
		case strings.Contains(k, "."):
			return true
		case k == "int" || k == "long" || k == "float" || k == "double" || k == "string" || k == "bytes" || k == "boolean" || k == "array" || k == "map":
			return true
		}
	}
	return false
}

func lastName(path string) string {
	path = strings.TrimSuffix(path, "[]")
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// Shifter applies a Shift to records of one writer schema.
type Shifter struct {
	avro  *goavro.Codec
	shift Shift
}

// NewShifter returns a Shifter for records written with schema.
func NewShifter(schema string, s Shift) (*Shifter, error) {
	c, err := goavro.NewCodec(schema)
	if err != nil {
		return nil, fmt.Errorf("alert: replay: the file's writer schema: %w", err)
	}
	return &Shifter{avro: c, shift: s}, nil
}

// ErrShiftOverflow is returned when a pass's ids would not fit a long.
var ErrShiftOverflow = errors.New("alert: replay: the shifted ids would overflow a long")

// Apply returns rec as pass pass sends it: rec itself for pass 0, else
// decoded, shifted and encoded again with the writer schema.
func (s *Shifter) Apply(rec []byte, pass int) ([]byte, error) {
	if pass == 0 {
		return rec, nil
	}
	v, _, err := s.avro.NativeFromBinary(rec)
	if err != nil {
		return nil, fmt.Errorf("alert: replay: decoding a record to shift it: %w", err)
	}
	days := float64(pass) * s.shift.Days
	var ferr error
	walkShift(v, "", false, func(path, name string, inArray bool, x any) any {
		switch x := x.(type) {
		case int64:
			stride := s.shift.IDStrides[idFamily(name)]
			if !isIDField(name) || stride == 0 || (x == 0 && idFamily(name) != name) {
				return x // not an id, or a parent id saying "none"
			}
			if int64(pass) > (math.MaxInt64-max(x, 0))/stride {
				if !inArray && idFamily(name) == name {
					ferr = fmt.Errorf("%w: %s %d + %d x %d", ErrShiftOverflow, path, x, pass, stride)
				}
				return x
			}
			return x + int64(pass)*stride
		case float64:
			if isTimeField(name) {
				return x + days
			}
		case float32:
			if isTimeField(name) {
				return float32(float64(x) + days)
			}
		case time.Time:
			return x.Add(time.Duration(days * float64(24*time.Hour)))
		}
		return x
	})
	if ferr != nil {
		return nil, ferr
	}
	out, err := s.avro.BinaryFromNative(nil, v)
	if err != nil {
		return nil, fmt.Errorf("alert: replay: encoding a shifted record: %w", err)
	}
	return out, nil
}
