package orchestrator

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/workspace"
)

func TestWarmUntilSettled(t *testing.T) {
	for _, tc := range []struct {
		name        string
		done        int
		rounds      int
		cpu         []time.Duration // compiler CPU of rounds done+1, done+2, ...
		wantLast    int
		wantSettled bool
		wantSaved   []string
	}{
		{"settles in round 3", 0, 10, []time.Duration{40 * time.Second, 20 * time.Second, WarmUpSettledCPU}, 3, true,
			[]string{"1 false", "2 false", "3 true"}},
		{"never settles: stops at the most rounds", 0, 2, []time.Duration{40 * time.Second, 20 * time.Second}, 2, false,
			[]string{"1 false", "2 false"}},
		{"goes on from an interrupted warm-up", 2, 10, []time.Duration{9 * time.Second, time.Second}, 4, true,
			[]string{"3 false", "4 true"}},
		{"one round asked, settled or not", 0, 1, []time.Duration{30 * time.Second}, 1, false,
			[]string{"1 false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var made []int
			var saved []string
			last, cpu, settled, err := warmUntilSettled(tc.done, tc.rounds, func(round int) (time.Duration, error) {
				made = append(made, round)
				return tc.cpu[round-tc.done-1], nil
			}, func(round int, settled bool) error {
				saved = append(saved, fmt.Sprint(round, " ", settled))
				return nil
			})
			if err != nil || last != tc.wantLast || settled != tc.wantSettled || cpu != tc.cpu[len(tc.cpu)-1] {
				t.Errorf("warmUntilSettled = round %d, %v, settled %v, %v; want round %d, %v, settled %v",
					last, cpu, settled, err, tc.wantLast, tc.cpu[len(tc.cpu)-1], tc.wantSettled)
			}
			if !reflect.DeepEqual(saved, tc.wantSaved) || len(made) != len(tc.cpu) {
				t.Errorf("rounds made %v, saved %v; want %d rounds, saved %v", made, saved, len(tc.cpu), tc.wantSaved)
			}
		})
	}
	// A failed round stops the warm-up and is not saved as made.
	boom := errors.New("boom")
	var saved int
	last, _, _, err := warmUntilSettled(0, 10, func(round int) (time.Duration, error) {
		if round == 2 {
			return 0, boom
		}
		return time.Minute, nil
	}, func(int, bool) error { saved++; return nil })
	if !errors.Is(err, boom) || last != 2 || saved != 1 {
		t.Errorf("a failed round 2: round %d, %v, %d saved; want round 2, boom, 1 saved", last, err, saved)
	}
}

// A warm-up counts for the broker containers it warmed, with rounds at
// least as large as those asked for; warm-up.json files from before
// AlertsPerRound was recorded had LSST-visit rounds.
func TestRoundsDone(t *testing.T) {
	brokers := map[string]string{"kafka_kafka-1": "c1", "kafka_kafka-2": "c2", "kafka_kafka-3": "c3"}
	restarted := map[string]string{"kafka_kafka-1": "c1", "kafka_kafka-2": "c2b", "kafka_kafka-3": "c3"}
	small := workspace.WarmUp{Brokers: brokers, Rounds: 2, AlertsPerRound: 2000}
	old := workspace.WarmUp{Brokers: brokers, Rounds: 3}
	for _, c := range []struct {
		name       string
		last       workspace.WarmUp
		containers map[string]string
		alerts     int
		want       int
	}{
		{"none before", workspace.WarmUp{}, brokers, DefaultWarmUpAlerts, 0},
		{"same size", small, brokers, 2000, 2},
		{"smaller asked", small, brokers, 1000, 2},
		{"larger asked", small, brokers, DefaultWarmUpAlerts, 0},
		{"a broker restarted", small, restarted, 2000, 0},
		{"an old file's LSST rounds", old, brokers, DefaultWarmUpAlerts, 3},
		{"an old file, smaller asked", old, brokers, 2000, 3},
	} {
		if got := roundsDone(c.last, c.containers, c.alerts); got != c.want {
			t.Errorf("%s: %d rounds done, want %d", c.name, got, c.want)
		}
	}
}

func TestWarmUpOptions(t *testing.T) {
	for _, o := range []WarmUpOptions{{Rounds: 0, Alerts: DefaultWarmUpAlerts}, {Rounds: 8, Alerts: MinWarmUpAlerts}, {Rounds: 1, Alerts: MaxWarmUpAlerts}} {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	for o, want := range map[WarmUpOptions]string{
		{Rounds: -1, Alerts: DefaultWarmUpAlerts}: "--warm-up-rounds -1: give the most warm-up rounds, 0 for none",
		{Rounds: 1, Alerts: 0}:                    "--warm-up-alerts 0: give the alerts of 136000 bytes each broker leads in a warm-up round, from 100 to 100000 (default 10000, an LSST visit)",
		{Rounds: 1, Alerts: 100_001}:              "--warm-up-alerts 100001: ",
	} {
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want %q", o, err, want)
		}
	}
	if (WarmUpOptions{}).alerts() != DefaultWarmUpAlerts || warmUpLoad(DefaultWarmUpAlerts) != "an LSST visit" || warmUpLoad(2000) != "2000 alerts of 136000 bytes" {
		t.Errorf("defaults: %d alerts, loads %q, %q", (WarmUpOptions{}).alerts(), warmUpLoad(DefaultWarmUpAlerts), warmUpLoad(2000))
	}
}
