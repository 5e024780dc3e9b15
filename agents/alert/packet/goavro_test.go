package packet

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/alert-testbed/testbed/agents/alert"
)

// Two Avro implementations agree on every field: alerts encoded by goavro
// (alert.Codec.Append of the generator's native maps) decode here, through
// hamba/avro into the generated types, to the values goavro's own decode
// gives, field by field. Alerts with and without stamps, and a
// solar-system detection (no diaObject, ssObjectId set).
func TestDecodeMatchesGoavro(t *testing.T) {
	codec, err := alert.NewCodec(9)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecoder(9)
	if err != nil {
		t.Fatal(err)
	}
	var solarSystem int
	for _, g := range generators(t) {
		for seq := 0; seq < 400; seq++ {
			id := alert.ID{Visit: seq / 40, Producer: seq % 10, Seq: seq * 7, CCD: (seq * 13) % alert.NumCCDs}
			framed, err := codec.Append(nil, g.Alert(id))
			if err != nil {
				t.Fatal(err)
			}
			native, err := codec.Decode(framed)
			if err != nil {
				t.Fatal(err)
			}
			var a Alert
			if err := d.Decode(framed, &a); err != nil {
				t.Fatalf("%+v: %v", id, err)
			}
			compareRecord(t, "alert", reflect.ValueOf(a), native)
			if a.DiaSource.SsObjectID != nil {
				solarSystem++
			}
		}
	}
	if solarSystem == 0 {
		t.Fatal("no solar-system detection among the alerts: the test needs one")
	}
}

// compareRecord compares every field of the struct v (by its avro tag)
// with the same field of goavro's native record m; a field of either
// that the other lacks fails.
func compareRecord(t *testing.T, path string, v reflect.Value, m map[string]any) {
	t.Helper()
	typ := v.Type()
	if typ.NumField() != len(m) {
		t.Fatalf("%s: %d fields in the Go type, %d in goavro's record", path, typ.NumField(), len(m))
	}
	for i := 0; i < typ.NumField(); i++ {
		name := typ.Field(i).Tag.Get("avro")
		nv, ok := m[name]
		if !ok {
			t.Fatalf("%s.%s: not in goavro's record", path, name)
		}
		compareValue(t, path+"."+name, v.Field(i), alert.Unwrap(nv))
	}
}

func compareValue(t *testing.T, path string, f reflect.Value, nv any) {
	t.Helper()
	switch {
	case f.Kind() == reflect.Pointer:
		if f.IsNil() != (nv == nil) {
			t.Fatalf("%s: hamba nil %v, goavro %#v", path, f.IsNil(), nv)
		}
		if !f.IsNil() {
			compareValue(t, path, f.Elem(), nv)
		}
	case f.Type() == reflect.TypeOf([]byte(nil)):
		b, _ := nv.([]byte)
		if !bytes.Equal(f.Bytes(), b) {
			t.Fatalf("%s: hamba has %d bytes, goavro %d (or the bytes differ)", path, f.Len(), len(b))
		}
	case f.Kind() == reflect.Slice:
		arr, _ := nv.([]any)
		if f.Len() != len(arr) {
			t.Fatalf("%s: hamba has %d items, goavro %d", path, f.Len(), len(arr))
		}
		for i := range arr {
			compareValue(t, path, f.Index(i), alert.Unwrap(arr[i]))
		}
	case f.Kind() == reflect.Struct:
		m, ok := nv.(map[string]any)
		if !ok {
			t.Fatalf("%s: goavro has %T, not a record", path, nv)
		}
		compareRecord(t, path, f, m)
	default:
		if !reflect.DeepEqual(f.Interface(), nv) {
			t.Fatalf("%s: hamba %#v, goavro %#v", path, f.Interface(), nv)
		}
	}
}
