package agents_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/kafkaconf"
	"github.com/alert-testbed/testbed/internal/kafkatest"
)

// BenchmarkProduceSendPath measures the producer's send path against a real
// broker (the project's Kafka image on loopback): generate, serialize and
// send alerts with the producer's default tuning (acks=all, 1 MB batches,
// 5 ms linger), waiting for every ack. Reports alerts/s and MB/s.
func BenchmarkProduceSendPath(b *testing.B) {
	addr := kafkatest.Start(b)
	for _, stamps := range []bool{true, false} {
		name := "no-stamps"
		if stamps {
			name = "stamps"
		}
		b.Run(name, func(b *testing.B) {
			topic := fmt.Sprintf("bench-%s-%s", name, kafkatest.RandHex(3))
			kafkatest.CreateTopics(b, addr, 3, topic)
			opts := alert.DefaultOptions()
			opts.Stamps = stamps
			gen, err := alert.NewGenerator(opts)
			if err != nil {
				b.Fatal(err)
			}
			codec, err := alert.NewCodec(1)
			if err != nil {
				b.Fatal(err)
			}
			cfg := sarama.NewConfig()
			cfg.Version = kafkaconf.KafkaVersion
			cfg.Producer.RequiredAcks = sarama.WaitForAll
			cfg.Producer.Flush.Bytes = 1 << 20
			cfg.Producer.Flush.Frequency = 5 * time.Millisecond
			cfg.Producer.MaxMessageBytes = 1_000_000
			cfg.ChannelBufferSize = 1024
			cfg.Producer.Partitioner = sarama.NewRoundRobinPartitioner
			cfg.Producer.Return.Successes = true
			p, err := sarama.NewAsyncProducer([]string{addr}, cfg)
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan int64)
			go func() {
				var bytes int64
				for m := range p.Successes() {
					bytes += int64(m.Value.Length())
				}
				done <- bytes
			}()
			go func() {
				for e := range p.Errors() {
					b.Error(e.Err)
				}
			}()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				val, err := codec.Append(nil, gen.Alert(alert.ID{Seq: i, CCD: i % 189}))
				if err != nil {
					b.Fatal(err)
				}
				p.Input() <- &sarama.ProducerMessage{Topic: topic, Value: sarama.ByteEncoder(val)}
			}
			p.AsyncClose()
			bytes := <-done
			el := time.Since(start).Seconds()
			b.ReportMetric(float64(b.N)/el, "alerts/s")
			b.ReportMetric(float64(bytes)/el/1e6, "MB/s")
		})
	}
}
