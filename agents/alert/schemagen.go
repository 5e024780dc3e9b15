package alert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/linkedin/goavro/v2"
)

// SchemaGenerator makes alerts for any Avro record schema, such as Rubin's
// published ones (lsst.vMAJOR_MINOR.alert): every field gets a plausible,
// seeded value chosen by its name and type, and the three cutouts are valid
// FITS images. The rules, by field name (case ignored):
//   - alertId and diaSourceId of the alert: ID.AlertID(); other ids (a
//     name ending in "id"): drawn from 10^18 up, a diaObjectId the same
//     within one alert; visit: the alert's visit; detector: ID.CCD (0-188);
//   - ra and dec: a position in the survey footprint (RA 0-360, Dec -70 to
//     +5), the same for every source of one alert; their errors small;
//   - band: one of ugrizy per visit; a name with "mjd": the visit's MJD
//     (earlier ones in the histories); a timestamp logical type: now;
//   - fluxes: log-normal in nJy, negative for 15% (difference images);
//     flux errors about 120 nJy by band; snr their ratio, one source per
//     record (every flux field of a record has its value); x and y: a pixel;
//   - counts (a name starting with "n" and an int): 1 to 50; reliability
//     and other bounded scores in [0, 1]; flags (booleans): true for 2%;
//   - prvDiaSources and prvDiaForcedSources: Options.PrvDiaSources and
//     PrvDiaForcedSources entries (null when 0); any other array: empty;
//   - a nullable diaObject is set for 97% of the alerts; the solar-system
//     records (ssSource, ssObject, mpc_orbits and the like) for the other
//     3%; other nullable fields are null at Options.NullRate.
//
// AppendAlert writes the alert's Avro binary encoding straight from the
// schema, without goavro's native form (maps of every record, then
// goavro walking them): what producers send. Alert returns goavro's native
// form of the same bytes. It is safe for concurrent use.
type SchemaGenerator struct {
	o     Options
	root  *avroType
	pool  []stampTriple
	seedA uint64
	avro  *goavro.Codec    // for Alert
	now   func() time.Time // timestamp fields' value; time.Now but in tests
}

// avroType is a parsed schema node.
type avroType struct {
	kind     string // record, array, map, union, enum, fixed, or a primitive
	name     string // full name of a named type
	logical  string
	fields   []avroField
	items    *avroType // array items, map values
	branches []*avroType
	symbols  []string
	size     int
}

type avroField struct {
	name string
	t    *avroType
	rule *fieldRule
}

// fieldRule is what the generator's rules make of a field's name, worked
// out once when the schema is parsed: the rules look at the lowercased
// name, and doing that per value was a quarter of the generator's time.
type fieldRule struct {
	name  string // as in the schema
	lower string
	num   numRule
	// For strings: band; for bytes: which cutout (a stampTriple field).
	band   bool
	cutout cutoutKind
	// For nullable fields (isNull).
	null nullRule
	// solarSystem: the name says solar-system data (ss*, mpc, orbit).
	solarSystem bool
}

type numRule uint8

const (
	numDefault     numRule = iota
	numAlertID             // alertid: the alert's id at the top
	numDiaSourceID         // diasourceid: the alert's id outside histories
	numDiaObjectID
	numVisit
	numDetector
	numOtherID // another name ending in "id"
	numRA
	numDec
	numPositionErr // ra*err, dec*err
	numMJD
	numFluxErr
	numFlux
	numSNR
	numPixel // x, y
	numErr   // another *err
	numCount // n*, an int
	numScore // reliability, *score*, *prob*, *fraction*
)

type cutoutKind uint8

const (
	noCutout cutoutKind = iota
	cutoutDifference
	cutoutScience
	cutoutTemplate
)

type nullRule uint8

const (
	nullAtRate nullRule = iota
	nullCutout
	nullPrvDiaSources
	nullPrvDiaForcedSources
	nullDiaObject
	nullSSID // ssobjectid, ssobjectreassoctime
	nullDiaObjectID
)

// newFieldRule classifies a field name by the rules of SchemaGenerator.
func newFieldRule(name string) *fieldRule {
	n := strings.ToLower(name)
	r := &fieldRule{name: name, lower: n, solarSystem: strings.HasPrefix(n, "ss") || strings.Contains(n, "mpc") || strings.Contains(n, "orbit")}
	switch {
	case n == "alertid":
		r.num = numAlertID
	case n == "diasourceid":
		r.num = numDiaSourceID
	case n == "diaobjectid":
		r.num = numDiaObjectID
	case n == "visit":
		r.num = numVisit
	case n == "detector":
		r.num = numDetector
	case strings.HasSuffix(n, "id"):
		r.num = numOtherID
	case n == "ra":
		r.num = numRA
	case n == "dec":
		r.num = numDec
	case strings.HasPrefix(n, "ra") && strings.HasSuffix(n, "err"), strings.HasPrefix(n, "dec") && strings.HasSuffix(n, "err"):
		r.num = numPositionErr
	case strings.Contains(n, "mjd"):
		r.num = numMJD
	case strings.Contains(n, "flux") && strings.Contains(n, "err"):
		r.num = numFluxErr
	case strings.Contains(n, "flux"):
		r.num = numFlux
	case n == "snr":
		r.num = numSNR
	case n == "x" || n == "y":
		r.num = numPixel
	case strings.HasSuffix(n, "err"):
		r.num = numErr
	case strings.HasPrefix(n, "n"):
		r.num = numCount
	case n == "reliability" || strings.Contains(n, "score") || strings.Contains(n, "prob") || strings.Contains(n, "fraction"):
		r.num = numScore
	}
	r.band = n == "band" || n == "filtername"
	switch {
	case strings.Contains(n, "difference"):
		r.cutout = cutoutDifference
	case strings.Contains(n, "science"):
		r.cutout = cutoutScience
	case strings.Contains(n, "template"):
		r.cutout = cutoutTemplate
	}
	switch {
	case strings.HasPrefix(n, "cutout"):
		r.null = nullCutout
	case n == "prvdiasources":
		r.null = nullPrvDiaSources
	case n == "prvdiaforcedsources":
		r.null = nullPrvDiaForcedSources
	case n == "diaobject":
		r.null = nullDiaObject
	case n == "ssobjectid" || n == "ssobjectreassoctime":
		r.null = nullSSID
	case n == "diaobjectid":
		r.null = nullDiaObjectID
	}
	return r
}

// NewSchemaGenerator parses schema (a self-contained Avro record schema)
// and makes the stamp pool.
func NewSchemaGenerator(schema string, o Options) (*SchemaGenerator, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal([]byte(schema), &v); err != nil {
		return nil, fmt.Errorf("alert: schema is not JSON: %w", err)
	}
	named := map[string]*avroType{}
	root, err := parseType(v, "", named)
	if err != nil {
		return nil, fmt.Errorf("alert: schema: %w", err)
	}
	if root.kind != "record" {
		return nil, fmt.Errorf("alert: schema is a %s, not a record", root.kind)
	}
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		return nil, fmt.Errorf("alert: schema: %w", err)
	}
	g := &SchemaGenerator{o: o, root: root, seedA: splitmix(uint64(o.Seed) ^ 0x5c4e_3a6e), avro: codec, now: time.Now}
	g.pool = stampPool(o, g.seedA)
	return g, nil
}

func parseType(v any, ns string, named map[string]*avroType) (*avroType, error) {
	switch x := v.(type) {
	case string:
		switch x {
		case "null", "boolean", "int", "long", "float", "double", "bytes", "string":
			return &avroType{kind: x}, nil
		}
		name := x
		if !strings.Contains(name, ".") && ns != "" {
			name = ns + "." + name
		}
		if t, ok := named[name]; ok {
			return t, nil
		}
		if t, ok := named[x]; ok {
			return t, nil
		}
		return nil, fmt.Errorf("type %q is used before it is defined", x)
	case []any:
		u := &avroType{kind: "union"}
		for _, b := range x {
			bt, err := parseType(b, ns, named)
			if err != nil {
				return nil, err
			}
			u.branches = append(u.branches, bt)
		}
		return u, nil
	case map[string]any:
		kind, _ := x["type"].(string)
		if kind == "" {
			return parseType(x["type"], ns, named)
		}
		t := &avroType{kind: kind}
		t.logical, _ = x["logicalType"].(string)
		switch kind {
		case "record", "error", "enum", "fixed":
			name, _ := x["name"].(string)
			if !strings.Contains(name, ".") {
				if n, ok := x["namespace"].(string); ok && n != "" {
					ns = n
				}
				if ns != "" {
					name = ns + "." + name
				}
			}
			t.name = name
			if kind == "error" {
				t.kind = "record"
			}
			named[name] = t
			if i := strings.LastIndex(name, "."); i >= 0 {
				ns = name[:i]
			}
			switch kind {
			case "enum":
				for _, s := range x["symbols"].([]any) {
					t.symbols = append(t.symbols, s.(string))
				}
			case "fixed":
				size, _ := x["size"].(float64)
				t.size = int(size)
			default:
				fields, _ := x["fields"].([]any)
				for _, f := range fields {
					fm := f.(map[string]any)
					ft, err := parseType(fm["type"], ns, named)
					if err != nil {
						return nil, fmt.Errorf("%s.%v: %w", name, fm["name"], err)
					}
					t.fields = append(t.fields, avroField{name: fm["name"].(string), t: ft, rule: newFieldRule(fm["name"].(string))})
				}
			}
		case "array":
			items, err := parseType(x["items"], ns, named)
			if err != nil {
				return nil, err
			}
			t.items = items
		case "map":
			values, err := parseType(x["values"], ns, named)
			if err != nil {
				return nil, err
			}
			t.items = values
		}
		return t, nil
	}
	return nil, fmt.Errorf("unexpected %T", v)
}

// genState is what the values of one alert share.
type genState struct {
	id                 ID
	rng                *rand.Rand
	band               int
	ra, dec            float64
	mjd                float64
	objectID           int64
	isSS               bool
	history            bool    // inside prvDiaSources or prvDiaForcedSources
	flux, fluxErr      float64 // the current record's source, nJy
	stamps             *stampTriple
	nullRate           float64
	prvSources, prvFcd int
}

// Alert returns the alert for id in goavro's native form: AppendAlert's
// bytes decoded. It panics if id is not valid (see ID.Validate).
func (g *SchemaGenerator) Alert(id ID) map[string]any {
	v, _, err := g.avro.NativeFromBinary(g.AppendAlert(nil, id))
	if err != nil {
		panic(fmt.Sprintf("alert: a generated alert does not decode: %v", err))
	}
	return v.(map[string]any)
}

// AppendAlert appends the Avro binary encoding of the alert for id to dst
// (no wire-format header: see Frame); deterministic for (Seed, id) but
// for timestamp fields (now). It panics if id is not valid (see
// ID.Validate).
func (g *SchemaGenerator) AppendAlert(dst []byte, id ID) []byte {
	if err := id.Validate(); err != nil {
		panic(err)
	}
	vr := rand.New(rand.NewPCG(g.seedA, splitmix(uint64(id.Visit)^0x7151_7000)))
	st := &genState{id: id, band: vr.IntN(6), nullRate: g.o.NullRate,
		mjd:        surveyStartMjd + (float64(id.Visit)*visitSeconds+exposureSecs/2)/86400,
		prvSources: g.o.PrvDiaSources, prvFcd: g.o.PrvDiaForcedSources}
	st.ra, st.dec = footprintPosition(vr)
	st.rng = rand.New(rand.NewPCG(g.seedA^splitmix(uint64(id.AlertID())), splitmix(uint64(id.CCD)^0xcc_d000)))
	st.ra = math.Mod(st.ra+(st.rng.Float64()-0.5)*3.5+360, 360)
	st.dec = clamp(st.dec+(st.rng.Float64()-0.5)*3.5, -89.9, 89.9)
	st.isSS = st.rng.Float64() < 0.03
	st.objectID = historyID(st.rng)
	if g.o.Stamps {
		st.stamps = &g.pool[id.Seq%len(g.pool)]
	}
	return g.record(dst, g.root, st, 0)
}

// The Avro binary encoding's primitives (the specification's "Binary
// encoding"): int and long as zig-zag varints, float and double as
// little-endian IEEE 754, bytes and string as a long length then the bytes.
func appendLong(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

func appendBytes(dst, b []byte) []byte { return append(appendLong(dst, int64(len(b))), b...) }

func appendString(dst []byte, s string) []byte {
	return append(appendLong(dst, int64(len(s))), s...)
}

func (g *SchemaGenerator) record(dst []byte, t *avroType, st *genState, depth int) []byte {
	// One source's measurements per record: its fluxes, their error and
	// the signal-to-noise ratio agree.
	flux, fluxErr := st.flux, st.fluxErr
	st.flux = signedLogNormal(st.rng)
	st.fluxErr = diffNoiseNJy * bandNoise[st.band] * (0.8 + 0.4*st.rng.Float64())
	for _, f := range t.fields {
		dst = g.value(dst, f.rule, f.t, st, depth+1)
	}
	st.flux, st.fluxErr = flux, fluxErr // the enclosing record's source again
	return dst
}

// value appends the encoding of field f's value of type t.
func (g *SchemaGenerator) value(dst []byte, f *fieldRule, t *avroType, st *genState, depth int) []byte {
	switch t.kind {
	case "union":
		// The value is the first branch that is not null, or null: a
		// union is encoded as the branch's index, then its value.
		null, other := -1, -1
		for i, b := range t.branches {
			if b.kind == "null" {
				if null < 0 {
					null = i
				}
			} else if other < 0 {
				other = i
			}
		}
		if other < 0 {
			return appendLong(dst, int64(null))
		}
		if null >= 0 && g.isNull(f, t.branches[other], st, depth) {
			return appendLong(dst, int64(null))
		}
		return g.value(appendLong(dst, int64(other)), f, t.branches[other], st, depth)
	case "record":
		return g.record(dst, t, st, depth)
	case "array":
		count := 0
		switch f.null {
		case nullPrvDiaSources:
			count = st.prvSources
		case nullPrvDiaForcedSources:
			count = st.prvFcd
		}
		if count > 0 {
			// One block of count items, then the empty block.
			dst = appendLong(dst, int64(count))
			was := st.history
			st.history = true
			for range count {
				dst = g.value(dst, f, t.items, st, depth)
			}
			st.history = was
		}
		return appendLong(dst, 0)
	case "map":
		return appendLong(dst, 0) // empty
	case "enum":
		return appendLong(dst, int64(st.rng.IntN(len(t.symbols))))
	case "fixed":
		for range t.size {
			dst = append(dst, byte(st.rng.IntN(256)))
		}
		return dst
	case "null":
		return dst
	case "boolean":
		if st.rng.Float64() < 0.02 {
			return append(dst, 1)
		}
		return append(dst, 0)
	case "bytes":
		if st.stamps != nil {
			switch f.cutout {
			case cutoutDifference:
				return appendBytes(dst, st.stamps.difference)
			case cutoutScience:
				return appendBytes(dst, st.stamps.science)
			case cutoutTemplate:
				return appendBytes(dst, st.stamps.template)
			}
		}
		return appendLong(dst, 0)
	case "string":
		if f.band {
			return appendString(dst, bands[st.band])
		}
		dst = appendLong(dst, int64(len(f.name)+2))
		return append(append(append(dst, f.name...), '-'), byte('0'+st.rng.IntN(10)))
	}
	switch t.logical {
	case "timestamp-millis":
		return appendLong(dst, g.now().UnixMilli())
	case "timestamp-micros":
		return appendLong(dst, g.now().Truncate(time.Millisecond).UnixMicro())
	}
	return g.number(dst, f, t.kind, st, depth)
}

// isNull decides a nullable field: the cutouts by Options.Stamps, the
// histories by their lengths, diaObject and the solar-system records by
// the kind of alert, anything else at Options.NullRate.
func (g *SchemaGenerator) isNull(f *fieldRule, t *avroType, st *genState, depth int) bool {
	switch {
	case f.null == nullCutout:
		return st.stamps == nil
	case f.null == nullPrvDiaSources:
		return st.prvSources == 0
	case f.null == nullPrvDiaForcedSources:
		return st.prvFcd == 0 || st.isSS
	case f.null == nullDiaObject:
		return st.isSS
	case t.kind == "record" && f.solarSystem:
		return !st.isSS
	case f.null == nullSSID:
		return !st.isSS
	case f.null == nullDiaObjectID:
		return st.isSS
	case depth <= 1 && t.kind == "record":
		return false
	}
	return st.rng.Float64() < st.nullRate
}

// number appends a numeric field's value, chosen by its name's rule, as
// kind (int, long, float, double) encodes it.
func (g *SchemaGenerator) number(dst []byte, f *fieldRule, kind string, st *genState, depth int) []byte {
	rng := st.rng
	var v float64
	var integer int64
	isInt := kind == "int" || kind == "long"
	switch r := f.num; {
	case (r == numAlertID || r == numDiaSourceID) && depth <= 1:
		integer = st.id.AlertID()
	case r == numDiaSourceID && !st.history:
		integer = st.id.AlertID()
	case r == numDiaObjectID:
		integer = st.objectID
	case r == numVisit:
		integer = int64(st.id.Visit)
		if st.history {
			integer = historyVisit + int64(rng.IntN(historyVisit))
		}
	case r == numDetector:
		integer = int64(st.id.CCD)
	case r == numOtherID || r == numAlertID || r == numDiaSourceID:
		integer = historyID(rng)
	case r == numRA:
		v = st.ra
	case r == numDec:
		v = st.dec
	case r == numPositionErr:
		v = 1e-5 + rng.Float64()*1e-4
	case r == numMJD:
		v = st.mjd
		if st.history {
			v -= 1 + rng.Float64()*365
		}
	case r == numFluxErr:
		v = st.fluxErr
	case r == numFlux:
		v = st.flux
	case r == numSNR:
		v = math.Abs(st.flux) / st.fluxErr
	case r == numPixel:
		v = rng.Float64() * ccdPixels
	case r == numErr:
		v = rng.Float64() * 0.1
	case r == numCount && isInt:
		integer = 1 + rng.Int64N(50)
	case r == numScore || (r == numCount && (f.lower == "reliability" || strings.Contains(f.lower, "score") || strings.Contains(f.lower, "prob") || strings.Contains(f.lower, "fraction"))):
		v = rng.Float64()
	default:
		if isInt {
			integer = rng.Int64N(1000)
		} else {
			v = rng.NormFloat64()
		}
	}
	switch kind {
	case "int":
		if integer == 0 && v != 0 {
			integer = int64(v)
		}
		return appendLong(dst, int64(int32(integer)))
	case "long":
		if integer == 0 && v != 0 {
			integer = int64(v)
		}
		return appendLong(dst, integer)
	case "float":
		if v == 0 && integer != 0 {
			v = float64(integer)
		}
		return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(v)))
	}
	if v == 0 && integer != 0 {
		v = float64(integer)
	}
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
}
