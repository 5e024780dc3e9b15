package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/orchestrator"
	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// externalExperiment streams 4 visits of 1,000 small alerts every 10 s
// (100 alerts/s) for two consumer groups the run does not start.
const externalExperiment = `name: external
visits: 4
visit_interval: 10s
alerts_per_visit: 1000
producers: 1
alert:
  stamps: false
topic:
  name: alerts-ext
  partitions: 3
consumers:
  - name: counting
    members: 1
    mode: drop
external_consumers: [ext-fast, ext-slow]
`

// externalConsumersRun is issue 13's "is my consumer keeping up?" on the
// shared testbed: two of the project's consumers are started from this
// host, as a community broker's would be, one as fast as it can and one
// held to 40 alerts/s; the run waits for both groups, follows them from
// their committed offsets, and calls the first KEEPING UP and the second
// FALLING BEHIND, visit by visit and in the end.
func externalConsumersRun(t *testing.T, bin, name, dir string) {
	t.Run("external consumers", func(t *testing.T) {
		brokers := testbedBrokers(t, name)
		file := filepath.Join(dir, "external.yaml")
		if err := os.WriteFile(file, []byte(externalExperiment), 0o644); err != nil {
			t.Fatal(err)
		}
		// Started with the run: they retry until the run has made the
		// topic, and the run waits for them before visit 1.
		startConsumer(t, brokers, "alerts-ext", "ext-fast")
		startConsumer(t, brokers, "alerts-ext", "ext-slow", "--max-rate", "40")
		runsDir := filepath.Join(dir, "runs-external")
		r := run(t, bin, "run", "--name", name, "--runs-dir", runsDir, "--warm-up-rounds", "1", "--warm-up-alerts", "2000", file)
		if r.code != 0 {
			logAgents(t, runsDir)
			t.Fatalf("run with external consumers: exit %d, want 0 (a consumer falling behind is a finding, not a failure)", r.code)
		}
		for _, want := range []string{"Waiting up to 3m0s for the external consumer groups ext-fast, ext-slow to have a member on topic alerts-ext",
			"External consumer groups joined", "EXTERNAL CONSUMERS", "ext-fast: KEEPING UP at 1000 alerts/visit", "ext-slow: FALLING BEHIND at 1000 alerts/visit"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("run output lacks %q", want)
			}
		}
		archives, _ := filepath.Glob(filepath.Join(runsDir, "*"))
		if len(archives) != 1 {
			t.Fatalf("%d archives in %s, want 1", len(archives), runsDir)
		}
		var s outcome.Summary
		readJSON(t, filepath.Join(archives[0], "summary.json"), &s)
		if len(s.External) != 2 {
			t.Fatalf("summary.json has %d external groups, want 2: %+v", len(s.External), s.External)
		}
		fast, slow := s.External[0], s.External[1]
		if fast.Group != "ext-fast" || fast.Verdict != outcome.KeepingUp || len(fast.Visits) != 4 {
			t.Errorf("ext-fast: %s, %d visits, want KEEPING UP over 4", fast.Verdict, len(fast.Visits))
		}
		for _, v := range fast.Visits {
			if !v.CaughtUp || v.CaughtUpAfter > 5*time.Second {
				t.Errorf("ext-fast visit %d: %s; want caught up within seconds", v.Visit, v)
			}
		}
		if slow.Group != "ext-slow" || slow.Verdict != outcome.FallingBehind || len(slow.Visits) != 4 {
			t.Errorf("ext-slow: %s, %d visits, want FALLING BEHIND over 4", slow.Verdict, len(slow.Visits))
		}
		// 1,000 alerts every 10 s against 400 taken in: about 600 more
		// behind at each visit's end.
		for i, v := range slow.Visits {
			if v.CaughtUp || v.Behind < 300 || (i > 0 && v.Trend != "growing") {
				t.Errorf("ext-slow visit %d: %s; want behind by hundreds of alerts, growing", v.Visit, v)
			}
		}
		md, _ := os.ReadFile(filepath.Join(archives[0], "report.md"))
		if !strings.Contains(string(md), "ext-slow: FALLING BEHIND at 1000 alerts/visit") {
			t.Errorf("report.md lacks the external consumers' verdicts")
		}
		checkReportAgain(t, bin, archives[0])
		assertNoAgents(t, bin, name)
	})
}

// testbedBrokers is the Kafka bootstrap of testbed name from this host.
func testbedBrokers(t *testing.T, name string) string {
	t.Helper()
	ws := workspace.Workspace{Root: filepath.Join(repoRoot, ".testbed")}
	inv, err := orchestrator.LoadInventory(ws, name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(orchestrator.Bootstrap(inv), ",")
}

// consumerBinary is the project's alert-consumer, built once per test
// binary, as a community broker's consumer run from this host.
var consumerBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "alert-consumer-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "alert-consumer")
	build := exec.Command("go", "build", "-o", bin, "./agents/cmd/alert-consumer")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build alert-consumer: %v\n%s", err, out)
	}
	return bin, nil
})

// startConsumer starts the project's consumer from this host in drop mode
// on topic as consumer group group (extra: more flags, e.g. --max-rate);
// it is stopped when the test ends. It retries until the topic exists.
func startConsumer(t *testing.T, brokers, topic, group string, extra ...string) {
	t.Helper()
	consumer, err := consumerBinary()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--brokers", brokers, "--topic", topic, "--group", group, "--mode", "drop",
		"--results-topic", "", "--metrics-addr", "", "--no-end-lines"}, extra...)
	cmd := exec.Command(consumer, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
		t.Logf("%s's output (last 30 lines):\n%s", group, tail([]byte(out.String()), 30))
	})
}
