package alert

import (
	"bytes"
	"math"
	"strings"
	"sync"
	"testing"
)

func TestDeterminism(t *testing.T) {
	c := mustCodec(t, 1)
	enc := func(g *Generator, id ID) []byte {
		b, err := c.Append(nil, g.Alert(id))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	o := DefaultOptions()
	g1, g2 := mustGen(t, o), mustGen(t, o)
	o.Seed = 2
	g3 := mustGen(t, o)
	for _, id := range testIDs(30) {
		a, b := enc(g1, id), enc(g2, id)
		if !bytes.Equal(a, b) {
			t.Fatalf("%+v: two generators with the same seed made different bytes", id)
		}
		if !bytes.Equal(a, enc(g1, id)) {
			t.Fatalf("%+v: the same generator made different bytes on a second call", id)
		}
		if bytes.Equal(a, enc(g3, id)) {
			t.Fatalf("%+v: seeds 1 and 2 made the same bytes", id)
		}
	}
}

func TestAlertIDs(t *testing.T) {
	g := mustGen(t, Options{Seed: 1})
	seen := map[int64]ID{}
	for visit := 0; visit < 4; visit++ {
		for producer := 0; producer < 5; producer++ {
			for seq := 0; seq < 50; seq++ {
				id := ID{Visit: visit, Producer: producer, Seq: seq, CCD: (seq * 5) % NumCCDs}
				a := g.Alert(id)
				aid := a["alertId"].(int64)
				if prev, dup := seen[aid]; dup {
					t.Fatalf("alertId %d for both %+v and %+v", aid, prev, id)
				}
				seen[aid] = id
				if aid != id.AlertID() {
					t.Fatalf("%+v: alertId %d, AlertID() %d", id, aid, id.AlertID())
				}
			}
		}
	}
	if got := (ID{Visit: 12, Producer: 3, Seq: 45}).AlertID(); got != 12_003_000_045 {
		t.Fatalf("AlertID = %d, want 12003000045", got)
	}
	max := ID{Visit: MaxVisit, Producer: MaxProducer, Seq: MaxSeq, CCD: NumCCDs - 1}
	if err := max.Validate(); err != nil {
		t.Fatal(err)
	}
	if max.AlertID() >= historyIDBase {
		t.Fatalf("largest alertId %d reaches the history id range", max.AlertID())
	}
}

func TestIDValidate(t *testing.T) {
	for _, tc := range []struct {
		id   ID
		want string
	}{
		{ID{Visit: -1}, "alert: ID.Visit is -1, want 0..999999999"},
		{ID{Producer: 1000}, "alert: ID.Producer is 1000, want 0..999"},
		{ID{Seq: 1_000_000}, "alert: ID.Seq is 1000000, want 0..999999"},
		{ID{CCD: 189}, "alert: ID.CCD is 189, want 0..188"},
	} {
		err := tc.id.Validate()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: Validate = %v, want %q", tc.id, err, tc.want)
		}
	}
	g := mustGen(t, Options{})
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(error).Error(), "ID.CCD") {
			t.Fatalf("Alert of an invalid ID: recover() = %v", r)
		}
	}()
	g.Alert(ID{CCD: 200})
}

func TestOptionsValidate(t *testing.T) {
	mod := func(f func(*Options)) Options { o := DefaultOptions(); f(&o); return o }
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{mod(func(o *Options) { o.StampSide = 7 }), "alert: Options.StampSide is 7, want 8..1024"},
		{mod(func(o *Options) { o.StampSide = 1025 }), "alert: Options.StampSide is 1025, want 8..1024"},
		{mod(func(o *Options) { o.StampPool = 0 }), "alert: Options.StampPool is 0, want 1..1024"},
		{mod(func(o *Options) { o.PrvDiaSources = -1 }), "alert: Options.PrvDiaSources is -1, want 0..1000"},
		{mod(func(o *Options) { o.PrvDiaForcedSources = 10001 }), "alert: Options.PrvDiaForcedSources is 10001, want 0..10000"},
		{mod(func(o *Options) { o.StampSide, o.StampPool = 1024, 100 }), "alert: Options.StampPool is 100: 100 triples of 1024-pixel cutouts take 1259712000 bytes, more than 1073741824"},
	} {
		_, err := NewGenerator(tc.o)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: NewGenerator error %v, want %q", tc.o, err, tc.want)
		}
	}
	// Without stamps the stamp fields are not checked.
	if _, err := NewGenerator(Options{PrvDiaSources: 3}); err != nil {
		t.Fatalf("no stamps, zero StampSide: %v", err)
	}
}

func TestPlausibleValues(t *testing.T) {
	o := DefaultOptions()
	o.Stamps = false
	g := mustGen(t, o)
	visitBand := map[int]string{}
	var nNeg, nSS, nLowSNR int
	const n = 1000
	for i := 0; i < n; i++ {
		id := ID{Visit: i % 20, Producer: i % 3, Seq: i, CCD: i % NumCCDs}
		a := g.Alert(id)
		ds := rec(a["diaSource"])
		if ds["diaSourceId"] != id.AlertID() || ds["ccdVisitId"] != int64(id.Visit)*1000+int64(id.CCD) {
			t.Fatalf("%+v: diaSourceId %v, ccdVisitId %v", id, ds["diaSourceId"], ds["ccdVisitId"])
		}
		band := ds["band"].(string)
		if !strings.Contains("ugrizy", band) || len(band) != 1 {
			t.Fatalf("band %q", band)
		}
		if b, ok := visitBand[id.Visit]; ok && b != band {
			t.Fatalf("visit %d has bands %s and %s", id.Visit, b, band)
		}
		visitBand[id.Visit] = band
		ra, dec := ds["ra"].(float64), ds["dec"].(float64)
		if ra < 0 || ra >= 360 || dec < -75 || dec > 10 {
			t.Fatalf("%+v: ra, dec = %v, %v", id, ra, dec)
		}
		mjd := ds["midpointMjdTai"].(float64)
		if want := 61000 + (float64(id.Visit)*39+15)/86400; math.Abs(mjd-want) > 1e-9 {
			t.Fatalf("midpointMjdTai %v, want %v", mjd, want)
		}
		flux, fluxErr, snr := unwrap(ds["psfFlux"]).(float32), unwrap(ds["psfFluxErr"]).(float32), unwrap(ds["snr"]).(float32)
		if fluxErr <= 0 || snr != flux/fluxErr {
			t.Fatalf("psfFlux %v, psfFluxErr %v, snr %v", flux, fluxErr, snr)
		}
		if a := math.Abs(float64(flux)); a < 10 || a > 1e7 {
			t.Fatalf("psfFlux %v nJy", flux)
		}
		if flux < 0 {
			nNeg++
			if unwrap(ds["isNegative"]) != true {
				t.Fatal("negative flux without isNegative")
			}
		}
		if math.Abs(float64(snr)) < 5 {
			nLowSNR++
		}
		if r := unwrap(ds["reliability"]).(float32); r < 0 || r > 1 {
			t.Fatalf("reliability %v", r)
		}
		x, y := unwrap(ds["x"]).(float32), unwrap(ds["y"]).(float32)
		if x < 0 || x > ccdPixels || y < 0 || y > ccdPixels {
			t.Fatalf("x, y = %v, %v", x, y)
		}
		if ds["ssObjectId"] != nil {
			nSS++
			if a["diaObject"] != nil || a["prvDiaForcedSources"] != nil || ds["diaObjectId"] != nil {
				t.Fatal("solar-system alert with a diaObject")
			}
			if prv := unwrap(a["prvDiaSources"]).([]any); len(prv) != o.PrvDiaSources || rec(prv[0])["ssObjectId"] == nil {
				t.Fatal("solar-system alert without its earlier detections")
			}
			continue
		}
		obj := rec(a["diaObject"])
		oid := unwrap(ds["diaObjectId"]).(int64)
		if obj["diaObjectId"] != oid || obj["nDiaSources"] != int32(o.PrvDiaSources+1) {
			t.Fatalf("diaObject %v / %v, nDiaSources %v", obj["diaObjectId"], oid, obj["nDiaSources"])
		}
		prv := unwrap(a["prvDiaSources"]).([]any)
		if len(prv) != o.PrvDiaSources {
			t.Fatalf("%d prvDiaSources", len(prv))
		}
		last := 0.0
		for _, p := range prv {
			p := p.(map[string]any)
			m := p["midpointMjdTai"].(float64)
			if m >= mjd || m < mjd-366 || m < last {
				t.Fatalf("prvDiaSource at %v, alert at %v, previous %v", m, mjd, last)
			}
			last = m
			if unwrap(p["diaObjectId"]) != oid || p["diaSourceId"].(int64) < historyIDBase {
				t.Fatalf("prvDiaSource ids %v %v", p["diaObjectId"], p["diaSourceId"])
			}
		}
		if fs := unwrap(a["prvDiaForcedSources"]).([]any); len(fs) != o.PrvDiaForcedSources {
			t.Fatalf("%d prvDiaForcedSources", len(fs))
		}
	}
	bands := map[string]bool{}
	for _, b := range visitBand {
		bands[b] = true
	}
	if len(bands) < 4 {
		t.Errorf("20 visits use only bands %v", bands)
	}
	if nNeg < n/20 || nNeg > n/4 {
		t.Errorf("%d of %d fluxes negative, want about 15%%", nNeg, n)
	}
	if nSS == 0 || nSS > n/10 {
		t.Errorf("%d of %d solar-system alerts, want about 3%%", nSS, n)
	}
	if nLowSNR > n/3 {
		t.Errorf("%d of %d alerts below 5 sigma", nLowSNR, n)
	}
}

func TestConcurrentUse(t *testing.T) {
	g := mustGen(t, DefaultOptions())
	c := mustCodec(t, 1)
	ids := testIDs(40)
	want := make([][]byte, len(ids))
	for i, id := range ids {
		want[i], _ = c.Append(nil, g.Alert(id))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(ids))
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				i = (i + w*5) % len(ids)
				got, err := c.Append(nil, g.Alert(ids[i]))
				if err != nil || !bytes.Equal(got, want[i]) {
					errs <- "concurrent Alert+Append differs"
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// meanSize returns the mean and the extremes of the framed size of n alerts.
func meanSize(t *testing.T, o Options, n int) (mean float64, lo, hi int) {
	g := mustGen(t, o)
	c := mustCodec(t, 1)
	lo = math.MaxInt
	var buf []byte
	var err error
	total := 0
	for i := 0; i < n; i++ {
		buf, err = c.Append(buf[:0], g.Alert(ID{Visit: i / 50, Producer: i % 10, Seq: i, CCD: i % NumCCDs}))
		if err != nil {
			t.Fatal(err)
		}
		total += len(buf)
		lo, hi = min(lo, len(buf)), max(hi, len(buf))
	}
	return float64(total) / float64(n), lo, hi
}

// KB = 1000 bytes: DMTN-028's alert is 136 KB = 136,000 bytes framed.
func TestDefaultSizes(t *testing.T) {
	o := DefaultOptions()
	mean, lo, hi := meanSize(t, o, 300)
	t.Logf("with stamps: mean %.0f bytes, min %d, max %d", mean, lo, hi)
	if math.Abs(mean-DMTN028AlertBytes) > 0.05*DMTN028AlertBytes || float64(lo) < 0.95*DMTN028AlertBytes || float64(hi) > 1.05*DMTN028AlertBytes {
		t.Errorf("with stamps: mean %.0f, min %d, max %d bytes; want within 5%% of %d", mean, lo, hi, DMTN028AlertBytes)
	}
	o.Stamps = false
	mean, lo, hi = meanSize(t, o, 300)
	t.Logf("without stamps: mean %.0f bytes, min %d, max %d", mean, lo, hi)
	if hi >= 10_000 {
		t.Errorf("without stamps: max %d bytes, want under 10,000", hi)
	}
}

func TestSizeOptions(t *testing.T) {
	for _, tc := range []struct {
		target int
		stamps bool
		tol    float64
	}{
		{DMTN028AlertBytes, true, 0.01},
		{40_000, true, 0.02},
		{300_000, true, 0.01},
		{2_000_000, true, 0.01},
		{3_000, false, 0.05},
		{20_000, false, 0.02},
	} {
		o := SizeOptions(tc.target, tc.stamps)
		if err := o.Validate(); err != nil {
			t.Fatalf("SizeOptions(%d, %v) = %+v: %v", tc.target, tc.stamps, o, err)
		}
		o.StampPool = 1 // sizes do not depend on it; making stamps takes time
		n := 200        // the history varies between alerts; stamp sizes do not
		if tc.stamps {
			n = 50
		}
		mean, _, _ := meanSize(t, o, n)
		t.Logf("SizeOptions(%d, %v): side %d, %d prv, %d forced: mean %.0f bytes", tc.target, tc.stamps, o.StampSide, o.PrvDiaSources, o.PrvDiaForcedSources, mean)
		if o.Stamps != tc.stamps || math.Abs(mean-float64(tc.target)) > tc.tol*float64(tc.target) {
			t.Errorf("SizeOptions(%d, %v) = %+v: mean %.0f bytes", tc.target, tc.stamps, o, mean)
		}
	}
	if o := SizeOptions(10, false); o.PrvDiaSources != 0 || o.PrvDiaForcedSources != 0 {
		t.Errorf("SizeOptions(10, false) = %+v, want no history", o)
	}
	if o := SizeOptions(10, true); CutoutSize(o.StampSide) != CutoutSize(MinStampSide) || o.PrvDiaSources != 0 {
		t.Errorf("SizeOptions(10, true) = %+v, want the smallest stamps", o)
	}
}
