package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/alert-testbed/testbed/agents/pacing"
)

// TimeFields are the observation-time fields a replay paced by the alerts'
// own times looks for, in this order, when none is named: Rubin's
// diaSource.midpointMjdTai (lsst.v7 on; midPointTai before) and ZTF's
// candidate.jd. Each is the exposure's time: every alert of one exposure
// has the same value.
var TimeFields = []string{"diaSource.midpointMjdTai", "diaSource.midPointTai", "candidate.jd"}

// Observed is a file's alerts grouped by their observation time: one
// Exposure per distinct time, in time order.
type Observed struct {
	Field string // the time field's path: candidate.jd
	// Unit is how the field counts time: "days" (a double or float: MJD,
	// JD), "ms" or "us" (a long of logical type timestamp-millis or
	// timestamp-micros).
	Unit      string
	Exposures []Exposure
	// Order, when the file is not in time order, is the file's record
	// index of each alert in time order (stable: the file's order within
	// an exposure); nil when it is.
	Order []int
}

// Exposure is the alerts of one observation time.
type Exposure struct {
	Time   float64 // as the file holds it, in Unit
	After  float64 // seconds after the first exposure
	Alerts int
}

// TimeField finds the observation-time field of a writer schema: field
// (a dotted path of record fields, outside arrays) when given, else the
// first of TimeFields the schema has. It returns the field's unit (see
// Observed.Unit). The errors say what the schema has instead.
func TimeField(schema, field string) (path, unit string, err error) {
	var root any
	if err := json.Unmarshal([]byte(schema), &root); err != nil {
		return "", "", fmt.Errorf("the writer schema is not JSON: %w", err)
	}
	names := map[string]any{}
	collectNames(root, "", names)
	if field != "" {
		unit, err := timeUnit(root, field, names)
		return field, unit, err
	}
	for _, f := range TimeFields {
		if unit, err := timeUnit(root, f, names); err == nil {
			return f, unit, nil
		}
	}
	return "", "", fmt.Errorf("the file's schema has none of the observation-time fields %s: name its field in days (MJD or JD) or its timestamp", strings.Join(TimeFields, ", "))
}

// collectNames records the named types of a schema (records, enums,
// fixed) by full and short name, to follow references to them.
func collectNames(t any, ns string, names map[string]any) {
	switch t := t.(type) {
	case []any:
		for _, b := range t {
			collectNames(b, ns, names)
		}
	case map[string]any:
		if n, ok := t["name"].(string); ok {
			if s, ok := t["namespace"].(string); ok {
				ns = s
			}
			full := n
			if !strings.Contains(n, ".") && ns != "" {
				full = ns + "." + n
			}
			if i := strings.LastIndexByte(full, '.'); i >= 0 {
				ns = full[:i]
			}
			names[full] = t
			names[full[strings.LastIndexByte(full, '.')+1:]] = t
		}
		if fs, ok := t["fields"].([]any); ok {
			for _, f := range fs {
				if fm, ok := f.(map[string]any); ok {
					collectNames(fm["type"], ns, names)
				}
			}
		}
		for _, k := range []string{"items", "values"} {
			if x, ok := t[k]; ok {
				collectNames(x, ns, names)
			}
		}
		if x, ok := t["type"].(map[string]any); ok {
			collectNames(x, ns, names)
		}
	}
}

// resolve follows a named reference and takes the non-null branch of a
// union of null and one type.
func resolve(t any, names map[string]any) any {
	for {
		switch x := t.(type) {
		case string:
			if n, ok := names[x]; ok {
				t = n
				continue
			}
			return x
		case []any:
			var other []any
			for _, b := range x {
				if b != "null" {
					other = append(other, b)
				}
			}
			if len(other) != 1 {
				return x
			}
			t = other[0]
			continue
		case map[string]any:
			if inner, ok := x["type"]; ok && x["fields"] == nil && x["items"] == nil && x["values"] == nil && x["symbols"] == nil && x["logicalType"] == nil {
				if _, isNamed := x["name"]; !isNamed {
					t = inner // {"type": "double"}
					continue
				}
			}
			return x
		}
		return t
	}
}

// timeUnit follows path through root's records and says the unit of the
// time field there.
func timeUnit(root any, path string, names map[string]any) (string, error) {
	t := resolve(root, names)
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		rec, ok := t.(map[string]any)
		var fs []any
		if ok {
			fs, _ = rec["fields"].([]any)
		}
		if fs == nil {
			return "", fmt.Errorf("%s is not a record, so it has no field %s", strings.Join(segs[:i], "."), seg)
		}
		var found any
		var have []string
		for _, f := range fs {
			fm, _ := f.(map[string]any)
			n, _ := fm["name"].(string)
			have = append(have, n)
			if n == seg {
				found = fm["type"]
			}
		}
		if found == nil {
			where := "the alert"
			if i > 0 {
				where = strings.Join(segs[:i], ".")
			}
			return "", fmt.Errorf("%s has no field %s (it has %s)", where, seg, strings.Join(have, ", "))
		}
		t = resolve(found, names)
	}
	switch x := t.(type) {
	case string:
		if x == "double" || x == "float" {
			return "days", nil
		}
	case map[string]any:
		lt, _ := x["logicalType"].(string)
		switch lt {
		case "timestamp-millis", "local-timestamp-millis":
			return "ms", nil
		case "timestamp-micros", "local-timestamp-micros":
			return "us", nil
		}
		if ty, _ := x["type"].(string); ty == "double" || ty == "float" {
			return "days", nil
		}
	}
	b, _ := json.Marshal(t)
	return "", fmt.Errorf("%s is %s, not an observation time: name a double or float in days (MJD or JD) or a long of logical type timestamp-millis or timestamp-micros", path, b)
}

// seconds is a time of unit u in seconds.
func seconds(x float64, u string) float64 {
	switch u {
	case "ms":
		return x / 1e3
	case "us":
		return x / 1e6
	}
	return x * 86400
}

// fieldValue reads path from goavro's native form of a record, in unit.
func fieldValue(v any, path, unit string) (float64, error) {
	for _, seg := range strings.Split(path, ".") {
		v = unwrapUnion(v)
		m, ok := v.(map[string]any)
		if !ok {
			return 0, fmt.Errorf("%s is null", path)
		}
		v = m[seg]
	}
	switch x := unwrapUnion(v).(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case time.Time: // goavro's native timestamp
		if unit == "ms" {
			return float64(x.UnixMilli()), nil
		}
		return float64(x.UnixMicro()), nil
	case nil:
		return 0, fmt.Errorf("%s is null", path)
	default:
		return 0, fmt.Errorf("%s is %T, not a time", path, x)
	}
}

func unwrapUnion(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 && isUnionBranch(m) {
		for _, x := range m {
			return x
		}
	}
	return v
}

// ScanObserved reads every record of the container file at path and
// groups its alerts by the observation time in field (TimeField: "" for
// the first of TimeFields the schema has). An alert without a time (the
// field null, NaN or infinite) is an error naming the record.
func ScanObserved(path, field string) (Observed, error) {
	r, c, err := OpenOCF(path)
	if err != nil {
		return Observed{}, err
	}
	defer c.Close()
	f, unit, err := TimeField(r.Schema(), field)
	if err != nil {
		return Observed{}, fmt.Errorf("alert: replay %s: %w", path, err)
	}
	o := Observed{Field: f, Unit: unit}
	var times []float64
	for i := 0; ; i++ {
		_, v, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Observed{}, err
		}
		t, err := fieldValue(v, f, unit)
		if err == nil && (math.IsNaN(t) || math.IsInf(t, 0)) {
			err = fmt.Errorf("%s is %g", f, t)
		}
		if err != nil {
			return Observed{}, fmt.Errorf("alert: replay %s: record %d has no observation time: %w", path, i, err)
		}
		times = append(times, t)
	}
	if len(times) == 0 {
		return Observed{}, fmt.Errorf("alert: replay %s: the file holds no alerts", path)
	}
	if !sort.Float64sAreSorted(times) {
		o.Order = make([]int, len(times))
		for i := range o.Order {
			o.Order[i] = i
		}
		sort.SliceStable(o.Order, func(a, b int) bool { return times[o.Order[a]] < times[o.Order[b]] })
		sorted := make([]float64, len(times))
		for i, j := range o.Order {
			sorted[i] = times[j]
		}
		times = sorted
	}
	for _, t := range times {
		if n := len(o.Exposures); n > 0 && o.Exposures[n-1].Time == t {
			o.Exposures[n-1].Alerts++
			continue
		}
		o.Exposures = append(o.Exposures, Exposure{Time: t, After: seconds(t, unit) - seconds(times[0], unit), Alerts: 1})
	}
	return o, nil
}

// Slots is the schedule of a replay paced by these observation times:
// one visit per exposure, starting at its time after the first divided by
// speedup (2: twice as fast as the sky), each gap between exposures
// longer than maxGap (weather, daytime, a file of several nights) made
// maxGap (0: no cap), and every gap at least a millisecond (the
// schedule's resolution). It returns how many gaps were shortened.
func (o Observed) Slots(speedup float64, maxGap time.Duration) (slots []pacing.Slot, shortened int) {
	var at time.Duration
	for i, e := range o.Exposures {
		if i > 0 {
			gap := time.Duration((e.After - o.Exposures[i-1].After) / speedup * float64(time.Second))
			if maxGap > 0 && gap > maxGap {
				gap, shortened = maxGap, shortened+1
			}
			gap = max(gap, time.Millisecond)
			at += gap
		}
		slots = append(slots, pacing.Slot{Offset: at.Round(time.Millisecond), Alerts: e.Alerts})
	}
	return slots, shortened
}
