package monitoring

import (
	"archive/tar"
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStat(t *testing.T) {
	r := Stat([]Point{{V: 2}, {V: 4}, {V: 4}, {V: 4}, {V: 5}, {V: 5}, {V: 7}, {V: 9}})
	if r.N != 8 || r.Mean != 5 || r.Max != 9 || math.Abs(r.Stddev-2.138089935299395) > 1e-12 {
		t.Fatalf("Stat = %+v", r)
	}
	if r := Stat(nil); r != (Resource{}) {
		t.Fatalf("Stat(nil) = %+v", r)
	}
}

func TestWriteCSV(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s := Series{"b": {"cpu_cores": {{T: at, V: 0.5}}}, "a": {"memory_bytes": {{T: at, V: 1e9}}}}
	var b bytes.Buffer
	if err := s.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := "time,unix,service,metric,value\n2026-11-22T10:00:00Z,1795341600,a,memory_bytes,1e+09\n2026-11-22T10:00:00Z,1795341600,b,cpu_cores,0.5\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func tarOf(t *testing.T, entries map[string]string) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for name, body := range entries {
		typ := byte(tar.TypeReg)
		if strings.HasSuffix(name, "/") {
			typ = tar.TypeDir
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: typ, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	return &b
}

// The snapshot folder's content lands in dest without its top folder;
// an entry that climbs out is refused.
func TestUntar(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "tsdb")
	n, err := untar(tarOf(t, map[string]string{"snap/": "", "snap/01ABC/meta.json": "{}", "snap/01ABC/chunks/000001": "xyz"}), dest)
	if err != nil || n != 5 {
		t.Fatalf("untar: %d bytes, %v", n, err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "01ABC", "chunks", "000001")); err != nil || string(b) != "xyz" {
		t.Fatalf("chunk: %q %v", b, err)
	}
	_, err = untar(tarOf(t, map[string]string{"snap/../../evil": "x"}), filepath.Join(t.TempDir(), "x"))
	if err == nil {
		t.Fatal("an entry leaving the snapshot folder was extracted")
	}
}
