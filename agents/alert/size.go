package alert

import "math"

// SizeOptions returns DefaultOptions adjusted so that the average framed
// alert is about targetBytes long (KB = 1000 bytes), with or without
// stamps. With stamps it picks the StampSide whose three cutouts, with the
// default history, come closest to the target; then, since cutout sizes
// move in steps of 3 x 2880 bytes, it adds or removes earlier detections
// (prvDiaSources, about 170 bytes each; then forced measurements, about 60
// bytes each) to come within about 100 bytes of the target. Without stamps only the history is adjusted. Targets below
// the smallest possible alert (about 300 bytes, or three 8 x 8 cutouts of
// 5,760 bytes each with stamps) give the smallest alert; targets above the
// largest give the largest.
func SizeOptions(targetBytes int, stamps bool) Options {
	o := DefaultOptions()
	o.Stamps = stamps
	p0, f0 := o.PrvDiaSources, o.PrvDiaForcedSources
	base := meanNoStampSize(o.Seed, p0, f0)
	perSource := (meanNoStampSize(o.Seed, p0+16, f0) - base) / 16
	perForced := (meanNoStampSize(o.Seed, p0, f0+16) - base) / 16

	room := float64(targetBytes) // for everything but the stamps
	if stamps {
		// The side whose stamps come closest to the room left by the
		// default history (the largest of equally close sides: it wastes
		// the least padding).
		side, best := MinStampSide, math.Inf(1)
		for s := MinStampSide; s <= MaxStampSide; s++ {
			if d := math.Abs(room - base - stampBytes(s)); d <= best {
				side, best = s, d
			}
		}
		o.StampSide = side
		room -= stampBytes(side)
	}

	// Fit the history to the room: a few Newton steps on measured sizes.
	p, f, size := p0, f0, base
	for range 4 {
		diff := room - size
		if math.Abs(diff) < perSource/2 {
			break
		}
		np, nf := p+int(math.Round(diff/perSource)), f
		if np < 0 {
			np = 0
			nf = max(0, f+int(math.Round((diff+float64(p)*perSource)/perForced)))
		}
		np = min(np, MaxPrvDiaSources)
		if np == p && nf == f {
			break
		}
		p, f = np, nf
		size = meanNoStampSize(o.Seed, p, f)
	}
	o.PrvDiaSources, o.PrvDiaForcedSources = p, f
	return o
}

// stampBytes is what three side x side cutouts add to an alert: each
// cutout and its length (a zig-zag varint); the union index byte is there
// with or without stamps.
func stampBytes(side int) float64 {
	n := CutoutSize(side)
	return 3 * float64(n+varintLen(int64(n)))
}

func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

// meanNoStampSize is the mean framed size of 128 alerts without stamps.
func meanNoStampSize(seed int64, prv, forced int) float64 {
	g, err := NewGenerator(Options{Seed: seed, PrvDiaSources: prv, PrvDiaForcedSources: forced})
	if err != nil {
		panic(err) // the callers keep prv and forced within the limits
	}
	var buf []byte
	total := 0
	const n = 128
	for i := 0; i < n; i++ {
		buf = g.AppendAlert(Frame(buf[:0], 0, nil), ID{Visit: i, Producer: i % 7, Seq: i, CCD: i % NumCCDs})
		total += len(buf)
	}
	return float64(total) / n
}
