// Package maintest runs an agent's real main from its own test binary, so
// that tests see what a user sees: the exit status and the last line on
// stderr. A test file's TestMain calls Main; a test calls Run with the
// program's arguments.
package maintest

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// argsEnv carries the program's arguments (a JSON list) to the child.
const argsEnv = "AGENT_MAIN_ARGS"

// NoBroker is where no Kafka listens: a program that got past the checks
// of its flags would fail connecting, after its metadata retries (~20 s).
const NoBroker = "127.0.0.1:1"

// Main runs the program's main, as program, instead of the tests when the
// test binary was started by Run; otherwise the tests.
func Main(m *testing.M, program string, main func()) {
	if args := os.Getenv(argsEnv); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		os.Args = append([]string{program}, a...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Run runs the program's main with args in a child process and returns its
// last line on stderr, its exit status, all its stderr and how long it
// took.
func Run(t *testing.T, args []string) (last string, code int, stderr string, took time.Duration) {
	t.Helper()
	a, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), argsEnv+"="+string(a))
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
