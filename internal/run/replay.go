package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/IBM/sarama"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/internal/experiment"
	"github.com/alert-testbed/testbed/internal/kafka"
)

// Replay is a run's alert.replay file and the source topic it is loaded
// into, once, before the producers start: record i of the file at offset i
// of the topic's one partition, its Avro body as the file holds it. The
// producers replay their share from there (alert-producer --replay-topic),
// as DMTN-149's simulator loads its sample into Kafka once and then plays
// it; the agents read no files on the swarm.
type Replay struct {
	File  string
	Topic string
	Mode  string // alert.ReplayInfinite or alert.ReplaySinglePass
	// Order, for a single pass paced by observation times of a file not
	// in time order, is the file's record at each offset of the source
	// topic (alert.Observed.Order): the topic holds the records in time
	// order, as the producers send them. Nil: the file's order.
	Order []int
	alert.OCFInfo
}

// ReplayTopic is the source topic of run id.
func ReplayTopic(runID string) string { return "testbed-replay-" + runID }

// ScanReplay reads e's replay file once (every record must decode with
// its writer schema) and checks that its largest record, with the run's
// headers, fits kafka.max_message_bytes; nothing is made.
func ScanReplay(e experiment.Experiment, runID string) (Replay, error) {
	info, err := alert.ScanOCF(e.Alert.Replay)
	if err != nil {
		return Replay{}, fmt.Errorf("%s: alert.replay: %w", e.File, err)
	}
	if err := e.CheckReplayRecordSize(info.MaxRecord + alert.HeaderSize); err != nil {
		return Replay{}, err
	}
	r := Replay{File: e.Alert.Replay, Topic: ReplayTopic(runID), Mode: e.Alert.ReplayMode, OCFInfo: info}
	if e.Observed != nil {
		r.Order = e.Observed.Order
		if len(r.Order) > 0 && len(r.Order) != info.Records {
			return Replay{}, fmt.Errorf("%s: alert.replay: %s holds %d records, %d when its times were read (did the file change?)", e.File, r.File, info.Records, len(r.Order))
		}
	}
	return r, nil
}

// topic is the source topic's settings: one partition (the file's
// order is its offsets), kept as long as the run (it is deleted with the
// run's topics).
func (r Replay) topic(rf int16, minISR string) Topic {
	return Topic{Name: r.Topic, Partitions: 1, ReplicationFactor: rf,
		Configs: map[string]string{"min.insync.replicas": minISR, "retention.ms": "-1", "retention.bytes": "-1"}}
}

// loadBatchBytes is about how much one produce request of the load carries.
const loadBatchBytes = 8 << 20

// Load produces the file's records into the source topic, which must be
// new and empty: in order, each acknowledged by every in-sync replica,
// with an idempotent producer, so that record i is at offset i (checked).
// With an Order, offset i holds record Order[i]: the file's records are
// read into memory first (their Avro bytes, OCFInfo.Bytes). It returns
// the time the load took.
func (r Replay) Load(ctx context.Context, bootstrap []string) (time.Duration, error) {
	start := time.Now()
	cfg := kafka.Config()
	cfg.ClientID = "testbed-replay-loader"
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Retry.Max = 10
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.MaxMessageBytes = experiment.BrokerMaxMessageBytes
	producer, err := sarama.NewSyncProducer(bootstrap, cfg)
	if err != nil {
		return 0, fmt.Errorf("replay: Kafka at %v: %w", bootstrap, err)
	}
	defer producer.Close()
	rp, err := alert.OpenReplay(r.File)
	if err != nil {
		return 0, err
	}
	defer rp.Close()
	record := rp.Record
	if r.Order != nil {
		all := make([][]byte, 0, r.Records)
		for i := 0; ; i++ {
			rec, err := rp.Record(i)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return 0, err
			}
			all = append(all, bytes.Clone(rec))
		}
		if len(all) != len(r.Order) {
			return 0, fmt.Errorf("replay: %s holds %d records, %d when its times were read (did the file change?)", r.File, len(all), len(r.Order))
		}
		record = func(i int) ([]byte, error) {
			if i >= len(all) {
				return nil, io.EOF
			}
			return all[r.Order[i]], nil
		}
	}
	var batch []*sarama.ProducerMessage
	size, next := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := producer.SendMessages(batch); err != nil {
			return fmt.Errorf("replay: loading records %d..%d into %s: %w", next, next+len(batch)-1, r.Topic, err)
		}
		for i, m := range batch {
			if m.Offset != int64(next+i) {
				return fmt.Errorf("replay: record %d of %s went to offset %d of %s: the topic was not empty", next+i, r.File, m.Offset, r.Topic)
			}
		}
		next += len(batch)
		batch, size = batch[:0], 0
		return nil
	}
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		rec, err := record(i)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		batch = append(batch, &sarama.ProducerMessage{Topic: r.Topic, Partition: 0, Value: sarama.ByteEncoder(rec)})
		if size += len(rec); size >= loadBatchBytes {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if next != r.Records {
		return 0, fmt.Errorf("replay: loaded %d records of %s, its scan found %d (did the file change?)", next, r.File, r.Records)
	}
	return time.Since(start), nil
}

// producerEnv is what the producers are told of the source
// (alert-producer's --replay-* flags).
func (r Replay) producerEnv() map[string]string {
	return map[string]string{
		"REPLAY_TOPIC": r.Topic, "REPLAY_RECORDS": fmt.Sprint(r.Records), "REPLAY_MODE": r.Mode,
		"REPLAY_SHIFT": r.shiftJSON(),
	}
}

// shiftJSON is the pass shift as alert-producer --replay-shift takes it:
// the strides and days (the fields' paths are for people).
func (r Replay) shiftJSON() string {
	b, _ := json.Marshal(alert.Shift{IDStrides: r.Shift.IDStrides, Days: r.Shift.Days})
	return string(b)
}
