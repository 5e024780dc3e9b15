package alert

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/astrogo/fitsio"
)

// readFITS opens b with github.com/astrogo/fitsio and returns its only HDU.
func readFITS(t *testing.T, b []byte) fitsio.Image {
	t.Helper()
	if len(b)%2880 != 0 {
		t.Fatalf("FITS file of %d bytes, not a multiple of 2880", len(b))
	}
	f, err := fitsio.Open(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("fitsio: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	if n := len(f.HDUs()); n != 1 {
		t.Fatalf("fitsio sees %d HDUs, want 1", n)
	}
	img, ok := f.HDU(0).(fitsio.Image)
	if !ok {
		t.Fatalf("HDU 0 is %T, not an image", f.HDU(0))
	}
	return img
}

func card(t *testing.T, img fitsio.Image, key string) any {
	t.Helper()
	c := img.Header().Get(key)
	if c == nil {
		t.Fatalf("no %s card", key)
	}
	return c.Value
}

func TestCutoutFITS(t *testing.T) {
	for _, side := range []int{8, 31, 100, 257} {
		spec := cutoutSpec{side: side, flux: 5e5, sky: 10, noise: 50, ra: 123.456789012345, dec: -45.6789, imageTyp: "SCIENCE"}
		b := appendCutout(nil, spec, rand.New(rand.NewPCG(1, 2)))
		if len(b) != CutoutSize(side) {
			t.Fatalf("side %d: %d bytes, CutoutSize says %d", side, len(b), CutoutSize(side))
		}
		img := readFITS(t, b)
		hdr := img.Header()
		if hdr.Bitpix() != -32 {
			t.Fatalf("BITPIX = %d", hdr.Bitpix())
		}
		if ax := hdr.Axes(); len(ax) != 2 || ax[0] != side || ax[1] != side {
			t.Fatalf("axes = %v, want [%d %d]", ax, side, side)
		}
		centre := float64(side+1) / 2
		for key, want := range map[string]any{
			"SIMPLE": true, "BITPIX": -32, "NAXIS": 2, "NAXIS1": side, "NAXIS2": side,
			"BUNIT": "nJy", "IMAGETYP": "SCIENCE",
			"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CUNIT1": "deg", "CUNIT2": "deg",
			"CRVAL1": 123.456789012345, "CRVAL2": -45.6789,
			"CRPIX1": centre, "CRPIX2": centre,
			"CD1_1": -pixelScaleDeg, "CD1_2": 0.0, "CD2_1": 0.0, "CD2_2": pixelScaleDeg,
			"RADESYS": "ICRS", "EQUINOX": 2000.0,
		} {
			got := card(t, img, key)
			if f, ok := want.(float64); ok {
				g, isF := got.(float64)
				if !isF || math.Abs(g-f) > 1e-13*math.Abs(f) {
					t.Errorf("side %d: %s = %#v, want %v", side, key, got, f)
				}
			} else if got != want {
				t.Errorf("side %d: %s = %#v, want %#v", side, key, got, want)
			}
		}

		// Pixels: fitsio's reading equals the big-endian float32s right after
		// the one header block, and the source is in the centre.
		if n := len(img.Raw()); n != 4*side*side {
			t.Fatalf("side %d: fitsio read %d data bytes, want %d", side, n, 4*side*side)
		}
		pix := make([]float32, 0, side*side+64) // fitsio sets the length
		if err := img.Read(&pix); err != nil {
			t.Fatalf("side %d: reading pixels: %v", side, err)
		}
		if len(pix) != side*side {
			t.Fatalf("side %d: %d pixels, want %d", side, len(pix), side*side)
		}
		for i, p := range pix {
			if raw := math.Float32frombits(binary.BigEndian.Uint32(b[2880+4*i:])); raw != p {
				t.Fatalf("side %d: pixel %d: fitsio %v, file %v", side, i, p, raw)
			}
		}
		for i, v := range b[2880+4*side*side:] {
			if v != 0 {
				t.Fatalf("side %d: data padding byte %d is %d, want 0", side, i, v)
			}
		}
		c := (side - 1) / 2
		if mid, corner := pix[c*side+c], pix[0]; mid < 10*corner || mid < 1000 {
			t.Errorf("side %d: centre pixel %v, corner %v: no source in the centre", side, mid, corner)
		}
		// Header: printable ASCII 80-column cards, END, space padding.
		hdrText := string(b[:2880])
		if strings.IndexFunc(hdrText, func(r rune) bool { return r < ' ' || r > '~' }) >= 0 {
			t.Fatalf("side %d: header has non-printable characters", side)
		}
		if !strings.Contains(hdrText, "END"+strings.Repeat(" ", 77)) {
			t.Fatalf("side %d: no END card", side)
		}
		if !strings.HasPrefix(hdrText, "SIMPLE  =                    T") {
			t.Fatalf("side %d: first card %q", side, hdrText[:80])
		}
	}
}

func TestCutoutPublic(t *testing.T) {
	b := Cutout(50, rand.New(rand.NewPCG(3, 4)), 2000)
	img := readFITS(t, b)
	if got := card(t, img, "NAXIS1"); got != 50 {
		t.Fatalf("NAXIS1 = %v", got)
	}
	ra, dec := card(t, img, "CRVAL1").(float64), card(t, img, "CRVAL2").(float64)
	if ra < 0 || ra >= 360 || dec < -70 || dec > 5 {
		t.Fatalf("CRVAL = %v, %v: outside the footprint", ra, dec)
	}
	if !bytes.Equal(b, Cutout(50, rand.New(rand.NewPCG(3, 4)), 2000)) {
		t.Fatal("same rng, different cutout")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Cutout(0, ...) did not panic")
		}
	}()
	Cutout(0, rand.New(rand.NewPCG(3, 4)), 1)
}

func TestGeneratorStampsAreFITS(t *testing.T) {
	o := DefaultOptions()
	o.StampPool = 2
	g := mustGen(t, o)
	a := g.Alert(ID{Visit: 1, Seq: 1})
	for field, typ := range map[string]string{"cutoutDifference": "DIFFERENCE", "cutoutScience": "SCIENCE", "cutoutTemplate": "TEMPLATE"} {
		img := readFITS(t, unwrap(a[field]).([]byte))
		if got := card(t, img, "IMAGETYP"); got != typ {
			t.Errorf("%s: IMAGETYP = %v", field, got)
		}
		if got := card(t, img, "NAXIS1"); got != o.StampSide {
			t.Errorf("%s: NAXIS1 = %v, want %d", field, got, o.StampSide)
		}
	}
	// Round-robin: seq 1 and 3 share a triple, 1 and 2 do not.
	same := func(s1, s2 int) bool {
		b1 := unwrap(g.Alert(ID{Seq: s1})["cutoutDifference"]).([]byte)
		b2 := unwrap(g.Alert(ID{Seq: s2})["cutoutDifference"]).([]byte)
		return bytes.Equal(b1, b2)
	}
	if !same(1, 3) || same(1, 2) {
		t.Fatalf("stamp pool of 2: seq 1 and 3 same = %v, 1 and 2 same = %v", same(1, 3), same(1, 2))
	}
}

func TestFitsReal(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0.0", 2000: "2000.0", 50.5: "50.5", -5.555555555555556e-05: "-5.5555555555556E-05",
		1e20: "1.0E+20",
	} {
		if got := fitsReal(v); got != want {
			t.Errorf("fitsReal(%v) = %q, want %q", v, got, want)
		}
		if len(fitsReal(v)) > 20 {
			t.Errorf("fitsReal(%v) longer than 20", v)
		}
	}
}
