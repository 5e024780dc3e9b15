// Package swarm forms a Docker Swarm from an inventory through each node's
// Docker Engine API, labels the nodes, and reports their state. It is
// environment-blind: a node's API may be a Unix socket (local) or reached
// over SSH (cloud); everything here goes through the Docker Go client.
package swarm

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/alert-testbed/testbed/internal/dockerssh"
	"github.com/alert-testbed/testbed/internal/inventory"
	"github.com/alert-testbed/testbed/internal/topology"
)

// Node labels the orchestrator sets; stack files place services with them.
const (
	LabelRole   = "testbed.role"   // manager | worker
	LabelIndex  = "testbed.index"  // 1-based index within the role
	LabelBroker = "testbed.broker" // Kafka broker id, on managers 1..3
)

// NetworkName is the attachable overlay network every stack joins, so that
// Prometheus, Kafka and the agents reach each other by service name.
const NetworkName = "testbed"

// Node is an inventory node with a client for its Docker API.
type Node struct {
	inventory.Node
	API *client.Client
	// ssh is the connection the API goes through when the node's
	// docker_host is ssh://; nil for a Unix socket.
	ssh *dockerssh.Conn
}

// CLIHost is a DOCKER_HOST through which the docker CLI reaches the node:
// its Unix socket, or a tunnel over the node's SSH connection with its
// socket under tunnelDir. done closes the tunnel.
func (n Node) CLIHost(tunnelDir string) (host string, done func(), err error) {
	if n.ssh == nil {
		return n.DockerHost, func() {}, nil
	}
	t, err := n.ssh.Tunnel(tunnelDir)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", n.Name, err)
	}
	return t.Host, func() { t.Close() }, nil
}

// Cluster is the set of nodes of one testbed.
type Cluster struct {
	Nodes []Node
}

// Connect opens a Docker client for every node and waits until each API
// answers (node daemons take a few seconds to start after apply). Nodes
// whose docker_host is ssh:// are reached over SSH with the testbed's keys,
// their host keys checked.
func Connect(ctx context.Context, inv inventory.Inventory, keys dockerssh.Keys, timeout time.Duration) (*Cluster, error) {
	c := &Cluster{}
	for _, n := range inv.Nodes {
		node := Node{Node: n}
		var err error
		if strings.HasPrefix(n.DockerHost, "ssh://") {
			node.ssh, err = keys.Dial(n.DockerHost)
			if err == nil {
				node.API, err = node.ssh.APIClient()
			}
		} else {
			node.API, err = client.NewClientWithOpts(client.WithHost(n.DockerHost), client.WithAPIVersionNegotiation())
		}
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("docker client for %s (%s): %w", n.Name, n.DockerHost, err)
		}
		c.Nodes = append(c.Nodes, node)
	}
	deadline := time.Now().Add(timeout)
	for _, n := range c.Nodes {
		for {
			_, err := n.API.Ping(ctx)
			if err == nil {
				break
			}
			if dockerssh.Permanent(err) {
				c.Close()
				return nil, fmt.Errorf("node %s: %w", n.Name, err)
			}
			if time.Now().After(deadline) {
				c.Close()
				return nil, fmt.Errorf("the Docker API of node %s at %s does not answer after %s: %w", n.Name, n.DockerHost, timeout, err)
			}
			if err := sleep(ctx, 500*time.Millisecond); err != nil {
				c.Close()
				return nil, err
			}
		}
	}
	return c, nil
}

// Close closes every client.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.API.Close()
		if n.ssh != nil {
			n.ssh.Close()
		}
	}
}

// Leader is the first manager: it initialises the swarm and the
// orchestrator deploys stacks through it.
func (c *Cluster) Leader() Node { return c.Nodes[0] }

// Form initialises the swarm on the first manager, joins the other nodes
// with the right role, sets the node labels and waits until every node is
// Ready. It changes nothing on a swarm that is already so, and then returns
// changed=false.
func (c *Cluster) Form(ctx context.Context, timeout time.Duration) (changed bool, err error) {
	leader := c.Leader()
	info, err := leader.API.Info(ctx)
	if err != nil {
		return false, fmt.Errorf("%s: %w", leader.Name, err)
	}
	healthy := info.Swarm.LocalNodeState == swarm.LocalNodeStateActive && info.Swarm.ControlAvailable &&
		info.Swarm.NodeAddr == leader.SwarmAddress()
	if !healthy {
		// A node container recreated on a kept volume remembers a swarm it
		// can no longer reach (its address may have changed): leave it and
		// start anew; every other node then joins the new swarm below.
		if err := leave(ctx, leader, info.Swarm.LocalNodeState); err != nil {
			return false, err
		}
		_, err := leader.API.SwarmInit(ctx, swarm.InitRequest{
			ListenAddr:    "0.0.0.0:2377",
			AdvertiseAddr: leader.SwarmAddress(),
		})
		if err != nil {
			return false, fmt.Errorf("swarm init on %s: %w", leader.Name, err)
		}
		changed = true
	}
	sw, err := leader.API.SwarmInspect(ctx)
	if err != nil {
		return changed, fmt.Errorf("swarm inspect on %s: %w", leader.Name, err)
	}
	for _, n := range c.Nodes[1:] {
		joined, err := join(ctx, n, sw, leader)
		if err != nil {
			return changed, err
		}
		changed = changed || joined
	}
	labelled, err := c.label(ctx)
	if err != nil {
		return changed, err
	}
	changed = changed || labelled
	if err := c.waitReady(ctx, timeout); err != nil {
		return changed, err
	}
	created, err := c.ensureNetwork(ctx)
	return changed || created, err
}

// leave takes a node out of whatever swarm it believes it is in.
func leave(ctx context.Context, n Node, state swarm.LocalNodeState) error {
	if state == swarm.LocalNodeStateInactive {
		return nil
	}
	if err := n.API.SwarmLeave(ctx, true); err != nil {
		return fmt.Errorf("swarm leave on %s (it was %s): %w", n.Name, state, err)
	}
	return nil
}

// join makes n a member of sw with its inventory role, unless it already
// is one; a node in another swarm, or stuck joining one, leaves it first.
func join(ctx context.Context, n Node, sw swarm.Swarm, leader Node) (bool, error) {
	info, err := n.API.Info(ctx)
	if err != nil {
		return false, fmt.Errorf("%s: %w", n.Name, err)
	}
	st := info.Swarm
	if st.LocalNodeState == swarm.LocalNodeStateActive && st.Cluster != nil && st.Cluster.ID == sw.ID && st.NodeAddr == n.SwarmAddress() {
		return false, nil
	}
	if st.LocalNodeState == swarm.LocalNodeStateActive && st.Cluster == nil && st.NodeAddr == n.SwarmAddress() {
		// Workers do not see the cluster object; ask the leader instead.
		if _, _, err := leader.API.NodeInspectWithRaw(ctx, st.NodeID); err == nil {
			return false, nil
		}
	}
	if err := leave(ctx, n, st.LocalNodeState); err != nil {
		return false, err
	}
	token := sw.JoinTokens.Worker
	if n.Role == inventory.RoleManager {
		token = sw.JoinTokens.Manager
	}
	err = n.API.SwarmJoin(ctx, swarm.JoinRequest{
		ListenAddr:    "0.0.0.0:2377",
		AdvertiseAddr: n.SwarmAddress(),
		RemoteAddrs:   []string{leader.SwarmAddress() + ":2377"},
		JoinToken:     token,
	})
	if err != nil {
		return false, fmt.Errorf("swarm join of %s as %s: %w", n.Name, n.Role, err)
	}
	return true, nil
}

// wantLabels are the labels a node should carry.
func wantLabels(n inventory.Node) map[string]string {
	l := map[string]string{LabelRole: n.Role, LabelIndex: strconv.Itoa(n.Index)}
	if n.Role == inventory.RoleManager && n.Index <= topology.BrokerCount {
		l[LabelBroker] = strconv.Itoa(n.Index)
	}
	return l
}

// label sets the testbed labels on every node, and removes swarm entries
// left behind by node containers that were recreated (same hostname, down).
func (c *Cluster) label(ctx context.Context) (bool, error) {
	leader := c.Leader()
	ids := map[string]string{} // hostname -> current swarm node id
	for _, n := range c.Nodes {
		info, err := n.API.Info(ctx)
		if err != nil {
			return false, fmt.Errorf("%s: %w", n.Name, err)
		}
		ids[n.Name] = info.Swarm.NodeID
	}
	nodes, err := leader.API.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return false, fmt.Errorf("node ls on %s: %w", leader.Name, err)
	}
	changed := false
	for _, sn := range nodes {
		want, known := ids[sn.Description.Hostname]
		if known && sn.ID != want && sn.Status.State == swarm.NodeStateDown {
			if sn.Spec.Role == swarm.NodeRoleManager {
				// A manager must be demoted before it can be removed.
				spec := sn.Spec
				spec.Role = swarm.NodeRoleWorker
				if err := leader.API.NodeUpdate(ctx, sn.ID, sn.Version, spec); err != nil {
					return changed, fmt.Errorf("demote stale swarm node %s (%s): %w", sn.Description.Hostname, sn.ID, err)
				}
			}
			if err := leader.API.NodeRemove(ctx, sn.ID, swarm.NodeRemoveOptions{Force: true}); err != nil {
				return changed, fmt.Errorf("remove stale swarm node %s (%s): %w", sn.Description.Hostname, sn.ID, err)
			}
			changed = true
		}
	}
	byID := map[string]swarm.Node{}
	for _, sn := range nodes {
		byID[sn.ID] = sn
	}
	for _, n := range c.Nodes {
		sn, ok := byID[ids[n.Name]]
		if !ok {
			return changed, fmt.Errorf("node %s (%s) is not in the swarm's node list", n.Name, ids[n.Name])
		}
		spec := sn.Spec
		same := true
		for k, v := range wantLabels(n.Node) {
			if spec.Labels[k] != v {
				same = false
			}
		}
		if same {
			continue
		}
		if spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		for k, v := range wantLabels(n.Node) {
			spec.Labels[k] = v
		}
		if err := leader.API.NodeUpdate(ctx, sn.ID, sn.Version, spec); err != nil {
			return changed, fmt.Errorf("label node %s: %w", n.Name, err)
		}
		changed = true
	}
	return changed, nil
}

func (c *Cluster) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		nodes, err := c.NodeStates(ctx)
		if err != nil {
			return err
		}
		var notReady []string
		for _, n := range nodes {
			if n.State != string(swarm.NodeStateReady) || (n.Role == inventory.RoleManager && n.Reachability != string(swarm.ReachabilityReachable)) {
				notReady = append(notReady, fmt.Sprintf("%s (%s/%s)", n.Hostname, n.State, n.Reachability))
			}
		}
		if len(notReady) == 0 && len(nodes) == len(c.Nodes) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("swarm nodes not ready after %s: %v (%d of %d listed)", timeout, notReady, len(nodes), len(c.Nodes))
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

// ensureNetwork creates the shared attachable overlay network.
func (c *Cluster) ensureNetwork(ctx context.Context) (bool, error) {
	api := c.Leader().API
	nets, err := api.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", NetworkName))})
	if err != nil {
		return false, err
	}
	for _, n := range nets {
		if n.Name == NetworkName {
			return false, nil
		}
	}
	_, err = api.NetworkCreate(ctx, NetworkName, network.CreateOptions{
		Driver:     "overlay",
		Attachable: true,
		Labels:     map[string]string{"testbed.network": "shared"},
	})
	if err != nil {
		return false, fmt.Errorf("create overlay network %s: %w", NetworkName, err)
	}
	return true, nil
}

// NodeState is one line of `testbed status`' node table.
type NodeState struct {
	ID           string // swarm node id
	Hostname     string
	Role         string
	State        string // ready, down, ...
	Availability string // active, pause, drain
	Reachability string // managers: reachable, unreachable
	Leader       bool
	Labels       map[string]string
}

// NodeStates lists the swarm's nodes as the leader sees them.
func (c *Cluster) NodeStates(ctx context.Context) ([]NodeState, error) {
	nodes, err := c.Leader().API.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return nil, fmt.Errorf("node ls on %s: %w", c.Leader().Name, err)
	}
	var out []NodeState
	for _, sn := range nodes {
		ns := NodeState{
			ID:           sn.ID,
			Hostname:     sn.Description.Hostname,
			Role:         string(sn.Spec.Role),
			State:        string(sn.Status.State),
			Availability: string(sn.Spec.Availability),
			Labels:       sn.Spec.Labels,
		}
		if sn.ManagerStatus != nil {
			ns.Reachability = string(sn.ManagerStatus.Reachability)
			ns.Leader = sn.ManagerStatus.Leader
		}
		out = append(out, ns)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Role != out[j].Role {
			return out[i].Role == string(swarm.NodeRoleManager)
		}
		a, _ := strconv.Atoi(out[i].Labels[LabelIndex])
		b, _ := strconv.Atoi(out[j].Labels[LabelIndex])
		if a != b {
			return a < b
		}
		return out[i].Hostname < out[j].Hostname
	})
	return out, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
