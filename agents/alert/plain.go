package alert

import "strings"

// Plain returns a copy of an alert (or of any record) in goavro's native
// form made easy for filter expressions: union wrappers are unwrapped
// ({"float": 5.2} becomes 5.2, {"array": [...]} becomes [...],
// {"lsst.testbed.DiaObject": {...}} becomes {...}), float32 and int32 are
// widened to float64 and int64 so that expressions see one float and one
// integer type, and bytes values (the cutouts) are left out. Null stays
// nil. With it a filter can say diaSource.snr > 5 && diaSource.psfFlux >
// 3.6e-5.
//
// Plain works on the native form of any schema, not only this package's:
// a one-entry map is taken for a union wrapper when its key is an Avro
// type name: a primitive type, "array", "map", or a full name with a dot.
// (A record whose only field is named like a primitive type, or an
// un-namespaced named type inside a union, would be misread; real alert
// schemas have neither.) Strings and other values are shared, not copied.
func Plain(native map[string]any) map[string]any {
	out := make(map[string]any, len(native))
	for k, v := range native {
		if pv, keep := plainValue(v); keep {
			out[k] = pv
		}
	}
	return out
}

func plainValue(v any) (any, bool) {
	switch t := v.(type) {
	case nil, string, float64, int64, bool:
		return v, true
	case float32:
		return float64(t), true
	case int32:
		return int64(t), true
	case []byte:
		return nil, false
	case map[string]any:
		if len(t) == 1 {
			if inner, ok := unionValue(t); ok {
				return plainValue(inner)
			}
		}
		return Plain(t), true
	case []any:
		out := make([]any, 0, len(t))
		for _, e := range t {
			if pe, keep := plainValue(e); keep {
				out = append(out, pe)
			}
		}
		return out, true
	default:
		return v, true
	}
}

// Unwrap returns the value inside a goavro union wrapper ({"long": 5},
// {"lsst.testbed.DiaObject": {...}}), or v itself when v is not one (by
// the rule of Plain).
func Unwrap(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if inner, ok := unionValue(m); ok {
			return inner
		}
	}
	return v
}

// unionValue returns the value of a one-entry union wrapper. Looking the
// common member names up is much cheaper than ranging over the map (each
// range seeds a random iterator); named types need the range.
func unionValue(m map[string]any) (any, bool) {
	for _, k := range commonUnionKeys {
		if v, ok := m[k]; ok {
			return v, true
		}
	}
	for k, v := range m {
		if isUnionKey(k) {
			return v, true
		}
	}
	return nil, false
}

var commonUnionKeys = [...]string{"float", "double", "long", "int", "boolean", "string", "array"}

func isUnionKey(k string) bool {
	switch k {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string", "array", "map":
		return true
	}
	return strings.IndexByte(k, '.') >= 0
}
