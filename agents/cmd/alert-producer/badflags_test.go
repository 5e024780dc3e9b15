package main

import (
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/agents/internal/maintest"
)

func TestMain(m *testing.M) { maintest.Main(m, "alert-producer", main) }

const noBroker = maintest.NoBroker

func runMain(t *testing.T, args []string) (last string, code int, stderr string, took time.Duration) {
	t.Helper()
	return maintest.Run(t, args)
}

// Every bad flag is refused, with an error naming it, before the producer
// connects to Kafka: nothing is sent.
func TestBadFlags(t *testing.T) {
	base := []string{"--run-id", "r", "--brokers", noBroker, "--metrics-addr", "", "--stamps=false"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--acks", "2"}, `invalid --acks "2": use all, 1 or 0`},
		{[]string{"--compression", "brotli"}, `invalid --compression "brotli": use none, gzip, snappy, lz4 or zstd`},
		{[]string{"--partitioner", "sticky"}, `invalid --partitioner "sticky": use roundrobin, random or hash`},
		{[]string{"--max-in-flight", "0"}, `invalid --max-in-flight 0: use 1 or more`},
		{[]string{"--buffer-memory", "-1"}, `invalid --buffer-memory -1: use 0 (no bound) or more bytes (Kafka's default is 33554432)`},
		{[]string{"--retries", "-1"}, `invalid --retries -1: use 0 or more`},
		{[]string{"--retry-backoff", "-1s"}, `invalid --retry-backoff -1s: use 0 or more`},
		{[]string{"--delivery-timeout", "1s", "--linger", "2s"}, `invalid --delivery-timeout 1s: use at least --linger + the 30s request timeout (32s), as Kafka's delivery.timeout.ms >= linger.ms + request.timeout.ms`},
		{[]string{"--idempotent"}, `producer settings: kafka: invalid configuration (Idempotent producer requires Net.MaxOpenRequests to be 1)`},
		{[]string{"--producers", "0"}, `invalid --producers: must be at least 1, got 0`},
		{[]string{"--producer", "2", "--producers", "2"}, `invalid --producer 2: use 0 to 1 (--producers 2)`},
		{[]string{"--alerts-per-visit", "-1"}, `invalid --alerts-per-visit: must be at least 1, got -1`},
		{[]string{"--pacing", "warp"}, `invalid --pacing: "warp" is not one of visit, ccd-bursts, rate`},
		{[]string{"--visits", "-1"}, `invalid --visits -1: use 1 or more, or 0 for a stream without end`},
		{[]string{"--visits", "0", "--first-visit", "1000000000"}, `invalid --first-visit 1000000000: use 0 to 999999999`},
		{[]string{"--first-visit", "-1"}, `invalid --first-visit -1: use 0 to 999999999`},
		{[]string{"--alert-size", "-5"}, `invalid --alert-size -5: use 0 (the default size) or more bytes`},
		{[]string{"--t0", "yesterday"}, `invalid --t0 "yesterday": use RFC 3339 (2026-11-22T10:00:00Z), Unix seconds or auto`},
		{[]string{"--replay", "/nonexistent"}, `alert: replay: open /nonexistent: no such file or directory`},
	} {
		last, code, stderr, took := runMain(t, append(append([]string{}, base...), c.args...))
		if want := "alert-producer: " + c.want; last != want || code != 1 {
			t.Errorf("%v: exit %d, last line %q\nwant exit 1, %q", c.args, code, last, want)
		}
		if strings.Contains(stderr, "connect to Kafka") || took > 5*time.Second {
			t.Errorf("%v: reached Kafka (%s):\n%s", c.args, took, stderr)
		}
	}
	last, code, _, _ := runMain(t, []string{"--brokers", noBroker})
	if last != `alert-producer: Required flag "run-id" not set` || code != 1 {
		t.Errorf("without --run-id: exit %d, %q", code, last)
	}
}
