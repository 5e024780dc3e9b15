// Package kafkatest starts a real Kafka broker for tests: the project's own
// Kafka image (built if missing), one KRaft broker on the host's loopback,
// removed when the test ends.
package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/alert-testbed/testbed/agents/kafkaconf"
	"github.com/alert-testbed/testbed/internal/images"
	"github.com/alert-testbed/testbed/internal/kafka"
)

// repoRoot is the checkout the test runs in.
func repoRoot(t testing.TB) string {
	wd, _ := os.Getwd()
	root, err := images.FindCheckout(wd)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func FreePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ClusterID is a fresh Kafka cluster id (kafka.NewClusterID).
func ClusterID() string { return kafka.NewClusterID() }

func RandHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// pidLabel names the test process that started a broker container.
const pidLabel = "testbed.test-pid"

// removeOrphans removes the brokers of test processes that are gone: a
// test that hits go test's -timeout panics, and its t.Cleanup, which
// removes the broker, never runs. Brokers of live processes (other
// packages' tests run at the same time) are left alone.
func removeOrphans() {
	out, err := exec.Command("docker", "ps", "-a", "--filter", "label=testbed.test=agents",
		"--format", `{{.Names}} {{.Label "`+pidLabel+`"}}`).Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, pid, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(pid)
		if err != nil || n <= 0 {
			continue
		}
		if syscall.Kill(n, 0) == syscall.ESRCH {
			exec.Command("docker", "rm", "-f", "-v", name).Run()
		}
	}
}

// startKafka runs one KRaft broker from the project's Kafka image with the
// host's network, listening on loopback only, and returns its address.
func Start(t testing.TB) string {
	return StartWithClusterID(t, ClusterID())
}

// StartWithClusterID starts a broker whose storage is formatted with id.
//
// Under -short (`make unit`) it skips t: a broker needs a Docker Engine and
// the project's Kafka image; `make test` runs every test that calls it.
func StartWithClusterID(t testing.TB, id string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Docker Engine and the project's Kafka image (a real broker): not under -short; `make test` runs it")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Fatalf("these tests need a running Docker Engine (make setup starts one): %v %s", err, out)
	}
	b, closer, err := images.NewBuilder(filepath.Join(repoRoot(t), ".testbed", "cache"))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	set, _, err := b.Ensure(context.Background(), nil)
	if err != nil {
		t.Fatalf("build the Kafka image: %v", err)
	}
	removeOrphans()
	port, ctrl := FreePort(t), FreePort(t)
	name := "agents-test-kafka-" + RandHex(3)
	args := []string{"run", "-d", "--name", name, "--network", "host", "--label", "testbed.test=agents",
		"--label", fmt.Sprintf("%s=%d", pidLabel, os.Getpid()),
		"-e", "CLUSTER_ID=" + id,
		"-e", "KAFKA_NODE_ID=1", "-e", "KAFKA_PROCESS_ROLES=broker,controller",
		"-e", fmt.Sprintf("KAFKA_LISTENERS=PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", port, ctrl),
		"-e", fmt.Sprintf("KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:%d", port),
		"-e", "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
		"-e", "KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER",
		"-e", fmt.Sprintf("KAFKA_CONTROLLER_QUORUM_VOTERS=1@127.0.0.1:%d", ctrl),
		"-e", "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1", "-e", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR=1",
		"-e", "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR=1", "-e", "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS=0",
		"-e", "KAFKA_AUTO_CREATE_TOPICS_ENABLE=false", "-e", "KAFKA_JMX_EXPORTER_PORT=",
		"-e", "KAFKA_HEAP_OPTS=-Xms1g -Xmx1g",
		set.Kafka.Ref}
	if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
		t.Fatalf("docker run Kafka: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := exec.Command("docker", "logs", "--tail", "30", name).CombinedOutput()
			t.Logf("Kafka log tail:\n%s", logs)
		}
		exec.Command("docker", "rm", "-f", "-v", name).Run()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(90 * time.Second)
	for {
		cfg := sarama.NewConfig()
		cfg.Version = kafkaconf.KafkaVersion
		c, err := sarama.NewClient([]string{addr}, cfg)
		if err == nil && len(c.Brokers()) == 1 {
			c.Close()
			return addr
		}
		if c != nil {
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("Kafka at %s not ready after 90 s: %v", addr, err)
		}
		time.Sleep(time.Second)
	}
}

func CreateTopics(t testing.TB, addr string, partitions int32, topics ...string) {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = kafkaconf.KafkaVersion
	admin, err := sarama.NewClusterAdmin([]string{addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ready := map[string]int32{}
	for _, tp := range topics {
		if err := admin.CreateTopic(tp, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
			t.Fatalf("create topic %s: %v", tp, err)
		}
		ready[tp] = partitions
	}
	client, err := sarama.NewClient([]string{addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := kafka.WaitTopicsReady(context.Background(), client, ready, kafka.TopicReadyTimeout); err != nil {
		t.Fatal(err)
	}
}
