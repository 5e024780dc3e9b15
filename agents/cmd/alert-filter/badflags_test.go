package main

import (
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/agents/internal/maintest"
)

func TestMain(m *testing.M) { maintest.Main(m, "alert-filter", main) }

const noBroker = maintest.NoBroker

func runMain(t *testing.T, args []string) (last string, code int, stderr string, took time.Duration) {
	t.Helper()
	return maintest.Run(t, args)
}

// Every bad flag is refused, with an error naming it, before the filter
// group joins its group or connects its producer: nothing is read or
// forwarded.
func TestBadFlags(t *testing.T) {
	base := []string{"--group", "g", "--brokers", noBroker, "--metrics-addr", ""}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--cap", "0"}, `invalid --cap 0: use 1 or more`},
		{[]string{"--filter", "x=diaSource.snr >"}, "filter x (\"diaSource.snr >\"): unexpected token EOF (1:15)\n | diaSource.snr >\n | ..............^"},
		{[]string{"--filter", "x=nosuchfield > 3"}, "filter x (\"nosuchfield > 3\"): unknown name nosuchfield (1:1)\n | nosuchfield > 3\n | ^"},
		{[]string{"--filter", "diaSource.snr > 5"}, `invalid --filter "diaSource.snr > 5": use NAME=EXPR`},
		{[]string{"--filter", "A=true", "--filter", "A=false"}, `filter A is defined twice`},
		{[]string{"--first", "5", "--last", "2"}, `invalid filter range 5..2: 100 filters are defined, use 1 <= first <= last <= 100`},
		{[]string{"--first", "0"}, `invalid filter range 0..100: 100 filters are defined, use 1 <= first <= last <= 100`},
		{[]string{"--builtin", "0"}, `invalid --builtin 0: use 1 or more`},
		{[]string{"--filters", "/nonexistent"}, `open /nonexistent: no such file or directory`},
		{[]string{"--acks", "2"}, `invalid --acks "2": use all, 1 or 0`},
		{[]string{"--compression", "brotli"}, `invalid --compression "brotli": use none, gzip, snappy, lz4 or zstd`},
		{[]string{"--max-in-flight", "0"}, `invalid --max-in-flight 0: use 1 or more`},
		{[]string{"--retry-backoff", "-1s"}, `invalid --retry-backoff -1s: use 0 or more`},
		{[]string{"--delivery-timeout", "1s", "--linger", "2s"}, `invalid --delivery-timeout 1s: use at least --linger + the 30s request timeout (32s), as Kafka's delivery.timeout.ms >= linger.ms + request.timeout.ms`},
		{[]string{"--initial-offset", "middle"}, `invalid --initial-offset "middle": use oldest or newest`},
		{[]string{"--rebalance", "greedy"}, `invalid --rebalance "greedy": use range, roundrobin or sticky`},
	} {
		last, code, stderr, took := runMain(t, append(append([]string{}, base...), c.args...))
		want := "alert-filter: " + c.want
		if i := strings.LastIndex(stderr, "alert-filter: "); i >= 0 {
			last = strings.TrimRight(stderr[i:], "\n") // compile errors take three lines
		}
		if last != want || code != 1 {
			t.Errorf("%v: exit %d, error %q\nwant exit 1, %q", c.args, code, last, want)
		}
		if strings.Contains(stderr, "connect to Kafka") || strings.Contains(stderr, "consumer group") || took > 5*time.Second {
			t.Errorf("%v: reached Kafka (%s):\n%s", c.args, took, stderr)
		}
	}
}
