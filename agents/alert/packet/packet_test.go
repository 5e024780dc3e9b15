package packet

import (
	"bytes"
	"errors"
	"testing"

	"github.com/alert-testbed/testbed/agents/alert"
	hamba "github.com/hamba/avro/v2"
)

// generators are the testbed's alert generators with stamps and without
// (the cutouts null).
func generators(t testing.TB) []*alert.Generator {
	t.Helper()
	var out []*alert.Generator
	for _, stamps := range []bool{true, false} {
		o := alert.DefaultOptions()
		o.Stamps = stamps
		g, err := alert.NewGenerator(o)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	return out
}

// alerts are framed alerts as producers send them, with and without
// stamps.
func alerts(t testing.TB, schemaID uint32) [][]byte {
	t.Helper()
	var out [][]byte
	for _, g := range generators(t) {
		for seq := 0; seq < 100; seq++ {
			out = append(out, g.AppendAlert(alert.Frame(nil, schemaID, nil), alert.ID{Visit: 3, Producer: 2, Seq: seq, CCD: seq % alert.NumCCDs}))
		}
	}
	return out
}

// Every field is decoded: the decoded alert, encoded again by hamba/avro,
// is the body it was decoded from, byte for byte (Avro's binary encoding
// of given values is unique), and its id is goavro's.
func TestDecodeIsExact(t *testing.T) {
	d, err := NewDecoder(7)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := alert.NewCodec(7)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := hamba.Parse(alert.AlertSchema())
	if err != nil {
		t.Fatal(err)
	}
	// Arrays as one block of items without a byte size, as producers
	// write them (alert.Generator.AppendAlert).
	enc := hamba.Config{DisableBlockSizeHeader: true, BlockLength: 1 << 20}.Freeze()
	var nulls, stamps int
	for i, framed := range alerts(t, 7) {
		var a Alert
		if err := d.Decode(framed, &a); err != nil {
			t.Fatalf("alert %d: %v", i, err)
		}
		again, err := enc.Marshal(schema, &a)
		if err != nil {
			t.Fatalf("alert %d: encode the decoded alert: %v", i, err)
		}
		if !bytes.Equal(again, framed[alert.HeaderSize:]) {
			t.Fatalf("alert %d: the decoded alert encodes to %d bytes, not the %d it was decoded from (a field lost or changed)", i, len(again), len(framed)-alert.HeaderSize)
		}
		native, err := codec.Decode(framed)
		if err != nil {
			t.Fatalf("alert %d: goavro: %v", i, err)
		}
		if native["alertId"] != a.AlertID {
			t.Fatalf("alert %d: alertId %d, goavro has %v", i, a.AlertID, native["alertId"])
		}
		if a.CutoutDifference == nil {
			nulls++
		}
		if a.CutoutDifference != nil && len(*a.CutoutDifference) > 2880 {
			stamps++
			// A copy: the message's buffer may be reused.
			(*a.CutoutDifference)[0] ^= 0xff
			if !bytes.Equal(again, framed[alert.HeaderSize:]) {
				t.Fatalf("alert %d: changing the decoded cutout changed the message: it aliases it", i)
			}
		}
	}
	if nulls == 0 || stamps == 0 {
		t.Fatalf("the alerts had %d null and %d non-null cutouts: the test needs both", nulls, stamps)
	}
}

// Every kind of bad message is refused with an error that says what.
func TestDecodeRefuses(t *testing.T) {
	d, err := NewDecoder(7)
	if err != nil {
		t.Fatal(err)
	}
	good := alerts(t, 7)[0]
	body := good[alert.HeaderSize:]
	// The first field, alertId, is a long; a length of 2^40 where the
	// band string starts would be a corrupt length.
	corrupt := append([]byte(nil), good...)
	corrupt = append(corrupt[:alert.HeaderSize], 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)
	cases := []struct {
		name string
		msg  []byte
		is   error
		want string
	}{
		{"empty", nil, alert.ErrShortMessage, ""},
		{"header only, short", good[:3], alert.ErrShortMessage, ""},
		{"bad magic byte", append([]byte{1}, good[1:]...), alert.ErrMagicByte, ""},
		{"other schema id", alert.Frame(nil, 8, body), alert.ErrSchemaID, ""},
		{"no body", good[:alert.HeaderSize], nil, "decoding Avro body"},
		{"truncated body", good[:len(good)-10], nil, "decoding Avro body"},
		{"trailing byte", append(append([]byte(nil), good...), 0), nil, "trailing bytes"},
		{"overlong varint", corrupt, nil, "decoding Avro body"},
	}
	for _, c := range cases {
		var a Alert
		err := d.Decode(c.msg, &a)
		switch {
		case err == nil:
			t.Errorf("%s: decoded, want an error", c.name)
		case c.is != nil && !errors.Is(err, c.is):
			t.Errorf("%s: %v, want %v", c.name, err, c.is)
		case c.want != "" && !bytes.Contains([]byte(err.Error()), []byte(c.want)):
			t.Errorf("%s: %v, want it to say %q", c.name, err, c.want)
		}
	}
	// After errors, a good message still decodes (the pooled readers are
	// reset).
	var a Alert
	if err := d.Decode(good, &a); err != nil {
		t.Fatalf("a good alert after bad ones: %v", err)
	}
}

// BenchmarkDecode decodes one framed alert per iteration into the
// generated types, as alert-consumer's count mode does for the testbed's
// schema; agents/alert's BenchmarkDecode is the same through goavro.
func BenchmarkDecode(b *testing.B) {
	for i, g := range generators(b) {
		name := "stamps"
		if i == 1 {
			name = "no-stamps"
		}
		b.Run(name, func(b *testing.B) {
			framed := g.AppendAlert(alert.Frame(nil, 1, nil), alert.ID{Visit: 1, Seq: 1})
			d, err := NewDecoder(1)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(framed)))
			b.ReportAllocs()
			b.ResetTimer()
			var a Alert
			for i := 0; i < b.N; i++ {
				if err := d.Decode(framed, &a); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}
