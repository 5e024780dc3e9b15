package agents_test

// Against a real Kafka: the project's own Kafka image (built if missing),
// one KRaft broker on the host's loopback, and the three agent programs
// built and run as processes, as they run in the swarm.

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/filter"
	"github.com/alert-testbed/testbed/agents/kafkaconf"
	"github.com/alert-testbed/testbed/agents/lifecycle"
	"github.com/alert-testbed/testbed/agents/pacing"
	"github.com/alert-testbed/testbed/agents/results"
	"github.com/alert-testbed/testbed/internal/kafkatest"
	"github.com/alert-testbed/testbed/internal/outcome"
)

// agent is a running agent process.
type agent struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func buildAgents(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/alert-producer", "./cmd/alert-consumer", "./cmd/alert-filter")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build agents: %v\n%s", err, out)
	}
	return dir
}

func start(t *testing.T, bin, name string, args ...string) *agent {
	t.Helper()
	a := &agent{name: name, cmd: exec.Command(bin, args...), out: &lockedBuffer{}, done: make(chan error, 1)}
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.done <- a.cmd.Wait() }()
	t.Cleanup(func() {
		a.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("--- %s output:\n%s", a.name, a.out.String())
		}
	})
	return a
}

// stop sends SIGTERM and waits for a clean exit.
func (a *agent) stop(t *testing.T) {
	t.Helper()
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-a.done:
		if err != nil {
			t.Errorf("%s exited with %v", a.name, err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30 s of SIGTERM", a.name)
	}
}

func (a *agent) wait(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case err := <-a.done:
		if err != nil {
			t.Fatalf("%s exited with %v", a.name, err)
		}
	case <-time.After(timeout):
		t.Fatalf("%s did not finish within %s", a.name, timeout)
	}
}

// readRecords reads the results topic until want(records) or timeout.
func readRecords(t *testing.T, addr, topic string, timeout time.Duration, want func([]results.Record) bool) []results.Record {
	t.Helper()
	var recs []results.Record
	readPartition(t, addr, topic, timeout, func(m *sarama.ConsumerMessage) bool {
		r, err := results.DecodeRecord(m.Value)
		if err != nil {
			t.Fatalf("result record at offset %d: %v", m.Offset, err)
		}
		recs = append(recs, r)
		return want(recs)
	})
	return recs
}

// readPartition reads partition 0 of topic from its start, giving each
// record to done until it says so; the test fails at timeout.
func readPartition(t *testing.T, addr, topic string, timeout time.Duration, done func(*sarama.ConsumerMessage) bool) {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = kafkaconf.KafkaVersion
	consumer, err := sarama.NewConsumer([]string{addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	deadline := time.After(timeout)
	for n := 0; ; n++ {
		select {
		case m := <-pc.Messages():
			if done(m) {
				return
			}
		case <-deadline:
			t.Fatalf("%s: %d records after %s, not what was expected", topic, n, timeout)
		}
	}
}

func countTopic(t *testing.T, addr, topic string) int {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = kafkaconf.KafkaVersion
	client, err := sarama.NewClient([]string{addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range parts {
		hw, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			t.Fatal(err)
		}
		lo, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		n += int(hw - lo)
	}
	return n
}

// expectedPasses regenerates the alerts the producers send (same seeds) and
// counts how many pass each filter.
func expectedPasses(t *testing.T, defs []filter.Def, seed int64, producers, perVisit int) []int {
	t.Helper()
	gen0, err := alert.NewGenerator(alert.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	fs, err := filter.Compile(defs, alert.Plain(gen0.Alert(alert.ID{})))
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, len(defs))
	for p := 0; p < producers; p++ {
		opts := alert.DefaultOptions()
		opts.Seed = seed*1000003 + int64(p)
		gen, err := alert.NewGenerator(opts)
		if err != nil {
			t.Fatal(err)
		}
		pc := pacing.Defaults(pacing.Visit)
		pc.AlertsPerVisit, pc.Producers, pc.Interval, pc.Seed = perVisit, producers, 10*time.Second, seed
		plan, err := pacing.Plan(pc, 0, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range plan {
			for i := 0; i < b.Count; i++ {
				plain := alert.Plain(gen.Alert(alert.ID{Visit: 0, Producer: p, Seq: b.FirstSeq + i, CCD: b.CCD}))
				for i, f := range fs {
					if ok, err := f.Match(plain); err != nil {
						t.Fatal(err)
					} else if ok {
						counts[i]++
					}
				}
			}
		}
	}
	return counts
}

func TestOneVisitTwoProducersTwoGroupsAndAFilterGroup(t *testing.T) {
	addr := kafkatest.Start(t)
	bin := buildAgents(t)
	run := "agents-" + kafkatest.RandHex(3)
	alerts, res := "alerts-"+run, "results-"+run
	const perVisit, producers, capPerVisit = 1000, 2, 20
	// Five of the built-in filters, from the brightest cut to the faintest,
	// so that some pass fewer alerts than the cap and some more.
	all := filter.DMTN081(100)
	filters := []filter.Def{all[0], all[24], all[49], all[74], all[99]}
	var filterTopics []string
	for _, f := range filters {
		filterTopics = append(filterTopics, f.Name+"-"+run)
	}
	kafkatest.CreateTopics(t, addr, 3, alerts)
	kafkatest.CreateTopics(t, addr, 1, append([]string{res}, filterTopics...)...)

	common := []string{"--brokers", addr, "--run-id", run, "--results-topic", res, "--metrics-addr", ""}
	consumerArgs := append([]string{"--topic", alerts, "--initial-offset", "oldest", "--visit-idle", "3s"}, common...)
	var members []*agent
	for _, g := range []string{"groupA", "groupB"} {
		for m := 1; m <= 2; m++ {
			mode := "count"
			if g == "groupB" {
				mode = "drop"
			}
			members = append(members, start(t, bin+"/alert-consumer", fmt.Sprintf("%s-%d", g, m),
				append([]string{"--group", g + "-" + run, "--member", fmt.Sprintf("%s-%d", g, m), "--mode", mode}, consumerArgs...)...))
		}
	}
	var filterArgs []string
	for i, f := range filters {
		filterArgs = append(filterArgs, "--filter", filterTopics[i]+"="+f.Expr)
	}
	flt := start(t, bin+"/alert-filter", "filter", append(append([]string{"--group", "filters-" + run, "--member", "filter-1", "--cap", fmt.Sprint(capPerVisit)}, filterArgs...), consumerArgs...)...)
	endUser := start(t, bin+"/alert-consumer", "end-user", append([]string{"--group", "enduser-" + run, "--member", "enduser-1", "--topic", filterTopics[0], "--initial-offset", "oldest", "--visit-idle", "3s"}, common...)...)

	// Let the group members join before the visit starts.
	time.Sleep(5 * time.Second)
	var prods []*agent
	for p := 0; p < producers; p++ {
		prods = append(prods, start(t, bin+"/alert-producer", fmt.Sprintf("producer-%d", p), append([]string{
			"--topic", alerts, "--producer", fmt.Sprint(p), "--producers", fmt.Sprint(producers),
			"--alerts-per-visit", fmt.Sprint(perVisit), "--visits", "1", "--stamps", "--seed", "7",
			"--interval", "10s", "--lead", "2s"}, common...)...))
	}
	for _, p := range prods {
		p.wait(t, 2*time.Minute)
	}

	wantPasses := expectedPasses(t, filters, 7, producers, perVisit)
	t.Logf("alerts passing each filter in the visit: %v (cap %d)", wantPasses, capPerVisit)
	recs := readRecords(t, addr, res, 90*time.Second, func(rs []results.Record) bool {
		got := map[string]int{}
		for _, r := range rs {
			if r.Kind == "consumer" {
				got[r.Consumer.Group] += r.Consumer.Received
			}
		}
		return got["groupA-"+run] >= perVisit && got["groupB-"+run] >= perVisit && got["filters-"+run] >= perVisit &&
			got["enduser-"+run] >= min(wantPasses[0], capPerVisit)
	})
	for _, m := range append(members, flt, endUser) {
		m.stop(t)
	}

	var prodRecs []results.ProducerVisit
	var consRecs []results.ConsumerVisit
	for _, r := range recs {
		switch r.Kind {
		case "producer":
			prodRecs = append(prodRecs, *r.Producer)
		case "consumer":
			if r.Consumer.Group != "enduser-"+run {
				consRecs = append(consRecs, *r.Consumer)
			}
		}
	}
	if len(prodRecs) != producers {
		t.Fatalf("%d producer records, want %d", len(prodRecs), producers)
	}
	for _, p := range prodRecs {
		if p.Expected != perVisit/producers || p.Acked != p.Expected || p.Errors != 0 {
			t.Errorf("producer %d: expected %d acked %d errors %d", p.Producer, p.Expected, p.Acked, p.Errors)
		}
		if p.Bytes < int64(p.Acked)*120_000 {
			t.Errorf("producer %d: %d bytes for %d alerts with stamps, want about 136 KB each", p.Producer, p.Bytes, p.Acked)
		}
	}
	folded, err := outcome.Fold(prodRecs, consRecs)
	if err != nil {
		t.Fatal(err)
	}
	if len(folded) != 3 {
		t.Fatalf("%d (visit, group) rows, want 3: %+v", len(folded), folded)
	}
	for _, vg := range folded {
		if vg.Expected != perVisit || vg.Unique != perVisit || vg.Lost != 0 || vg.Duplicated != 0 {
			t.Errorf("group %s visit %d: expected %d unique %d lost %d duplicated %d", vg.Group, vg.Visit, vg.Expected, vg.Unique, vg.Lost, vg.Duplicated)
		}
		// Transit is slightly negative when the last alert reached the
		// group before its acknowledgement reached the producer.
		if vg.ProducingTime <= 0 || vg.TransitTime < -time.Second || vg.LatencyMax <= 0 {
			t.Errorf("group %s: producing %s transit %s latency max %s", vg.Group, vg.ProducingTime, vg.TransitTime, vg.LatencyMax)
		}
	}

	for i, tp := range filterTopics {
		want := min(wantPasses[i], capPerVisit)
		if got := countTopic(t, addr, tp); got != want {
			t.Errorf("%s holds %d alerts; %d alerts passed its filter, cap %d: want %d", tp, got, wantPasses[i], capPerVisit, want)
		}
	}
	if wantPasses[len(wantPasses)-1] <= capPerVisit {
		t.Errorf("the last filter passes only %d alerts: the cap of %d is never exercised", wantPasses[len(wantPasses)-1], capPerVisit)
	}
	// The end user reports the filtered alerts it read, with latency.
	var endRecv int
	for _, r := range recs {
		if r.Kind == "consumer" && r.Consumer.Group == "enduser-"+run {
			endRecv += r.Consumer.Received
		}
	}
	if want := min(wantPasses[0], capPerVisit); endRecv != want {
		t.Errorf("end user of %s reported %d alerts, want %d", filterTopics[0], endRecv, want)
	}
	// The DMTN-081 end-of-partition lines.
	sc := bufio.NewScanner(strings.NewReader(members[0].out.String()))
	ends := 0
	for sc.Scan() {
		if strings.Contains(sc.Text(), ", status:end, offset:") && strings.HasPrefix(sc.Text(), "topic:"+alerts+", partition:") {
			ends++
		}
	}
	if ends == 0 {
		t.Errorf("consumer printed no status:end line")
	}
}

// A producer's task that takes over from one stopped for a restart
// (SIGHUP: exit lifecycle.RestartExitCode, a visit cut short left
// unreported) resumes at the first visit the results topic has no record
// of: every visit ends with exactly one record of the producer, all sent.
func TestProducerNewTaskResumesAtTheFirstUnrecordedVisit(t *testing.T) {
	addr := kafkatest.Start(t)
	bin := buildAgents(t)
	run := "resume-" + kafkatest.RandHex(3)
	alerts, res := "alerts-"+run, "results-"+run
	kafkatest.CreateTopics(t, addr, 1, alerts, res)
	t0 := time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339Nano)
	args := []string{"--brokers", addr, "--run-id", run, "--results-topic", res, "--metrics-addr", "",
		"--topic", alerts, "--producer", "0", "--producers", "1", "--alerts-per-visit", "50", "--visits", "4", "--first-visit", "1",
		"--interval", "4s", "--t0", t0, "--seed", "3"}

	first := start(t, bin+"/alert-producer", "producer (first task)", args...)
	readRecords(t, addr, res, time.Minute, func(rs []results.Record) bool { return len(rs) >= 1 })
	first.cmd.Process.Signal(syscall.SIGHUP)
	select {
	case <-first.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the producer did not stop within 30 s of SIGHUP")
	}
	if code := first.cmd.ProcessState.ExitCode(); code != lifecycle.RestartExitCode {
		t.Fatalf("after SIGHUP the producer exited %d, want %d (a restart)", code, lifecycle.RestartExitCode)
	}

	second := start(t, bin+"/alert-producer", "producer (next task)", args...)
	second.wait(t, time.Minute)
	if !strings.Contains(second.out.String(), "visit 1: skipped, an earlier task of producer 0 reported it") {
		t.Errorf("the next task did not skip visit 1:\n%s", second.out.String())
	}
	recs := readRecords(t, addr, res, 30*time.Second, func(rs []results.Record) bool { return len(rs) >= 4 })
	per := map[int]int{}
	for _, r := range recs {
		if r.Producer == nil {
			continue
		}
		per[r.Producer.Visit]++
		if r.Producer.Sent != r.Producer.Expected || r.Producer.Acked != r.Producer.Expected {
			t.Errorf("visit %d: sent %d, acked %d of %d", r.Producer.Visit, r.Producer.Sent, r.Producer.Acked, r.Producer.Expected)
		}
	}
	for v := 1; v <= 4; v++ {
		if per[v] != 1 {
			t.Errorf("visit %d has %d producer records, want 1 (records: %v)", v, per[v], per)
		}
	}
}
