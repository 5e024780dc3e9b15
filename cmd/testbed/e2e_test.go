package main

// End-to-end tests: the real testbed binary against the real local
// environment (Terraform, Docker-in-Docker nodes, a swarm, Kafka). They
// share the workspace cache in ./.testbed at the repository root, so the
// toolchain and images are built once per machine.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/alert-testbed/testbed/internal/dockerssh"
	"github.com/alert-testbed/testbed/internal/inventory"
	"github.com/alert-testbed/testbed/internal/kafka"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/orchestrator"
	"github.com/alert-testbed/testbed/internal/pricing"
	"github.com/alert-testbed/testbed/internal/swarm"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

var repoRoot = func() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}()

// needsTestbeds skips t under -short (`make unit`): it stands up real
// testbeds, which need a Docker Engine, the toolchain and the images.
// `make test` runs it.
func needsTestbeds(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("stands up testbeds (Docker Engine, Terraform, images): not under -short; `make test` runs it")
	}
}

// buildBinary builds testbed once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "testbed")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type result struct {
	out  string
	code int
}

func run(t *testing.T, bin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "TESTBED_HOME=")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run testbed %v: %v", args, err)
	}
	t.Logf("$ testbed %s  (exit %d, %s)\n%s", strings.Join(args, " "), code, time.Since(start).Round(time.Second), buf.String())
	return result{buf.String(), code}
}

func randomName(prefix string) string {
	b := make([]byte, 3)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func TestBadTopologyIsRejectedBeforeAnythingIsCreated(t *testing.T) {
	bin := buildBinary(t)
	name := randomName("bad-")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"up", "--name", name, "--managers", "4"}, "testbed: invalid --managers 4: a swarm needs an odd number of managers to keep a Raft majority; use an odd number from 3 to 7 (3 or 5)\n"},
		{[]string{"up", "--name", name, "--workers", "-2"}, "testbed: invalid --workers -2: use a number from 0 to 100\n"},
		{[]string{"up", "--name", "Bad_Name"}, "testbed: invalid --name \"Bad_Name\": use 2 to 20 characters, lower-case letters, digits and '-', starting with a letter and not ending with '-'\n"},
		{[]string{"up", "--name", name, "--env", "gcp"}, "testbed: unknown --env \"gcp\": use \"local\" or \"aws\"\n"},
		{[]string{"up", "--name", name, "--env", "aws"}, "testbed: --operator-cidr is required with --env aws: the only network SSH, Kafka's external listener, Prometheus and Grafana will be open to, e.g. 203.0.113.7/32 for your own address\n"},
		{[]string{"up", "--name", name, "--env", "aws", "--operator-cidr", "0.0.0.0/0"}, "testbed: --operator-cidr 0.0.0.0/0 opens SSH and the testbed's UIs to the whole Internet: give your own network (e.g. 203.0.113.7/32), or add --allow-any-operator if that is really meant\n"},
		{[]string{"up", "--name", name, "--env", "aws", "--operator-cidr", "203.0.113.7"}, "testbed: invalid --operator-cidr \"203.0.113.7\": use an IPv4 CIDR such as 203.0.113.7/32\n"},
		{[]string{"up", "--name", name, "--env", "aws", "--operator-cidr", "203.0.113.7/32", "--managers", "4"}, "testbed: invalid --managers 4: a swarm needs an odd number of managers to keep a Raft majority; use an odd number from 3 to 7 (3 or 5)\n"},
		{[]string{"up", "--name", name, "--env", "aws", "--operator-cidr", "203.0.113.7/32", "--worker-type", "m9.huge"}, "testbed: --worker-type: instance type \"m9.huge\" is not in the price table (us-east-1, 2026-06): use one of " + strings.Join(pricing.Types(), ", ") + ", or add its hourly price to internal/pricing\n"},
		{[]string{"up", "--name", name, "--env", "aws", "--operator-cidr", "203.0.113.7/32", "--docker-api", "unix"}, "testbed: --docker-api unix is for the local environment only: aws nodes are reached over ssh\n"},
		{[]string{"up", "--name", name, "--images", "dockerhub"}, "testbed: unknown --images \"dockerhub\": use \"auto\" (upstream images where the nodes can pull from Docker Hub, else built here; the default), \"offline\" (build here) or \"upstream\" (nodes pull the upstream images from Docker Hub)\n"},
	} {
		r := run(t, bin, c.args...)
		if r.code == 0 || r.out != c.want {
			t.Errorf("testbed %v: exit %d, output\n%q\nwant non-zero and\n%q", c.args, r.code, r.out, c.want)
		}
	}
	// The cost comes first, then the question; no answer is a no.
	r := run(t, bin, "up", "--name", name, "--env", "aws", "--operator-cidr", "203.0.113.7/32")
	for _, want := range []string{"3 x m4.16xlarge  $9.60/h", "10 x m4.4xlarge  $8.00/h", "hourly: $", "per run (estimated",
		"Create 13 EC2 instances and their network in us-east-1? [y/N] ",
		"testbed: not confirmed (no answer on standard input): nothing was created; pass --yes to go on without asking"} {
		if r.code == 0 || !strings.Contains(r.out, want) {
			t.Errorf("up --env aws without --yes: exit %d, output lacks %q:\n%s", r.code, want, r.out)
		}
	}
	if _, err := os.Stat(filepath.Join(repoRoot, ".testbed", "testbeds", name)); !os.IsNotExist(err) {
		t.Fatalf("a rejected up left state behind: %v", err)
	}
	r = run(t, bin, "status", "--name", name)
	if want := fmt.Sprintf("testbed: testbed %q is not up: start it with `testbed up --name %s`\n", name, name); r.code == 0 || r.out != want {
		t.Fatalf("status of a missing testbed: exit %d %q, want %q", r.code, r.out, want)
	}
}

func TestDownRemovesWhatAnInterruptedUpLeft(t *testing.T) {
	needsTestbeds(t)
	bin := buildBinary(t)
	name := randomName("orphan-")
	label := "testbed.name=" + name
	// What a `terraform apply` killed half way leaves: objects that carry the
	// testbed's label but are in no state file.
	for _, args := range [][]string{
		{"network", "create", "--label", label, name},
		{"volume", "create", "--label", label, name + "-manager-1-docker"},
	} {
		if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
	}
	r := run(t, bin, "down", "--name", name)
	if r.code != 0 || !strings.Contains(r.out, "removed by label: 0 containers [], 1 networks ["+name+"], 1 volumes ["+name+"-manager-1-docker]") {
		t.Fatalf("down did not report the orphans it removed")
	}
	assertNothingLeft(t, name)
	r = run(t, bin, "down", "--name", name)
	if r.code != 0 || !strings.Contains(r.out, fmt.Sprintf("Nothing to remove: no testbed named %q here.", name)) {
		t.Fatalf("second down: exit %d, want a 'nothing to remove' line", r.code)
	}
}

func TestUpStatusDownOnTheLocalEnvironment(t *testing.T) {
	needsTestbeds(t)
	bin := buildBinary(t)
	name := randomName("e2e-")
	downDone := false
	t.Cleanup(func() {
		if !downDone {
			run(t, bin, "down", "--name", name)
		}
	})

	// Over SSH, as on aws: the swarm is formed and the stacks deployed
	// through each node's sshd, host keys checked. With --images auto (the
	// default) and a registry mirror holding the Docker Hub images: the
	// upstream path, as where Docker Hub answers; cAdvisor (gcr.io) and
	// Grafana (not in the mirror) show the fallbacks.
	mirror := startMirror(t, bin, name)
	r := run(t, bin, "up", "--name", name, "--managers", "3", "--workers", "2", "--docker-api", "ssh", "--registry-mirror", mirror)
	if r.code != 0 {
		t.Fatalf("up failed")
	}
	for _, want := range []string{fmt.Sprintf("Testbed %q is up.", name), "images auto, Docker API over ssh", "Swarm manager shell: ssh -F ", "Kafka bootstrap (from this host): ", "✓ Forming the swarm", "✓ Waiting for Kafka",
		"✓ Waiting for every scrape target", "Prometheus: http://",
		"   cadvisor: built here (gcr.io/cadvisor/cadvisor:v0.53.0 cannot be had: ",
		"upstream apache/kafka:4.3.1 prom/prometheus:v3.15.0 prom/node-exporter:v1.12.1 prom/alertmanager:v0.31.1)",
		"(1 images built here, ",
		" - Grafana: left out (grafana/grafana-oss:12.2.1 cannot be had: mirror " + mirror + " has no grafana/grafana-oss:12.2.1 (404 Not Found); "} {
		if !strings.Contains(r.out, want) {
			t.Errorf("up output lacks %q", want)
		}
	}

	ws, err := workspace.Open()
	if err != nil {
		t.Fatal(err)
	}
	ws.Root = filepath.Join(repoRoot, ".testbed")
	inv, err := orchestrator.LoadInventory(ws, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Managers()) != 3 || len(inv.Workers()) != 2 {
		t.Fatalf("inventory has %d managers and %d workers, want 3 and 2", len(inv.Managers()), len(inv.Workers()))
	}

	keys := dockerssh.Keys{Dir: filepath.Join(ws.TestbedDir(name), "ssh")}
	for _, n := range inv.Nodes {
		if !strings.HasPrefix(n.DockerHost, "ssh://root@"+n.Address+":22") {
			t.Errorf("node %s: docker_host %q, want ssh://root@%s:22", n.Name, n.DockerHost, n.Address)
		}
	}

	t.Run("docker node ls through a manager shows 5 Ready nodes with their roles", func(t *testing.T) {
		// OpenSSH with the config testbed wrote: its known_hosts and key.
		cmd := exec.Command("ssh", "-F", keys.Config(), "-o", "BatchMode=yes", inv.Managers()[1].Name,
			"docker", "node", "ls", "--format", "'{{.Hostname}} {{.Status}} {{.ManagerStatus}}'")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker node ls: %v\n%s", err, out)
		}
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || f[1] != "Ready" {
				t.Errorf("node line %q is not Ready", line)
				continue
			}
			status := "worker"
			if len(f) == 3 {
				status = f[2] // Leader or Reachable
			}
			got[f[0]] = status
		}
		if len(got) != 5 {
			t.Fatalf("docker node ls lists %d nodes, want 5:\n%s", len(got), out)
		}
		leaders := 0
		for _, n := range inv.Nodes {
			s, ok := got[n.Name]
			switch {
			case !ok:
				t.Errorf("node %s missing from docker node ls", n.Name)
			case n.Role == inventory.RoleWorker && s != "worker":
				t.Errorf("worker %s has manager status %q", n.Name, s)
			case n.Role == inventory.RoleManager && s != "Leader" && s != "Reachable":
				t.Errorf("manager %s has manager status %q", n.Name, s)
			}
			if s == "Leader" {
				leaders++
			}
		}
		if leaders != 1 {
			t.Errorf("%d leaders, want 1", leaders)
		}
	})

	t.Run("a node whose host key is not the one testbed made is refused", func(t *testing.T) {
		bad := dockerssh.Keys{Dir: t.TempDir()}
		if err := bad.Ensure([]string{inv.Nodes[0].Name}); err != nil {
			t.Fatal(err)
		}
		// The operator key is the real one; only the host key differs.
		copyFile(t, keys.OperatorKey(), bad.OperatorKey())
		copyFile(t, keys.OperatorKey()+".pub", bad.OperatorKey()+".pub")
		if err := bad.WriteHosts(inventory.Inventory{Name: name, Nodes: inv.Nodes[0:1]}); err != nil {
			t.Fatal(err)
		}
		_, err := swarm.Connect(context.Background(), inventory.Inventory{Name: name, Nodes: inv.Nodes[0:1]}, bad, 30*time.Second)
		if err == nil || !strings.Contains(err.Error(), "key mismatch") || !strings.Contains(err.Error(), "refusing to connect") {
			t.Fatalf("connect with a wrong host key: %v, want a host key mismatch refusal", err)
		}
	})

	t.Run("3 brokers are voters of the KRaft quorum", func(t *testing.T) {
		c, err := swarm.Connect(context.Background(), inv, keys, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		voters, err := kafka.DescribeQuorum(context.Background(), c.Nodes[0].API, "kafka_kafka-1")
		if err != nil {
			t.Fatal(err)
		}
		if err := kafka.CheckQuorum(voters, 3); err != nil {
			t.Fatalf("%v (voters %+v)", err, voters)
		}
		if len(voters) != 3 {
			t.Fatalf("quorum table lists %d nodes, want 3: %+v", len(voters), voters)
		}
	})

	t.Run("produce and consume 200 records at replication factor 3 from the host", func(t *testing.T) {
		produceConsume(t, orchestrator.Bootstrap(inv), 200)
	})

	t.Run("every scrape target is up: node-exporter and cAdvisor once per node, 3 brokers", func(t *testing.T) {
		targets, err := monitoring.Targets(context.Background(), promURL(inv))
		if err != nil {
			t.Fatal(err)
		}
		perJob := map[string]int{}
		for _, tg := range targets {
			if tg.Health != "up" {
				t.Errorf("target %s %s is %s: %s", tg.Job, tg.Instance, tg.Health, tg.LastError)
			}
			perJob[tg.Job]++
		}
		for job, want := range map[string]int{"node-exporter": 5, "cadvisor": 5, "kafka": 3, "prometheus": 1, "alertmanager": 1} {
			if perJob[job] != want {
				t.Errorf("%d %s targets, want %d", perJob[job], job, want)
			}
		}
		// One node-exporter per node: their uname names the 5 nodes.
		names := queryLabels(t, inv, "node_uname_info", "nodename")
		if len(names) != 5 {
			t.Errorf("node_uname_info names %v, want the 5 nodes", names)
		}
		for _, n := range inv.Nodes {
			if !names[n.Name] {
				t.Errorf("no node-exporter reports node %s", n.Name)
			}
		}
		brokers := queryLabels(t, inv, `up{job="kafka"}`, "broker")
		if len(brokers) != 3 || !brokers["kafka-1"] || !brokers["kafka-3"] {
			t.Errorf("kafka targets carry brokers %v", brokers)
		}
	})

	t.Run("per-service CPU, memory and network series exist for the Kafka services", func(t *testing.T) {
		for _, rec := range []string{"testbed:service_cpu_cores", "testbed:service_memory_bytes", "testbed:service_network_receive_bytes", "testbed:service_network_transmit_bytes"} {
			services := queryLabels(t, inv, rec+`{service=~"kafka_kafka-[123]"}`, "service")
			if len(services) != 3 {
				t.Errorf("%s has series for %v, want kafka_kafka-1..3", rec, services)
			}
			nodesSeen := queryLabels(t, inv, rec+`{service="kafka_kafka-1"}`, "node_name")
			if !nodesSeen[inv.Managers()[0].Name] {
				t.Errorf("%s of kafka_kafka-1 is not tied to node %s: %v", rec, inv.Managers()[0].Name, nodesSeen)
			}
		}
	})

	t.Run("the nodes, services and Kafka dashboards' queries return series", func(t *testing.T) {
		all, err := monitoring.DashboardExprs()
		if err != nil {
			t.Fatal(err)
		}
		for file, exprs := range all {
			if file == "testbed-run.json" {
				continue // its series exist only while a run's agents are up
			}
			for _, e := range exprs {
				e = strings.NewReplacer("$service", ".*", "$run", ".*").Replace(e)
				if n := len(query(t, inv, e)); n == 0 {
					t.Errorf("%s: %s returns no series", file, e)
				}
			}
		}
	})

	t.Run("status shows nodes, services and broker health", func(t *testing.T) {
		r := run(t, bin, "status", "--name", name)
		if r.code != 0 {
			t.Fatalf("status exit %d", r.code)
		}
		for _, want := range []string{"NODES", name + "-manager-1", name + "-worker-2", "SERVICES", "kafka_kafka-1", "1/1", "monitoring_prometheus", "TARGETS", "cadvisor", "KAFKA", "3 in the cluster metadata", "brokers 1-3 are voters",
			"  warm-up:   none on these broker containers: the next `testbed run`, `stream` or `bench` warms them first", "GRAFANA\n  left out"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("status output lacks %q", want)
			}
		}
		// The stacks run the upstream images (from the mirror) and the
		// cAdvisor built here (from the testbed's registry).
		for service, image := range map[string]string{"kafka_kafka-1": "apache/kafka:4.3.1", "monitoring_prometheus": "prom/prometheus:v3.15.0",
			"monitoring_node-exporter": "prom/node-exporter:v1.12.1", "monitoring_alertmanager": "prom/alertmanager:v0.31.1", "monitoring_cadvisor": "/testbed/cadvisor:"} {
			if !containsLine(r.out, service+" ", image) {
				t.Errorf("status: service %s does not run %s", service, image)
			}
		}
	})

	t.Run("a second up changes nothing and says so", func(t *testing.T) {
		r := run(t, bin, "up", "--name", name)
		if r.code != 0 {
			t.Fatalf("second up failed")
		}
		if !strings.Contains(r.out, fmt.Sprintf("Testbed %q is up: it was already, nothing changed.", name)) {
			t.Errorf("second up does not say that nothing changed")
		}
		for _, step := range []string{"Creating nodes", "Pushing images", "Forming the swarm", "Deploying the monitoring stack", "Deploying the Kafka stack", "Choosing and building images"} {
			if !containsLine(r.out, "✓ "+step, "(unchanged") {
				t.Errorf("step %q did not report unchanged", step)
			}
		}
		r = run(t, bin, "up", "--name", name, "--workers", "3")
		if r.code == 0 || !strings.Contains(r.out, "resizing is not supported") {
			t.Errorf("up with a different worker count: exit %d, want a refusal", r.code)
		}
	})

	r = run(t, bin, "down", "--name", name)
	downDone = true
	if r.code != 0 {
		t.Fatalf("down failed")
	}
	if !strings.Contains(r.out, fmt.Sprintf("Removed testbed %q:", name)) || !strings.Contains(r.out, "terraform destroy: ") {
		t.Errorf("down does not say what it removed")
	}
	assertNothingLeft(t, name)
}

func containsLine(out, prefix, sub string) bool {
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, prefix) && strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// assertNothingLeft checks that no container, network or volume of the
// testbed remains on the host and that its state folder (with the Terraform
// state) is gone.
func assertNothingLeft(t *testing.T, name string) {
	t.Helper()
	filter := "label=testbed.name=" + name
	for _, args := range [][]string{
		{"ps", "-a", "-q", "--filter", filter},
		{"ps", "-a", "-q", "--filter", "name=" + name + "-"},
		{"network", "ls", "-q", "--filter", filter},
		{"volume", "ls", "-q", "--filter", filter},
		{"volume", "ls", "-q", "--filter", "name=" + name + "-"},
	} {
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("after down, docker %v still lists:\n%s", args, s)
		}
	}
	if _, err := os.Stat(filepath.Join(repoRoot, ".testbed", "testbeds", name)); !os.IsNotExist(err) {
		t.Errorf("after down, the state folder of %s remains (%v)", name, err)
	}
	if m, _ := filepath.Glob("/sys/fs/cgroup/*/testbed-" + name); len(m) > 0 {
		t.Errorf("after down, cgroups remain: %v", m)
	}
}

// produceConsume writes n records with acks=all to a new topic of 3
// partitions, replication factor 3 and min.insync.replicas 2, and reads
// every one of them back.
func produceConsume(t *testing.T, bootstrap []string, n int) {
	t.Helper()
	cfg := kafka.Config()
	client, err := sarama.NewClient(bootstrap, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	topic := randomName("rt-")
	minISR := "2"
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: int16(topology.BrokerCount),
		ConfigEntries: map[string]*string{"min.insync.replicas": &minISR}}, false); err != nil {
		t.Fatal(err)
	}
	defer admin.DeleteTopic(topic)
	meta, err := admin.DescribeTopics([]string{topic})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range meta[0].Partitions {
		if len(p.Replicas) != 3 || len(p.Isr) != 3 {
			t.Fatalf("partition %d has replicas %v and ISR %v, want 3 of each", p.ID, p.Replicas, p.Isr)
		}
	}
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	sent := map[string]bool{}
	for i := 0; i < n; i++ {
		v := fmt.Sprintf("record-%d", i)
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(v), Value: sarama.StringEncoder(v)}); err != nil {
			t.Fatalf("send %s: %v", v, err)
		}
		sent[v] = true
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	got := map[string]int{}
	for p := int32(0); p < 3; p++ {
		hw, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			t.Fatal(err)
		}
		if hw == 0 {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.After(30 * time.Second)
	read:
		for {
			select {
			case m := <-pc.Messages():
				got[string(m.Value)]++
				if m.Offset >= hw-1 {
					break read
				}
			case <-deadline:
				t.Fatalf("partition %d: timed out before offset %d", p, hw-1)
			}
		}
		pc.Close()
	}
	for v := range sent {
		if got[v] != 1 {
			t.Errorf("%s read %d times, want 1", v, got[v])
		}
	}
	if len(got) != n {
		t.Errorf("read %d distinct records, want %d", len(got), n)
	}
}

func promURL(inv inventory.Inventory) string {
	return "http://" + inv.Managers()[0].Address + ":9090"
}

// query runs an instant query on the testbed's Prometheus.
func query(t *testing.T, inv inventory.Inventory, q string) model.Vector {
	t.Helper()
	c, err := promapi.NewClient(promapi.Config{Address: promURL(inv)})
	if err != nil {
		t.Fatal(err)
	}
	// Rate windows need a few scrapes: retry for a while.
	var v model.Vector
	for i := 0; i < 20; i++ {
		res, _, _, err := promv1.NewAPI(c).Query(context.Background(), q, time.Now(), promv1.WithTimeout(10*time.Second))
		if err != nil {
			t.Fatalf("query %s: %v", q, err)
		}
		v = res.(model.Vector)
		if len(v) > 0 {
			break
		}
		time.Sleep(3 * time.Second)
	}
	return v
}

// queryLabels returns the values of one label over the query's series.
func queryLabels(t *testing.T, inv inventory.Inventory, q, label string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, s := range query(t, inv, q) {
		out[string(s.Metric[model.LabelName(label)])] = true
	}
	return out
}

func TestDownAfterAnInterruptedUp(t *testing.T) {
	needsTestbeds(t)
	bin := buildBinary(t)
	name := randomName("intr-")
	cmd := exec.Command(bin, "up", "--name", name, "--managers", "3", "--workers", "1")
	cmd.Dir = repoRoot
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the node containers are being made.
	deadline := time.Now().Add(5 * time.Minute)
	for !strings.Contains(out.String(), "• Creating nodes") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("up never reached the nodes step:\n%s", out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	t.Logf("interrupted up:\n%s", out.String())
	if err == nil && !strings.Contains(out.String(), "is up.") {
		t.Fatalf("up exited 0 without finishing")
	}
	r := run(t, bin, "down", "--name", name)
	if r.code != 0 || !strings.Contains(r.out, fmt.Sprintf("Removed testbed %q:", name)) {
		t.Fatalf("down after an interrupted up: exit %d", r.code)
	}
	assertNothingLeft(t, name)
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
