package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain runs the program's main instead of the tests when
// AGENT_MAIN_ARGS is set (a JSON list of arguments): the bad-flag tests
// run the real program, exit status and all.
func TestMain(m *testing.M) {
	if args := os.Getenv("AGENT_MAIN_ARGS"); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		os.Args = append([]string{"alert-consumer"}, a...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// noBroker is where no Kafka listens: a run that got past the checks of
// its flags would fail connecting, after its metadata retries (20 s).
const noBroker = "127.0.0.1:1"

// runMain runs main with args and returns its last line on stderr and its
// exit status.
func runMain(t *testing.T, args []string) (last string, code int, stderr string, took time.Duration) {
	t.Helper()
	a, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "AGENT_MAIN_ARGS="+string(a))
	var errb strings.Builder
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(errb.String(), "\n"), "\n")
	return lines[len(lines)-1], code, errb.String(), took
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
