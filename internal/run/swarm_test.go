package run

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/alert-testbed/testbed/agents/kafkaconf"
	"github.com/alert-testbed/testbed/agents/results"
	"github.com/alert-testbed/testbed/internal/images"
	"github.com/alert-testbed/testbed/internal/kafkatest"
	"github.com/alert-testbed/testbed/internal/orchestrator"
	"github.com/alert-testbed/testbed/internal/swarm"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// On a real 3+1 testbed: the agents of a small ztf-scale visit run as
// swarm services from the agents image, every alert reaches both consumer
// groups exactly once, and the run's services and topics go afterwards.
func TestAgentsOnTheSwarm(t *testing.T) {
	ctx := context.Background()
	root, err := images.FindCheckout(".")
	if err != nil {
		t.Fatal(err)
	}
	ws := workspace.Workspace{Root: filepath.Join(root, ".testbed")}
	name := "run-" + kafkatest.RandHex(3)
	t.Cleanup(func() { orchestrator.Down(context.Background(), ws, name, io.Discard) })
	inv, err := orchestrator.Up(ctx, ws, orchestrator.UpOptions{
		Topology: topology.Topology{Name: name, Env: topology.EnvLocal, Managers: 3, Workers: 1},
		Out:      logWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}

	b, closer, err := images.NewBuilder(ws.CacheDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	img, err := b.EnsureAgents(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.Push(ctx, img.Image, inv.Registry.HostAddress); err != nil {
		t.Fatal(err)
	}

	e := load(t, "ztf-scale.yaml")
	e.Visits, e.AlertsPerVisit, e.VisitInterval = 1, 200, 20*time.Second
	e.Topic.Name, e.Topic.Partitions, e.Topic.ReplicationFactor, e.Topic.MinInsyncReplicas = "alerts-"+kafkatest.RandHex(3), 2, 3, 2
	runID := "t" + kafkatest.RandHex(3)
	resultsTopic := "results-" + runID

	cfg := sarama.NewConfig()
	cfg.Version = kafkaconf.KafkaVersion
	client, err := sarama.NewClient(orchestrator.Bootstrap(inv), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	topics := Topics(e, resultsTopic)
	if err := CreateTopics(admin, topics); err != nil {
		t.Fatal(err)
	}

	agents, err := Agents(e, Params{RunID: runID, Image: images.NodeRef(img.Image, inv.Registry.NodeAddress),
		Brokers: "kafka-1:19092,kafka-2:19092,kafka-3:19092", ResultsTopic: resultsTopic, Network: swarm.NetworkName,
		Workers: 1, T0: time.Now().Add(60 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := swarm.Connect(ctx, inv, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	api := cluster.Leader().API
	if err := Deploy(ctx, api, agents, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := WaitProducers(ctx, api, runID, 1, 4*time.Minute); err != nil {
		t.Fatal(err)
	}

	// The members publish a visit's record once it has been idle 5 s.
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(resultsTopic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var prods []results.ProducerVisit
	var cons []results.ConsumerVisit
	got := map[string]int{}
	deadline := time.After(90 * time.Second)
	for len(prods) < 1 || got[runID+"-consumer1"] < e.AlertsPerVisit || got[runID+"-consumer2"] < e.AlertsPerVisit {
		select {
		case m := <-pc.Messages():
			r, err := results.DecodeRecord(m.Value)
			if err != nil {
				t.Fatal(err)
			}
			if r.Producer != nil {
				prods = append(prods, *r.Producer)
			} else {
				cons = append(cons, *r.Consumer)
				got[r.Consumer.Group] += r.Consumer.Received
			}
		case <-deadline:
			t.Fatalf("results after 90 s: %d producer records, received per group %v", len(prods), got)
		}
	}
	folded, err := results.Fold(prods, cons)
	if err != nil {
		t.Fatal(err)
	}
	for _, vg := range folded {
		if vg.Expected != 200 || vg.Lost != 0 || vg.Duplicated != 0 || !vg.Complete {
			t.Errorf("group %s: expected %d lost %d duplicated %d complete %v", vg.Group, vg.Expected, vg.Lost, vg.Duplicated, vg.Complete)
		}
		t.Logf("group %s: producing %s, transit %s, latency p50 %s p99 %s", vg.Group, vg.ProducingTime, vg.TransitTime, vg.LatencyP50, vg.LatencyP99)
	}
	if len(folded) != 2 {
		t.Errorf("%d (visit, group) rows, want 2", len(folded))
	}

	n, err := Remove(ctx, api, runID)
	if err != nil || n != 3 {
		t.Fatalf("removed %d services (%v), want 3", n, err)
	}
	if err := DeleteTopics(admin, topics); err != nil {
		t.Fatal(err)
	}
}
