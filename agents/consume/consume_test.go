package consume

import (
	"testing"
	"time"
)

// The same error is logged once, then at most once a minute with how many
// times it came meanwhile; another error is logged at once.
func TestErrorRepeats(t *testing.T) {
	var r errorRepeats
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	missing := "kafka: error while consuming alerts/0: topic does not exist"
	if line, ok := r.line(missing, t0); !ok || line != missing {
		t.Fatalf("first: %q %v", line, ok)
	}
	for i := 1; i <= 20; i++ {
		if _, ok := r.line(missing, t0.Add(time.Duration(i)*time.Second)); ok {
			t.Fatalf("repeat %d logged", i)
		}
	}
	if line, ok := r.line("another", t0.Add(21*time.Second)); !ok || line != "another" {
		t.Errorf("another error: %q %v", line, ok)
	}
	line, ok := r.line(missing, t0.Add(61*time.Second))
	if want := missing + " (20 more times since 10:00:00)"; !ok || line != want {
		t.Errorf("after a minute: %q %v, want %q", line, ok, want)
	}
}
