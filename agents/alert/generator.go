package alert

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/linkedin/goavro/v2"
)

// DMTN028AlertBytes is the size of the alert packet used in DMTN-028's
// experiments, "136 KB" there, taken here as 136,000 bytes (KB = 1000 bytes
// throughout this package) of framed message.
const DMTN028AlertBytes = 136_000

// Limits of ID. They keep alertId = visit*1e9 + producer*1e6 + seq unique
// and below 1e18.
const (
	MaxVisit    = 999_999_999
	MaxProducer = 999
	MaxSeq      = 999_999
	NumCCDs     = 189 // CCD numbers are 0..188
)

// Limits of Options.
const (
	MinStampSide           = 8
	MaxStampSide           = 1024
	MaxPrvDiaSources       = 1000
	MaxPrvDiaForcedSources = 10000
	MaxStampPool           = 1024
	maxStampPoolBytes      = 1 << 30
)

// ID names one alert of a run: the visit, the producer that sends it, its
// sequence number within (visit, producer), and the CCD it comes from.
type ID struct {
	Visit    int // 0..MaxVisit
	Producer int // 0..MaxProducer
	Seq      int // 0..MaxSeq
	CCD      int // 0..NumCCDs-1
}

// Validate reports whether every field of id is within its limits.
func (id ID) Validate() error {
	switch {
	case id.Visit < 0 || id.Visit > MaxVisit:
		return fmt.Errorf("alert: ID.Visit is %d, want 0..%d", id.Visit, MaxVisit)
	case id.Producer < 0 || id.Producer > MaxProducer:
		return fmt.Errorf("alert: ID.Producer is %d, want 0..%d", id.Producer, MaxProducer)
	case id.Seq < 0 || id.Seq > MaxSeq:
		return fmt.Errorf("alert: ID.Seq is %d, want 0..%d", id.Seq, MaxSeq)
	case id.CCD < 0 || id.CCD >= NumCCDs:
		return fmt.Errorf("alert: ID.CCD is %d, want 0..%d", id.CCD, NumCCDs-1)
	}
	return nil
}

// AlertID returns the alertId of id: visit*1e9 + producer*1e6 + seq, so
// visit 12, producer 3, seq 45 is 12_003_000_045. It is unique for valid
// IDs (the CCD is not part of it) and readable in logs. The generated
// diaSourceId equals the alertId. Ids of the synthetic history
// (prvDiaSources, prvDiaForcedSources, diaObject) are drawn from 1e18 and
// up, so they never collide with alert ids.
func (id ID) AlertID() int64 {
	return int64(id.Visit)*1_000_000_000 + int64(id.Producer)*1_000_000 + int64(id.Seq)
}

// CCDVisitID returns visit*1000 + CCD.
func (id ID) CCDVisitID() int64 { return int64(id.Visit)*1000 + int64(id.CCD) }

// Options configure a Generator.
type Options struct {
	// Seed makes the alerts: the same Seed and ID give the same alert.
	Seed int64
	// Stamps includes the three FITS cutouts (science, template,
	// difference); without them the cutout fields are null.
	Stamps bool
	// StampSide is the number of pixels on each side of each cutout,
	// MinStampSide..MaxStampSide (checked only with Stamps).
	StampSide int
	// PrvDiaSources is the number of earlier detections in each alert,
	// 0..MaxPrvDiaSources (0 makes prvDiaSources null).
	PrvDiaSources int
	// PrvDiaForcedSources is the number of earlier forced measurements in
	// each alert, 0..MaxPrvDiaForcedSources (0 makes prvDiaForcedSources
	// null).
	PrvDiaForcedSources int
	// StampPool is the number of distinct cutout triples a Generator makes
	// up front and reuses, 1..MaxStampPool (checked only with Stamps).
	StampPool int
	// NullRate is the share of a SchemaGenerator's alerts in which a
	// nullable field without a rule of its own is null, 0..1 (Generator,
	// whose schema it knows, sets its nullable fields itself).
	NullRate float64
}

// DefaultOptions returns the DMTN-028-sized alert (KB = 1000 bytes): with
// stamps, three 100 x 100 pixel cutouts of 43,200 bytes each (one 2880-byte
// header block, then 40,000 bytes of float32 pixels padded to 40,320), 20
// earlier detections and 40 forced measurements make a framed alert of
// about 136,000 bytes: measured over 300 alerts, 135,920 bytes on average,
// 136,041 at most, 133,364 at least (the 3% solar-system alerts, which have
// no forced measurements and no diaObject). The same alerts without stamps
// are 6,311 bytes on average (3,755 to 6,432). See TestDefaultSizes.
func DefaultOptions() Options {
	return Options{
		Seed:                1,
		Stamps:              true,
		StampSide:           100,
		PrvDiaSources:       20,
		PrvDiaForcedSources: 40,
		StampPool:           16,
		NullRate:            0.05,
	}
}

// Validate checks o; errors name the field.
func (o Options) Validate() error {
	if o.PrvDiaSources < 0 || o.PrvDiaSources > MaxPrvDiaSources {
		return fmt.Errorf("alert: Options.PrvDiaSources is %d, want 0..%d", o.PrvDiaSources, MaxPrvDiaSources)
	}
	if o.PrvDiaForcedSources < 0 || o.PrvDiaForcedSources > MaxPrvDiaForcedSources {
		return fmt.Errorf("alert: Options.PrvDiaForcedSources is %d, want 0..%d", o.PrvDiaForcedSources, MaxPrvDiaForcedSources)
	}
	if o.NullRate < 0 || o.NullRate > 1 || math.IsNaN(o.NullRate) {
		return fmt.Errorf("alert: Options.NullRate is %g, want 0..1", o.NullRate)
	}
	if !o.Stamps {
		return nil
	}
	if o.StampSide < MinStampSide || o.StampSide > MaxStampSide {
		return fmt.Errorf("alert: Options.StampSide is %d, want %d..%d", o.StampSide, MinStampSide, MaxStampSide)
	}
	if o.StampPool < 1 || o.StampPool > MaxStampPool {
		return fmt.Errorf("alert: Options.StampPool is %d, want 1..%d", o.StampPool, MaxStampPool)
	}
	if n := 3 * CutoutSize(o.StampSide) * o.StampPool; n > maxStampPoolBytes {
		return fmt.Errorf("alert: Options.StampPool is %d: %d triples of %d-pixel cutouts take %d bytes, more than %d",
			o.StampPool, o.StampPool, o.StampSide, n, maxStampPoolBytes)
	}
	return nil
}

// Generator makes synthetic alerts. It is safe for concurrent use: Alert
// only reads the Generator, and every alert gets its own random source.
type Generator struct {
	o     Options
	pool  []stampTriple
	seedA uint64
	avro  *goavro.Codec // decodes AppendAlert's bytes for Alert
}

type stampTriple struct{ difference, science, template []byte }

// NewGenerator validates o and makes the stamp pool.
//
// Making cutout pixels is expensive (a Gaussian draw per pixel), so the
// Generator makes StampPool distinct triples of cutouts once and the alerts
// reuse them round-robin by sequence number (alert seq uses triple
// seq mod StampPool). This is deliberate: like DMTN-028's producer, which
// sent the same template alert over and over, the producers' CPU then goes
// into Avro serialization and sending, not into image synthesis. The
// cutouts of an alert are therefore not drawn at its position or flux.
// The pool's byte slices are shared by all the alerts that use them:
// callers must not modify them.
func NewGenerator(o Options) (*Generator, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	avro, err := goavro.NewCodec(alertSchema)
	if err != nil {
		return nil, fmt.Errorf("alert: the testbed's schema: %w", err)
	}
	g := &Generator{o: o, seedA: splitmix(uint64(o.Seed) ^ 0x5eed_a1e7), avro: avro}
	g.pool = stampPool(o, g.seedA)
	return g, nil
}

// stampPool makes o.StampPool cutout triples from seed (none without
// o.Stamps).
func stampPool(o Options, seed uint64) []stampTriple {
	if !o.Stamps {
		return nil
	}
	pool := make([]stampTriple, o.StampPool)
	for k := range pool {
		rng := rand.New(rand.NewPCG(seed, splitmix(uint64(k)^0x57a3_9000)))
		pool[k] = makeStampTriple(o.StampSide, rng)
	}
	return pool
}

// Options returns the options the Generator was made with.
func (g *Generator) Options() Options { return g.o }

func makeStampTriple(side int, rng *rand.Rand) stampTriple {
	ra, dec := footprintPosition(rng)
	flux := signedLogNormal(rng)
	host := 0.0
	if rng.Float64() < 0.6 {
		host = math.Exp(math.Log(3000) + 1.2*rng.NormFloat64())
	}
	const sky = 1200.0
	scienceNoise := diffNoiseNJy / math.Sqrt2
	return stampTriple{
		difference: appendCutout(nil, cutoutSpec{side: side, flux: flux, noise: diffNoiseNJy, ra: ra, dec: dec, imageTyp: "DIFFERENCE"}, rng),
		science:    appendCutout(nil, cutoutSpec{side: side, flux: flux + host, sky: sky, noise: scienceNoise, ra: ra, dec: dec, imageTyp: "SCIENCE"}, rng),
		template:   appendCutout(nil, cutoutSpec{side: side, flux: host, sky: sky, noise: scienceNoise, ra: ra, dec: dec, imageTyp: "TEMPLATE"}, rng),
	}
}

// Survey constants of the synthetic stream.
const (
	surveyStartMjd = 61000.0 // 2026-02-25
	visitSeconds   = 39.0    // DMTN-028's visit interval
	exposureSecs   = 30.0
	ccdPixels      = 4072
	ccdDeg         = ccdPixels * pixelScaleDeg
	historyIDBase  = int64(1_000_000_000_000_000_000)
	historyVisit   = 1_000_000_000 // synthetic earlier visits are numbered from here
)

var bands = [6]string{"u", "g", "r", "i", "z", "y"}

// bandNoise scales the flux errors per band (u and y are shallower).
var bandNoise = [6]float64{1.8, 1.0, 1.0, 1.15, 1.35, 1.6}

// Alert returns the alert for id in goavro's native form (see the package
// documentation): AppendAlert's bytes, decoded. It is what tests and
// filter expressions look at; producers send AppendAlert's bytes.
// Alert panics if id is not valid (see ID.Validate).
func (g *Generator) Alert(id ID) map[string]any {
	v, _, err := g.avro.NativeFromBinary(g.AppendAlert(nil, id))
	if err != nil {
		panic(fmt.Sprintf("alert: a generated alert does not decode: %v", err))
	}
	return v.(map[string]any)
}

// AppendAlert appends the Avro binary encoding of the alert for id to dst
// (the body: Frame writes the wire-format header before it) and returns
// the extended slice. It writes the schema's fields in order, straight
// from the generated values: going through goavro's native form (a map
// per record, then goavro walking them) cost about 2,400 allocations and
// most of the 210 µs an alert took (BenchmarkSerialize). The values are
// deterministic for (Seed, id):
//   - alertId = diaSourceId = id.AlertID(); ccdVisitId = id.CCDVisitID();
//   - per visit: one band of ugrizy, one pointing in the survey footprint
//     (RA 0..360, Dec -70..+5 degrees), and midpointMjdTai: MJD 61000 plus
//     39 s per visit plus 15 s (half the exposure);
//   - per alert: a position on CCD id.CCD of the 189-CCD focal plane,
//     psfFlux log-normal in nJy (median 1500, negative for 15% of the
//     sources, as on difference images), psfFluxErr about 120 nJy scaled by
//     band, snr = psfFlux / psfFluxErr, reliability in [0, 1];
//   - every alert has exactly Options.PrvDiaSources earlier detections
//     (null when 0);
//   - 97% are associated with a diaObject and have
//     Options.PrvDiaForcedSources forced measurements (null when 0) and the
//     diaObject, whose per-band means summarize them; 3% are solar-system
//     detections (ssObjectId set, with a trail, earlier detections along a
//     track) with a null diaObjectId, diaObject and prvDiaForcedSources,
//     about 3 KB smaller.
//
// With stamps, the cutouts are the bytes of the stamp pool's triple
// id.Seq mod StampPool. AppendAlert panics if id is not valid (see
// ID.Validate).
func (g *Generator) AppendAlert(dst []byte, id ID) []byte {
	if err := id.Validate(); err != nil {
		panic(err)
	}
	alertID := id.AlertID()
	// Per-visit values come from their own stream, so that every alert of a
	// visit agrees on them.
	vr := rand.New(rand.NewPCG(g.seedA, splitmix(uint64(id.Visit)^0x7151_7000)))
	band := vr.IntN(6)
	pointRA, pointDec := footprintPosition(vr)
	mjd := surveyStartMjd + (float64(id.Visit)*visitSeconds+exposureSecs/2)/86400

	rng := rand.New(rand.NewPCG(g.seedA^splitmix(uint64(alertID)), splitmix(uint64(id.CCD)^0xcc_d000)))
	x := rng.Float64() * ccdPixels
	y := rng.Float64() * ccdPixels
	dx, dy := ccdOffset(id.CCD)
	dx += (x/ccdPixels - 0.5) * ccdDeg
	dy += (y/ccdPixels - 0.5) * ccdDeg
	dec := clamp(pointDec+dy, -89.9, 89.9)
	ra := math.Mod(pointRA+dx/math.Cos(dec*deg)+360, 360)

	isSS := rng.Float64() < 0.03
	src := sourceParams{
		id: alertID, ccdVisitID: id.CCDVisitID(), mjd: mjd, band: band,
		ra: ra, dec: dec, x: x, y: y,
		flux: signedLogNormal(rng), isSS: isSS,
	}
	if isSS {
		src.ssObjectID = historyID(rng)
	} else {
		src.objectID = historyID(rng)
	}
	dst = appendLong(dst, alertID)
	dst, st := appendDiaSource(dst, rng, src)
	dst = g.appendHistory(dst, rng, src, st)
	if !g.o.Stamps {
		return append(dst, unionNull, unionNull, unionNull)
	}
	t := &g.pool[id.Seq%len(g.pool)]
	for _, c := range [3][]byte{t.difference, t.science, t.template} {
		dst = appendBytes(append(dst, unionSecond), c)
	}
	return dst
}

const deg = math.Pi / 180

// ccdOffset returns the centre of CCD ccd on the focal plane, in degrees
// from the boresight: 21 rafts of 3 x 3 CCDs on a 5 x 5 grid without its
// corners.
func ccdOffset(ccd int) (dx, dy float64) {
	raft, sensor := ccd/9, ccd%9
	// raft positions on the 5 x 5 grid, skipping the 4 corners
	pos := raft + 1
	if raft >= 3 {
		pos++
	}
	if raft >= 18 {
		pos++
	}
	rc, rr := pos%5, pos/5
	sc, sr := sensor%3, sensor/3
	dx = (float64(rc)-2)*3*ccdDeg + (float64(sc)-1)*ccdDeg
	dy = (float64(rr)-2)*3*ccdDeg + (float64(sr)-1)*ccdDeg
	return dx, dy
}

// sourceParams are the inputs of one DiaSource.
type sourceParams struct {
	id, ccdVisitID       int64
	objectID, ssObjectID int64 // 0 = none
	mjd                  float64
	band                 int
	ra, dec, x, y        float64
	flux                 float64 // psfFlux, nJy
	isSS                 bool
}

// sourceStats are what the DiaObject summary needs of a DiaSource.
type sourceStats struct {
	band          int
	flux, fluxErr float32
}

// appendDiaSource appends the lsst.testbed.DiaSource for p, its fields in
// the schema's order (which is also the order of the random draws).
func appendDiaSource(dst []byte, rng *rand.Rand, p sourceParams) ([]byte, sourceStats) {
	bn := bandNoise[p.band]
	fluxErr := math.Hypot(120*bn*math.Exp(0.15*rng.NormFloat64()), 0.02*p.flux)
	psfFlux, psfFluxErr := float32(p.flux), float32(fluxErr)
	snr := psfFlux / psfFluxErr
	posErrDeg := math.Max(0.7/math.Abs(float64(snr)), 0.01) / 3600
	host := 0.0
	if rng.Float64() < 0.6 {
		host = math.Exp(math.Log(3000) + 1.2*rng.NormFloat64())
	}
	templateErr := 40 * bn
	edge := p.x < 20 || p.y < 20 || p.x > ccdPixels-20 || p.y > ccdPixels-20
	cr := rng.Float64() < 0.02
	sat := rng.Float64() < 0.01
	reliability := 1 / (1 + math.Exp(-(2.5 + 2*rng.NormFloat64())))
	ndata := int32(200 + rng.IntN(200))
	chi := 1 + 0.1*rng.NormFloat64()

	extendedness, hasExtendedness := 0.0, rng.Float64() >= 0.1
	if hasExtendedness {
		extendedness = 0.05 * rng.Float64()
		if host > 0 {
			extendedness = 0.8 + 0.2*rng.Float64()
		}
	}
	parent := int64(0)
	if rng.Float64() < 0.05 {
		parent = historyID(rng)
	}
	trail := 0.0
	if p.isSS {
		trail = 0.5 + 4.5*rng.Float64()
	}
	raErr, decErr := posErrDeg*(1+0.1*rng.NormFloat64()), posErrDeg*(1+0.1*rng.NormFloat64())

	dst = appendLong(dst, p.id)
	dst = appendLong(dst, p.ccdVisitID)
	dst = appendOptLong(dst, p.objectID)
	dst = appendOptLong(dst, p.ssObjectID)
	dst = appendOptLong(dst, parent)
	dst = appendDouble(dst, p.mjd)
	dst = appendString(dst, bands[p.band])
	dst = appendDouble(dst, p.ra)
	dst = appendSomeFloat(dst, raErr)
	dst = appendDouble(dst, p.dec)
	dst = appendSomeFloat(dst, decErr)
	dst = appendSomeFloat(dst, raErr*decErr*0.1*rng.NormFloat64()) // ra_dec_Cov
	dst = appendSomeFloat(dst, p.x)
	dst = appendSomeFloat(dst, raErr/pixelScaleDeg) // xErr
	dst = appendSomeFloat(dst, p.y)
	dst = appendSomeFloat(dst, decErr/pixelScaleDeg)              // yErr
	dst = appendSomeBool(dst, rng.Float64() < 0.01)               // centroid_flag
	dst = appendSomeFloat(dst, p.flux*(1+0.05*rng.NormFloat64())) // apFlux
	dst = appendSomeFloat(dst, fluxErr*1.15)                      // apFluxErr
	dst = appendFloat(append(dst, unionSecond), psfFlux)
	dst = appendFloat(append(dst, unionSecond), psfFluxErr)
	dst = appendSomeFloat(dst, float64(ndata)*chi*chi) // psfChi2
	dst = appendLong(append(dst, unionSecond), int64(ndata))
	dst = appendFloat(append(dst, unionSecond), snr)
	dst = appendSomeFloat(dst, host+p.flux) // scienceFlux
	dst = appendSomeFloat(dst, math.Hypot(fluxErr/math.Sqrt2, 0.02*(host+p.flux)))
	dst = appendSomeFloat(dst, host) // templateFlux
	dst = appendSomeFloat(dst, templateErr)
	if hasExtendedness {
		dst = appendSomeFloat(dst, extendedness)
	} else {
		dst = append(dst, unionNull)
	}
	dst = appendSomeFloat(dst, reliability)
	dst = appendSomeBool(dst, rng.Float64() < 0.05) // isDipole
	dst = appendSomeBool(dst, p.flux < 0)           // isNegative
	if p.isSS {
		dst = appendSomeFloat(dst, trail) // trailLength
	} else {
		dst = append(dst, unionNull)
	}
	dst = appendSomeBool(dst, edge || cr || sat) // pixelFlags
	dst = appendSomeBool(dst, cr)
	dst = appendSomeBool(dst, edge)
	dst = appendSomeBool(dst, sat)
	dst = appendDouble(dst, p.mjd+(30+60*rng.Float64())/86400) // timeProcessedMjdTai
	return dst, sourceStats{band: p.band, flux: psfFlux, fluxErr: psfFluxErr}
}

// bandAcc accumulates the per-band summary of a DiaObject.
type bandAcc struct {
	n          int
	sw, swf    float64 // sum of weights 1/err^2, of weight*flux
	sum, sumSq float64 // of fluxes, for the standard deviation
	fpN        int
	fpSw       float64
	fpSwf      float64
}

func (b *bandAcc) add(flux, fluxErr float32) {
	w := 1 / (float64(fluxErr) * float64(fluxErr))
	b.n++
	b.sw += w
	b.swf += w * float64(flux)
	b.sum += float64(flux)
	b.sumSq += float64(flux) * float64(flux)
}

func (b *bandAcc) addForced(flux, fluxErr float32) {
	w := 1 / (float64(fluxErr) * float64(fluxErr))
	b.fpN++
	b.fpSw += w
	b.fpSwf += w * float64(flux)
}

// appendHistory appends prvDiaSources and, for DiaObjects (not
// solar-system objects, which move), prvDiaForcedSources and diaObject;
// nulls where there are none.
func (g *Generator) appendHistory(dst []byte, rng *rand.Rand, cur sourceParams, curStats sourceStats) []byte {
	var acc [6]bandAcc
	acc[curStats.band].add(curStats.flux, curStats.fluxErr)
	first := cur.mjd

	// The object varies around a mean difference flux; its earlier
	// detections are spread over the past year. A solar-system object
	// moves along a track at up to a degree a day.
	meanFlux := cur.flux * math.Exp(0.3*rng.NormFloat64())
	var rateRA, rateDec float64
	if cur.isSS {
		rateRA, rateDec = rng.NormFloat64()*0.3, rng.NormFloat64()*0.1
	}
	var mjdBuf [64]float64 // the default histories' times, without an allocation
	if n := g.o.PrvDiaSources; n > 0 {
		mjds := pastMjds(mjdBuf[:0], rng, cur.mjd, n)
		first = mjds[0]
		dst = appendLong(append(dst, unionSecond), int64(n)) // one block of n items
		for _, m := range mjds {
			visit := historyVisit + rng.IntN(historyVisit)
			ccd := rng.IntN(NumCCDs)
			dt := m - cur.mjd
			p := sourceParams{
				id: historyID(rng), ccdVisitID: int64(visit)*1000 + int64(ccd),
				objectID: cur.objectID, ssObjectID: cur.ssObjectID, isSS: cur.isSS,
				mjd: m, band: rng.IntN(6),
				ra:  math.Mod(cur.ra+rateRA*dt+0.1/3600*rng.NormFloat64()+720, 360),
				dec: clamp(cur.dec+rateDec*dt+0.1/3600*rng.NormFloat64(), -89.9, 89.9),
				x:   rng.Float64() * ccdPixels, y: rng.Float64() * ccdPixels,
				flux: meanFlux * math.Exp(0.3*rng.NormFloat64()),
			}
			var st sourceStats
			dst, st = appendDiaSource(dst, rng, p)
			acc[st.band].add(st.flux, st.fluxErr)
		}
		dst = appendLong(dst, 0) // the empty block that ends an array
	} else {
		dst = append(dst, unionNull)
	}
	if cur.isSS {
		return append(dst, unionNull, unionNull) // prvDiaForcedSources, diaObject
	}
	if n := g.o.PrvDiaForcedSources; n > 0 {
		mjds := pastMjds(mjdBuf[:0], rng, cur.mjd, n)
		first = math.Min(first, mjds[0])
		dst = appendLong(append(dst, unionSecond), int64(n))
		for _, m := range mjds {
			b := rng.IntN(6)
			visit := historyVisit + rng.IntN(historyVisit)
			errF := float32(120 * bandNoise[b] * math.Exp(0.15*rng.NormFloat64()))
			flux := float32(0.3*meanFlux + float64(errF)*rng.NormFloat64())
			acc[b].addForced(flux, errF)
			dst = appendLong(dst, historyID(rng)) // diaForcedSourceId
			dst = appendLong(dst, cur.objectID)
			dst = appendLong(dst, int64(visit)*1000+int64(rng.IntN(NumCCDs))) // ccdVisitId
			dst = appendDouble(dst, m)
			dst = appendString(dst, bands[b])
			dst = appendDouble(dst, cur.ra)
			dst = appendDouble(dst, cur.dec)
			dst = appendFloat(append(dst, unionSecond), flux)
			dst = appendFloat(append(dst, unionSecond), errF)
		}
		dst = appendLong(dst, 0)
	} else {
		dst = append(dst, unionNull)
	}

	const posErr = 0.05 / 3600
	dst = append(dst, unionSecond) // the diaObject
	dst = appendLong(dst, cur.objectID)
	dst = appendDouble(dst, cur.ra)
	dst = appendSomeFloat(dst, posErr)
	dst = appendDouble(dst, cur.dec)
	dst = appendSomeFloat(dst, posErr)
	dst = appendSomeFloat(dst, posErr*posErr*0.1*rng.NormFloat64()) // ra_dec_Cov
	dst = appendDouble(append(dst, unionSecond), cur.mjd)           // radecMjdTai
	dst = appendLong(dst, int64(g.o.PrvDiaSources+1))               // nDiaSources
	dst = appendDouble(append(dst, unionSecond), first)
	dst = appendDouble(append(dst, unionSecond), cur.mjd)
	for b := range bands {
		s := &acc[b]
		if s.n > 0 {
			dst = appendSomeFloat(dst, s.swf/s.sw)        // psfFluxMean
			dst = appendSomeFloat(dst, 1/math.Sqrt(s.sw)) // psfFluxMeanErr
			if s.n > 1 {
				m := s.sum / float64(s.n)
				dst = appendSomeFloat(dst, math.Sqrt(math.Max(s.sumSq/float64(s.n)-m*m, 0))) // psfFluxSigma
			} else {
				dst = append(dst, unionNull)
			}
			dst = appendLong(append(dst, unionSecond), int64(s.n)) // psfFluxNdata
		} else {
			dst = append(dst, unionNull, unionNull, unionNull, unionNull)
		}
		if s.fpN > 0 {
			dst = appendSomeFloat(dst, s.fpSwf/s.fpSw)
			dst = appendSomeFloat(dst, 1/math.Sqrt(s.fpSw))
		} else {
			dst = append(dst, unionNull, unionNull)
		}
	}
	return appendSomeBool(dst, true) // isStationary
}

// pastMjds appends n sorted times within the year before mjd to buf.
func pastMjds(buf []float64, rng *rand.Rand, mjd float64, n int) []float64 {
	for range n {
		buf = append(buf, mjd-0.5-364.5*rng.Float64())
	}
	slices.Sort(buf)
	return buf
}

// footprintPosition draws a position uniformly over the sky between Dec -70
// and +5 degrees, about the LSST wide-fast-deep footprint.
func footprintPosition(rng *rand.Rand) (ra, dec float64) {
	lo, hi := math.Sin(-70*deg), math.Sin(5*deg)
	return rng.Float64() * 360, math.Asin(lo+rng.Float64()*(hi-lo)) / deg
}

// signedLogNormal draws a difference-image flux in nJy: log-normal
// magnitude (median 1500 nJy, about 23.0 AB mag), negative 15% of the time.
func signedLogNormal(rng *rand.Rand) float64 {
	f := math.Exp(math.Log(1500) + 0.9*rng.NormFloat64())
	if rng.Float64() < 0.15 {
		f = -f
	}
	return f
}

func historyID(rng *rand.Rand) int64 {
	return historyIDBase + rng.Int64N(math.MaxInt64-historyIDBase)
}

// Union branch indexes of the schema's nullable fields, ["null", T], as
// the one byte of their zig-zag encoding: 0 for null, 2 for index 1.
const (
	unionNull   byte = 0
	unionSecond byte = 2
)

func appendFloat(dst []byte, v float32) []byte {
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
}

func appendDouble(dst []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
}

// appendSomeFloat appends a ["null", "float"] union holding v.
func appendSomeFloat(dst []byte, v float64) []byte {
	return appendFloat(append(dst, unionSecond), float32(v))
}

// appendSomeBool appends a ["null", "boolean"] union holding v.
func appendSomeBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, unionSecond, 1)
	}
	return append(dst, unionSecond, 0)
}

// appendOptLong appends a ["null", "long"] union: null for 0 (the
// generator's ids are never 0).
func appendOptLong(dst []byte, v int64) []byte {
	if v == 0 {
		return append(dst, unionNull)
	}
	return appendLong(append(dst, unionSecond), v)
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// splitmix is the SplitMix64 finalizer: a cheap, well-mixed hash of x.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
