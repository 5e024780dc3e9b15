package agents_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/linkedin/goavro/v2"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/headers"
	"github.com/alert-testbed/testbed/internal/kafkatest"
	"github.com/alert-testbed/testbed/internal/run"
)

// A replay against a real Kafka, both sources: the file loaded into a
// source topic (run.Replay.Load, as testbed run does) and replayed by two
// producers in a single pass, 7 records at 3 a visit (3 visits, the last
// with 1); and the file read by one producer on this host in infinite
// mode, 2 visits of 5 (the second pass's 3 alerts with shifted ids).
// Every alert is the file's record i in run order, byte for byte in the
// first pass.
func TestReplayFromTheSourceTopicAndFromTheFile(t *testing.T) {
	addr := kafkatest.Start(t)
	bin := buildAgents(t)
	id := "replay-" + kafkatest.RandHex(3)

	o := alert.DefaultOptions()
	o.Stamps = false
	g, err := alert.NewGenerator(o)
	if err != nil {
		t.Fatal(err)
	}
	var natives []map[string]any
	for seq := 0; seq < 7; seq++ {
		natives = append(natives, g.Alert(alert.ID{Visit: 1, Seq: seq}))
	}
	path := filepath.Join(t.TempDir(), "sample.avro")
	f, _ := os.Create(path)
	if err := alert.WriteOCF(f, natives); err != nil {
		t.Fatal(err)
	}
	f.Close()
	info, err := alert.ScanOCF(path)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := alert.OpenReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	var file [][]byte
	for i := 0; i < info.Records; i++ {
		rec, err := rp.Record(i)
		if err != nil {
			t.Fatal(err)
		}
		file = append(file, rec)
	}
	rp.Close()

	src := run.Replay{File: path, Topic: run.ReplayTopic(id), Mode: alert.ReplaySinglePass, OCFInfo: info}
	kafkatest.CreateTopics(t, addr, 1, src.Topic, "single-"+id, "infinite-"+id)
	if _, err := src.Load(t.Context(), []string{addr}); err != nil {
		t.Fatal(err)
	}
	common := []string{"--brokers", addr, "--results-topic", "", "--metrics-addr", "", "--interval", "2s", "--lead", "1s", "--schema-id", "42", "--first-visit", "1"}
	var prods []*agent
	for p := 0; p < 2; p++ {
		prods = append(prods, start(t, bin+"/alert-producer", fmt.Sprintf("producer-%d", p), append([]string{
			"--run-id", "single-" + id, "--topic", "single-" + id, "--producer", fmt.Sprint(p), "--producers", "2",
			"--alerts-per-visit", "3", "--replay-topic", src.Topic, "--replay-records", "7", "--replay-mode", "single-pass",
			"--schema", info.Schema}, common...)...))
	}
	prods = append(prods, start(t, bin+"/alert-producer", "host-producer", append([]string{
		"--run-id", "infinite-" + id, "--topic", "infinite-" + id, "--alerts-per-visit", "5", "--visits", "2",
		"--replay", path}, common...)...))
	for _, p := range prods {
		p.wait(t, 2*time.Minute)
	}

	avro, err := goavro.NewCodec(info.Schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		topic               string
		perVisit, producers int
		n                   int
	}{{"single-" + id, 3, 2, 7}, {"infinite-" + id, 5, 1, 10}} {
		msgs := readAll(t, addr, c.topic, c.n)
		seen := map[int]bool{}
		for _, m := range msgs {
			meta, err := headers.Parse(m.Headers)
			if err != nil {
				t.Fatal(err)
			}
			// Visit pacing splits a visit's alerts in order of producer:
			// the first producer has one more of an odd count.
			before := 0
			if meta.Producer == 1 {
				before = (c.perVisit + 1) / 2
			}
			i := (meta.Visit-1)*c.perVisit + before + meta.Seq
			seen[i] = true
			if sid, _ := alert.SchemaIDOf(m.Value); sid != 42 {
				t.Errorf("%s alert %d: schema id %d, want --schema-id 42", c.topic, i, sid)
			}
			body := m.Value[alert.HeaderSize:]
			pass, at := i/len(file), i%len(file)
			if pass == 0 {
				if !bytes.Equal(body, file[at]) {
					t.Errorf("%s alert %d: not record %d's bytes", c.topic, i, at)
				}
				continue
			}
			v, _, err := avro.NativeFromBinary(body)
			if err != nil {
				t.Fatalf("%s alert %d: %v", c.topic, i, err)
			}
			want := natives[at]["alertId"].(int64) + int64(pass)*info.Shift.IDStrides["alertId"]
			if got := v.(map[string]any)["alertId"]; got != want {
				t.Errorf("%s alert %d (pass %d): alertId %v, want %d", c.topic, i, pass+1, got, want)
			}
		}
		if len(msgs) != c.n || len(seen) != c.n {
			t.Errorf("%s: %d alerts, %d distinct places; want %d", c.topic, len(msgs), len(seen), c.n)
		}
	}
}

// readAll reads partition 0 of topic from the start until it has n records.
func readAll(t *testing.T, addr, topic string, n int) []*sarama.ConsumerMessage {
	t.Helper()
	var out []*sarama.ConsumerMessage
	readPartition(t, addr, topic, 30*time.Second, func(m *sarama.ConsumerMessage) bool {
		out = append(out, m)
		return len(out) >= n
	})
	return out
}
