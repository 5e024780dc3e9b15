package consume

import (
	"context"
	"io"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/agents/headers"
	"github.com/alert-testbed/testbed/agents/results"
)

// The same error is logged once, then at most once a minute with how many
// times it came meanwhile; another error is logged at once.
func TestErrorRepeats(t *testing.T) {
	var r errorRepeats
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	missing := "kafka: error while consuming alerts/0: topic does not exist"
	if line, ok := r.line(missing, t0); !ok || line != missing {
		t.Fatalf("first: %q %v", line, ok)
	}
	for i := 1; i <= 20; i++ {
		if _, ok := r.line(missing, t0.Add(time.Duration(i)*time.Second)); ok {
			t.Fatalf("repeat %d logged", i)
		}
	}
	if line, ok := r.line("another", t0.Add(21*time.Second)); !ok || line != "another" {
		t.Errorf("another error: %q %v", line, ok)
	}
	line, ok := r.line(missing, t0.Add(61*time.Second))
	if want := missing + " (20 more times since 10:00:00)"; !ok || line != want {
		t.Errorf("after a minute: %q %v, want %q", line, ok, want)
	}
}

// --stop-after: the member's context ends with the Nth alert of the run,
// not before; alerts of other runs do not count.
func TestStopAfter(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := &Member{RunID: "r", Group: "g", Name: "m", Out: io.Discard, StopAfter: 3, stop: cancel,
		visits: map[int]*results.ConsumerVisit{}, deltas: map[int]*results.ConsumerVisit{}, marks: map[topicPartition]int64{}}
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	msg := func(run string, seq int) *sarama.ConsumerMessage {
		meta := headers.Meta{Run: run, Visit: 1, Seq: seq, Intended: t0, Produced: t0}
		return &sarama.ConsumerMessage{Topic: "alerts", Offset: int64(seq), Headers: ptrs(meta.Headers())}
	}
	for seq, run := range []string{"r", "other", "r"} {
		if err := m.consume(ctx, msg(run, seq)); err != nil {
			t.Fatal(err)
		}
	}
	if ctx.Err() != nil {
		t.Fatal("stopped after 2 alerts of the run (and one of another), want 3")
	}
	if err := m.consume(ctx, msg("r", 3)); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() == nil {
		t.Fatal("not stopped after the 3rd alert of the run")
	}
}

// --gc-percent sets Go's GC target unless GOGC does; 0 is refused.
func TestGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	run := func(args ...string) error {
		app := &cli.App{Flags: Flags("t", "g"), Action: setGCPercent}
		return app.Run(append([]string{"member", "--group", "g"}, args...))
	}
	t.Setenv("GOGC", "")
	for _, c := range []struct {
		args []string
		want int
	}{{[]string{"--gc-percent", "250"}, 250}, {nil, DefaultGCPercent}} {
		debug.SetGCPercent(100)
		if err := run(c.args...); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if got := debug.SetGCPercent(100); got != c.want {
			t.Errorf("%v: GC percent %d, want %d", c.args, got, c.want)
		}
	}
	if err := run("--gc-percent", "0"); err == nil || !strings.Contains(err.Error(), "invalid --gc-percent 0: use 1 or more") {
		t.Errorf("--gc-percent 0: %v", err)
	}
	t.Setenv("GOGC", "50") // the runtime read it at start; the flag leaves it
	if err := run("--gc-percent", "250"); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set: GC percent %d, want it left at 100", got)
	}
}
