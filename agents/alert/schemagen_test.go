package alert

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

// A schema with every kind of Avro type, named as Rubin's fields are.
const anySchema = `{"type": "record", "name": "alert", "namespace": "lsst.vX_Y", "fields": [
 {"name": "diaSourceId", "type": "long"},
 {"name": "diaSource", "type": {"type": "record", "name": "diaSource", "fields": [
   {"name": "diaSourceId", "type": "long"}, {"name": "visit", "type": "long"}, {"name": "detector", "type": "int"},
   {"name": "ra", "type": "double"}, {"name": "dec", "type": "double"}, {"name": "band", "type": ["null", "string"]},
   {"name": "midpointMjdTai", "type": "double"}, {"name": "psfFlux", "type": ["null", "float"]},
   {"name": "psfFluxErr", "type": ["null", "float"]}, {"name": "snr", "type": ["null", "float"]},
   {"name": "nDiaSources", "type": "int"}, {"name": "isDipole", "type": ["null", "boolean"]},
   {"name": "timeProcessed", "type": {"type": "long", "logicalType": "timestamp-micros"}},
   {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
   {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
   {"name": "extra", "type": {"type": "map", "values": "int"}}]}},
 {"name": "prvDiaSources", "type": ["null", {"type": "array", "items": "diaSource"}], "default": null},
 {"name": "diaObject", "type": ["null", {"type": "record", "name": "diaObject", "fields": [{"name": "diaObjectId", "type": "long"}]}], "default": null},
 {"name": "ssSource", "type": ["null", {"type": "record", "name": "ssSource", "fields": [{"name": "ssObjectId", "type": "long"}]}], "default": null},
 {"name": "cutoutDifference", "type": ["null", "bytes"], "default": null},
 {"name": "cutoutScience", "type": ["null", "bytes"], "default": null},
 {"name": "cutoutTemplate", "type": ["null", "bytes"], "default": null}]}`

// The generator fills any schema by field name and type, and what it
// makes encodes with the schema; the rules show in the decoded alert.
func TestSchemaGeneratorFillsAnySchema(t *testing.T) {
	o := DefaultOptions()
	o.StampSide, o.StampPool, o.PrvDiaSources, o.NullRate = 30, 2, 3, 0
	g, err := NewSchemaGenerator(anySchema, o)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := NewCodecForSchema(1101, anySchema)
	if err != nil {
		t.Fatal(err)
	}
	objects, ss := 0, 0
	for seq := 0; seq < 200; seq++ {
		id := ID{Visit: 3, Producer: 1, Seq: seq, CCD: seq % 189}
		msg, err := codec.Append(nil, g.Alert(id))
		if err != nil {
			t.Fatalf("alert %d: %v", seq, err)
		}
		a, err := codec.Decode(msg)
		if err != nil {
			t.Fatalf("alert %d: %v", seq, err)
		}
		if a["diaSourceId"] != id.AlertID() {
			t.Fatalf("alert %d: diaSourceId %v, want %d", seq, a["diaSourceId"], id.AlertID())
		}
		ds := a["diaSource"].(map[string]any)
		if ds["visit"] != int64(3) || ds["detector"] != int32(id.CCD) {
			t.Errorf("alert %d: visit %v, detector %v", seq, ds["visit"], ds["detector"])
		}
		if ra, dec := ds["ra"].(float64), ds["dec"].(float64); ra < 0 || ra >= 360 || dec < -90 || dec > 90 {
			t.Errorf("alert %d: ra %v dec %v", seq, ra, dec)
		}
		flux, fluxErr, snr := ds["psfFlux"].(map[string]any)["float"].(float32), ds["psfFluxErr"].(map[string]any)["float"].(float32), ds["snr"]
		if snr != nil && math.Abs(float64(snr.(map[string]any)["float"].(float32))-math.Abs(float64(flux/fluxErr))) > 1e-3 {
			t.Errorf("alert %d: snr %v, psfFlux %v / psfFluxErr %v", seq, snr, flux, fluxErr)
		}
		if mjd := ds["midpointMjdTai"].(float64); mjd < surveyStartMjd || mjd > surveyStartMjd+1 {
			t.Errorf("alert %d: midpointMjdTai %v", seq, mjd)
		}
		if _, ok := ds["timeProcessed"].(time.Time); !ok {
			t.Errorf("alert %d: timeProcessed %T", seq, ds["timeProcessed"])
		}
		if prv, ok := a["prvDiaSources"].(map[string]any); !ok || len(prv["array"].([]any)) != 3 {
			t.Errorf("alert %d: prvDiaSources %v", seq, a["prvDiaSources"])
		}
		for _, c := range []string{"cutoutDifference", "cutoutScience", "cutoutTemplate"} {
			u, ok := a[c].(map[string]any)
			if !ok || !bytes.HasPrefix(u["bytes"].([]byte), []byte("SIMPLE  =")) {
				t.Fatalf("alert %d: %s is not a FITS image", seq, c)
			}
		}
		if a["diaObject"] != nil {
			objects++
		}
		if a["ssSource"] != nil {
			ss++
		}
	}
	if objects+ss != 200 || ss == 0 || objects < 180 {
		t.Errorf("%d alerts with a diaObject, %d solar-system ones, of 200: want about 97%% and 3%%, one or the other", objects, ss)
	}
}

func TestSchemaGeneratorErrors(t *testing.T) {
	for schema, want := range map[string]string{
		`[`:      "alert: schema is not JSON: unexpected end of JSON input",
		`"long"`: "alert: schema is a long, not a record",
		`{"type": "record", "name": "a", "fields": [{"name": "x", "type": "B"}]}`: `alert: schema: a.x: type "B" is used before it is defined`,
	} {
		if _, err := NewSchemaGenerator(schema, DefaultOptions()); err == nil || err.Error() != want {
			t.Errorf("NewSchemaGenerator(%s): %v, want %s", schema, err, want)
		}
	}
}

// AppendAlert's bytes are goavro's encoding of the same alert in every
// Avro type (anySchema adds timestamp-millis here), with nullable fields
// null and not, with and without stamps.
func TestSchemaGeneratorAppendsWhatGoavroEncodes(t *testing.T) {
	schema := strings.Replace(anySchema, `{"name": "nDiaSources", "type": "int"},`,
		`{"name": "nDiaSources", "type": "int"}, {"name": "validityStart", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]}, {"name": "x", "type": "float"},`, 1)
	codec, err := NewCodecForSchema(1, schema)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 12, 1, 7, 30, 0, 123_456_789, time.UTC)
	for _, stamps := range []bool{true, false} {
		o := DefaultOptions()
		o.StampSide, o.StampPool, o.PrvDiaSources, o.NullRate, o.Stamps = 16, 2, 3, 0.4, stamps
		g, err := NewSchemaGenerator(schema, o)
		if err != nil {
			t.Fatal(err)
		}
		g.now = func() time.Time { return clock }
		for i := 0; i < 300; i++ {
			id := ID{Visit: 1 + i/100, Producer: i % 4, Seq: i, CCD: i % NumCCDs}
			direct := g.AppendAlert([]byte{0xAA}, id)
			viaGoavro, err := codec.Append(nil, g.Alert(id))
			if err != nil {
				t.Fatalf("alert %d: %v", i, err)
			}
			if direct[0] != 0xAA || !bytes.Equal(direct[1:], viaGoavro[HeaderSize:]) {
				t.Fatalf("stamps %v, alert %d: AppendAlert differs from goavro's encoding of Alert", stamps, i)
			}
		}
	}
}
