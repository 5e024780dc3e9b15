package orchestrator

import (
	"strings"
	"testing"
	"time"
)

func TestStreamRetention(t *testing.T) {
	if got := StreamRetention(39 * time.Second); got != 195*time.Second {
		t.Errorf("LSST's 39 s: %s, want 5 visits", got)
	}
	if got := StreamRetention(10 * time.Second); got != 2*time.Minute {
		t.Errorf("10 s visits: %s, want the 2-minute floor", got)
	}
}

// LSST's rate at RF 3 (105 MB/s over all replicas) for the default
// retention fits 40 GB free; for an hour it does not, and the error names
// the retention that fits.
func TestStreamDiskRefusal(t *testing.T) {
	perSecond := 10000 * 136_300.0 / 39 * 3
	retention := StreamRetention(39 * time.Second)
	segment := max(39*time.Second, retention/4)
	if err := diskRefusal(perSecond, 50e9, "/var/lib/docker", segment, retention); err != nil {
		t.Errorf("the default retention on 50 GB free: %v", err)
	}
	hour := time.Hour
	segment = hour / 4
	err := diskRefusal(perSecond, 50e9, "/var/lib/docker", segment, hour)
	if err == nil || !strings.Contains(err.Error(), "more than 80% of the 50.0 GB free on this host's disk (/var/lib/docker)") {
		t.Fatalf("an hour at LSST's rate on 50 GB free: %v", err)
	}
	// 40 GB / 104.8 MB/s = 381 s, less a 15-minute segment: nothing fits
	// with that segment, so the error says what else to change.
	if !strings.Contains(err.Error(), "use fewer alerts per visit") {
		t.Errorf("no retention fits: %v", err)
	}
	err = diskRefusal(perSecond, 50e9, "/d", time.Minute, 10*time.Minute)
	if err == nil || !strings.Contains(err.Error(), "use --retention 4m51s or less") {
		t.Errorf("with 1-minute segments: %v", err)
	}
}
