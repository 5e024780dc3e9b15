package lifecycle

import (
	"errors"
	"syscall"
	"testing"
)

// The exit status is what swarm's on-failure policy acts on: a stop asked
// for is a success whatever the last error, a restart is not, and an
// agent's own error is not.
func TestExitCode(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name string
		sig  []syscall.Signal
		err  error
		want int
	}{
		{"done", nil, nil, 0},
		{"own error", nil, boom, 1},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}, nil, 0},
		{"SIGTERM, interrupted work", []syscall.Signal{syscall.SIGTERM}, boom, 0},
		{"SIGINT", []syscall.Signal{syscall.SIGINT}, boom, 0},
		{"SIGHUP", []syscall.Signal{syscall.SIGHUP}, nil, RestartExitCode},
		{"SIGHUP with an error", []syscall.Signal{syscall.SIGHUP}, boom, RestartExitCode},
		{"SIGHUP then SIGTERM", []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM}, nil, RestartExitCode},
	}
	for _, c := range cases {
		s := &Signals{}
		for _, sig := range c.sig {
			s.receive(sig)
		}
		if got := s.ExitCode(c.err); got != c.want {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.want)
		}
		if s.Restarting() != (c.want == RestartExitCode) {
			t.Errorf("%s: Restarting() = %v", c.name, s.Restarting())
		}
		handover := false
		for _, sig := range c.sig {
			handover = handover || sig == syscall.SIGTERM || sig == syscall.SIGHUP
		}
		if s.HandingOver() != handover {
			t.Errorf("%s: HandingOver() = %v, want %v", c.name, s.HandingOver(), handover)
		}
	}
}

// Notify's context ends at the signal, and the signal is what ExitCode
// then reads.
func TestNotifySIGHUP(t *testing.T) {
	ctx, s, stop := Notify()
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
	if got := s.ExitCode(nil); got != RestartExitCode {
		t.Fatalf("after SIGHUP: exit %d, want %d", got, RestartExitCode)
	}
}
