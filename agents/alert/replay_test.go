package alert

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/linkedin/goavro/v2"
	"github.com/ulikunitz/xz"
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
	avro, err := goavro.NewCodec(r.Schema())
	if err != nil {
		t.Fatalf("codec from the file's schema: %v", err)
	}
	// In order, again from the start, and one further back.
	for _, i := range []int{0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 5, 2} {
		rec, err := r.Record(i)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		want, err := avro.BinaryFromNative(nil, alerts[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rec, want) {
			t.Fatalf("record %d (alertId %v): not the bytes written", i, alerts[i]["alertId"])
		}
	}
	if _, err := r.Record(8); !errors.Is(err, io.EOF) || !strings.HasSuffix(err.Error(), "no record 8, the file holds 8: EOF") {
		t.Fatalf("record past the end: %v", err)
	}
	info, err := ScanOCF(path)
	if err != nil || info.Records != 8 || info.Codec != "deflate" || info.MaxRecord == 0 {
		t.Fatalf("ScanOCF: %+v, %v", info, err)
	}
	if n, err := CountOCF(path); n != 8 || err != nil {
		t.Errorf("CountOCF: %d, %v; want 8", n, err)
	}
	// The alert ids' span (the diaSourceIds are the same); forced sources
	// are only in histories, and stay.
	lo, hi := alerts[0]["alertId"].(int64), alerts[0]["alertId"].(int64)
	for _, a := range alerts {
		lo, hi = min(lo, a["alertId"].(int64)), max(hi, a["alertId"].(int64))
	}
	want := map[string]int64{"alertId": hi - lo + 1, "diaSourceId": hi - lo + 1}
	if !reflect.DeepEqual(info.Shift.IDStrides, want) || !slices.Contains(info.Shift.IDFields, "prvDiaSources[].parentDiaSourceId") ||
		slices.Contains(info.Shift.IDFields, "prvDiaForcedSources[].diaForcedSourceId") {
		t.Errorf("ScanOCF of the testbed's alerts: shift %+v, want strides %v, parent ids shifted, forced sources not", info.Shift, want)
	}
}

func TestReplayErrors(t *testing.T) {
	empty := writeSample(t, nil)
	if _, err := ScanOCF(empty); err == nil || !strings.HasSuffix(err.Error(), "the file holds no alerts") {
		t.Fatalf("ScanOCF of an empty file: %v", err)
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
	// A block cut short, and a sync marker that is not the header's.
	long := writeOCF(t, "null", `"long"`, [][]byte{{2}, {4}})
	data, _ := os.ReadFile(long)
	cut := filepath.Join(t.TempDir(), "cut.avro")
	os.WriteFile(cut, data[:len(data)-5], 0o644)
	if _, err := ScanOCF(cut); err == nil || !strings.Contains(err.Error(), "damaged Avro container file (block after record 1): unexpected EOF") {
		t.Errorf("ScanOCF of a cut file: %v", err)
	}
	data[len(data)-1] ^= 1
	os.WriteFile(cut, data, 0o644)
	if _, err := ScanOCF(cut); err == nil || !strings.Contains(err.Error(), "its sync marker is not the header's") {
		t.Errorf("ScanOCF with a bad sync marker: %v", err)
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

// A container file with a codec outside the specification is refused at
// open, naming it and those the reader knows; the others open.
func TestReplayCodecs(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ codec, err string }{
		{"lz4", `Avro container file compressed with codec "lz4", which is not one of the specification's (null, deflate, snappy, bzip2, xz, zstandard)`},
		{"null", ""}, {"deflate", ""}, {"snappy", ""}, {"bzip2", ""}, {"xz", ""}, {"zstandard", ""}, {"", ""},
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
	entry = append(append(entry, binary.AppendVarint(nil, 3)...), "lz4"...)
	h = append(append(append(h, binary.AppendVarint(nil, -1)...), binary.AppendVarint(nil, int64(len(entry)))...), entry...)
	h = append(append(h, 0), "0123456789abcdef"...)
	path := filepath.Join(dir, "sized.avro")
	os.WriteFile(path, h, 0o644)
	if _, err := OpenReplay(path); err == nil || !strings.Contains(err.Error(), `codec "lz4"`) {
		t.Errorf("sized block: %v", err)
	}
}

// writeOCF writes records (Avro bodies of schema) as a container file
// compressed with codec, in two blocks, compressing as the specification
// says: bzip2 with Python's bz2 (Go's standard library only reads it).
func writeOCF(t *testing.T, codec, schema string, records [][]byte) string {
	t.Helper()
	long := func(b []byte, n int64) []byte { return binary.AppendVarint(b, n) }
	str := func(b []byte, s string) []byte { return append(long(b, int64(len(s))), s...) }
	sync := []byte("0123456789abcdef")
	f := str(str(long([]byte("Obj\x01"), 2), "avro.schema"), schema)
	f = append(str(str(f, "avro.codec"), codec), 0)
	f = append(f, sync...)
	half := (len(records) + 1) / 2
	for _, block := range [][][]byte{records[:half], records[half:]} {
		if len(block) == 0 {
			continue
		}
		data := bytes.Join(block, nil)
		var out []byte
		switch codec {
		case "null":
			out = data
		case "deflate":
			var b bytes.Buffer
			w, _ := flate.NewWriter(&b, flate.BestCompression)
			w.Write(data)
			w.Close()
			out = b.Bytes()
		case "snappy":
			out = binary.BigEndian.AppendUint32(snappy.Encode(nil, data), crc32.ChecksumIEEE(data))
		case "xz":
			var b bytes.Buffer
			w, _ := xz.NewWriter(&b)
			w.Write(data)
			w.Close()
			out = b.Bytes()
		case "zstandard":
			enc, _ := zstd.NewWriter(nil)
			out = enc.EncodeAll(data, nil)
		case "bzip2":
			cmd := exec.Command("python3", "-c", "import bz2, sys; sys.stdout.buffer.write(bz2.compress(sys.stdin.buffer.read()))")
			cmd.Stdin = bytes.NewReader(data)
			var err error
			if out, err = cmd.Output(); err != nil {
				t.Fatalf("bzip2 by python3 (needed to write a bzip2 block): %v", err)
			}
		}
		f = append(long(long(f, int64(len(block))), int64(len(out))), out...)
		f = append(f, sync...)
	}
	path := filepath.Join(t.TempDir(), codec+".avro")
	if err := os.WriteFile(path, f, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Files written with each codec of the specification replay their records
// byte for byte.
func TestReplayEachCodec(t *testing.T) {
	o := DefaultOptions()
	o.Stamps = false
	g := mustGen(t, o)
	avro, err := goavro.NewCodec(AlertSchema())
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for _, id := range testIDs(5) {
		b, err := avro.BinaryFromNative(nil, g.Alert(id))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, b)
	}
	for _, codec := range OCFCodecs {
		path := writeOCF(t, codec, AlertSchema(), want)
		info, err := ScanOCF(path)
		if err != nil || info.Records != len(want) || info.Codec != codec {
			t.Errorf("%s: ScanOCF %+v, %v", codec, info, err)
			continue
		}
		r, err := OpenReplay(path)
		if err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		for i := range want {
			got, err := r.Record(i)
			if err != nil || !bytes.Equal(got, want[i]) {
				t.Errorf("%s: record %d: %v, or its bytes differ", codec, i, err)
			}
		}
		r.Close()
	}
	// goavro's own writer's files read too.
	for _, codec := range []string{goavro.CompressionNullLabel, goavro.CompressionDeflateLabel, goavro.CompressionSnappyLabel} {
		var buf bytes.Buffer
		w, err := goavro.NewOCFWriter(goavro.OCFConfig{W: &buf, Schema: AlertSchema(), CompressionName: codec})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Append([]any{g.Alert(testIDs(1)[0])}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "a.avro")
		os.WriteFile(path, buf.Bytes(), 0o644)
		if info, err := ScanOCF(path); err != nil || info.Records != 1 {
			t.Errorf("goavro's %s file: %+v, %v", codec, info, err)
		}
	}
}
