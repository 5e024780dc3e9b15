package alertschema

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/internal/pyvenv"
)

// repoCache is the workspace cache of this checkout (git-ignored), where
// the wheel and the test's virtualenv are kept between runs.
func repoCache(t testing.TB) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", "..", ".testbed", "cache"))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// Alerts generated for Rubin's schemas decode with Rubin's own package, its
// schema of the same version: every alert, every required field set,
// every cutout a FITS image, the schema id the package computes.
func TestRubinAlertsDecodeWithRubinsPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PyPI (lsst-alert-packet's wheel, and a virtualenv with it and astropy)")
	}
	cache := repoCache(t)
	py := pyvenv.Rubin(t, cache, PacketVersion)
	for _, name := range []string{"rubin", "rubin-7.4", "rubin-9.0"} {
		t.Run(name, func(t *testing.T) {
			s, err := Resolve(context.Background(), name, ".", cache)
			if err != nil {
				t.Fatal(err)
			}
			codec, err := alert.NewCodecForSchema(s.ID, s.JSON)
			if err != nil {
				t.Fatal(err)
			}
			opts := alert.DefaultOptions()
			opts.Seed = 7
			gen, err := alert.NewSchemaGenerator(s.JSON, opts)
			if err != nil {
				t.Fatal(err)
			}
			var file bytes.Buffer
			const n = 60
			for seq := 0; seq < n; seq++ {
				msg, err := codec.Append(nil, gen.Alert(alert.ID{Visit: 1 + seq/20, Producer: 0, Seq: seq, CCD: seq % 189}))
				if err != nil {
					t.Fatalf("alert %d: %v", seq, err)
				}
				binary.Write(&file, binary.BigEndian, uint32(len(msg)))
				file.Write(msg)
			}
			path := filepath.Join(t.TempDir(), "alerts.bin")
			if err := os.WriteFile(path, file.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			major, minor, _ := strings.Cut(strings.TrimPrefix(s.Name, "rubin-"), ".")
			out, err := exec.Command(py, filepath.Join("testdata", "decode.py"), major, minor, path).CombinedOutput()
			if err != nil {
				t.Fatalf("Rubin's package could not read the alerts: %v\n%s", err, out)
			}
			var got struct {
				Alerts, Cutouts int
				SchemaID        uint32  `json:"schema_id"`
				MeanBytes       float64 `json:"mean_bytes"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got.Alerts != n || got.Cutouts != 3*n || got.SchemaID != s.ID {
				t.Errorf("%s: Rubin's package read %+v; want %d alerts, %d cutouts, schema id %d", s.Name, got, n, 3*n, s.ID)
			}
			t.Logf("%s (schema id %d): %d alerts of %.0f bytes on average", s.Name, s.ID, got.Alerts, got.MeanBytes)
		})
	}
}

// A version the package lacks is an error listing those it has, in order;
// Latest is the package's latest.txt.
func TestRubinVersions(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PyPI (lsst-alert-packet's wheel)")
	}
	wheel, err := FetchPacket(context.Background(), repoCache(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = FromWheel(wheel, "rubin-12.0")
	want := "alert.schema rubin-12.0: lsst-alert-packet 30.2026.2700 has no schema 12.0 (it has 3.0, 4.0, 5.0, 6.0, 6.1, 7.0, 7.1, 7.2, 7.3, 7.4, 8.0, 9.0, 10.0, 11.0, 11.1)"
	if err == nil || err.Error() != want {
		t.Errorf("rubin-12.0: %v, want %s", err, want)
	}
	s, err := FromWheel(wheel, Rubin)
	if err != nil || s.Name != "rubin-"+Latest || s.ID != uint32(ConventionID(Rubin, 0)) {
		t.Errorf("rubin: %+v, %v; want rubin-%s, schema id %d", s.Name, err, Latest, ConventionID(Rubin, 0))
	}
}
