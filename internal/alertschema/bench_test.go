package alertschema

import (
	"context"
	"testing"

	"github.com/alert-testbed/testbed/agents/alert"
)

// BenchmarkRubinSerialize generates and encodes alerts of Rubin's newest
// schema (lsst.v11_1), with and without stamps, framed: what a producer of
// a `schema: rubin` run does per alert (SchemaGenerator.AppendAlert). It
// reports alerts/s and MB/s.
func BenchmarkRubinSerialize(b *testing.B) {
	s, err := Resolve(context.Background(), Rubin, ".", repoCache(b))
	if err != nil {
		b.Fatal(err)
	}
	codec, err := alert.NewCodecForSchema(s.ID, s.JSON)
	if err != nil {
		b.Fatal(err)
	}
	for _, stamps := range []bool{true, false} {
		name := "stamps"
		if !stamps {
			name = "no-stamps"
		}
		b.Run(name, func(b *testing.B) {
			o := alert.DefaultOptions()
			o.Stamps = stamps
			g, err := alert.NewSchemaGenerator(s.JSON, o)
			if err != nil {
				b.Fatal(err)
			}
			var buf []byte
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				buf = g.AppendAlert(alert.Frame(buf[:0], codec.SchemaID(), nil), alert.ID{Visit: 1 + i/10000, Seq: i % 10000, CCD: i % 189})
			}
			b.SetBytes(int64(len(buf)))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}
