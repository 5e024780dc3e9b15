package orchestrator

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/IBM/sarama"
	"github.com/docker/docker/client"

	"github.com/alert-testbed/testbed/internal/images"
	"github.com/alert-testbed/testbed/internal/kafka"
	"github.com/alert-testbed/testbed/internal/steps"
	"github.com/alert-testbed/testbed/internal/swarm"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// readResults reads a results topic (one partition) from its start, with a
// client of its own; the returned func stops reading and closes it.
//
// Its own client, because Kafka answers one request at a time per
// connection: a consumer's fetch waits up to sarama's MaxWaitTime (500 ms)
// for records, and every admin request queued behind it on a shared
// client's connection waited too. A run's group lookups took 0.3 to 0.7 s
// each that way (the minibroker's 105 groups: 35 s before visit 1), and its
// lag checks, meant for every second, were as slow.
func readResults(bootstrap []string, topic string) (<-chan *sarama.ConsumerMessage, func(), error) {
	client, err := sarama.NewClient(bootstrap, kafka.Config())
	if err != nil {
		return nil, nil, fmt.Errorf("Kafka at %v: %w", bootstrap, err)
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		consumer.Close()
		client.Close()
		return nil, nil, fmt.Errorf("read %s: %w", topic, err)
	}
	return pc.Messages(), func() { pc.Close(); consumer.Close(); client.Close() }, nil
}

// nodeAPIs are the Docker APIs of every node (signals and logs go to the
// containers on each).
func (env *runEnv) nodeAPIs() []*client.Client {
	apis := make([]*client.Client, len(env.cluster.Nodes))
	for i, n := range env.cluster.Nodes {
		apis[i] = n.API
	}
	return apis
}

// openRunEnv connects to testbed name for runs and streams: its swarm
// (whose Kafka must be healthy), the agents image built and pushed to
// where its nodes pull it, a Kafka client and admin from this host, its
// Grafana, and on the local environment the host's Docker Engine (faults
// that act inside a node). The returned func closes the connections.
func openRunEnv(ctx context.Context, ws workspace.Workspace, name string, out io.Writer) (_ *runEnv, closeAll func(), err error) {
	inv, err := LoadInventory(ws, name)
	if err != nil {
		return nil, nil, err
	}
	root, err := images.FindCheckout(".")
	if err != nil {
		return nil, nil, fmt.Errorf("the agents image is built from the testbed checkout: %w", err)
	}
	cluster, err := swarm.Connect(ctx, inv, sshKeys(ws, name), 30*time.Second)
	if err != nil {
		return nil, nil, fmt.Errorf("testbed %q: %w (is it up? `testbed up --name %s` repairs it)", name, err, name)
	}
	closers := []func() error{func() error { cluster.Close(); return nil }}
	closeAll = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	if err := checkKafka(ctx, cluster, inv); err != nil {
		return nil, nil, fmt.Errorf("testbed %q: Kafka is not healthy: %w (`testbed status --name %s` shows more)", name, err, name)
	}
	settings, found, err := ws.LoadSettings(name)
	if err != nil {
		return nil, nil, err
	}
	tbEnv, err := savedEnvironment(settings, found)
	if err != nil {
		return nil, nil, err
	}

	p := &steps.Printer{W: out}
	var agentsImage images.Result
	var registryAuth string
	if err := p.Run("Building the agents image", func(s *steps.Step) error {
		b, closer, err := images.NewBuilder(ws.CacheDir())
		if err != nil {
			return err
		}
		defer closer.Close()
		if agentsImage, err = b.EnsureAgents(ctx, root); err != nil {
			return err
		}
		var pushed bool
		registryAuth, pushed, err = tbEnv.PushAgents(ctx, agentsImage.Image, inv, settings)
		if !agentsImage.Built && !pushed {
			s.Unchanged()
		}
		s.Detail("%s to %s", agentsImage.Image.Ref, inv.Registry.HostAddress)
		return err
	}); err != nil {
		return nil, nil, err
	}

	client, err := sarama.NewClient(Bootstrap(inv), kafka.Config())
	if err != nil {
		return nil, nil, fmt.Errorf("Kafka at %v: %w", Bootstrap(inv), err)
	}
	closers = append(closers, client.Close)
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return nil, nil, err
	}

	ceilings, err := ws.LoadCeilings(name)
	if err != nil {
		return nil, nil, err
	}
	env := &runEnv{
		inv: inv, cluster: cluster, client: client, admin: admin, root: root, cacheDir: ws.CacheDir(), ceilings: ceilings,
		agentsRef: images.NodeRef(agentsImage.Image, inv.Registry.NodeAddress), agentsHostRef: agentsImage.Image.Ref, registryAuth: registryAuth,
		settings: settings, out: out,
	}
	env.grafana = findGrafana(ctx, inv, settings)
	if tbEnv.NodesOnThisHost() {
		// The Engine the node containers run on: faults that act inside
		// a node (partition, slow-network) go through it.
		if h, err := hostDocker(); err == nil {
			env.host = h
			closers = append(closers, h.Close)
		}
	}

	return env, closeAll, nil
}
