package run

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/internal/alertschema"
	"github.com/alert-testbed/testbed/internal/experiment"
)

// A replay run loads its file into a source topic of one partition, kept
// for the run, and its producers replay from there with the file's pass
// shift; every agent decodes with the file's writer schema.
func TestReplayPlan(t *testing.T) {
	dir := t.TempDir()
	avro := filepath.Join(dir, "alerts.avro")
	f, err := os.Create(avro)
	if err != nil {
		t.Fatal(err)
	}
	g, err := alert.NewGenerator(alert.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var alerts []map[string]any
	for seq := 0; seq < 5; seq++ {
		alerts = append(alerts, g.Alert(alert.ID{Visit: 1, Seq: seq}))
	}
	if err := alert.WriteOCF(f, alerts); err != nil {
		t.Fatal(err)
	}
	f.Close()
	file := filepath.Join(dir, "replay.yaml")
	os.WriteFile(file, []byte("name: replay\nalerts_per_visit: 2\nalert: {replay: alerts.avro, replay_mode: single-pass}\n"), 0o644)
	es, err := experiment.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	e := es[0]
	if _, err := NewPlan(e, params); err == nil || !strings.Contains(err.Error(), "ScanReplay makes it") {
		t.Fatalf("a replay plan without its source: %v", err)
	}
	r, err := ScanReplay(e, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Records != 5 || r.Topic != "testbed-replay-r1" || r.Mode != alert.ReplaySinglePass || e.Visits != 3 {
		t.Fatalf("ScanReplay: %+v, %d visits", r, e.Visits)
	}
	p := params
	p.Replay = &r
	p.Schema = alertschema.Schema{Name: "of alerts.avro", JSON: r.Schema}
	pl, err := NewPlan(e, p)
	if err != nil {
		t.Fatal(err)
	}
	src := pl.Topics[2]
	if src.Name != r.Topic || src.Partitions != 1 || src.Configs["retention.ms"] != "-1" {
		t.Errorf("source topic %+v; want %s, 1 partition, kept (retention -1) third", src, r.Topic)
	}
	prod := env(pl.Producers(producersT0))
	for k, want := range map[string]string{"REPLAY_TOPIC": r.Topic, "REPLAY_RECORDS": "5", "REPLAY_MODE": "single-pass", "VISITS": "3", "ALERT_SCHEMA": r.Schema} {
		if prod[k] != want {
			t.Errorf("producer %s=%.60q, want %.60q", k, prod[k], want)
		}
	}
	for _, a := range pl.Readers {
		if env(a)["ALERT_SCHEMA"] != r.Schema {
			t.Errorf("%s does not decode with the file's schema", a.Spec.Name)
		}
	}

	// A record that does not fit kafka.max_message_bytes is refused
	// before anything is made.
	e.Kafka.MaxMessageBytes = 1000
	if _, err := ScanReplay(e, "r1"); err == nil || !strings.Contains(err.Error(), "alert.replay: "+avro+" its largest record") {
		t.Errorf("records over kafka.max_message_bytes: %v", err)
	}

	// Paced by the alerts' own times: the producers get each exposure's
	// alerts and start, and the source topic the order that sorts the
	// file by time (visit 2's alerts, 39 s later, come first in it).
	f, _ = os.Create(avro)
	alerts = nil
	for seq, v := range []int{2, 2, 1, 1, 1} {
		alerts = append(alerts, g.Alert(alert.ID{Visit: v, Seq: seq}))
	}
	if err := alert.WriteOCF(f, alerts); err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.WriteFile(file, []byte("name: replay\nalert: {replay: alerts.avro, replay_mode: single-pass, replay_pacing: observed}\n"), 0o644)
	if es, err = experiment.Load(file); err != nil {
		t.Fatal(err)
	}
	if r, err = ScanReplay(es[0], "r1"); err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 3, 4, 0, 1}; !reflect.DeepEqual(r.Order, want) {
		t.Errorf("source order %v, want %v", r.Order, want)
	}
	p.Replay = &r
	if pl, err = NewPlan(es[0], p); err != nil {
		t.Fatal(err)
	}
	prod = env(pl.Producers(producersT0))
	if _, ok := prod["ALERTS_PER_VISIT"]; ok {
		t.Errorf("producers get ALERTS_PER_VISIT with a schedule: alert-producer refuses both")
	}
	if prod["VISIT_SCHEDULE"] != "3@0,2@39000" || prod["VISITS"] != "2" {
		t.Errorf("producers: VISIT_SCHEDULE=%q VISITS=%s, want 3@0,2@39000 and 2", prod["VISIT_SCHEDULE"], prod["VISITS"])
	}
}
