package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/archive"
	"github.com/alert-testbed/testbed/internal/faults"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/orchestrator"
	"github.com/alert-testbed/testbed/internal/outcome"
	"github.com/alert-testbed/testbed/internal/report"
	"github.com/alert-testbed/testbed/internal/steps"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// The integration run: 3 visits, 2 producers, 3 partitions, 2
// consumer groups of 2 members and one filter group with end users, on a
// 3+2 local testbed: every visit complete, nothing lost or duplicated, the
// archive complete and the report written with its plots. Then a run
// interrupted with SIGINT still writes its archive, exits non-zero and
// leaves no agent behind.
const integrationExperiment = `name: integration
visits: 3
visit_interval: 15s
alerts_per_visit: 600
producers: 2
alert:
  stamps: true
topic:
  name: alerts-it
  partitions: 3
  replication_factor: 3
  min_insync_replicas: 2
consumers:
  - name: counting
    members: 2
    mode: count
  - name: dropping
    members: 2
    mode: drop
filters:
  groups: 1
  filters_per_group: 3
  cap: 20
  end_users: 1
  expressions:
    - name: it-snr5
      expr: diaSource.snr > 5
    - name: it-bright
      expr: mag(diaSource.psfFlux) < 21
    - name: it-all
      expr: diaSource.snr > -1000000
limits:
  max_lag: 100000
  visit_deadline: 60s
`

func TestRunOnTheLocalEnvironment(t *testing.T) {
	needsTestbeds(t)
	bin := buildBinary(t)
	name := randomName("rt-")
	t.Cleanup(func() { run(t, bin, "down", "--name", name) })
	dir := t.TempDir()
	file := filepath.Join(dir, "integration.yaml")
	if err := os.WriteFile(file, []byte(integrationExperiment), 0o644); err != nil {
		t.Fatal(err)
	}
	runsDir := filepath.Join(dir, "runs")

	// Before the testbed exists: the files are checked, then the missing
	// testbed is named, and nothing is made.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(integrationExperiment, "visits: 3", "visit: 3", 1)), 0o644)
	if r := run(t, bin, "run", "--name", name, "--runs-dir", runsDir, file, bad); r.code == 0 || !strings.Contains(r.out, bad+": visit: unknown field") {
		t.Fatalf("a bad file among good ones: exit %d, want an error naming %s and the field", r.code, bad)
	}
	if r := run(t, bin, "run", "--name", name, "--runs-dir", runsDir, file); r.code == 0 || !strings.Contains(r.out, "is not up") {
		t.Fatalf("run on a testbed that is not up: exit %d, want 'is not up'", r.code)
	}
	if _, err := os.Stat(runsDir); !os.IsNotExist(err) {
		t.Fatalf("a refused run made %s", runsDir)
	}

	if r := run(t, bin, "up", "--name", name, "--managers", "3", "--workers", "2"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	// One warm-up round of 2000 alerts a broker (a user's default is up
	// to DefaultWarmUpRounds of DefaultWarmUpAlerts, 4 minutes a round on
	// this 3+2 testbed): the brokers are new.
	r := run(t, bin, "run", "--name", name, "--runs-dir", runsDir, "--warm-up-rounds", "1", "--warm-up-alerts", "2000", file)
	if r.code != 0 {
		logAgents(t, runsDir)
		t.Fatalf("run: exit %d", r.code)
	}
	checkWarmUp(t, name, r.out, 1)
	if st := run(t, bin, "status", "--name", name); !regexp.MustCompile(`(?m)^  warm-up:   1 round of 2000 alerts a broker on these broker containers, JIT compilers (settled|not settled: a larger --warm-up-rounds goes on), the last ending at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`).MatchString(st.out) {
		t.Errorf("status after the warm-up does not say the brokers had 1 round:\n%s", st.out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`visit 1/3: produced 600 in [0-9.]+ s \| counting 600/600 [+-][0-9.]+ s \| dropping 600/600 [+-][0-9.]+ s \| filters-1 600/600`),
		regexp.MustCompile(`visit 3/3: produced 600 in`),
		// group, expected, received, lost, not received, not sent,
		// re-delivered, producer duplicates, complete visits
		regexp.MustCompile(`(?m)^\s+counting\s+1800\s+1800\s+0\s+0\s+0\s+0\s+0\s+3/3`),
		regexp.MustCompile(`(?m)^\s+dropping\s+1800\s+1800\s+0\s+0\s+0\s+0\s+0\s+3/3`),
		regexp.MustCompile(`(?m)^\s+filters-1\s+1800\s+1800\s+0\s+0\s+0\s+0\s+0\s+3/3`),
		regexp.MustCompile(`end users: 3, \d+ of \d+ forwarded alerts received, 0 lost, 0 duplicated`),
		regexp.MustCompile(`no alert lost`),
		regexp.MustCompile(`produced: 1800 alerts of \d+ bytes on average \(\d+ - \d+\)`),
		regexp.MustCompile(`(?m)^  host:      [0-9.]+ MB/s on one core just before the run \(compress/flate BestSpeed of a fixed 4 MiB block, one goroutine, median of 10 slices, [0-9.]+ s; `),
		regexp.MustCompile(`CPU while producing: \d+ % of the host's \d+ cores? busy \(node-exporter; the local nodes share them\): (the visits were CPU-bound, shorter visits need more cores|the CPUs were not the limit)`),
		regexp.MustCompile(`Removed 7 agent services and 5 topics`),
	} {
		if !want.MatchString(r.out) {
			t.Errorf("run output lacks %s", want)
		}
	}
	archives, _ := filepath.Glob(filepath.Join(runsDir, "*"))
	if len(archives) != 1 {
		t.Fatalf("%d archives in %s, want 1", len(archives), runsDir)
	}
	checkArchive(t, archives[0])
	checkReportAgain(t, bin, archives[0])
	assertNoAgents(t, bin, name)

	// Interrupted during visit 2: the archive is written and says so, the
	// exit status is not 0, and no agent or topic is left.
	cmd := exec.Command(bin, "run", "--name", name, "--runs-dir", runsDir, "--warm-up-rounds", "1", "--warm-up-alerts", "2000", file)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "TESTBED_HOME=")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(pr)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); pw.Close() }()
	signalled := false
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if !signalled && strings.HasPrefix(sc.Text(), "visit 1/3") {
			cmd.Process.Signal(syscall.SIGINT)
			signalled = true
		}
	}
	err := <-done
	t.Logf("$ testbed run (interrupted)\n%s", out.String())
	if !signalled || err == nil {
		t.Fatalf("interrupted run: signalled %v, exit error %v; want a non-zero exit", signalled, err)
	}
	if !strings.Contains(out.String(), "Interrupted: stopping the agents and writing what was measured") || !strings.Contains(out.String(), "Archive: ") {
		t.Fatalf("the interrupted run did not say it was stopping and where its archive is")
	}
	// The same broker containers: no second warm-up.
	if !regexp.MustCompile(`✓ Warming the brokers' JVMs \(up to 1 round, .*\) \(unchanged: 1 round of 2000 alerts a broker, (not )?settled, the last ending at \d\d:\d\d:\d\d UTC, on the same broker containers\)`).MatchString(out.String()) {
		t.Errorf("the second run on the same brokers did not say they were warm")
	}
	archives, _ = filepath.Glob(filepath.Join(runsDir, "*"))
	if len(archives) != 2 {
		t.Fatalf("%d archives after the interrupted run, want 2", len(archives))
	}
	var s outcome.Summary
	readJSON(t, filepath.Join(newest(archives), "summary.json"), &s)
	if s.OK() || !strings.Contains(strings.Join(s.Problems, "\n"), "interrupted at") {
		t.Fatalf("interrupted run's summary problems %q, want 'interrupted at'", s.Problems)
	}
	// Interrupted after visit 1: nothing is called lost (visits 2 and 3
	// were never sent).
	for _, g := range s.Groups {
		if g.Lost != 0 {
			t.Errorf("interrupted run: group %s has %d lost; what was not read when it stopped is not received, not lost (%+v)", g.Group, g.Lost, g)
		}
	}
	checkReportAgain(t, bin, newest(archives))
	assertNoAgents(t, bin, name)

	// Faults on the same testbed (issue 10): a broker and a consumer
	// member killed in visit 2, a filter over a nullable field; then a
	// broker paused for 20 s and another partitioned for 30 s.
	faultRun(t, bin, name, dir, "kill", killExperiment, func(t *testing.T, arch string, s outcome.Summary, fs []faults.Record, out string) {
		g := group(t, s, "counting")
		if g.Lost != 0 || g.NotReceived != 0 || g.Complete != 4 {
			t.Errorf("counting after a broker and a member were killed: %+v; want 0 lost, every visit complete", g)
		}
		// Broker 2's JVM was replaced: its compiler CPU is left out,
		// and the line says so.
		var meta archive.Meta
		readJSON(t, filepath.Join(arch, "run.json"), &meta)
		if _, ok := meta.BrokersJITCPU["kafka_kafka-2"]; ok || len(meta.BrokersJITCPU) != 2 || !strings.Contains(meta.JITCPUNote, "kafka-2 left out") {
			t.Errorf("run.json after broker 2 was killed: compiler CPU %v, note %q; want kafka-1 and kafka-3 only, and kafka-2 said left out", meta.BrokersJITCPU, meta.JITCPUNote)
		}
		if !strings.Contains(out, "compiler CPU kafka-2 left out: its container of the run's start no longer runs") {
			t.Errorf("the live output does not say broker 2's compiler CPU is left out")
		}
		notes := strings.Join(s.Notes, "\n")
		if !regexp.MustCompile(`agent vanished: run-\S+-consumer-counting\.1 on \S+ ended at [0-9:.]+: failed`).MatchString(notes) {
			t.Errorf("the killed member is not named as vanished; notes:\n%s", notes)
		}
		// The alerts are Rubin's (lsst.v11_1, schema id 1101): the
		// consumers and the filter group decode them with that schema.
		for _, want := range []string{"! fault 1: kill broker 2 (visit 2 + 1s): kafka_kafka-2.1", "! fault 2: kill consumer counting member 1 (visit 2 + 2s): run-",
			"alerts:    generated, schema rubin, stamps on, default size, schema id 1101"} {
			if !strings.Contains(out, want) {
				t.Errorf("the live output lacks %q", want)
			}
		}
		// The filter group reads every visit to its end although one of
		// its filters fails on the alerts whose diaObject is null: it
		// counts those as not passing and moves on.
		f := group(t, s, "filters-1")
		if f.Lost != 0 || f.Complete != 4 {
			t.Errorf("filter group with a filter over a nullable field: %+v; want every visit complete", f)
		}
		flog, _ := os.ReadFile(filepath.Join(arch, "agents", "filters-1.log"))
		if !regexp.MustCompile(`filter:fx-nsrc-unsafe, passed:\d+, forwarded:\d+, errors:[1-9]`).Match(flog) {
			t.Errorf("filters-1.log does not count the unsafe filter's errors:\n%s", tail(flog, 20))
		}
		if !strings.Contains(out, "warning: filters.expressions[1] (fx-nsrc-unsafe): diaObject can be null") {
			t.Errorf("the run did not warn of the filter over a nullable field")
		}
	})
	faultRun(t, bin, name, dir, "pause", pauseExperiment, func(t *testing.T, arch string, s outcome.Summary, fs []faults.Record, out string) {
		g := group(t, s, "counting")
		if g.Lost != 0 || g.NotReceived != 0 || g.Complete != 4 {
			t.Errorf("counting after a broker paused and one partitioned: %+v; want 0 lost, every visit complete", g)
		}
		for i, want := range []time.Duration{20 * time.Second, 30 * time.Second} {
			got := fs[i].Healed.Sub(fs[i].Fired)
			if fs[i].Fired.IsZero() || got < want || got > want+5*time.Second {
				t.Errorf("fault %d: fired %s, healed %s (%s); want an interval of %s", i+1, fs[i].Fired, fs[i].Healed, got, want)
			}
		}
		// The kill run before killed broker 2: its new JVM, and so the
		// brokers, are warmed again.
		checkWarmUp(t, name, out, 1)
		if !strings.Contains(out, "! fault 2: partition broker 3 for 30s: healed at") {
			t.Errorf("the live output does not say the partition healed")
		}
		// A restarted agent and the tasks of a drained worker go on in
		// new tasks of their slots: the producer's new task resumes at the
		// visits it has no record of, so nothing goes unsent. A drained
		// task has swarm's 10 s stop grace: one whose graceful end waits on
		// the partitioned broker is killed then (exit code 137).
		if g.NotSent != 0 {
			t.Errorf("counting after a producer restart and a drain: %d not sent, want 0", g.NotSent)
		}
		notes := strings.Join(s.Notes, "\n")
		for _, re := range []string{
			`agent vanished: run-\S+-producer\.1 on \S+ ended at [0-9:.]+: failed: .*stopped for a restart; swarm started a new task in its slot`,
			`agent vanished: run-\S+-consumer-counting\.2 on \S+ ended at [0-9:.]+: failed: .*stopped for a restart; swarm started a new task in its slot`,
			`agent vanished: run-\S+ on \S+-worker-1 ended at [0-9:.]+: shutdown( \(exit code \d+\))?; swarm started a new task in its slot`,
		} {
			if !regexp.MustCompile(re).MatchString(notes) {
				t.Errorf("no note matches %s; notes:\n%s", re, notes)
			}
		}
		if fs[4].Healed.Sub(fs[4].Fired) < 10*time.Second {
			t.Errorf("the drain lasted %s, want 10s", fs[4].Healed.Sub(fs[4].Fired))
		}
	})

	// The runs above compared (issue 11): the good run and the two fault
	// runs, from their archives.
	compared := []string{archives[0]}
	for _, label := range []string{"kill", "pause"} {
		a, _ := filepath.Glob(filepath.Join(dir, "runs-"+label, "*"))
		compared = append(compared, a...)
	}
	cmpDir := filepath.Join(dir, "compare")
	r = run(t, bin, append(append([]string{"report"}, compared...), "-o", cmpDir)...)
	if r.code != 0 {
		t.Fatalf("testbed report of %d runs: exit %d", len(compared), r.code)
	}
	md, _ := os.ReadFile(filepath.Join(cmpDir, "compare.md"))
	if rows := regexp.MustCompile(`(?m)^\| \d \| `).FindAllString(string(md), -1); len(rows) != len(compared) || len(compared) != 3 {
		t.Errorf("compare.md has %d rows in its summary table for %d runs:\n%s", len(rows), len(compared), md)
	}
	for _, f := range []string{"compare.html", "runs.csv", "sweep.json"} {
		if _, err := os.Stat(filepath.Join(cmpDir, f)); err != nil {
			t.Errorf("comparison lacks %s", f)
		}
	}

	externalConsumersRun(t, bin, name, dir)
	streamAndWatch(t, bin, name, dir)
	replayOnTheSwarm(t, bin, name, dir)
	benchOnTheTestbed(t, bin, name, dir)
}

const killExperiment = `name: faults-kill
visits: 4
visit_interval: 20s
alerts_per_visit: 900
producers: 2
alert: {schema: rubin}
topic:
  name: alerts-fx
  partitions: 6
  replication_factor: 3
  min_insync_replicas: 2
consumers:
  - name: counting
    members: 3
    mode: count
filters:
  groups: 1
  filters_per_group: 2
  cap: 20
  end_users: 1
  expressions:
    - name: fx-nsrc
      expr: diaObject != nil && diaObject.nDiaSources > 3
    - name: fx-nsrc-unsafe
      expr: diaObject.nDiaSources > 3
faults:
  - action: kill
    target: {broker: 2}
    at: {visit: 2, after: 1s}
  - action: kill
    target: {consumer: counting, member: 1}
    at: {visit: 2, after: 2s}
`

const pauseExperiment = `name: faults-pause
visits: 4
visit_interval: 20s
alerts_per_visit: 600
producers: 2
topic:
  name: alerts-fp
  partitions: 3
  replication_factor: 3
  min_insync_replicas: 2
consumers:
  - name: counting
    members: 3
    mode: count
faults:
  - action: pause
    target: {broker: 1}
    at: {visit: 1, after: 2s}
    duration: 20s
  - action: partition
    target: {broker: 3}
    at: {visit: 3, after: 0s}
    duration: 30s
  - action: restart
    target: {producer: 1}
    at: {visit: 2, after: 3s}
  - action: restart
    target: {consumer: counting, member: 2}
    at: {visit: 2, after: 4s}
  - action: drain
    target: {worker: 1}
    at: {visit: 4, after: 0s}
    duration: 10s
`

// faultRun runs one fault experiment on the testbed: it must pass, write
// faults.json with every fault fired, draw them on the plots' legend (the
// report lists them), and leave no agent; check looks at the rest.
func faultRun(t *testing.T, bin, name, dir, label, experiment string, check func(t *testing.T, arch string, s outcome.Summary, fs []faults.Record, out string)) {
	t.Run(label, func(t *testing.T) {
		file := filepath.Join(dir, label+".yaml")
		if err := os.WriteFile(file, []byte(experiment), 0o644); err != nil {
			t.Fatal(err)
		}
		runsDir := filepath.Join(dir, "runs-"+label)
		r := run(t, bin, "run", "--name", name, "--runs-dir", runsDir, "--warm-up-rounds", "1", "--warm-up-alerts", "2000", file)
		archives, _ := filepath.Glob(filepath.Join(runsDir, "*"))
		if len(archives) != 1 {
			t.Fatalf("%d archives in %s, want 1", len(archives), runsDir)
		}
		if r.code != 0 {
			logAgents(t, runsDir)
			t.Errorf("run with faults: exit %d, want 0 (faults are survived, not failures)", r.code)
		}
		var s outcome.Summary
		readJSON(t, filepath.Join(archives[0], "summary.json"), &s)
		var fs []faults.Record
		readJSON(t, filepath.Join(archives[0], "faults.json"), &fs)
		if want := strings.Count(experiment, "- action: "); len(fs) != want {
			t.Fatalf("faults.json has %d records, want %d", len(fs), want)
		}
		for _, f := range fs {
			if f.Fired.IsZero() || f.Error != "" || f.Resolved == "" {
				t.Errorf("fault %d did not fire cleanly: %+v", f.Index, f)
			}
		}
		md, _ := os.ReadFile(filepath.Join(archives[0], "report.md"))
		if !strings.Contains(string(md), "fault 1: ") || !strings.Contains(string(md), "fault 2: ") {
			t.Errorf("report.md does not list the faults")
		}
		check(t, archives[0], s, fs, r.out)
		checkReportAgain(t, bin, archives[0])
		assertNoAgents(t, bin, name)
	})
}

// checkReportAgain makes a run's report again from its archive alone
// (`testbed report DIR -o OTHER`) and checks it is the same, byte for
// byte: report.md, report.html and every plot.
func checkReportAgain(t *testing.T, bin, dir string) {
	t.Helper()
	again := t.TempDir()
	r := run(t, bin, "report", dir, "-o", again)
	if r.code != 0 || !strings.Contains(r.out, filepath.Join(again, "report.md")) {
		t.Errorf("testbed report %s: exit %d:\n%s", dir, r.code, r.out)
		return
	}
	files := []string{"report.md", "report.html"}
	for _, p := range report.Plots {
		files = append(files, p, strings.TrimSuffix(p, ".png")+".svg")
	}
	for _, f := range files {
		a, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Errorf("archive's %s: %v", f, err)
			continue
		}
		b, err := os.ReadFile(filepath.Join(again, f))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s made again from the archive differs from the run's (%v)", f, err)
		}
	}
}

// group returns the summary of the experiment's group label.
func group(t *testing.T, s outcome.Summary, label string) outcome.GroupSummary {
	t.Helper()
	for _, g := range s.Groups {
		if g.Group == label {
			return g
		}
	}
	t.Fatalf("no group %s in the summary", label)
	return outcome.GroupSummary{}
}

// tail is the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func newest(paths []string) string {
	best := paths[0]
	for _, p := range paths[1:] {
		if p > best { // run ids sort by time
			best = p
		}
	}
	return best
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// checkArchive checks every file of a good run's archive.
func checkArchive(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []string{"experiment.yaml", "run.json", "records.jsonl", "visits.json", "visits.csv", "summary.json", "report.md", "report.html", "metrics/services.csv", "metrics/totals.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("archive file %s: %v", f, err)
		}
	}
	var s outcome.Summary
	readJSON(t, filepath.Join(dir, "summary.json"), &s)
	if !s.OK() || s.Visits != 3 || len(s.Groups) != 3 || len(s.EndUsers) != 3 || s.Producing.N != 3 {
		t.Errorf("summary: ok %v, %d visits, %d groups, %d end users, %d producing times: %+v", s.OK(), s.Visits, len(s.Groups), len(s.EndUsers), s.Producing.N, s)
	}
	// node-exporter on each local node reads the host's CPUs.
	if c := s.ProducingCPU; c == nil || c.Cores != runtime.NumCPU() || !c.Shared || c.Busy <= 0 || c.Busy > 1 || c.Node == "" {
		t.Errorf("CPU while producing %+v: want the busy share of the host's %d CPUs, shared by the local nodes", s.ProducingCPU, runtime.NumCPU())
	}
	for _, g := range s.Groups {
		if g.Expected != 1800 || g.Received != 1800 || g.Lost != 0 || g.Duplicated != 0 || g.Complete != 3 || g.Transit.N != 3 || g.LatencyP99 <= 0 {
			t.Errorf("group %+v", g)
		}
	}
	for _, eu := range s.EndUsers {
		if eu.InTopic > 60 || int64(eu.Unique) != eu.InTopic || eu.Lost != 0 || eu.Dup != 0 {
			t.Errorf("end user %+v: want at most 60 forwarded (cap 20 x 3 visits), all received once", eu)
		}
		// it-all passes every alert: the cap decides.
		if eu.Topic == "it-all" && eu.InTopic != 60 {
			t.Errorf("end user of it-all: %d forwarded, want 20 per visit", eu.InTopic)
		}
	}
	var rows []map[string]any
	readJSON(t, filepath.Join(dir, "visits.json"), &rows)
	if len(rows) != 9 {
		t.Errorf("visits.json has %d rows, want 3 visits x 3 groups", len(rows))
	}
	var meta map[string]any
	readJSON(t, filepath.Join(dir, "run.json"), &meta)
	if rev, _ := meta["git_revision"].(string); !regexp.MustCompile(`^[0-9a-f]{40}(\+dirty)?$`).MatchString(rev) {
		t.Errorf("run.json git_revision %q", rev)
	}
	if nodes, _ := meta["nodes"].([]any); len(nodes) != 5 {
		t.Errorf("run.json lists %d nodes, want 5", len(nodes))
	}
	hs, _ := meta["host_speed"].(map[string]any)
	if speed, _ := hs["mb_per_s"].(float64); speed <= 0 || hs["workload"] == "" {
		t.Errorf("run.json host_speed %v (error %v), want a reading", meta["host_speed"], meta["host_speed_error"])
	}
	// The brokers' compiler threads' CPU over the run, read in their
	// containers: every broker, none negative.
	if jit, _ := meta["brokers_jit_cpu_seconds"].(map[string]any); len(jit) != 3 {
		t.Errorf("run.json brokers_jit_cpu_seconds %v (note %v), want the 3 brokers' figures", meta["brokers_jit_cpu_seconds"], meta["brokers_jit_cpu_note"])
	} else {
		for svc, v := range jit {
			if f, ok := v.(float64); !ok || f < 0 {
				t.Errorf("run.json brokers_jit_cpu_seconds[%s] = %v", svc, v)
			}
		}
	}
	// Every record of the results topic is kept: 2 producers x 3 visits,
	// and at least one record per (visit, member) that got alerts.
	b, _ := os.ReadFile(filepath.Join(dir, "records.jsonl"))
	if n := strings.Count(string(b), `"kind":"producer"`); n != 6 {
		t.Errorf("records.jsonl: %d producer records, want 6", n)
	}
	plog, _ := os.ReadFile(filepath.Join(dir, "agents", "producer.log"))
	if strings.Count(string(plog), "expected:300, sent:300, acked:300, errors:0") != 6 {
		t.Errorf("agents/producer.log lacks the 2 producers' 3 visit lines:\n%s", plog)
	}
	// The TSDB snapshot: Prometheus' block layout.
	if blocks, _ := filepath.Glob(filepath.Join(dir, "metrics", "tsdb", "*", "meta.json")); len(blocks) == 0 {
		t.Errorf("metrics/tsdb holds no TSDB block")
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "metrics", "services.csv"))
	for _, svc := range []string{"kafka_kafka-1", "-producer,cpu_cores", "-consumer-counting,memory_bytes"} {
		if !strings.Contains(string(csv), svc) {
			t.Errorf("services.csv has no %s series", svc)
		}
	}
	// The brokers' JIT compilers run during every run of a testbed this
	// young (Prometheus' jvm_compilation_time_seconds_total of each broker).
	var totals map[string]monitoring.Totals
	readJSON(t, filepath.Join(dir, "metrics", "totals.json"), &totals)
	var jit float64
	for _, b := range []string{"kafka_kafka-1", "kafka_kafka-2", "kafka_kafka-3"} {
		if totals[b].CPUSeconds <= 0 {
			t.Errorf("totals.json: broker %s used no CPU: %+v", b, totals[b])
		}
		jit += totals[b].JITSeconds
	}
	if jit <= 0 {
		t.Errorf("totals.json: the brokers' JIT compilation time is %v, want more than 0: %+v", jit, totals)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, want := range []string{"**passed**", "producer serialization and send to Kafka", "| agents: producer |", "| kafka_kafka-1 |", "metrics/tsdb", "The brokers' JIT compilers over the run: ", "\n- Host: "} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, p := range report.Plots {
		f, err := os.Open(filepath.Join(dir, p))
		if err != nil {
			t.Errorf("plot %s: %v", p, err)
			continue
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 500 {
			t.Errorf("plot %s is not a PNG of a plot: %v", p, err)
		}
		if !strings.Contains(string(md), "]("+p+")") {
			t.Errorf("report.md does not show %s", p)
		}
	}
}

// assertNoAgents checks that no agent service of any run is left.
// checkWarmUp checks a run's warm-up of new brokers (rounds of 2000
// alerts a broker): its lines (each round with the brokers' JIT time, the
// step's end), warm-up.json naming the 3 brokers' containers, the rounds
// and their size, and no warm-up topic left.
func checkWarmUp(t *testing.T, name, out string, rounds int) {
	t.Helper()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(fmt.Sprintf(`(?m)^   round %d: [0-9.ms]+; brokers' JIT compilers: [0-9.]+ s of CPU \(kafka-1 [0-9.]+ s, kafka-2 [0-9.]+ s, kafka-3 [0-9.]+ s\), [0-9.]+ s elapsed$`, rounds)),
		regexp.MustCompile(fmt.Sprintf(`✓ Warming the brokers' JVMs \(up to %s, 2000 alerts of 136000 bytes led by each broker, until the JIT compilers settle\) \((settled in round %d|not settled after %s): .*; 2000 alerts of 136000 bytes through each of 3 brokers as partition leader a round; 0 rounds made before on these brokers\)`,
			steps.Count(rounds, "round"), rounds, steps.Count(rounds, "round"))),
	} {
		if !want.MatchString(out) {
			t.Errorf("run output lacks %s", want)
		}
	}
	ws := workspace.Workspace{Root: filepath.Join(repoRoot, ".testbed")}
	wu, ok, err := ws.LoadWarmUp(name)
	if err != nil || !ok || wu.Rounds != rounds || wu.AlertsPerRound != 2000 || len(wu.Brokers) != 3 || wu.Brokers["kafka_kafka-2"] == "" {
		t.Errorf("warm-up.json: %+v (found %v, %v); want %d rounds on kafka_kafka-1..3's containers", wu, ok, err, rounds)
	}
	if settled := strings.Contains(out, "(settled in round"); ok && wu.Settled != settled {
		t.Errorf("warm-up.json says settled %v, the output %v", wu.Settled, settled)
	}
	inv, err := orchestrator.LoadInventory(ws, name)
	if err != nil {
		t.Fatal(err)
	}
	for topic := range listTopics(t, orchestrator.Bootstrap(inv)) {
		if strings.HasPrefix(topic, "warm-up-") {
			t.Errorf("warm-up topic %s left on the brokers", topic)
		}
	}
}

func assertNoAgents(t *testing.T, bin, name string) {
	t.Helper()
	r := run(t, bin, "status", "--name", name)
	if regexp.MustCompile(`run-\d{8}-\d{6}-`).MatchString(r.out) {
		t.Errorf("agent services left after the run:\n%s", r.out)
	}
}

// logAgents puts the end of every agent's log from the archives under
// runsDir into the test's output, so that a failed run can be understood
// after its temporary folder is gone.
func logAgents(t *testing.T, runsDir string) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(runsDir, "*", "agents", "*.log"))
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		t.Logf("%s (last %d lines):\n%s", filepath.Base(l), len(lines), strings.Join(lines, "\n"))
	}
}
