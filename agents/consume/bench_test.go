package consume

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/alert/packet"
	"github.com/alert-testbed/testbed/agents/headers"
	"github.com/alert-testbed/testbed/agents/results"
)

// BenchmarkConsume is a member's work per delivery, without Kafka: the
// testbed headers parsed, the visit's bitmap, histogram and offsets
// (results.ConsumerVisit), and in count mode the alert decoded
// (alert-consumer's handler). Alerts of the default schema,
// with stamps; reports deliveries/s on one core.
func BenchmarkConsume(b *testing.B) {
	g, err := alert.NewGenerator(alert.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	codec, err := alert.NewCodec(1)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	value := g.AppendAlert(alert.Frame(nil, 1, nil), alert.ID{Visit: 1})
	typed, err := packet.NewDecoder(1)
	if err != nil {
		b.Fatal(err)
	}
	// count: the testbed's schema into its generated types (what
	// alert-consumer does with it); count-goavro: into goavro's maps (what
	// it does with any other schema).
	for _, mode := range []string{"drop", "count", "count-goavro"} {
		b.Run(mode, func(b *testing.B) {
			m := &Member{RunID: "r", Group: "g", Name: "m", Out: io.Discard,
				visits: map[int]*results.ConsumerVisit{}, deltas: map[int]*results.ConsumerVisit{}, marks: map[topicPartition]int64{}}
			switch mode {
			case "count":
				m.Handle = func(_ context.Context, msg *sarama.ConsumerMessage, _ headers.Meta) error {
					var a packet.Alert
					return typed.Decode(msg.Value, &a)
				}
			case "count-goavro":
				m.Handle = func(_ context.Context, msg *sarama.ConsumerMessage, _ headers.Meta) error {
					_, err := codec.Decode(msg.Value)
					return err
				}
			}
			b.SetBytes(int64(len(value)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				// 10 producers' 10,000-alert shares of a visit, then the
				// next visit.
				meta := headers.Meta{Run: "r", Visit: 1 + i/100_000, Producer: (i / 10_000) % 10, Seq: i % 10_000, Intended: t0, Produced: t0}
				msg := &sarama.ConsumerMessage{Topic: "alerts", Offset: int64(i), Value: value, Headers: ptrs(meta.Headers())}
				if err := m.consume(context.Background(), msg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

func ptrs(hs []sarama.RecordHeader) []*sarama.RecordHeader {
	out := make([]*sarama.RecordHeader, len(hs))
	for i := range hs {
		out[i] = &hs[i]
	}
	return out
}
