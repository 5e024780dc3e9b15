package alert

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// FITS layout constants (FITS Standard 4.0, sections 3 and 4).
const (
	fitsBlock = 2880 // header and data are padded to multiples of this
	fitsCard  = 80   // every header card is 80 ASCII characters
)

// Cutout geometry shared by every generated cutout.
const (
	pixelScaleDeg = 0.2 / 3600 // LSST pixels are 0.2 arcsec
	psfSigmaPix   = 1.7        // about 0.8 arcsec FWHM seeing
	diffNoiseNJy  = 50         // per-pixel noise of a difference image, nJy
)

// cutoutSpec describes one FITS cutout image.
type cutoutSpec struct {
	side     int     // NAXIS1 = NAXIS2
	flux     float64 // total flux of the PSF source in the centre (nJy, may be negative)
	sky      float64 // constant background per pixel (nJy)
	noise    float64 // standard deviation of the Gaussian noise per pixel (nJy)
	ra, dec  float64 // CRVAL1, CRVAL2: sky position of the centre (degrees)
	imageTyp string  // IMAGETYP card: DIFFERENCE, SCIENCE or TEMPLATE
}

// Cutout returns a single-HDU FITS image of side x side pixels: a primary
// header (SIMPLE, BITPIX = -32, NAXIS = 2, NAXIS1, NAXIS2, BUNIT = 'nJy', a
// TAN world coordinate system with CTYPE1/2, CUNIT1/2, CRVAL1/2 at a random
// position drawn from rng, CRPIX1/2 at the centre, a CD matrix for 0.2
// arcsec pixels, END) padded to 2880 bytes, then big-endian float32 pixels:
// Gaussian noise of 50 nJy plus a Gaussian PSF source of total flux psfFlux
// (nJy) in the centre, padded with zeros to a multiple of 2880 bytes. It
// panics if side is less than 1.
func Cutout(side int, rng *rand.Rand, psfFlux float64) []byte {
	if side < 1 {
		panic(fmt.Sprintf("alert.Cutout: side %d, must be at least 1", side))
	}
	ra, dec := footprintPosition(rng)
	return appendCutout(nil, cutoutSpec{
		side: side, flux: psfFlux, noise: diffNoiseNJy, ra: ra, dec: dec, imageTyp: "DIFFERENCE",
	}, rng)
}

// CutoutSize returns the length in bytes of a side x side cutout: one
// header block plus the pixels padded to whole blocks.
func CutoutSize(side int) int {
	return fitsBlock + roundUp(4*side*side, fitsBlock)
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// appendCutout appends the FITS file described by s to dst.
func appendCutout(dst []byte, s cutoutSpec, rng *rand.Rand) []byte {
	start := len(dst)
	centre := float64(s.side+1) / 2 // FITS pixel coordinates are 1-based
	h := fitsHeader{buf: dst}
	h.logical("SIMPLE", true, "conforms to FITS standard")
	h.integer("BITPIX", -32, "IEEE single precision floating point")
	h.integer("NAXIS", 2, "number of data axes")
	h.integer("NAXIS1", s.side, "length of data axis 1")
	h.integer("NAXIS2", s.side, "length of data axis 2")
	h.str("BUNIT", "nJy", "pixel values are fluxes per pixel")
	h.str("IMAGETYP", s.imageTyp, "kind of cutout")
	h.str("CTYPE1", "RA---TAN", "gnomonic projection")
	h.str("CTYPE2", "DEC--TAN", "gnomonic projection")
	h.str("CUNIT1", "deg", "")
	h.str("CUNIT2", "deg", "")
	h.real("CRVAL1", s.ra, "RA of the reference pixel")
	h.real("CRVAL2", s.dec, "Dec of the reference pixel")
	h.real("CRPIX1", centre, "reference pixel: the cutout centre")
	h.real("CRPIX2", centre, "reference pixel: the cutout centre")
	h.real("CD1_1", -pixelScaleDeg, "0.2 arcsec pixels, north up, east left")
	h.real("CD1_2", 0, "")
	h.real("CD2_1", 0, "")
	h.real("CD2_2", pixelScaleDeg, "")
	h.str("RADESYS", "ICRS", "")
	h.real("EQUINOX", 2000, "")
	h.str("ORIGIN", "alert-testbed", "synthetic cutout")
	h.end()
	dst = h.buf
	hdrLen := len(dst) - start
	dst = append(dst, strings.Repeat(" ", roundUp(hdrLen, fitsBlock)-hdrLen)...) // header padding is spaces

	// Pixels, row by row (axis 1 varies fastest).
	npix := s.side * s.side
	dataStart := len(dst)
	dst = append(dst, make([]byte, roundUp(4*npix, fitsBlock))...) // zero padding included
	px := dst[dataStart : dataStart+4*npix]
	c := centre - 1 // 0-based centre
	norm := s.flux / (2 * math.Pi * psfSigmaPix * psfSigmaPix)
	const reach = 5 * psfSigmaPix
	for j := 0; j < s.side; j++ {
		dy := float64(j) - c
		for i := 0; i < s.side; i++ {
			v := s.sky + s.noise*rng.NormFloat64()
			if dx := float64(i) - c; math.Abs(dx) < reach && math.Abs(dy) < reach {
				v += norm * math.Exp(-(dx*dx+dy*dy)/(2*psfSigmaPix*psfSigmaPix))
			}
			binary.BigEndian.PutUint32(px[4*(j*s.side+i):], math.Float32bits(float32(v)))
		}
	}
	return dst
}

// fitsHeader appends 80-character header cards.
type fitsHeader struct{ buf []byte }

func (h *fitsHeader) card(key, value, comment string) {
	line := fmt.Sprintf("%-8s= %s", key, value)
	if comment != "" {
		line += " / " + comment
	}
	if len(line) > fitsCard {
		line = line[:fitsCard]
	}
	h.buf = append(h.buf, line...)
	h.buf = append(h.buf, strings.Repeat(" ", fitsCard-len(line))...)
}

// Fixed-format values: logical and numbers right-justified in columns
// 11-30, strings quoted from column 11, at least 8 characters inside the
// quotes.
func (h *fitsHeader) logical(key string, v bool, comment string) {
	s := "F"
	if v {
		s = "T"
	}
	h.card(key, fmt.Sprintf("%20s", s), comment)
}

func (h *fitsHeader) integer(key string, v int, comment string) {
	h.card(key, fmt.Sprintf("%20d", v), comment)
}

func (h *fitsHeader) real(key string, v float64, comment string) {
	h.card(key, fmt.Sprintf("%20s", fitsReal(v)), comment)
}

func (h *fitsHeader) str(key, v, comment string) {
	h.card(key, fmt.Sprintf("'%-8s'", strings.ReplaceAll(v, "'", "''")), comment)
}

func (h *fitsHeader) end() {
	h.buf = append(h.buf, fmt.Sprintf("%-80s", "END")...)
}

// fitsReal formats v as a FITS real: at most 20 characters, always with a
// decimal point so that readers do not take it for an integer.
func fitsReal(v float64) string {
	for prec := 15; ; prec-- {
		s := strconv.FormatFloat(v, 'G', prec, 64)
		if !strings.Contains(s, ".") {
			if i := strings.IndexByte(s, 'E'); i >= 0 {
				s = s[:i] + ".0" + s[i:]
			} else {
				s += ".0"
			}
		}
		if len(s) <= 20 || prec == 1 {
			return s
		}
	}
}
