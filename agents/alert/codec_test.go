package alert

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"stamps", DefaultOptions()},
		{"no-stamps", func() Options { o := DefaultOptions(); o.Stamps = false; return o }()},
		{"no-history", func() Options { o := DefaultOptions(); o.PrvDiaSources, o.PrvDiaForcedSources = 0, 0; return o }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := mustGen(t, tc.o)
			c := mustCodec(t, 42)
			ids := append(testIDs(20), ssID(t, g))
			for _, id := range ids {
				a := g.Alert(id)
				framed, err := c.Append(nil, a)
				if err != nil {
					t.Fatalf("%+v: %v", id, err)
				}
				got, err := c.Decode(framed)
				if err != nil {
					t.Fatalf("%+v: %v", id, err)
				}
				if !reflect.DeepEqual(got, a) {
					for k := range a {
						if !reflect.DeepEqual(got[k], a[k]) {
							t.Errorf("%+v: field %s differs after the round trip:\n got  %#v\n want %#v", id, k, got[k], a[k])
						}
					}
					t.Fatalf("%+v: alert differs after the round trip", id)
				}
				if tc.o.Stamps != (a["cutoutScience"] != nil) {
					t.Errorf("%+v: cutoutScience = %T with Stamps %v", id, a["cutoutScience"], tc.o.Stamps)
				}
			}
		})
	}
}

func TestAppendFraming(t *testing.T) {
	g := mustGen(t, DefaultOptions())
	c := mustCodec(t, 300)
	prefix := []byte("keep")
	framed, err := c.Append(prefix, g.Alert(ID{Visit: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(framed[:4], []byte("keep")) {
		t.Fatalf("Append changed dst's contents: %q", framed[:4])
	}
	if want := []byte{0, 0, 0, 0x01, 0x2c}; !bytes.Equal(framed[4:9], want) {
		t.Fatalf("header = % x, want % x", framed[4:9], want)
	}
	if id, err := SchemaIDOf(framed[4:]); err != nil || id != 300 {
		t.Fatalf("SchemaIDOf = %d, %v; want 300", id, err)
	}
	if c.SchemaID() != 300 || c.Schema() != AlertSchema() {
		t.Fatalf("SchemaID %d / Schema mismatch", c.SchemaID())
	}

	// A failed Append leaves dst as it was.
	dst := []byte{1, 2, 3}
	out, err := c.Append(dst, map[string]any{"alertId": "not a long"})
	if err == nil {
		t.Fatal("Append of a bad alert: no error")
	}
	if !bytes.Equal(out, []byte{1, 2, 3}) {
		t.Fatalf("Append error returned %v, want dst unchanged", out)
	}
}

func TestFramingErrors(t *testing.T) {
	g := mustGen(t, DefaultOptions())
	c1 := mustCodec(t, 1)
	good, err := c1.Append(nil, g.Alert(ID{Visit: 2, Seq: 3}))
	if err != nil {
		t.Fatal(err)
	}
	badMagic := append([]byte(nil), good...)
	badMagic[0] = 1
	for _, tc := range []struct {
		name  string
		codec *Codec
		msg   []byte
		want  string
		is    error
	}{
		{"empty", c1, nil, "alert: message too short for the wire-format header: 0 bytes, need at least 5", ErrShortMessage},
		{"short", c1, []byte{0, 0, 1}, "alert: message too short for the wire-format header: 3 bytes, need at least 5", ErrShortMessage},
		{"magic", c1, badMagic, "alert: bad magic byte: got 0x01, want 0x00", ErrMagicByte},
		{"schema id", mustCodec(t, 7), good, "alert: schema id mismatch: message has 1, codec expects 7", ErrSchemaID},
		// The rest of this message is goavro's; only our prefix is pinned.
		{"header only", c1, good[:5], "alert: decoding Avro body (schema id 1): *", nil},
		{"trailing", c1, append(append([]byte(nil), good...), 0), "alert: decoding Avro body (schema id 1): 1 trailing bytes", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.codec.Decode(tc.msg)
			if err == nil {
				t.Fatalf("Decode = %d fields, no error; want %q", len(got), tc.want)
			}
			if p, ok := strings.CutSuffix(tc.want, "*"); ok {
				if !strings.HasPrefix(err.Error(), p) || len(err.Error()) == len(p) {
					t.Fatalf("error\n got  %q\n want %q", err, tc.want)
				}
			} else if err.Error() != tc.want {
				t.Fatalf("error\n got  %q\n want %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tc.is)
			}
		})
	}

	// A truncated body is an Avro error, not a panic.
	if _, err := c1.Decode(good[:len(good)-100]); err == nil {
		t.Fatal("Decode of a truncated message: no error")
	}
}

func TestNewCodecForSchemaError(t *testing.T) {
	if _, err := NewCodecForSchema(1, `{"type": "record"}`); err == nil {
		t.Fatal("NewCodecForSchema accepted a record without a name")
	}
}

// Corrupt messages give errors, never panics.
func TestDecodeCorrupt(t *testing.T) {
	o := DefaultOptions()
	o.StampSide = 16
	g := mustGen(t, o)
	c := mustCodec(t, 1)
	good, err := c.Append(nil, g.Alert(ID{Visit: 4, Seq: 9}))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 500; i++ {
		bad := append([]byte(nil), good...)
		for j := 0; j < 1+rng.IntN(4); j++ {
			bad[HeaderSize+rng.IntN(len(bad)-HeaderSize)] = byte(rng.IntN(256))
		}
		bad = bad[:HeaderSize+rng.IntN(len(bad)-HeaderSize+1)]
		_, _ = c.Decode(bad) // must not panic
	}
}
