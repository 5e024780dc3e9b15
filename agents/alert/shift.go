package alert

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/linkedin/goavro/v2"
)

// Shift is what an infinite replay adds to the alerts of each pass after
// the first, so that no two alerts it sends are the same (DMTN-149's
// simulator repeats its sample the same way): pass p adds p x IDStride to
// every alert and source id and p x Days to every observation time.
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
type Shift struct {
	// IDStride is max - min + 1 over the file's id values: the ids of one
	// pass do not meet another's. 0 when the file has no id field.
	IDStride int64 `json:"id_stride"`
	// Days is the span of the alerts' own times (each alert's latest time
	// outside its history) rounded up to whole days, plus one: each pass
	// on a later night, at the same time of night.
	Days float64 `json:"days"`
	// IDFields and TimeFields name the fields found, for the run's output.
	IDFields   []string `json:"id_fields,omitempty"`
	TimeFields []string `json:"time_fields,omitempty"`
}

// isIDField and isTimeField are the naming rules of Shift.
func isIDField(name string) bool {
	return name == "alertId" || name == "alert_id" || name == "candid" || strings.HasSuffix(name, "SourceId")
}

func isTimeField(name string) bool {
	l := strings.ToLower(name)
	return strings.HasPrefix(l, "jd") || strings.Contains(l, "mjd") || strings.HasSuffix(name, "Tai")
}

// shiftScan finds a file's Shift from its records.
type shiftScan struct {
	avro         *goavro.Codec
	minID, maxID int64
	minT, maxT   float64
	ids, times   map[string]bool
}

func newShiftScan(schema string) (*shiftScan, error) {
	c, err := goavro.NewCodec(schema)
	if err != nil {
		return nil, err
	}
	return &shiftScan{avro: c, minID: math.MaxInt64, maxID: math.MinInt64, minT: math.Inf(1), maxT: math.Inf(-1),
		ids: map[string]bool{}, times: map[string]bool{}}, nil
}

func (s *shiftScan) add(rec []byte) error {
	v, _, err := s.avro.NativeFromBinary(rec)
	if err != nil {
		return err
	}
	// The alert's own time is its latest outside the history (ZTF's
	// candidate.jd, not jdstarthist; Rubin's diaSource.midpointMjdTai,
	// not diaObject.firstDiaSourceMjdTai).
	own := math.Inf(-1)
	walkShift(v, "", false, func(path, name string, inArray bool, x any) any {
		var days float64
		switch x := x.(type) {
		case int64:
			if isIDField(name) {
				s.ids[path] = true
				s.minID, s.maxID = min(s.minID, x), max(s.maxID, x)
			}
			return x
		case float64:
			days = x
		case float32:
			days = float64(x)
		case time.Time:
			s.times[path] = true
			return x
		default:
			return x
		}
		if isTimeField(name) && !math.IsNaN(days) && !math.IsInf(days, 0) {
			s.times[path] = true
			if !inArray {
				own = max(own, days)
			}
		}
		return x
	})
	if !math.IsInf(own, -1) {
		s.minT, s.maxT = min(s.minT, own), max(s.maxT, own)
	}
	return nil
}

func (s *shiftScan) shift() Shift {
	sh := Shift{IDFields: sortedKeys(s.ids), TimeFields: sortedKeys(s.times), Days: 1}
	if s.maxID >= s.minID {
		sh.IDStride = s.maxID - s.minID + 1
		if sh.IDStride <= 0 { // the ids span more than int64 can count
			sh.IDStride = 0
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
	var addID int64
	if s.shift.IDStride > 0 {
		if int64(pass) > math.MaxInt64/s.shift.IDStride {
			return nil, ErrShiftOverflow
		}
		addID = int64(pass) * s.shift.IDStride
	}
	days := float64(pass) * s.shift.Days
	var ferr error
	walkShift(v, "", false, func(path, name string, inArray bool, x any) any {
		switch x := x.(type) {
		case int64:
			if isIDField(name) && addID != 0 {
				if (addID > 0 && x > math.MaxInt64-addID) || (addID < 0 && x < math.MinInt64-addID) {
					ferr = ErrShiftOverflow
					return x
				}
				return x + addID
			}
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
