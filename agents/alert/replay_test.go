package alert

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"
)

func writeSample(t *testing.T, alerts []map[string]any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "alerts.avro")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteOCF(f, alerts); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplay(t *testing.T) {
	o := DefaultOptions()
	o.StampSide, o.StampPool = 16, 2
	g := mustGen(t, o)
	var alerts []map[string]any
	for _, id := range testIDs(7) {
		alerts = append(alerts, g.Alert(id))
	}
	alerts = append(alerts, g.Alert(ssID(t, g)))
	path := writeSample(t, alerts)

	r, err := OpenReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Schema() == "" {
		t.Fatal("empty schema")
	}
	c, err := NewCodecForSchema(5, r.Schema())
	if err != nil {
		t.Fatalf("codec from the file's schema: %v", err)
	}
	for pass := 0; pass < 3; pass++ {
		for i, want := range alerts {
			got, err := r.Next()
			if err != nil {
				t.Fatalf("pass %d, alert %d: %v", pass, i, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("pass %d, alert %d (alertId %v): differs from what was written", pass, i, want["alertId"])
			}
			if _, err := c.Append(nil, got); err != nil {
				t.Fatalf("replayed alert does not encode: %v", err)
			}
		}
		if r.Passes() != pass {
			t.Fatalf("after pass %d: Passes() = %d", pass, r.Passes())
		}
	}
}

func TestReplayErrors(t *testing.T) {
	empty := writeSample(t, nil)
	r, err := OpenReplay(empty)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err == nil || !strings.HasSuffix(err.Error(), "the file holds no alerts") {
		t.Fatalf("Next on an empty file: %v", err)
	}

	junk := filepath.Join(t.TempDir(), "junk.avro")
	if err := os.WriteFile(junk, []byte("not avro at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReplay(junk); err == nil || !strings.Contains(err.Error(), "not an Avro object container file") {
		t.Fatalf("OpenReplay of junk: %v", err)
	}
	if _, err := OpenReplay(filepath.Join(t.TempDir(), "missing.avro")); err == nil {
		t.Fatal("OpenReplay of a missing file: no error")
	}
}

// ocfHeader is an Avro object container file header with the given
// avro.codec (none when codec is ""), and no block.
func ocfHeader(codec string) []byte {
	long := func(n int64) []byte { return binary.AppendVarint(nil, n) }
	str := func(s string) []byte { return append(long(int64(len(s))), s...) }
	h := []byte("Obj\x01")
	if codec == "" {
		h = append(h, long(1)...)
	} else {
		h = append(h, long(2)...)
	}
	h = append(h, str("avro.schema")...)
	h = append(h, str(`"long"`)...)
	if codec != "" {
		h = append(h, str("avro.codec")...)
		h = append(h, str(codec)...)
	}
	h = append(h, 0)
	return append(h, "0123456789abcdef"...) // sync marker
}

// A container file with a codec the reader lacks is refused at open,
// naming the codec and those it reads; the codecs it reads open.
func TestReplayCodecs(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ codec, err string }{
		{"xz", `Avro container file compressed with codec "xz", which this reader cannot read (it reads null, deflate, snappy): re-encode it with one of those`},
		{"bzip2", `Avro container file compressed with codec "bzip2", which this reader cannot read (it reads null, deflate, snappy): re-encode it with one of those`},
		{"zstandard", `Avro container file compressed with codec "zstandard", which this reader cannot read (it reads null, deflate, snappy): re-encode it with one of those`},
		{"null", ""}, {"deflate", ""}, {"snappy", ""}, {"", ""},
	} {
		path := filepath.Join(dir, "replay-"+c.codec+".avro")
		if err := os.WriteFile(path, ocfHeader(c.codec), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := OpenReplay(path)
		if c.err == "" {
			if err != nil {
				t.Errorf("codec %q: %v", c.codec, err)
			} else {
				r.Close()
			}
			continue
		}
		if want := "alert: replay " + path + ": " + c.err; err == nil || err.Error() != want {
			t.Errorf("codec %q: got %v\nwant %s", c.codec, err, want)
		}
	}
	// A metadata map written as a block with its byte size (negative
	// count) is read too.
	h := []byte("Obj\x01")
	entry := append(binary.AppendVarint(nil, 10), "avro.codec"...)
	entry = append(append(entry, binary.AppendVarint(nil, 2)...), "xz"...)
	h = append(append(append(h, binary.AppendVarint(nil, -1)...), binary.AppendVarint(nil, int64(len(entry)))...), entry...)
	h = append(append(h, 0), "0123456789abcdef"...)
	path := filepath.Join(dir, "sized.avro")
	os.WriteFile(path, h, 0o644)
	if _, err := OpenReplay(path); err == nil || !strings.Contains(err.Error(), `codec "xz"`) {
		t.Errorf("sized block: %v", err)
	}
}

// Files written with each codec the reader reads replay.
func TestReplayEachCodec(t *testing.T) {
	o := DefaultOptions()
	o.Stamps = false
	g := mustGen(t, o)
	want := g.Alert(testIDs(1)[0])
	for _, codec := range ReplayCodecs {
		var buf bytes.Buffer
		w, err := goavro.NewOCFWriter(goavro.OCFConfig{W: &buf, Schema: AlertSchema(), CompressionName: codec})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Append([]any{want}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "a.avro")
		os.WriteFile(path, buf.Bytes(), 0o644)
		r, err := OpenReplay(path)
		if err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		got, err := r.Next()
		r.Close()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, or the alert differs", codec, err)
		}
	}
}
