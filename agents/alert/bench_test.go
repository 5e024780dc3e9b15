package alert

import (
	"testing"
)

func benchOptions(stamps bool) Options {
	o := DefaultOptions()
	o.Stamps = stamps
	return o
}

var benchCases = []struct {
	name   string
	stamps bool
}{{"stamps", true}, {"no-stamps", false}}

// reportRate adds alerts/s; b.SetBytes makes the testing package report MB/s
// (1 MB = 1e6 bytes) of framed alerts.
func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
}

// BenchmarkSerialize generates and encodes one framed alert per
// iteration, as a producer does (AppendAlert into a reused buffer; stamps
// come from the pool). The target: 20,000 alerts/s per core
// without stamps, 10,000 with.
func BenchmarkSerialize(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			g := mustGen(b, benchOptions(bc.stamps))
			buf := g.AppendAlert(Frame(nil, 1, nil), ID{})
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := ID{Visit: i / 10000, Producer: 1, Seq: i % 10000, CCD: i % NumCCDs}
				buf = g.AppendAlert(Frame(buf[:0], 1, nil), id)
			}
			reportRate(b)
		})
	}
}

// BenchmarkSerializeNative encodes one pre-generated alert in goavro's
// native form per iteration: the path producers took before AppendAlert,
// kept to show what it cost.
func BenchmarkSerializeNative(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			g := mustGen(b, benchOptions(bc.stamps))
			c := mustCodec(b, 1)
			a := g.Alert(ID{Visit: 1, Seq: 1})
			buf, err := c.Append(nil, a)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if buf, err = c.Append(buf[:0], a); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b)
		})
	}
}

// BenchmarkDecode parses one framed alert per iteration, as a consumer or
// filter does.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			g := mustGen(b, benchOptions(bc.stamps))
			c := mustCodec(b, 1)
			buf := g.AppendAlert(Frame(nil, 1, nil), ID{Visit: 1, Seq: 1})
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Decode(buf); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b)
		})
	}
}

// BenchmarkPlain converts a decoded default alert for filter expressions.
func BenchmarkPlain(b *testing.B) {
	g := mustGen(b, DefaultOptions())
	c := mustCodec(b, 1)
	buf, err := c.Append(nil, g.Alert(ID{Visit: 1, Seq: 1}))
	if err != nil {
		b.Fatal(err)
	}
	a, err := c.Decode(buf)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if p := Plain(a); len(p) == 0 {
			b.Fatal("empty")
		}
	}
	reportRate(b)
}

// BenchmarkNewGenerator measures making the default stamp pool.
func BenchmarkNewGenerator(b *testing.B) {
	for i := 0; i < b.N; i++ {
		mustGen(b, DefaultOptions())
	}
}
