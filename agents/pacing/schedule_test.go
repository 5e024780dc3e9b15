package pacing

import (
	"strings"
	"testing"
	"time"
)

// A schedule of slots gives each visit its own start, length and alerts;
// without slots, visits are uniform.
func TestSchedule(t *testing.T) {
	u := Schedule{AlertsPerVisit: 100, Interval: 39 * time.Second}
	if u.Start(3) != 117*time.Second || u.Alerts(7) != 100 || u.Before(3) != 300 || u.Length(2) != 39*time.Second {
		t.Fatalf("uniform: start %s alerts %d before %d", u.Start(3), u.Alerts(7), u.Before(3))
	}
	s := Schedule{AlertsPerVisit: 100, Interval: 30 * time.Second,
		Slots: []Slot{{0, 40}, {35 * time.Second, 10}, {35 * time.Second, 5}, {90 * time.Second, 20}}}
	for k, want := range []time.Duration{0, 35 * time.Second, 35 * time.Second, 90 * time.Second, 120 * time.Second} {
		if got := s.Start(k); got != want {
			t.Errorf("start of visit %d: %s, want %s", k, got, want)
		}
	}
	if s.Length(3) != 30*time.Second || s.Length(1) != 0 || s.Alerts(1) != 10 || s.Alerts(4) != 0 || s.Before(3) != 55 || s.Before(9) != 75 {
		t.Fatalf("slots: length %s %s alerts %d %d before %d %d", s.Length(3), s.Length(1), s.Alerts(1), s.Alerts(4), s.Before(3), s.Before(9))
	}
	if s.Rate(0) != 40.0/35 || s.Rate(1) != 0 || s.Mean(4) != 75.0/4 {
		t.Fatalf("rate %g %g mean %g", s.Rate(0), s.Rate(1), s.Mean(4))
	}
	c := Defaults(Visit)
	c.Slots = s.Slots
	if v := c.Visit(1); v.AlertsPerVisit != 10 || v.Interval != 0 || v.Slots != nil {
		t.Fatalf("visit 1 alone: %+v", v)
	}
}

// Each bad schedule fails naming the visit; a rate that a visit's length
// cannot hold names it too.
func TestScheduleErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":             `visit 1 is ""`,
		"10@0,x@5":     `visit 2 is "x@5"`,
		"10@0,5":       `visit 2 is "5"`,
		"10@0,5@-1":    `visit 2 is "5@-1"`,
		"10@5":         "the first visit starts at 5ms, not at 0",
		"10@0,0@5":     "visit 2 has 0 alerts",
		"10@0,5@9,1@8": "visit 3 starts at 8ms, before visit 2 (9ms)",
	} {
		if _, err := ParseSlots(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	c := Defaults(Rate)
	c.Rate = 10
	c.Slots = []Slot{{0, 10}, {2 * time.Second, 30}, {3 * time.Second, 5}}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "visit 2 of the schedule (30 alerts, 1s to the next): rate: 10 alerts/s takes 3s") {
		t.Fatalf("rate over a short visit: %v", err)
	}
	if _, err := Plan(c.Visit(0), 1, 0); err != nil {
		t.Fatalf("visit 1: %v", err)
	}
}
