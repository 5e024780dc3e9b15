package pacing

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Slot is one visit of an explicit schedule: it starts Offset after T0 and
// has Alerts alerts. A replay paced by the alerts' own observation times
// (alert.replay_pacing observed) is one slot per exposure.
type Slot struct {
	Offset time.Duration `json:"offset_ns"`
	Alerts int           `json:"alerts"`
}

// Schedule says when each visit of a run starts and how many alerts it
// has. Without Slots it is uniform, as DMTN-028's runs are: visit k (from
// 0) starts at k x Interval with AlertsPerVisit alerts. With Slots, visit
// k is Slots[k]; the last slot lasts Interval (the time the run gives its
// alerts before a next visit would be due). Visits past the last slot have
// no alerts.
type Schedule struct {
	AlertsPerVisit int
	Interval       time.Duration
	Slots          []Slot
}

// Schedule is c's schedule.
func (c Config) Schedule() Schedule {
	return Schedule{AlertsPerVisit: c.AlertsPerVisit, Interval: c.Interval, Slots: c.Slots}
}

// Start is when visit k (from 0) starts, after T0. Start(n) of a run of n
// visits is when its last visit ends: the run's duration.
func (s Schedule) Start(k int) time.Duration {
	if len(s.Slots) == 0 {
		return time.Duration(k) * s.Interval
	}
	if k < len(s.Slots) {
		return s.Slots[k].Offset
	}
	return s.Slots[len(s.Slots)-1].Offset + time.Duration(k-len(s.Slots)+1)*s.Interval
}

// Length is the time from visit k's start to the next visit's.
func (s Schedule) Length(k int) time.Duration { return s.Start(k+1) - s.Start(k) }

// Alerts is how many alerts visit k (from 0) has.
func (s Schedule) Alerts(k int) int {
	if len(s.Slots) == 0 {
		return s.AlertsPerVisit
	}
	if k < len(s.Slots) {
		return s.Slots[k].Alerts
	}
	return 0
}

// Before is how many alerts the visits before visit k have: the run-wide
// index of visit k's first alert.
func (s Schedule) Before(k int) int {
	if len(s.Slots) == 0 {
		return k * s.AlertsPerVisit
	}
	n := 0
	for _, sl := range s.Slots[:min(k, len(s.Slots))] {
		n += sl.Alerts
	}
	return n
}

// Mean is the mean of the visits' alerts over the first visits visits.
func (s Schedule) Mean(visits int) float64 {
	if visits < 1 {
		return 0
	}
	return float64(s.Before(visits)) / float64(visits)
}

// Rate is visit k's alerts per second of its length: how fast the stream
// brings alerts during it (0 for a visit of no length).
func (s Schedule) Rate(k int) float64 {
	if l := s.Length(k); l > 0 {
		return float64(s.Alerts(k)) / l.Seconds()
	}
	return 0
}

// ValidateSlots checks an explicit schedule: at least one slot, the first
// at offset 0, offsets not decreasing, each slot with at least one alert.
func ValidateSlots(slots []Slot) error {
	if len(slots) == 0 {
		return fmt.Errorf("schedule: no visits")
	}
	if slots[0].Offset != 0 {
		return fmt.Errorf("schedule: the first visit starts at %s, not at 0 (T0)", slots[0].Offset)
	}
	for i, sl := range slots {
		if sl.Alerts < 1 {
			return fmt.Errorf("schedule: visit %d has %d alerts, must have 1 or more", i+1, sl.Alerts)
		}
		if i > 0 && sl.Offset < slots[i-1].Offset {
			return fmt.Errorf("schedule: visit %d starts at %s, before visit %d (%s)", i+1, sl.Offset, i, slots[i-1].Offset)
		}
	}
	return nil
}

// FormatSlots writes slots as alert-producer --schedule takes them:
// ALERTS@OFFSET, comma-separated, offsets in milliseconds ("40@0,38@34560").
// Milliseconds keep a schedule of a thousand exposures within an
// environment variable of about 12 KB.
func FormatSlots(slots []Slot) string {
	var b strings.Builder
	for i, sl := range slots {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d@%d", sl.Alerts, sl.Offset.Milliseconds())
	}
	return b.String()
}

// ParseSlots reads FormatSlots' form and checks it (ValidateSlots).
func ParseSlots(s string) ([]Slot, error) {
	var out []Slot
	for i, f := range strings.Split(s, ",") {
		n, ms, ok := strings.Cut(strings.TrimSpace(f), "@")
		alerts, err1 := strconv.Atoi(n)
		off, err2 := strconv.ParseInt(ms, 10, 64)
		if !ok || err1 != nil || err2 != nil || off < 0 {
			return nil, fmt.Errorf("schedule: visit %d is %q, want ALERTS@OFFSET_MS (e.g. 40@34560)", i+1, f)
		}
		out = append(out, Slot{Offset: time.Duration(off) * time.Millisecond, Alerts: alerts})
	}
	if err := ValidateSlots(out); err != nil {
		return nil, err
	}
	return out, nil
}
