package alert

import (
	"reflect"
	"testing"
)

func TestPlain(t *testing.T) {
	g := mustGen(t, DefaultOptions())
	a := g.Alert(ID{Visit: 3, Producer: 1, Seq: 2, CCD: 40})
	before := func() map[string]any { c := mustCodec(t, 1); b, _ := c.Append(nil, a); m, _ := c.Decode(b); return m }()
	p := Plain(a)

	if !reflect.DeepEqual(a, before) {
		t.Fatal("Plain modified its argument")
	}
	for _, k := range []string{"cutoutDifference", "cutoutScience", "cutoutTemplate"} {
		if _, ok := p[k]; ok {
			t.Errorf("Plain kept %s", k)
		}
	}
	ds := p["diaSource"].(map[string]any)
	nds := a["diaSource"].(map[string]any)
	snr, ok := ds["snr"].(float64)
	if !ok || snr != float64(unwrap(nds["snr"]).(float32)) {
		t.Fatalf("diaSource.snr = %#v, want float64 of %v", ds["snr"], nds["snr"])
	}
	if ds["psfNdata"] != int64(unwrap(nds["psfNdata"]).(int32)) {
		t.Fatalf("psfNdata = %#v", ds["psfNdata"])
	}
	if ds["alertId"] != nil || p["alertId"] != a["alertId"] || ds["band"] != nds["band"] {
		t.Fatalf("alertId %v, band %v", p["alertId"], ds["band"])
	}
	if ds["ssObjectId"] != nil {
		t.Fatalf("null ssObjectId became %#v", ds["ssObjectId"])
	}
	if _, ok := ds["ssObjectId"]; !ok {
		t.Fatal("null fields are dropped; want them kept as nil")
	}
	prv := p["prvDiaSources"].([]any)
	if len(prv) != DefaultOptions().PrvDiaSources {
		t.Fatalf("%d prvDiaSources", len(prv))
	}
	if _, ok := prv[0].(map[string]any)["psfFlux"].(float64); !ok {
		t.Fatalf("prvDiaSources[0].psfFlux = %#v", prv[0].(map[string]any)["psfFlux"])
	}
	obj := p["diaObject"].(map[string]any)
	if obj["diaObjectId"] != unwrap(nds["diaObjectId"]) {
		t.Fatalf("diaObject = %v", obj["diaObjectId"])
	}

	// No union wrapper is left anywhere, and no float32.
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch t2 := v.(type) {
		case map[string]any:
			if len(t2) == 1 {
				for k := range t2 {
					if isUnionKey(k) {
						t.Fatalf("%s: union wrapper %q left", path, k)
					}
				}
			}
			for k, e := range t2 {
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range t2 {
				walk(path+"[]", e)
			}
		case float32, int32, []byte:
			t.Fatalf("%s: %T left", path, v)
		}
	}
	walk("alert", p)

	// Records with a one-entry map that is not a union stay records.
	if got := Plain(map[string]any{"r": map[string]any{"onlyField": int32(3)}}); !reflect.DeepEqual(got, map[string]any{"r": map[string]any{"onlyField": int64(3)}}) {
		t.Fatalf("one-field record: %#v", got)
	}
	// Bytes in a union are dropped too; arrays of bytes lose them.
	if got := Plain(map[string]any{"b": map[string]any{"bytes": []byte{1}}, "a": []any{[]byte{1}, "x"}}); !reflect.DeepEqual(got, map[string]any{"a": []any{"x"}}) {
		t.Fatalf("bytes: %#v", got)
	}
}
