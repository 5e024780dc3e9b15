package alert

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	hamba "github.com/hamba/avro/v2"
)

// Go types for github.com/hamba/avro/v2, an Avro implementation independent
// of goavro. Nullable fields are pointers or slices. Fields of the schema
// not listed here are skipped by hamba; the listed ones are compared.
type hDiaSource struct {
	DiaSourceID         int64    `avro:"diaSourceId"`
	CcdVisitID          int64    `avro:"ccdVisitId"`
	DiaObjectID         *int64   `avro:"diaObjectId"`
	SsObjectID          *int64   `avro:"ssObjectId"`
	ParentDiaSourceID   *int64   `avro:"parentDiaSourceId"`
	MidpointMjdTai      float64  `avro:"midpointMjdTai"`
	Band                string   `avro:"band"`
	Ra                  float64  `avro:"ra"`
	RaErr               *float32 `avro:"raErr"`
	Dec                 float64  `avro:"dec"`
	DecErr              *float32 `avro:"decErr"`
	X                   *float32 `avro:"x"`
	Y                   *float32 `avro:"y"`
	ApFlux              *float32 `avro:"apFlux"`
	ApFluxErr           *float32 `avro:"apFluxErr"`
	PsfFlux             *float32 `avro:"psfFlux"`
	PsfFluxErr          *float32 `avro:"psfFluxErr"`
	PsfNdata            *int32   `avro:"psfNdata"`
	Snr                 *float32 `avro:"snr"`
	Extendedness        *float32 `avro:"extendedness"`
	Reliability         *float32 `avro:"reliability"`
	IsDipole            *bool    `avro:"isDipole"`
	TrailLength         *float32 `avro:"trailLength"`
	PixelFlagsSaturated *bool    `avro:"pixelFlags_saturated"`
	TimeProcessedMjdTai float64  `avro:"timeProcessedMjdTai"`
}

type hForced struct {
	DiaForcedSourceID int64    `avro:"diaForcedSourceId"`
	DiaObjectID       int64    `avro:"diaObjectId"`
	CcdVisitID        int64    `avro:"ccdVisitId"`
	MidpointMjdTai    float64  `avro:"midpointMjdTai"`
	Band              string   `avro:"band"`
	PsfFlux           *float32 `avro:"psfFlux"`
	PsfFluxErr        *float32 `avro:"psfFluxErr"`
}

type hDiaObject struct {
	DiaObjectID    int64    `avro:"diaObjectId"`
	Ra             float64  `avro:"ra"`
	Dec            float64  `avro:"dec"`
	RadecMjdTai    *float64 `avro:"radecMjdTai"`
	NDiaSources    int32    `avro:"nDiaSources"`
	UPsfFluxMean   *float32 `avro:"u_psfFluxMean"`
	GPsfFluxMean   *float32 `avro:"g_psfFluxMean"`
	RPsfFluxMean   *float32 `avro:"r_psfFluxMean"`
	RPsfFluxSigma  *float32 `avro:"r_psfFluxSigma"`
	RPsfFluxNdata  *int32   `avro:"r_psfFluxNdata"`
	YFpFluxMeanErr *float32 `avro:"y_fpFluxMeanErr"`
	IsStationary   *bool    `avro:"isStationary"`
}

type hAlert struct {
	AlertID             int64        `avro:"alertId"`
	DiaSource           hDiaSource   `avro:"diaSource"`
	PrvDiaSources       []hDiaSource `avro:"prvDiaSources"`
	PrvDiaForcedSources []hForced    `avro:"prvDiaForcedSources"`
	DiaObject           *hDiaObject  `avro:"diaObject"`
	CutoutDifference    []byte       `avro:"cutoutDifference"`
	CutoutScience       []byte       `avro:"cutoutScience"`
	CutoutTemplate      []byte       `avro:"cutoutTemplate"`
}

func TestHambaDecodes(t *testing.T) {
	schema, err := hamba.Parse(AlertSchema())
	if err != nil {
		t.Fatalf("hamba cannot parse the schema: %v", err)
	}
	for _, stamps := range []bool{true, false} {
		o := DefaultOptions()
		o.Stamps = stamps
		g := mustGen(t, o)
		c := mustCodec(t, 9)
		ids := append(testIDs(10), ssID(t, g))
		for _, id := range ids {
			native := g.Alert(id)
			framed, err := c.Append(nil, native)
			if err != nil {
				t.Fatal(err)
			}
			var got hAlert
			if err := hamba.Unmarshal(schema, framed[HeaderSize:], &got); err != nil {
				t.Fatalf("stamps=%v %+v: hamba: %v", stamps, id, err)
			}
			compareNative(t, "alert", reflect.ValueOf(got), native)
			if stamps && len(got.CutoutDifference) < 2880 {
				t.Fatalf("cutoutDifference has %d bytes", len(got.CutoutDifference))
			}
		}
	}
}

// compareNative compares every avro-tagged field of the struct v with the
// same field of the goavro native record m.
func compareNative(t *testing.T, path string, v reflect.Value, m map[string]any) {
	t.Helper()
	typ := v.Type()
	for i := 0; i < typ.NumField(); i++ {
		name := typ.Field(i).Tag.Get("avro")
		nv, ok := m[name]
		if !ok {
			t.Fatalf("%s.%s: not in the native record", path, name)
		}
		compareValue(t, path+"."+name, v.Field(i), unwrap(nv))
	}
}

func compareValue(t *testing.T, path string, f reflect.Value, nv any) {
	t.Helper()
	switch {
	case f.Type() == reflect.TypeOf([]byte(nil)):
		b, _ := nv.([]byte)
		if (nv == nil) != (f.Len() == 0) || !bytes.Equal(f.Bytes(), b) {
			t.Fatalf("%s: hamba has %d bytes, goavro %d (or the bytes differ)", path, f.Len(), len(b))
		}
	case f.Kind() == reflect.Pointer:
		if f.IsNil() != (nv == nil) {
			t.Fatalf("%s: hamba nil %v, goavro %#v", path, f.IsNil(), nv)
		}
		if !f.IsNil() {
			compareValue(t, path, f.Elem(), nv)
		}
	case f.Kind() == reflect.Slice:
		arr, _ := nv.([]any)
		if (nv == nil) != f.IsNil() || f.Len() != len(arr) {
			t.Fatalf("%s: hamba has %d items (nil %v), goavro %#v", path, f.Len(), f.IsNil(), nv)
		}
		for i := range arr {
			compareValue(t, path, f.Index(i), arr[i])
		}
	case f.Kind() == reflect.Struct:
		compareNative(t, path, f, rec(nv))
	default:
		if !reflect.DeepEqual(f.Interface(), nv) {
			t.Fatalf("%s: hamba %#v, goavro %#v", path, f.Interface(), nv)
		}
	}
}

// The struct types must name real schema fields, or hamba would silently
// skip them and the comparison would prove nothing.
func TestHambaTypesNameSchemaFields(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeOf(hAlert{}), reflect.TypeOf(hDiaSource{}), reflect.TypeOf(hForced{}), reflect.TypeOf(hDiaObject{})} {
		for i := 0; i < typ.NumField(); i++ {
			name := typ.Field(i).Tag.Get("avro")
			if !strings.Contains(AlertSchema(), `"name": "`+name+`"`) {
				t.Errorf("%s.%s: no field %q in the schema", typ.Name(), typ.Field(i).Name, name)
			}
		}
	}
}
