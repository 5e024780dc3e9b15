package archive

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/run"
)

func TestCreateNeverOverwrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "r1")
	a, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.WriteJSON("sub/x.json", map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "x.json")); string(b) != "{\n  \"a\": 1\n}\n" {
		t.Errorf("x.json = %q", b)
	}
	if _, err := Create(dir); err == nil || !strings.Contains(err.Error(), "already exists; a run never overwrites another's") {
		t.Fatalf("second Create: %v", err)
	}
}

func TestVisitsCSV(t *testing.T) {
	rows := []outcome.VisitGroup{{Visit: 0, Group: "r1-c1", Producers: 1, Members: 2, Expected: 10, Acked: 10, Received: 11, Unique: 10, Duplicated: 1, ProducerDuplicates: 1, Resent: 1,
		ProducingTime: 1500 * time.Millisecond, TransitTime: 250 * time.Millisecond, TotalTime: 1750 * time.Millisecond, Complete: true}}
	var b bytes.Buffer
	if err := VisitsCSV(&b, rows, []run.Group{{Name: "r1-c1", Label: "c1"}}); err != nil {
		t.Fatal(err)
	}
	want := "visit,group,producers,members,expected,acked,received,unique,lost,not_received,not_sent,duplicated,redelivered,producer_duplicates,resent,stray,producing_s,transit_s,total_s,latency_p50_s,latency_p99_s,latency_max_s,complete\n" +
		"0,c1,1,2,10,10,11,10,0,0,0,1,0,1,1,0,1.500000,0.250000,1.750000,0.000000,0.000000,0.000000,true\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestGitRevisionOfThisCheckout(t *testing.T) {
	rev := GitRevision("../..")
	if !regexp.MustCompile(`^[0-9a-f]{40}(\+dirty)?$`).MatchString(rev) {
		t.Fatalf("GitRevision = %q", rev)
	}
	if got := GitRevision(t.TempDir()); !strings.HasPrefix(got, "unknown (") {
		t.Errorf("GitRevision outside a checkout = %q", got)
	}
	v := Versions("reg/testbed/agents:x")
	if v["kafka"] == "" || v["image:agents"] != "reg/testbed/agents:x" || v["image:prometheus"] == "" {
		t.Errorf("Versions = %v", v)
	}
}
