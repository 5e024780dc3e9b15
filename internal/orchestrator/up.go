// Package orchestrator runs the lifecycle of a testbed: `up` as a pipeline
// of named steps (toolchain, images, nodes, swarm, stacks, health), `status`
// and `down`. Each step is idempotent, so a second `up` on a running testbed
// changes nothing and says so, and `down` works whatever state an earlier
// `up` left behind.
package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	testbed "github.com/alert-testbed/testbed"
	"github.com/alert-testbed/testbed/internal/config"
	"github.com/alert-testbed/testbed/internal/dockerssh"
	"github.com/alert-testbed/testbed/internal/images"
	"github.com/alert-testbed/testbed/internal/inventory"
	"github.com/alert-testbed/testbed/internal/kafka"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/stacks"
	"github.com/alert-testbed/testbed/internal/steps"
	"github.com/alert-testbed/testbed/internal/swarm"
	"github.com/alert-testbed/testbed/internal/tf"
	"github.com/alert-testbed/testbed/internal/toolchain"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// UpOptions are the inputs of `testbed up`.
type UpOptions struct {
	// Name is the testbed's name (topology.ValidateName).
	Name string
	// Set applies what the user asked (the flags given) over the testbed's
	// configuration: its saved one, or config.Default() for a new testbed.
	// nil asks for nothing.
	Set func(*config.Testbed)
	// Yes skips the cost confirmation of a new aws testbed.
	Yes bool
	// NodeTimeout is how long to wait for the nodes' Docker APIs after
	// apply; 0: the environment's own (2 min local, 15 min aws).
	NodeTimeout time.Duration
	// In answers the cost confirmation of --env aws.
	In  io.Reader
	Out io.Writer
}

// Timeouts of the waits in `up`.
const (
	nodeAPITimeout  = 2 * time.Minute
	swarmTimeout    = 2 * time.Minute
	stackTimeout    = 5 * time.Minute
	kafkaTimeout    = 4 * time.Minute
	kafkaListenPort = 9094
	targetTimeout   = 4 * time.Minute
)

// upState is what up's actions share: the options, the testbed's
// topology and settings, its environment, and what each action makes.
type upState struct {
	ws  workspace.Workspace
	o   UpOptions
	top topology.Topology
	env Environment
	// settings are the testbed's configuration (settings.Testbed: saved or
	// default, with the flags over it, checked) and its chosen values;
	// saved before the nodes are made.
	settings workspace.Settings
	exists   bool // the testbed was up before
	now      time.Time

	tc         toolchain.Toolchain
	set        images.Set // the images built here (local)
	inv        inventory.Inventory
	refs       stackImages // the images the stacks run
	cluster    *swarm.Cluster
	grafanaURL string
	// grafanaMissing says why Grafana (auto) is left out.
	grafanaMissing string
}

// upAction is one named step of up. A title of "" leaves the action out
// (the environment has nothing to do there).
type upAction struct {
	title func(u *upState) string
	run   func(ctx context.Context, u *upState, s *steps.Step) error
}

func title(t string) func(*upState) string { return func(*upState) string { return t } }

// upActions are up's steps, in order, for every environment; what differs
// between environments is asked of u.env.
func upActions() []upAction {
	return []upAction{
		{func(u *upState) string { return u.env.HostTitle() }, func(ctx context.Context, u *upState, s *steps.Step) error {
			s.Check()
			return u.env.CheckHost(ctx)
		}},
		{func(u *upState) string { return u.env.ToolchainTitle() }, findToolchain},
		{func(u *upState) string { return u.env.ImagesTitle() }, func(ctx context.Context, u *upState, s *steps.Step) error {
			return u.env.BuildImages(ctx, u, s)
		}},
		{func(u *upState) string { return u.env.NodesTitle(u.top) }, createNodes},
		{func(u *upState) string { return u.env.StackImagesTitle() }, func(ctx context.Context, u *upState, s *steps.Step) error {
			return u.env.StackImages(ctx, u, s)
		}},
		{title("Forming the swarm"), formSwarm},
		{title("Deploying the monitoring stack (Prometheus, node-exporter, cAdvisor, alertmanager)"), deployMonitoring},
		{title("Deploying the Kafka stack (3 KRaft brokers)"), deployKafka},
		{title("Waiting for Kafka (KRaft quorum, replicated round trip)"), waitKafka},
		{title("Waiting for every scrape target (node-exporter and cAdvisor on each node, 3 brokers)"), waitTargets},
		{func(u *upState) string {
			if u.settings.Grafana() == "" {
				return ""
			}
			return "Deploying Grafana (" + u.settings.Grafana() + ")"
		}, deployGrafana},
	}
}

// Up stands up (or confirms) the testbed and returns its inventory.
func Up(ctx context.Context, ws workspace.Workspace, o UpOptions) (inventory.Inventory, error) {
	u, err := planUp(ws, o)
	if err != nil {
		return inventory.Inventory{}, err
	}
	if err := u.env.Announce(u); err != nil {
		return u.inv, err
	}
	p := &steps.Printer{W: o.Out}
	defer func() {
		if u.cluster != nil {
			u.cluster.Close()
		}
	}()
	for _, a := range upActions() {
		t := a.title(u)
		if t == "" {
			continue
		}
		if err := p.Run(t, func(s *steps.Step) error { return a.run(ctx, u, s) }); err != nil {
			if u.inv.Name != "" {
				err = u.env.AfterNodes(u.top.Name, err)
			}
			return u.inv, err
		}
	}
	if u.settings.Grafana() == "" {
		why := "no image could be had when the testbed was made, or --grafana-image none"
		if u.grafanaMissing != "" {
			why = u.grafanaMissing + "; no package registry carries Grafana"
		}
		fmt.Fprintf(o.Out, " - Grafana: left out (%s); everything else works without it; `testbed up --name %s --grafana-image IMAGE` adds it\n", why, u.top.Name)
	}
	printUp(u, p.Changed)
	return u.inv, nil
}

// planUp settles the testbed's configuration (saved or default, with what
// the user set over it), checks it, and chooses the environment, before
// anything is contacted or created.
func planUp(ws workspace.Workspace, o UpOptions) (*upState, error) {
	if err := topology.ValidateName(o.Name); err != nil {
		return nil, err
	}
	saved, exists, err := ws.LoadSettings(o.Name)
	if err != nil {
		return nil, err
	}
	cfg := config.Default()
	if exists {
		if saved.Images == "" && saved.Env != topology.EnvAWS {
			// Made before the image source was saved, when local's only
			// default was offline.
			saved.Images = config.ImagesOffline
		}
		config.SetDefaults(&saved.Testbed)
		cfg = saved.Testbed
		if cfg.AWS != nil {
			a := *cfg.AWS
			cfg.AWS = &a
		}
	}
	if o.Set != nil {
		o.Set(&cfg)
	}
	config.SetDefaults(&cfg)
	if exists {
		if err := config.CheckChange(o.Name, saved.Testbed, cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.Validate(o.Name); err != nil {
		return nil, err
	}
	env, err := environmentOf(cfg.Env)
	if err != nil {
		return nil, err
	}
	u := &upState{ws: ws, o: o, top: cfg.Topology(o.Name), env: env, settings: saved, exists: exists, now: time.Now()}
	if !exists {
		u.settings = newSettings(u.now)
	}
	u.settings.Testbed = cfg
	if err := env.Plan(u); err != nil {
		return nil, err
	}
	return u, nil
}

// newSettings are the values chosen for a testbed made now that every
// environment has (the environment's own are added by its Plan).
func newSettings(now time.Time) workspace.Settings {
	return workspace.Settings{KafkaClusterID: kafka.NewClusterID(), GrafanaPassword: kafka.NewClusterID()[:16],
		CreatedAt: now.UTC().Truncate(time.Second).Format(time.RFC3339)}
}

// findToolchain finds or builds Terraform and the environment's providers.
func findToolchain(ctx context.Context, u *upState, s *steps.Step) error {
	if missing := u.env.Missing(u.ws.CacheDir()); len(missing) == 0 {
		s.Unchanged()
	} else {
		fmt.Fprintf(u.o.Out, "   %s: from the Terraform registry where it answers, else built from the Go module proxy (once; %s)\n", strings.Join(missing, " and "), u.env.ToolchainBuildTime())
	}
	var err error
	u.tc, err = u.env.Toolchain(ctx, u.ws.CacheDir())
	s.Detail("%s", u.env.DescribeToolchain(u.tc))
	return err
}

// createNodes saves the settings, makes the nodes' SSH keys (every node
// gets an sshd with a host key made here, kept across ups, whichever
// transport the orchestrator uses) and applies the environment's module.
func createNodes(ctx context.Context, u *upState, s *steps.Step) error {
	if err := u.ws.SaveSettings(u.top.Name, u.settings); err != nil {
		return err
	}
	keys := sshKeys(u.ws, u.top.Name)
	if err := keys.Ensure(u.top.NodeNames()); err != nil {
		return fmt.Errorf("the testbed's SSH keys in %s: %w", keys.Dir, err)
	}
	vars, err := u.env.Vars(u)
	if err != nil {
		return err
	}
	u.inv, err = applyNodes(ctx, s, u.ws, u.tc, u.top, vars)
	return err
}

func formSwarm(ctx context.Context, u *upState, s *steps.Step) error {
	var err error
	u.cluster, err = swarm.Connect(ctx, u.inv, sshKeys(u.ws, u.top.Name), u.env.NodeTimeout(u))
	if err != nil {
		return err
	}
	changed, err := u.cluster.Form(ctx, swarmTimeout)
	if !changed {
		s.Unchanged()
	}
	s.Detail("%d nodes ready, leader %s", len(u.cluster.Nodes), u.cluster.Leader().Name)
	return err
}

func stackDir(u *upState) string { return filepath.Join(u.ws.TestbedDir(u.top.Name), "stacks") }

func deployMonitoring(ctx context.Context, u *upState, s *steps.Step) error {
	nodes, err := u.cluster.NodeStates(ctx)
	if err != nil {
		return err
	}
	st, err := monitoring.Stack(u.top.Name, nodes, u.refs.Monitoring, u.settings.Retention)
	if err != nil {
		return err
	}
	return deployStack(ctx, s, u.cluster.Leader(), stackDir(u), st)
}

func deployKafka(ctx context.Context, u *upState, s *steps.Step) error {
	st := stacks.Stack{Name: topology.KafkaStack, File: "swarm/kafka.yml", Vars: map[string]string{
		"KAFKA_IMAGE":      u.refs.Kafka,
		"KAFKA_CLUSTER_ID": u.settings.KafkaClusterID,
		"KAFKA_HEAP_OPTS":  "-Xms1g -Xmx1g",
	}}
	for i, m := range u.inv.Managers()[:topology.BrokerCount] {
		st.Vars[fmt.Sprintf("KAFKA_%d_HOST", i+1)] = m.Address
	}
	return deployStack(ctx, s, u.cluster.Leader(), stackDir(u), st)
}

func waitKafka(ctx context.Context, u *upState, s *steps.Step) error {
	s.Check()
	h, err := WaitKafka(ctx, u.cluster, u.inv, kafkaTimeout)
	if err != nil {
		return err
	}
	s.Detail("3 voters, %d brokers, probe %s/%d@%d in %s", h.Brokers, kafka.HealthTopic, h.Partition, h.Offset, h.RoundTrip.Round(time.Millisecond))
	return nil
}

func waitTargets(ctx context.Context, u *upState, s *steps.Step) error {
	s.Check()
	targets, err := monitoring.WaitTargets(ctx, promURL(u.inv), WantTargets(len(u.inv.Nodes)), targetTimeout)
	if err != nil {
		return err
	}
	s.Detail("%d targets up", len(targets))
	return nil
}

func deployGrafana(ctx context.Context, u *upState, s *steps.Step) error {
	st, err := grafanaStack(u.settings.Grafana(), u.settings.GrafanaPassword)
	if err != nil {
		return err
	}
	u.grafanaURL = grafanaURL(u.inv)
	return deployStack(ctx, s, u.cluster.Leader(), stackDir(u), st)
}

// printUp says whether anything changed, and where things are.
func printUp(u *upState, changed bool) {
	out, inv := u.o.Out, u.inv
	if changed {
		fmt.Fprintf(out, "Testbed %q is up.\n", u.top.Name)
	} else {
		fmt.Fprintf(out, "Testbed %q is up: it was already, nothing changed.\n", u.top.Name)
	}
	prom := promURL(inv)
	fmt.Fprintf(out, "Kafka bootstrap (from this host): %s\n", strings.Join(Bootstrap(inv), ","))
	fmt.Fprintf(out, "Kafka bootstrap (inside the swarm, network %q): kafka-1:19092,kafka-2:19092,kafka-3:19092\n", swarm.NetworkName)
	fmt.Fprintf(out, "Prometheus: %s (HTTP API; targets at %s/api/v1/targets)\n", prom, prom)
	fmt.Fprintf(out, "Alertmanager: http://%s\n", net.JoinHostPort(inv.Managers()[0].Address, "9093"))
	if u.grafanaURL != "" {
		fmt.Fprintf(out, "Grafana: %s (admin / %s)\n", u.grafanaURL, u.settings.GrafanaPassword)
	}
	if strings.HasPrefix(inv.Nodes[0].DockerHost, "ssh://") {
		fmt.Fprintf(out, "Swarm manager shell: ssh -F %s %s docker node ls\n", sshKeys(u.ws, u.top.Name).Config(), inv.Nodes[0].Name)
	} else {
		fmt.Fprintf(out, "Swarm manager API: DOCKER_HOST=%s docker node ls\n", inv.Nodes[0].DockerHost)
	}
}

// applyNodes applies the environment's Terraform module with vars (when
// the plan has changes), then reads the inventory and writes it, with the
// nodes' known_hosts, into the testbed's folder.
func applyNodes(ctx context.Context, s *steps.Step, ws workspace.Workspace, tc toolchain.Toolchain, top topology.Topology, vars tf.Vars) (inventory.Inventory, error) {
	var inv inventory.Inventory
	m, err := prepareModule(ws, tc, top.Name, top.Env)
	if err != nil {
		return inv, err
	}
	if err := m.Init(ctx); err != nil {
		return inv, err
	}
	changes, err := m.Plan(ctx, vars)
	if err != nil {
		return inv, err
	}
	if changes {
		if err := m.Apply(ctx, vars); err != nil {
			return inv, fmt.Errorf("%w\n(what was made is in the Terraform state: `testbed down --name %s` removes it)", err, top.Name)
		}
	} else {
		s.Unchanged()
	}
	if inv, err = m.Inventory(ctx); err != nil {
		return inv, err
	}
	s.Detail("%d managers, %d workers", len(inv.Managers()), len(inv.Workers()))
	if err := sshKeys(ws, top.Name).WriteHosts(inv); err != nil {
		return inv, err
	}
	return inv, saveInventory(ws, inv)
}

// sshKeys are the SSH keys of testbed name, in its workspace folder.
func sshKeys(ws workspace.Workspace, name string) dockerssh.Keys {
	return dockerssh.Keys{Dir: filepath.Join(ws.TestbedDir(name), "ssh")}
}

// deployStack deploys st through the leader (its files under
// stackDir/NAME), says so when it was already deployed, and waits until
// every service runs.
func deployStack(ctx context.Context, s *steps.Step, leader swarm.Node, stackDir string, st stacks.Stack) error {
	// The docker CLI deploys; over SSH it goes through a tunnel.
	host, done, err := leader.CLIHost(filepath.Join(filepath.Dir(stackDir), "tun"))
	if err != nil {
		return err
	}
	defer done()
	deployed, err := stacks.Deploy(ctx, leader.API, host, filepath.Join(stackDir, st.Name), st)
	if err != nil {
		return err
	}
	if !deployed {
		s.Unchanged()
	}
	return stacks.WaitRunning(ctx, leader.API, st.Name, stackTimeout)
}

// stackImages are the image references the stacks use.
type stackImages struct {
	Kafka      string
	Monitoring monitoring.Images
}

// stackImagesOf are the stacks' images from references by short name
// (images.StackNames).
func stackImagesOf(refs map[string]string) stackImages {
	return stackImages{
		Kafka: refs["kafka"],
		Monitoring: monitoring.Images{
			Prometheus:   refs["prometheus"],
			NodeExporter: refs["node-exporter"],
			CAdvisor:     refs["cadvisor"],
			Alertmanager: refs["alertmanager"],
		},
	}
}

// WantTargets is how many up scrape targets each job of a testbed with n
// nodes has once Kafka runs.
func WantTargets(n int) monitoring.Want {
	return monitoring.Want{"prometheus": 1, "alertmanager": 1, "node-exporter": n, "cadvisor": n, "kafka": topology.BrokerCount}
}

// grafanaStack renders swarm/grafana.yml with the provisioning files and
// dashboards it mounts.
func grafanaStack(image, password string) (stacks.Stack, error) {
	files := map[string][]byte{}
	for _, f := range []string{"provisioning/datasource.yml", "provisioning/dashboards.yml", "dashboards/swarm-nodes.json", "dashboards/swarm-services.json", "dashboards/kafka.json", "dashboards/testbed-run.json"} {
		src := f
		if strings.HasPrefix(f, "provisioning/") {
			src = "dashboards/" + f
		}
		data, err := testbed.Files.ReadFile(src)
		if err != nil {
			return stacks.Stack{}, err
		}
		files[f] = data
	}
	return stacks.Stack{Name: "grafana", File: "swarm/grafana.yml", Files: files,
		Vars: map[string]string{"GRAFANA_IMAGE": image, "GRAFANA_ADMIN_PASSWORD": password}}, nil
}

// Bootstrap lists the brokers' host-reachable addresses.
func Bootstrap(inv inventory.Inventory) []string {
	var out []string
	for _, m := range inv.Managers()[:topology.BrokerCount] {
		out = append(out, net.JoinHostPort(m.Address, fmt.Sprint(kafkaListenPort)))
	}
	return out
}

// WaitKafka waits until brokers 1..3 are voters of the KRaft quorum and a
// record written with acks=all to a topic of replication factor 3 and
// min.insync.replicas 2 is read back from the host.
func WaitKafka(ctx context.Context, c *swarm.Cluster, inv inventory.Inventory, timeout time.Duration) (kafka.Health, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		last = checkKafka(ctx, c, inv)
		if last == nil {
			h, err := kafka.RoundTrip(ctx, Bootstrap(inv), topology.BrokerCount)
			if err == nil && h.Brokers == topology.BrokerCount {
				return h, nil
			}
			if err == nil {
				err = fmt.Errorf("%d brokers in the cluster metadata, want %d", h.Brokers, topology.BrokerCount)
			}
			last = err
		}
		if time.Now().After(deadline) {
			return kafka.Health{}, fmt.Errorf("Kafka not healthy after %s: %w", timeout, last)
		}
		select {
		case <-ctx.Done():
			return kafka.Health{}, ctx.Err()
		case <-time.After(3 * time.Second):
		}
	}
}

// checkKafka checks the quorum from broker 1's container.
func checkKafka(ctx context.Context, c *swarm.Cluster, inv inventory.Inventory) error {
	var errs []error
	// Any broker answers for the whole quorum; try each in turn.
	for i := 1; i <= topology.BrokerCount; i++ {
		node := c.Nodes[i-1] // managers first: manager i carries broker i
		voters, err := kafka.DescribeQuorum(ctx, node.API, topology.BrokerServiceName(i))
		if err != nil {
			errs = append(errs, fmt.Errorf("broker %d: %w", i, err))
			continue
		}
		return kafka.CheckQuorum(voters, topology.BrokerCount)
	}
	return errors.Join(errs...)
}

func checkHost(ctx context.Context) error {
	if _, err := os.Stat("/sys/fs/cgroup"); err != nil {
		return fmt.Errorf("no /sys/fs/cgroup on this host: the local environment needs Linux with cgroups")
	}
	hostAPI, err := hostDocker()
	if err != nil {
		return err
	}
	defer hostAPI.Close()
	if _, err := hostAPI.Ping(ctx); err != nil {
		return fmt.Errorf("the Docker Engine is not reachable (%v): start it (on Debian: `make setup` installs docker.io and starts dockerd)", err)
	}
	return nil
}

func prepareModule(ws workspace.Workspace, tc toolchain.Toolchain, name, env string) (*tf.Module, error) {
	logPath := filepath.Join(ws.TestbedDir(name), "terraform.log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	// The log stays open for the life of the process; Terraform writes to it
	// from each command.
	return tf.Prepare(tc, ws.TestbedDir(name), env, f)
}

func saveInventory(ws workspace.Workspace, inv inventory.Inventory) error {
	b, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(ws.TestbedDir(inv.Name), "inventory.json"), append(b, '\n'), 0o644)
}

// LoadInventory reads the inventory saved by the last `up`.
// A name no testbed can have is an error (topology.ValidateName's).
func LoadInventory(ws workspace.Workspace, name string) (inventory.Inventory, error) {
	dir, err := ws.TestbedPath(name)
	if err != nil {
		return inventory.Inventory{}, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "inventory.json"))
	if errors.Is(err, os.ErrNotExist) {
		return inventory.Inventory{}, fmt.Errorf("testbed %q is not up: start it with `testbed up --name %s`", name, name)
	}
	if err != nil {
		return inventory.Inventory{}, err
	}
	return inventory.Parse(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port for the registry: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
