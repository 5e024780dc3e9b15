package main

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/pacing"
)

// memSource holds records whose body is their candid (a long).
type memSource struct{ recs [][]byte }

func (m memSource) Records(from, n int) ([][]byte, error) { return m.recs[from : from+n], nil }

const candidSchema = `{"type":"record","name":"a","fields":[{"name":"candid","type":"long"}]}`

func candids(n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		out = append(out, binary.AppendVarint(nil, int64(100+i)))
	}
	return out
}

// The producers' alerts, visit after visit and producer after producer,
// are the file's records in order: in infinite mode over and over, each
// pass's ids shifted by the stride; in a single pass once, the last visit
// with what is left, or with a schedule (--schedule) each visit its own
// alerts. Every pacing model's plans are followed.
func TestReplayerCoversTheFile(t *testing.T) {
	const records = 7
	for _, c := range []struct {
		mode   string
		model  pacing.Model
		visits int
		slots  []pacing.Slot
	}{{Infinite, pacing.Visit, 3, nil}, {Infinite, pacing.CCDBursts, 2, nil}, {SinglePass, pacing.Visit, 0, nil}, {SinglePass, pacing.Rate, 0, nil},
		{SinglePass, pacing.Visit, 3, []pacing.Slot{{Offset: 0, Alerts: 2}, {Offset: time.Second, Alerts: 4}, {Offset: 3 * time.Second, Alerts: 1}}},
		{SinglePass, pacing.Rate, 3, []pacing.Slot{{Offset: 0, Alerts: 1}, {Offset: 2 * time.Second, Alerts: 5}, {Offset: 4 * time.Second, Alerts: 1}}},
	} {
		pc := pacing.Defaults(c.model)
		pc.AlertsPerVisit, pc.Producers, pc.Interval, pc.BurstSpread = 3, 2, time.Second, 0
		if c.model == pacing.CCDBursts {
			pc.AlertsPerVisit, pc.Bursts, pc.BurstMin, pc.BurstMax, pc.BurstMean = 5, 3, 1, 3, 2
		}
		sh, err := alert.NewShifter(candidSchema, alert.Shift{IDStrides: map[string]int64{"candid": records}, Days: 1})
		if err != nil {
			t.Fatal(err)
		}
		pc.Slots = c.slots
		r := &replayer{src: memSource{candids(records)}, records: records, mode: c.mode, shifter: sh}
		if c.slots != nil {
			s := pc.Schedule()
			r.sched = &s
		}
		visits := c.visits
		if c.mode == SinglePass && c.slots == nil {
			visits = r.singlePassVisits(pc.AlertsPerVisit)
		}
		var got []int64
		for k := 0; k < visits; k++ {
			for p := 0; p < pc.Producers; p++ {
				vc := pc.Visit(k)
				vc.AlertsPerVisit = r.visitAlerts(k, pc.AlertsPerVisit)
				plan, err := pacing.Plan(vc, k+1, p)
				if err != nil {
					t.Fatal(err)
				}
				first, err := firstIndex(vc, r.before(k, pc.AlertsPerVisit), k+1, p)
				if err != nil {
					t.Fatal(err)
				}
				bodies, err := r.bodies(first, pacing.Total(plan))
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range bodies {
					v, _ := binary.Varint(b)
					got = append(got, v)
				}
			}
		}
		want := visits * pc.AlertsPerVisit
		if c.mode == SinglePass {
			want = records
		}
		if len(got) != want {
			t.Fatalf("%s %s: %d alerts, want %d", c.mode, c.model, len(got), want)
		}
		for i, v := range got {
			if w := int64(100 + i); v != w {
				t.Fatalf("%s %s: alert %d has candid %d, want %d (all: %v)", c.mode, c.model, i, v, w, got)
			}
		}
	}
}
