package alert

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/alert-testbed/testbed/agents/pacing"
)

func ztfFile(t *testing.T, jds []float64) string {
	t.Helper()
	avro, err := goavro.NewCodec(ztfSchema)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for i, jd := range jds {
		b, err := avro.BinaryFromNative(nil, ztfAlert(int64(1000+i), jd))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, b)
	}
	return writeOCF(t, "deflate", ztfSchema, recs)
}

// Alerts group into exposures by candidate.jd (ZTF's field, found by
// itself); a file out of time order gets the stable order that sorts it.
func TestScanObserved(t *testing.T) {
	const d = 2460000.5
	day := func(s float64) float64 { return d + s/86400 }
	// Records 0..5: exposure at +40 s, then two at +0 s, one at +100 s,
	// one more at +0 s and one at +40 s.
	path := ztfFile(t, []float64{day(40), day(0), day(0), day(100), day(0), day(40)})
	o, err := ScanObserved(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.Field != "candidate.jd" || o.Unit != "days" {
		t.Fatalf("field %s unit %s, want candidate.jd in days", o.Field, o.Unit)
	}
	if want := []int{1, 2, 4, 0, 5, 3}; !reflect.DeepEqual(o.Order, want) {
		t.Fatalf("order %v, want %v", o.Order, want)
	}
	var alerts []int
	var after []float64
	for _, e := range o.Exposures {
		alerts = append(alerts, e.Alerts)
		after = append(after, float64(int(e.After*10+0.5))/10)
	}
	if !reflect.DeepEqual(alerts, []int{3, 2, 1}) || !reflect.DeepEqual(after, []float64{0, 40, 100}) {
		t.Fatalf("exposures: alerts %v after %v s, want [3 2 1] after [0 40 100] s", alerts, after)
	}
	slots, short := o.Slots(2, 25*time.Second)
	want := []pacing.Slot{{Offset: 0, Alerts: 3}, {Offset: 20 * time.Second, Alerts: 2}, {Offset: 45 * time.Second, Alerts: 1}}
	if !reflect.DeepEqual(slots, want) || short != 1 {
		t.Fatalf("slots at speedup 2, max gap 25 s: %v (%d shortened), want %v (1 shortened)", slots, short, want)
	}
	if err := pacing.ValidateSlots(slots); err != nil {
		t.Fatal(err)
	}
	back, err := pacing.ParseSlots(pacing.FormatSlots(slots))
	if err != nil || !reflect.DeepEqual(back, slots) {
		t.Fatalf("FormatSlots %q parses to %v, %v", pacing.FormatSlots(slots), back, err)
	}

	// In time order already: no order.
	o, err = ScanObserved(ztfFile(t, []float64{day(0), day(0), day(35)}), "candidate.jd")
	if err != nil || o.Order != nil || len(o.Exposures) != 2 {
		t.Fatalf("sorted file: %+v, %v", o, err)
	}
}

// Every kind of unusable time field fails naming the field and what the
// schema has; a null time names the record.
func TestObservedTimeFieldErrors(t *testing.T) {
	for field, want := range map[string]string{
		"candidate.ra":            "candidate has no field ra",
		"candid":                  `candid is "long", not an observation time`,
		"objectId":                `objectId is "string", not an observation time`,
		"candidate.nope":          "candidate has no field nope (it has jd, candid, magpsf, jdstarthist)",
		"nope":                    "the alert has no field nope (it has objectId, candid, candidate, prv_candidates, cutoutScience)",
		"candidate.jd.x":          "candidate.jd is not a record, so it has no field x",
		"prv_candidates.jd":       "prv_candidates is not a record",
		"cutoutScience.stampData": `cutoutScience.stampData is "bytes"`,
	} {
		_, _, err := TimeField(ztfSchema, field)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", field, err, want)
		}
	}
	// A schema with none of the known fields.
	_, _, err := TimeField(`{"type":"record","name":"a","fields":[{"name":"x","type":"long"}]}`, "")
	if err == nil || !strings.Contains(err.Error(), "none of the observation-time fields diaSource.midpointMjdTai, diaSource.midPointTai, candidate.jd") {
		t.Errorf("no time field: %v", err)
	}
	// The nullable jdstarthist, null in one record.
	avro, _ := goavro.NewCodec(ztfSchema)
	a := ztfAlert(1, 2460000.5)
	b := ztfAlert(2, 2460000.5)
	b["candidate"].(map[string]any)["jdstarthist"] = nil
	ra, _ := avro.BinaryFromNative(nil, a)
	rb, _ := avro.BinaryFromNative(nil, b)
	_, err = ScanObserved(writeOCF(t, "null", ztfSchema, [][]byte{ra, rb}), "candidate.jdstarthist")
	if err == nil || !strings.Contains(err.Error(), "record 1 has no observation time: candidate.jdstarthist is null") {
		t.Errorf("null time: %v", err)
	}
}

// Rubin's field is found through the union and named records of its
// schema; timestamps count in their own unit.
func TestObservedRubinAndTimestamps(t *testing.T) {
	rubin := `{"type":"record","name":"alert","namespace":"lsst.v7_4","fields":[
	 {"name":"alertId","type":"long"},
	 {"name":"diaSource","type":{"type":"record","name":"diaSource","fields":[{"name":"midpointMjdTai","type":"double"}]}},
	 {"name":"prvDiaSources","type":["null",{"type":"array","items":"lsst.v7_4.diaSource"}],"default":null}]}`
	f, unit, err := TimeField(rubin, "")
	if err != nil || f != "diaSource.midpointMjdTai" || unit != "days" {
		t.Fatalf("rubin: %s %s %v", f, unit, err)
	}
	ts := `{"type":"record","name":"a","fields":[{"name":"t","type":["null",{"type":"long","logicalType":"timestamp-millis"}]}]}`
	avro, err := goavro.NewCodec(ts)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	var recs [][]byte
	for _, s := range []int{0, 0, 30} {
		b, err := avro.BinaryFromNative(nil, map[string]any{"t": goavro.Union("long.timestamp-millis", base.Add(time.Duration(s)*time.Second))})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, b)
	}
	o, err := ScanObserved(writeOCF(t, "null", ts, recs), "t")
	if err != nil {
		t.Fatal(err)
	}
	if o.Unit != "ms" || len(o.Exposures) != 2 || o.Exposures[1].After != 30 || o.Exposures[0].Alerts != 2 {
		t.Fatalf("timestamps: %+v", o)
	}
}
