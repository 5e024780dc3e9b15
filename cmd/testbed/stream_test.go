package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/alert-testbed/testbed/internal/kafka"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// streamExperiment is 1,000 small alerts every 10 s (100 alerts/s), for a
// stream without end; stream-fast is followed as the experiment's
// external consumer, stream-slow by --group.
const streamExperiment = `name: stream
visits: 1
visit_interval: 10s
alerts_per_visit: 1000
producers: 1
alert:
  stamps: false
topic:
  name: alerts-stream
  partitions: 3
external_consumers: [stream-fast]
`

// background is a testbed command running while the test goes on.
type background struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

func startBackground(t *testing.T, bin string, args ...string) *background {
	t.Helper()
	b := &background{cmd: exec.Command(bin, args...), out: &syncBuffer{}, done: make(chan struct{})}
	b.cmd.Dir = repoRoot
	b.cmd.Env = append(os.Environ(), "TESTBED_HOME=")
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.err = b.cmd.Wait(); close(b.done) }()
	t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			b.cmd.Process.Signal(os.Interrupt)
			select {
			case <-b.done:
			case <-time.After(3 * time.Minute):
				b.cmd.Process.Kill()
			}
		}
		t.Logf("$ testbed %s\n%s", strings.Join(args, " "), b.out.String())
	})
	return b
}

// waitFor waits until the output matches re, or fails the test.
func (b *background) waitFor(t *testing.T, re string, timeout time.Duration) {
	t.Helper()
	want := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for !want.MatchString(b.out.String()) {
		select {
		case <-b.done:
			t.Fatalf("exited (%v) before printing %q:\n%s", b.err, re, b.out.String())
		case <-time.After(500 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q after %s:\n%s", re, timeout, b.out.String())
		}
	}
}

// wait waits for the command to exit and returns its exit status.
func (b *background) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(timeout):
		t.Fatalf("still running after %s:\n%s", timeout, b.out.String())
	}
	var exit *exec.ExitError
	if errors.As(b.err, &exit) {
		return exit.ExitCode()
	}
	if b.err != nil {
		t.Fatal(b.err)
	}
	return 0
}

// streamAndWatch is issue 13's `testbed stream` and `testbed watch` on the
// shared testbed: a stream without end, two consumers from this host (one
// as fast as it can, one held to 40 alerts/s against the stream's 100),
// the stream following one as an external consumer and the other by
// --group, and `testbed watch` following both from another process. The
// stream says which keeps up visit by visit and in the end, stops at
// Ctrl-C and leaves nothing; watch ends with the stream. A stream whose
// process is killed leaves producers that watch refuses and the next
// stream removes.
func streamAndWatch(t *testing.T, bin, name, dir string) {
	t.Run("stream and watch", func(t *testing.T) {
		brokers := testbedBrokers(t, name)
		file := filepath.Join(dir, "stream.yaml")
		if err := os.WriteFile(file, []byte(streamExperiment), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := run(t, bin, "watch", "--name", name, "--group", "g"); r.code == 0 || !strings.Contains(r.out, "no stream is running on testbed") {
			t.Errorf("watch without a stream: exit %d, want an error saying no stream runs", r.code)
		}
		stream := startBackground(t, bin, "stream", "--name", name, "--warm-up-rounds", "1", "--warm-up-alerts", "2000", "--group", "stream-slow", file)
		stream.waitFor(t, `Started 1 producer\(s\)`, 4*time.Minute)
		if first := strings.SplitN(stream.out.String(), "\n", 2)[0]; first != "Kafka bootstrap from this host: "+brokers {
			t.Errorf("first line %q, want the bootstrap %s", first, brokers)
		}
		if r := run(t, bin, "stream", "--name", name, "--warm-up-rounds", "1", "--warm-up-alerts", "2000", file); r.code == 0 || !strings.Contains(r.out, "has a stream running") {
			t.Errorf("a second stream: exit %d, want it refused", r.code)
		}
		startConsumer(t, brokers, "alerts-stream", "stream-fast")
		startConsumer(t, brokers, "alerts-stream", "stream-slow", "--max-rate", "40")
		watch := startBackground(t, bin, "watch", "--name", name, "--group", "stream-fast", "--group", "stream-slow")
		// Groups are judged from the first visit due after they have a
		// member; three visits each are judged by the stream's fifth.
		watch.waitFor(t, `(?s)(visit \d+: 1000 alerts.*){3}`, 2*time.Minute)
		stream.waitFor(t, `(?s)(stream-slow: behind by.*){3}`, time.Minute)
		stream.cmd.Process.Signal(os.Interrupt)
		if code := stream.wait(t, 3*time.Minute); code != 0 {
			t.Errorf("stream stopped by Ctrl-C: exit %d, want 0", code)
		}
		if code := watch.wait(t, time.Minute); code != 0 {
			t.Errorf("watch at the stream's end: exit %d, want 0", code)
		}
		for _, want := range []string{
			`Point your consumer at topic alerts-stream, bootstrap ` + regexp.QuoteMeta(brokers),
			`visit 1: 1000 alerts \([0-9.]+ MB\) produced in [0-9.]+ s`,
			`stream-fast: caught up \+[0-9.]+ s after its last alert was produced`,
			`stream-slow: behind by \d+ alerts \([0-9.]+ s of stream\), growing`,
			`Stream \d{8}-\d{6}-[0-9a-f]{4}: \d+ visits, \d+ alerts`,
			`stream-fast: KEEPING UP at 1000 alerts/visit \(\d+ visits judged: (\d+) caught up, 0 behind`,
			`stream-slow: FALLING BEHIND at 1000 alerts/visit \(\d+ visits judged: 0 caught up`,
			`Removed 1 service\(s\) and the topics alerts-stream, testbed-results-`,
		} {
			if !regexp.MustCompile(want).MatchString(stream.out.String()) {
				t.Errorf("stream output lacks %s", want)
			}
		}
		for _, want := range []string{"the stream ended", "stream-fast: caught up", "stream-slow: behind by",
			"stream-fast: KEEPING UP at 1000 alerts/visit", "stream-slow: FALLING BEHIND at 1000 alerts/visit"} {
			if !strings.Contains(watch.out.String(), want) {
				t.Errorf("watch output lacks %q", want)
			}
		}
		assertNoAgents(t, bin, name)
		assertNoTopic(t, brokers, "alerts-stream")
		ws := workspace.Workspace{Root: filepath.Join(repoRoot, ".testbed")}
		if _, ok, _ := ws.LoadStream(name); ok {
			t.Errorf("stream.json left after the stream stopped")
		}

		// A stream whose process dies leaves its producers sending.
		killed := startBackground(t, bin, "stream", "--name", name, "--warm-up-rounds", "1", "--warm-up-alerts", "2000", file)
		killed.waitFor(t, `Started 1 producer\(s\)`, 3*time.Minute)
		killed.cmd.Process.Signal(syscall.SIGKILL)
		killed.wait(t, time.Minute)
		if r := run(t, bin, "watch", "--name", name, "--group", "g"); r.code == 0 || !strings.Contains(r.out, "is not running any more (its process") {
			t.Errorf("watch of a dead stream: exit %d, want it named as not running", r.code)
		}
		next := startBackground(t, bin, "stream", "--name", name, "--warm-up-rounds", "1", "--warm-up-alerts", "2000", file)
		next.waitFor(t, `Removed what stream \S+ left \(its process \d+ is gone\): 1 service\(s\), 2 topic\(s\)`, 4*time.Minute)
		next.waitFor(t, `Started 1 producer\(s\)`, 3*time.Minute)
		next.cmd.Process.Signal(os.Interrupt)
		if code := next.wait(t, 3*time.Minute); code != 0 {
			t.Errorf("the next stream: exit %d", code)
		}
		assertNoAgents(t, bin, name)
		assertNoTopic(t, brokers, "alerts-stream")
	})
}

// assertNoTopic checks that the testbed's Kafka has no topic named topic.
func assertNoTopic(t *testing.T, brokers, topic string) {
	t.Helper()
	if _, ok := listTopics(t, strings.Split(brokers, ","))[topic]; ok {
		t.Errorf("topic %s left", topic)
	}
}

// listTopics lists the topics of the Kafka at bootstrap.
func listTopics(t *testing.T, bootstrap []string) map[string]sarama.TopicDetail {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(bootstrap, kafka.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	topics, err := admin.ListTopics()
	if err != nil {
		t.Fatal(err)
	}
	return topics
}
