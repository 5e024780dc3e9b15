package main

import (
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/agents/internal/maintest"
)

func TestMain(m *testing.M) { maintest.Main(m, "alert-consumer", main) }

const noBroker = maintest.NoBroker

func runMain(t *testing.T, args []string) (last string, code int, stderr string, took time.Duration) {
	t.Helper()
	return maintest.Run(t, args)
}

// Every bad flag is refused, with an error naming it, before the consumer
// joins its group: nothing is read or published.
func TestBadFlags(t *testing.T) {
	base := []string{"--group", "g", "--brokers", noBroker, "--metrics-addr", ""}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "fast"}, `invalid --mode "fast": use count, print-every or drop`},
		{[]string{"--mode", "print-every", "--print-every", "0"}, `invalid --print-every 0: use 1 or more`},
		{[]string{"--initial-offset", "middle"}, `invalid --initial-offset "middle": use oldest or newest`},
		{[]string{"--rebalance", "greedy"}, `invalid --rebalance "greedy": use range, roundrobin or sticky`},
		{[]string{"--fetch-max-bytes", "-1"}, `invalid --fetch-max-bytes -1: use 0 (no limit) to 2147483647`},
		{[]string{"--fetch-default-bytes", "0"}, `invalid --fetch-default-bytes 0: use 1 to 2147483647`},
	} {
		last, code, stderr, took := runMain(t, append(append([]string{}, base...), c.args...))
		if want := "alert-consumer: " + c.want; last != want || code != 1 {
			t.Errorf("%v: exit %d, last line %q\nwant exit 1, %q", c.args, code, last, want)
		}
		if strings.Contains(stderr, "consumer group") || took > 5*time.Second {
			t.Errorf("%v: reached Kafka (%s):\n%s", c.args, took, stderr)
		}
	}
	last, code, _, _ := runMain(t, []string{"--brokers", noBroker})
	if last != `alert-consumer: Required flag "group" not set` || code != 1 {
		t.Errorf("without --group: exit %d, %q", code, last)
	}
}
