package alert

import (
	"errors"
	"math"
	"reflect"
	"regexp"
	"testing"

	"github.com/linkedin/goavro/v2"
)

// ztfSchema is a ZTF-style alert: ids at the top and in the candidate and
// its history, times in JD, nullable cutouts, an object id that stays.
const ztfSchema = `{"type":"record","name":"alert","namespace":"ztf","fields":[
 {"name":"objectId","type":"string"},
 {"name":"candid","type":"long"},
 {"name":"candidate","type":{"type":"record","name":"candidate","fields":[
   {"name":"jd","type":"double"},{"name":"candid","type":"long"},{"name":"magpsf","type":"float"},
   {"name":"jdstarthist","type":["null","double"],"default":null}]}},
 {"name":"prv_candidates","type":["null",{"type":"array","items":{"type":"record","name":"prv","fields":[
   {"name":"jd","type":"double"},{"name":"candid","type":["null","long"],"default":null}]}}],"default":null},
 {"name":"cutoutScience","type":["null",{"type":"record","name":"cutout","fields":[{"name":"stampData","type":"bytes"}]}],"default":null}]}`

func ztfAlert(candid int64, jd float64) map[string]any {
	return map[string]any{
		"objectId": "ZTF21aaaaaaa",
		"candid":   candid,
		"candidate": map[string]any{"jd": jd, "candid": candid, "magpsf": float32(18.5),
			"jdstarthist": goavro.Union("double", jd-30)},
		"prv_candidates": goavro.Union("array", []any{
			map[string]any{"jd": jd - 1, "candid": goavro.Union("long", candid-7)},
			map[string]any{"jd": jd - 2, "candid": nil},
		}),
		"cutoutScience": nil,
	}
}

// A pass after the first adds the id stride to every alert and source id
// (in the history too) and whole days to every time; the object id and
// the rest stay.
func TestShift(t *testing.T) {
	avro, err := goavro.NewCodec(ztfSchema)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for i := 0; i < 4; i++ {
		b, err := avro.BinaryFromNative(nil, ztfAlert(int64(1000+i), 2459000.7+float64(i)*0.3))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, b)
	}
	info, err := ScanOCF(writeOCF(t, "deflate", ztfSchema, recs))
	if err != nil {
		t.Fatal(err)
	}
	// candids 1000 .. 1003 outside the history (its 993 .. 996 move with
	// them); jd 2459000.7 .. 2459001.6 outside the history: a span under
	// a day.
	want := Shift{IDStrides: map[string]int64{"candid": 4}, Days: 2,
		IDFields:   []string{"candid", "candidate.candid", "prv_candidates[].candid"},
		TimeFields: []string{"candidate.jd", "candidate.jdstarthist", "prv_candidates[].jd"}}
	if !reflect.DeepEqual(info.Shift, want) {
		t.Fatalf("shift\n got %+v\nwant %+v", info.Shift, want)
	}
	sh, err := NewShifter(ztfSchema, info.Shift)
	if err != nil {
		t.Fatal(err)
	}
	same, err := sh.Apply(recs[1], 0)
	if err != nil || &same[0] != &recs[1][0] {
		t.Fatalf("pass 0 is the record itself: %v", err)
	}
	b, err := sh.Apply(recs[1], 2)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := avro.NativeFromBinary(b)
	if err != nil {
		t.Fatal(err)
	}
	g := got.(map[string]any)
	if g["objectId"] != "ZTF21aaaaaaa" || g["candid"] != int64(1009) {
		t.Errorf("pass 3: objectId %v, candid %v; want ZTF21aaaaaaa, 1001+2x4", g["objectId"], g["candid"])
	}
	c := g["candidate"].(map[string]any)
	if c["candid"] != int64(1009) || math.Abs(c["jd"].(float64)-(2459001.0+4)) > 1e-6 || math.Abs(c["jdstarthist"].(map[string]any)["double"].(float64)-(2459001.0-30+4)) > 1e-6 {
		t.Errorf("pass 3: candidate %v", c)
	}
	prv := g["prv_candidates"].(map[string]any)["array"].([]any)
	if prv[0].(map[string]any)["candid"].(map[string]any)["long"] != int64(1001-7+8) || prv[1].(map[string]any)["candid"] != nil ||
		math.Abs(prv[1].(map[string]any)["jd"].(float64)-(2458999.0+4)) > 1e-6 {
		t.Errorf("pass 3: history %v", prv)
	}
	_, err = (&Shifter{avro: avro, shift: Shift{IDStrides: map[string]int64{"candid": math.MaxInt64 / 2}}}).Apply(recs[0], 3)
	if !errors.Is(err, ErrShiftOverflow) || !regexp.MustCompile(`: (candid|candidate\.candid) 1000 \+ 3 x 4611686018427387903$`).MatchString(err.Error()) {
		t.Errorf("ids past a long: %v, want ErrShiftOverflow naming the field", err)
	}
}
