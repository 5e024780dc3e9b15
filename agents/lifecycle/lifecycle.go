// Package lifecycle is how an agent ends: the signals it takes and the
// exit status each gives, which the swarm's restart policy acts on.
//
// The agents run as swarm services with restart condition on-failure
// (internal/run): a task that exits 0 stays ended, any other status makes
// swarm start a new task in the same slot (as does draining its node,
// whatever the status). Every signal below ends an agent gracefully (a
// producer drains what it handed over, a member publishes its records and
// commits); they differ in what follows:
//
//   - SIGINT is a stop for good: the testbed's own stop of a run (and
//     Ctrl-C). A producer reports the visits it cut short, with what it
//     did not send. Exit 0.
//   - SIGTERM is a stop by the platform: swarm's on a drained node, docker
//     stop. Another task may take over, so a producer does not report a
//     visit it cut short: the next task of its slot, finding no record of
//     that visit, sends it whole. Exit 0.
//   - SIGHUP is a restart (the testbed's `restart` fault on an agent): as
//     SIGTERM, then exit status RestartExitCode, so that swarm starts the
//     agent again.
//   - An agent that ends on its own with an error exits 1 (and swarm
//     starts it again); SIGKILL gives 137 (likewise).
package lifecycle

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// RestartExitCode is the exit status of an agent that stopped for a
// restart (SIGHUP): EX_TEMPFAIL of sysexits.h, "try again later".
const RestartExitCode = 75

// Signals follows the signals that end an agent.
type Signals struct {
	stopped, handover, restart atomic.Bool
}

// Notify returns a context canceled at the first SIGTERM, SIGINT or
// SIGHUP, what was received, and a function that stops listening.
func Notify() (context.Context, *Signals, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Signals{}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		select {
		case sig := <-ch:
			s.receive(sig)
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, s, func() { signal.Stop(ch); cancel() }
}

func (s *Signals) receive(sig os.Signal) {
	switch sig {
	case syscall.SIGHUP:
		s.restart.Store(true)
		s.handover.Store(true)
	case syscall.SIGTERM:
		s.handover.Store(true)
	}
	s.stopped.Store(true)
}

// ExitCode is the status an agent exits with after its work returned err:
// RestartExitCode after SIGHUP, 0 after SIGTERM or SIGINT, 1 on an error
// of its own, 0 otherwise.
func (s *Signals) ExitCode(err error) int {
	switch {
	case s.restart.Load():
		return RestartExitCode
	case s.stopped.Load():
		return 0
	case err != nil:
		return 1
	}
	return 0
}

// Restarting says whether the agent was asked to restart (SIGHUP).
func (s *Signals) Restarting() bool { return s.restart.Load() }

// HandingOver says whether another task may take over from this one
// (SIGTERM or SIGHUP): work cut short is left for it, not reported.
func (s *Signals) HandingOver() bool { return s.handover.Load() }

// Exit prints err (if any) prefixed with the program's name, says why the
// agent ends when a signal ended it, prints the CPU time the process used
// (CPULine), and exits with ExitCode(err).
func (s *Signals) Exit(program string, err error) {
	code := s.ExitCode(err)
	if line := CPULine(program); line != "" {
		fmt.Fprintln(os.Stderr, line)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", program, err)
	}
	switch {
	case s.restart.Load():
		fmt.Fprintf(os.Stderr, "%s: stopped for a restart (SIGHUP): exit %d, so that swarm starts a new task\n", program, code)
	case s.handover.Load():
		fmt.Fprintf(os.Stderr, "%s: stopped by the platform (SIGTERM): what was cut short is left to a next task\n", program)
	case s.stopped.Load():
		fmt.Fprintf(os.Stderr, "%s: stopped (SIGINT)\n", program)
	}
	os.Exit(code)
}

// CPULine is "PROGRAM: cpu: user U s, system S s" with the CPU time the
// process used over its whole life (getrusage RUSAGE_SELF, every thread),
// so that an agent's log says what it cost the node it ran on: `testbed
// bench` reads it to compare the clients' CPU with Kafka's tools'. Empty
// when getrusage fails.
func CPULine(program string) string {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return ""
	}
	user := time.Duration(ru.Utime.Nano())
	sys := time.Duration(ru.Stime.Nano())
	return fmt.Sprintf("%s: cpu: user %.3f s, system %.3f s", program, user.Seconds(), sys.Seconds())
}
