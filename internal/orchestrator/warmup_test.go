package orchestrator

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
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
