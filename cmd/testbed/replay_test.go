package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/linkedin/goavro/v2"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/headers"
	"github.com/alert-testbed/testbed/internal/alertschema"
	"github.com/alert-testbed/testbed/internal/kafka"
	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/pyvenv"
)

// replayExperiment replays a 50-alert file in infinite mode: 3 visits of
// 40 alerts by 2 producers are 120 alerts, the file's passes 1 and 2 and
// 20 alerts of pass 3.
const replayExperiment = `name: replay-ztf
visits: 3
visit_interval: 10s
alerts_per_visit: 40
producers: 2
alert: {replay: ztf.avro}
topic:
  name: alerts-replay
  partitions: 2
consumers:
  - name: counting
    members: 2
    mode: count
`

// replayOnTheSwarm is issue 13's replay on the shared testbed: a
// ZTF-style file written by fastavro (xz blocks, its own schema, nullable
// cutouts, a map) is loaded into the run's source topic and replayed by
// the producers on the swarm. The first pass's records arrive byte for
// byte as fastavro encoded them, framed with the file's schema id; the
// passes after it carry new alert ids (no two the same) and later times;
// the run's consumers decode every one with the file's schema.
func replayOnTheSwarm(t *testing.T, bin, name, dir string) {
	t.Run("replay of a ZTF-style file", func(t *testing.T) {
		py := pyvenv.Rubin(t, filepath.Join(repoRoot, ".testbed", "cache"), alertschema.PacketVersion)
		avroPath, recsPath := filepath.Join(dir, "ztf.avro"), filepath.Join(dir, "ztf-records.bin")
		const records = 50
		if out, err := exec.Command(py, filepath.Join(repoRoot, "cmd", "testbed", "testdata", "ztf_alerts.py"), avroPath, recsPath, fmt.Sprint(records), "xz").CombinedOutput(); err != nil {
			t.Fatalf("writing the ZTF-style file with fastavro: %v\n%s", err, out)
		}
		want := readLengthPrefixed(t, recsPath)
		if len(want) != records {
			t.Fatalf("%d records from fastavro, want %d", len(want), records)
		}
		file := filepath.Join(dir, "replay.yaml")
		if err := os.WriteFile(file, []byte(replayExperiment), 0o644); err != nil {
			t.Fatal(err)
		}
		const total = 3 * 40
		brokers := testbedBrokers(t, name)
		runsDir := filepath.Join(dir, "runs-replay")
		r, msgs := runReading(t, bin, name, brokers, file, runsDir, "alerts-replay", total)
		for _, re := range []string{
			`alerts:    replayed from \S+ztf.avro \(infinite\), schema id 1`,
			`✓ Loaded the 50 alerts of \S+ztf.avro \([0-9.]+ MB, codec xz, largest \d+ bytes\) into testbed-replay-\S+ in [0-9.]+s`,
			`each pass after the first: \+\d+ to candid \(candid, candidate.candid, prv_candidates\[\].candid\); \+2 days to candidate.jd, candidate.jdstarthist, prv_candidates\[\].jd`,
			`(?m)^\s+counting\s+120\s+120\s+0\s+0\s+0\s+0\s+0\s+3/3`,
			`produced: 120 alerts of \d+ bytes on average \(\d+ - \d+\)`,
		} {
			if !regexp.MustCompile(re).MatchString(r.out) {
				t.Errorf("replay run output lacks %s", re)
			}
		}
		// The run's consumers decoded every alert with the file's schema.
		archives, _ := filepath.Glob(filepath.Join(runsDir, "*"))
		var s outcome.Summary
		readJSON(t, filepath.Join(newest(archives), "summary.json"), &s)
		if g := group(t, s, "counting"); g.Received != total || g.Lost != 0 {
			t.Errorf("counting: %+v; want all %d received", g, total)
		}
		clog, _ := os.ReadFile(filepath.Join(newest(archives), "agents", "consumer-counting.log"))
		if bytes.Contains(clog, []byte("ERROR")) || len(clog) == 0 {
			t.Errorf("the counting group's log has errors (or is empty): decoding with the file's schema failed?\n%s", tail(clog, 20))
		}

		// Record by record: its place in the run is its place in the file.
		schema := fileSchema(t, avroPath)
		codec, err := goavro.NewCodec(schema)
		if err != nil {
			t.Fatal(err)
		}
		wantIDs := map[int64]bool{}
		seen := map[int64]int{}
		for _, m := range msgs {
			meta, err := headers.Parse(m.Headers)
			if err != nil {
				t.Fatal(err)
			}
			// Visit pacing: producer 0 sends seq 0..19 of a visit's 40,
			// producer 1 the next 20.
			g := (meta.Visit-1)*40 + meta.Producer*20 + meta.Seq
			pass, at := g/records, g%records
			if id, err := alert.SchemaIDOf(m.Value); err != nil || id != 1 {
				t.Fatalf("alert %d: schema id %d (%v), want the file's, 1", g, id, err)
			}
			body := m.Value[alert.HeaderSize:]
			if pass == 0 && !bytes.Equal(body, want[at]) {
				t.Errorf("alert %d (pass 1, record %d): not the file's bytes", g, at)
			}
			v, rest, err := codec.NativeFromBinary(body)
			if err != nil || len(rest) != 0 {
				t.Fatalf("alert %d does not decode with the file's schema: %v", g, err)
			}
			orig, _, _ := codec.NativeFromBinary(want[at])
			a, o := v.(map[string]any), orig.(map[string]any)
			candid := a["candid"].(int64)
			if prev, ok := seen[candid]; ok {
				t.Errorf("alerts %d and %d have the same candid %d", prev, g, candid)
			}
			seen[candid] = g
			wantIDs[o["candid"].(int64)] = true
			jd, ojd := a["candidate"].(map[string]any)["jd"].(float64), o["candidate"].(map[string]any)["jd"].(float64)
			// The file's jd span under a day: each pass 2 days later.
			if pass > 0 && (candid <= o["candid"].(int64) || math.Abs(jd-ojd-float64(2*pass)) > 1e-6) {
				t.Errorf("alert %d (pass %d): candid %d, jd %f; want above the file's %d, %d days after %f", g, pass+1, candid, jd, o["candid"], 2*pass, ojd)
			}
			if a["objectId"] != o["objectId"] {
				t.Errorf("alert %d: objectId %v, want the file's %v", g, a["objectId"], o["objectId"])
			}
		}
		if len(msgs) != total || len(seen) != total || len(wantIDs) != records {
			t.Errorf("%d alerts read, %d distinct candids, %d of the file's records; want %d, %d, %d", len(msgs), len(seen), len(wantIDs), total, total, records)
		}
		assertNoAgents(t, bin, name)

		// The same file as a stream without end: loaded, replayed pass
		// after pass, and its three topics removed at Ctrl-C.
		stream := startBackground(t, bin, "stream", "--name", name, "--warm-up-rounds", "1", "--warm-up-alerts", "2000", file)
		stream.waitFor(t, `visit 2: 40 alerts \([0-9.]+ MB\) produced in`, 3*time.Minute)
		stream.cmd.Process.Signal(os.Interrupt)
		if code := stream.wait(t, 3*time.Minute); code != 0 {
			t.Errorf("replay stream stopped by Ctrl-C: exit %d, want 0", code)
		}
		for _, want := range []string{
			`✓ Loaded the 50 alerts of \S+ztf.avro .* into testbed-replay-\S+`,
			`Removed 1 service\(s\) and the topics alerts-replay, testbed-results-\S+, testbed-replay-\S+`,
		} {
			if !regexp.MustCompile(want).MatchString(stream.out.String()) {
				t.Errorf("replay stream output lacks %s", want)
			}
		}
		assertNoAgents(t, bin, name)
		assertNoTopic(t, brokers, "alerts-replay")

		replayObserved(t, bin, name, dir, py, brokers)
	})
}

// replayObservedExperiment plays a file of 5 exposures (34.56 s apart in
// candidate.jd) once, at 4 times the sky's pace: visits 8.64 s apart.
const replayObservedExperiment = `name: replay-observed
visit_interval: 10s
producers: 2
alert: {replay: ztf-interleaved.avro, replay_mode: single-pass, replay_pacing: observed, replay_speedup: 4}
topic: {name: alerts-observed}
consumers: [{name: counting, mode: count}]
`

// replayObserved is a single pass paced by the alerts' own observation
// times, of a file not in time order: each exposure is a visit of its
// own, due at its time (sped up) after the first exposure's, and the
// alerts go out in time order (the file's order within an exposure),
// each as the file holds it.
func replayObserved(t *testing.T, bin, name, dir, py, brokers string) {
	avroPath, recsPath := filepath.Join(dir, "ztf-interleaved.avro"), filepath.Join(dir, "ztf-interleaved.bin")
	const records, exposures, perExposure = 50, 5, 10
	if out, err := exec.Command(py, filepath.Join(repoRoot, "cmd", "testbed", "testdata", "ztf_alerts.py"), avroPath, recsPath, fmt.Sprint(records), "deflate", "interleaved").CombinedOutput(); err != nil {
		t.Fatalf("writing the interleaved file with fastavro: %v\n%s", err, out)
	}
	want := readLengthPrefixed(t, recsPath)
	codec, err := goavro.NewCodec(fileSchema(t, avroPath))
	if err != nil {
		t.Fatal(err)
	}
	jdOf := func(body []byte) float64 {
		v, _, err := codec.NativeFromBinary(body)
		if err != nil {
			t.Fatal(err)
		}
		return v.(map[string]any)["candidate"].(map[string]any)["jd"].(float64)
	}
	// The order the stream must have: the file's records sorted by jd,
	// stable.
	order := make([]int, records)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return jdOf(want[order[a]]) < jdOf(want[order[b]]) })
	if order[1] != exposures {
		t.Fatalf("the file is in time order (%v): the test needs it interleaved", order[:10])
	}

	file := filepath.Join(dir, "replay-observed.yaml")
	if err := os.WriteFile(file, []byte(replayObservedExperiment), 0o644); err != nil {
		t.Fatal(err)
	}
	r, msgs := runReading(t, bin, name, brokers, file, filepath.Join(dir, "runs-observed"), "alerts-observed", records)
	for _, re := range []string{
		`visits:    5 exposures of 10-10 alerts \(50 in all\) at their observed times \(candidate.jd\), 2 producers`,
		`4 times as fast as observed, no gap shortened: the last at T0 \+ 34.56s, then 10s to the end \(44.56s\)`,
		`alerts:    replayed from \S+ztf-interleaved.avro \(single-pass, observed pacing\)`,
		`then each exposure at its observed time, the last \(visit 5\) at`,
		`(?m)^\s+counting\s+50\s+50\s+0\s+0\s+0\s+0\s+0\s+5/5`,
	} {
		if !regexp.MustCompile(re).MatchString(r.out) {
			t.Errorf("observed replay output lacks %s", re)
		}
	}
	if len(msgs) != records {
		t.Fatalf("%d alerts on alerts-observed, want %d", len(msgs), records)
	}
	starts := map[int]time.Time{}
	sent := map[int]bool{}
	for _, m := range msgs {
		meta, err := headers.Parse(m.Headers)
		if err != nil {
			t.Fatal(err)
		}
		// Visit pacing: producer 0 sends seq 0..4 of an exposure's 10,
		// producer 1 the next 5.
		g := (meta.Visit-1)*perExposure + meta.Producer*perExposure/2 + meta.Seq
		if g < 0 || g >= records || sent[g] {
			t.Fatalf("alert at visit %d producer %d seq %d: outside the pass or sent twice", meta.Visit, meta.Producer, meta.Seq)
		}
		sent[g] = true
		if body := m.Value[alert.HeaderSize:]; !bytes.Equal(body, want[order[g]]) {
			t.Errorf("alert %d of the pass (visit %d): not record %d of the file, the %d-th in time order", g, meta.Visit, order[g], g+1)
		}
		if s, ok := starts[meta.Visit]; !ok || meta.Intended.Before(s) {
			starts[meta.Visit] = meta.Intended
		}
	}
	// Each exposure was due at its observed time / 4 after the first's.
	for v := 2; v <= exposures; v++ {
		step := 34560 * time.Millisecond / 4
		if d := starts[v].Sub(starts[1]); d < time.Duration(v-1)*step-2*time.Millisecond || d > time.Duration(v-1)*step+2*time.Millisecond {
			t.Errorf("visit %d was due %s after visit 1, want %s (34.56 s / 4 per exposure)", v, d, time.Duration(v-1)*step)
		}
	}
	assertNoAgents(t, bin, name)
}

// runReading runs the experiment file on testbed name while this host
// reads n alerts of its stream topic (from brokers), and returns the
// run's output and the alerts read; a run that fails, or a topic that
// cannot be read, fails the test.
func runReading(t *testing.T, bin, name, brokers, file, runsDir, topic string, n int) (result, []*sarama.ConsumerMessage) {
	t.Helper()
	got := make(chan []*sarama.ConsumerMessage, 1)
	errs := make(chan error, 1)
	go func() {
		msgs, err := collectTopic(brokers, topic, n, 4*time.Minute)
		got <- msgs
		errs <- err
	}()
	r := run(t, bin, "run", "--name", name, "--runs-dir", runsDir, "--warm-up-rounds", "1", "--warm-up-alerts", "2000", file)
	if r.code != 0 {
		logAgents(t, runsDir)
		t.Fatalf("run of %s: exit %d", filepath.Base(file), r.code)
	}
	msgs := <-got
	if err := <-errs; err != nil {
		t.Fatalf("reading %s from this host: %v", topic, err)
	}
	return r, msgs
}

// readLengthPrefixed reads records each preceded by its 4-byte big-endian
// length.
func readLengthPrefixed(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for len(data) >= 4 {
		n := binary.BigEndian.Uint32(data)
		out = append(out, data[4:4+n])
		data = data[4+n:]
	}
	return out
}

// fileSchema is the writer schema in the container file's header.
func fileSchema(t *testing.T, path string) string {
	t.Helper()
	r, c, err := alert.OpenOCF(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return r.Schema()
}

// collectTopic reads every partition of topic from the start, once it
// exists, until it has n records or timeout passes.
func collectTopic(brokers, topic string, n int, timeout time.Duration) ([]*sarama.ConsumerMessage, error) {
	client, err := sarama.NewClient(strings.Split(brokers, ","), kafka.Config())
	if err != nil {
		return nil, err
	}
	defer client.Close()
	deadline := time.Now().Add(timeout)
	var parts []int32
	for {
		if parts, err = client.Partitions(topic); err == nil && len(parts) > 0 {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("topic %s did not appear in %s: %v", topic, timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
		client.RefreshMetadata(topic)
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	msgs := make(chan *sarama.ConsumerMessage)
	done := make(chan struct{})
	defer close(done)
	for _, p := range parts {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			return nil, err
		}
		defer pc.Close()
		go func() {
			for m := range pc.Messages() {
				select {
				case msgs <- m:
				case <-done:
					return
				}
			}
		}()
	}
	var out []*sarama.ConsumerMessage
	end := time.After(time.Until(deadline))
	for len(out) < n {
		select {
		case m := <-msgs:
			out = append(out, m)
		case <-end:
			return out, fmt.Errorf("%d of %d records of %s in %s", len(out), n, topic, timeout)
		}
	}
	return out, nil
}
