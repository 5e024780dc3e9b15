package orchestrator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alert-testbed/testbed/internal/config"
	"github.com/alert-testbed/testbed/internal/images"
	"github.com/alert-testbed/testbed/internal/inventory"
	"github.com/alert-testbed/testbed/internal/steps"
	"github.com/alert-testbed/testbed/internal/tf"
	"github.com/alert-testbed/testbed/internal/toolchain"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// localEnv is the local environment: the nodes are Docker-in-Docker
// containers of this host (terraform/local), reached through a Unix
// socket each (or SSH on request), pulling from a registry container that
// the images built here are pushed to (or, with --images upstream, from
// Docker Hub).
type localEnv struct{}

func (localEnv) Name() string { return topology.EnvLocal }

func (localEnv) Plan(u *upState) error {
	socketDir := filepath.Join(u.ws.TestbedDir(u.top.Name), "nodes")
	if n := len(socketDir) + len("/"+u.top.Name+"-manager-7/docker.sock"); n > 107 {
		return fmt.Errorf("the workspace folder %s is too deep: node API socket paths would be %d bytes, over the 107 that Unix sockets allow; set TESTBED_HOME to a shorter path", u.ws.Root, n)
	}
	if !u.exists {
		port, err := freePort()
		if err != nil {
			return err
		}
		u.settings.RegistryHostPort = port
	}
	return nil
}

func (localEnv) Announce(u *upState) error {
	fmt.Fprintf(u.o.Out, "Standing up testbed %q: %d managers, %d workers, env %s, images %s, Docker API over %s\n",
		u.top.Name, u.top.Managers, u.top.Workers, u.top.Env, u.settings.Images, u.settings.DockerAPI)
	return nil
}

func (localEnv) HostTitle() string                   { return "Checking the host" }
func (localEnv) CheckHost(ctx context.Context) error { return checkHost(ctx) }

func (localEnv) ToolchainTitle() string { return "Finding Terraform and its docker provider" }
func (localEnv) Toolchain(ctx context.Context, cacheDir string) (toolchain.Toolchain, error) {
	return toolchain.Ensure(ctx, cacheDir)
}
func (localEnv) Missing(cacheDir string) []string { return toolchain.Paths(cacheDir).Missing() }
func (localEnv) ToolchainBuildTime() string       { return "about 6 minutes" }
func (localEnv) DescribeToolchain(tc toolchain.Toolchain) string {
	return tc.Describe()
}

func (localEnv) ImagesTitle() string { return "Choosing and building images" }

// BuildImages chooses, once, where each stack image comes from
// (chooseImages), then builds here, from package registries, the node and
// registry images and the stack images not taken from upstream (once:
// content-hashed tags).
func (localEnv) BuildImages(ctx context.Context, u *upState, s *steps.Step) error {
	chooseImages(ctx, u)
	skip := map[string]bool{}
	var upstream []string
	for _, name := range images.StackNames {
		if u.settings.ImageSources[name] == config.ImagesUpstream {
			skip[name] = true
			upstream = append(upstream, images.Upstream[name])
		}
	}
	b, closer, err := images.NewBuilder(u.ws.CacheDir())
	if err != nil {
		return err
	}
	defer closer.Close()
	var results []images.Result
	u.set, results, err = b.EnsureExcept(ctx, skip, func(name string) {
		fmt.Fprintf(u.o.Out, "   building image %s (offline, from package registries)\n", name)
	})
	if err != nil {
		return err
	}
	built := false
	var parts []string
	for _, r := range results {
		state := "cached"
		if r.Built {
			state, built = "built", true
		}
		parts = append(parts, fmt.Sprintf("%s %s %s %d MB", r.Image.Ref, state, r.Duration.Round(time.Second), r.Size>>20))
	}
	if len(upstream) > 0 {
		parts = append(parts, "upstream "+strings.Join(upstream, " "))
	}
	if !built {
		s.Unchanged()
	}
	s.Detail("%s", strings.Join(parts, ", "))
	return nil
}

// chooseImages decides, when the testbed is made (or first up since the
// choice is saved), where each stack image comes from, and whether Grafana
// is deployed: with --images auto, an image comes from upstream where the
// nodes can pull it (images.Available, through the registry mirrors) and
// is built here otherwise; Grafana (auto) is deployed where its image can
// be had. Each decision that falls back says why, on one line.
func chooseImages(ctx context.Context, u *upState) {
	if u.settings.ImageSources != nil && u.settings.GrafanaImage != config.GrafanaAuto {
		return
	}
	var check []string
	if u.settings.ImageSources == nil {
		u.settings.ImageSources = map[string]string{}
		for _, name := range images.StackNames {
			switch u.settings.Images {
			case config.ImagesAuto:
				check = append(check, images.Upstream[name])
			default:
				u.settings.ImageSources[name] = u.settings.Images
			}
		}
	}
	if u.settings.GrafanaImage == config.GrafanaAuto {
		check = append(check, images.Grafana)
	}
	avail := images.Available(ctx, check, u.settings.RegistryMirrors)
	for _, name := range images.StackNames {
		if _, checked := avail[images.Upstream[name]]; !checked {
			continue
		}
		if err := avail[images.Upstream[name]]; err != nil {
			u.settings.ImageSources[name] = config.ImagesOffline
			fmt.Fprintf(u.o.Out, "   %s: built here (%s cannot be had: %v)\n", name, images.Upstream[name], err)
		} else {
			u.settings.ImageSources[name] = config.ImagesUpstream
		}
	}
	if u.settings.GrafanaImage == config.GrafanaAuto {
		if err := avail[images.Grafana]; err != nil {
			u.settings.GrafanaImage = config.GrafanaNone
			u.grafanaMissing = fmt.Sprintf("%s cannot be had: %v", images.Grafana, err)
		} else {
			u.settings.GrafanaImage = images.Grafana
		}
	}
}

func (localEnv) NodesTitle(top topology.Topology) string {
	return fmt.Sprintf("Creating nodes (terraform apply, %d node containers and a registry)", top.NodeCount())
}

func (localEnv) Vars(u *upState) (tf.Vars, error) {
	return tf.Vars{
		"name":               u.top.Name,
		"managers":           u.top.Managers,
		"workers":            u.top.Workers,
		"node_image":         u.set.Node.Ref,
		"registry_image":     u.set.Registry.Ref,
		"registry_host_port": u.settings.RegistryHostPort,
		"api_socket_dir":     filepath.Join(u.ws.TestbedDir(u.top.Name), "nodes"),
		"docker_api":         u.settings.DockerAPI,
		"registry_mirrors":   append([]string{}, u.settings.RegistryMirrors...),
		"ssh_dir":            sshKeys(u.ws, u.top.Name).Dir,
	}, nil
}

func (localEnv) StackImagesTitle() string { return "Pushing images to the testbed registry" }

// StackImages pushes the stack images built here to the testbed's
// registry; the nodes pull the others from upstream.
func (localEnv) StackImages(ctx context.Context, u *upState, s *steps.Step) error {
	node := u.inv.Registry.NodeAddress
	built := map[string]images.Image{}
	for _, img := range u.set.Stack() {
		built[img.Name] = img
	}
	refs := map[string]string{}
	pushed, here := 0, 0
	for _, name := range images.StackNames {
		if u.settings.ImageSources[name] == config.ImagesUpstream {
			refs[name] = images.Upstream[name]
			continue
		}
		img := built[name]
		did, err := images.Push(ctx, img, u.inv.Registry.HostAddress)
		if err != nil {
			return err
		}
		if did {
			pushed++
		}
		here++
		refs[name] = images.NodeRef(img, node)
	}
	u.refs = stackImagesOf(refs)
	if pushed == 0 {
		s.Unchanged()
	}
	s.Detail("%d images built here, %d pushed; %d from upstream", here, pushed, len(images.StackNames)-here)
	return nil
}

func (localEnv) NodeTimeout(u *upState) time.Duration {
	if u.o.NodeTimeout > 0 {
		return u.o.NodeTimeout
	}
	return nodeAPITimeout
}
func (localEnv) AfterNodes(_ string, err error) error { return err }

// Reachable checks this host's Docker Engine, which runs the nodes.
func (localEnv) Reachable(ctx context.Context, d *downState) error {
	api, err := hostDocker()
	if err != nil {
		return err
	}
	d.host = api
	if _, err := api.Ping(ctx); err != nil {
		return fmt.Errorf("the Docker Engine is not reachable (%v): start it, then run `testbed down --name %s` again", err, d.name)
	}
	return nil
}

// Destroy runs terraform destroy where there is a state and the toolchain
// is there (without it, the sweep of Leftovers removes the same); a failed
// destroy is said and left to that sweep.
func (localEnv) Destroy(ctx context.Context, d *downState) error {
	state := filepath.Join(d.dir, "terraform.tfstate")
	tc := toolchain.Paths(d.ws.CacheDir())
	if _, err := os.Stat(state); err != nil || len(tc.Missing()) > 0 {
		return nil
	}
	tc, err := toolchain.Ensure(ctx, d.ws.CacheDir())
	if err != nil {
		return err
	}
	m, addrs, err := stateOf(ctx, d.ws, tc, d.name, topology.EnvLocal)
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return nil
	}
	fmt.Fprintf(d.out, " • terraform destroy (%d resources) ...\n", len(addrs))
	planned := images.Planned()
	port := d.settings.RegistryHostPort
	if port == 0 {
		port = 5000 // any valid value: destroy does not use it
	}
	// Destroy needs every variable set, but uses none of them to find what
	// to remove: the state says that. Without saved settings, any valid
	// value does.
	managers := max(d.settings.Managers, 1)
	vars := tf.Vars{
		"name": d.name, "managers": managers, "workers": d.settings.Workers,
		"node_image": planned.Node.Ref, "registry_image": planned.Registry.Ref,
		"registry_host_port": port, "api_socket_dir": filepath.Join(d.dir, "nodes"),
	}
	if err := m.Destroy(ctx, vars); err != nil {
		fmt.Fprintf(d.out, "   terraform destroy failed (%v); removing by label instead\n", err)
		return nil
	}
	d.r.TerraformResources = addrs
	return nil
}

// Leftovers removes every container, network and volume still labelled
// with the testbed's name, and the cgroups its nodes' containers left.
func (localEnv) Leftovers(ctx context.Context, d *downState) error {
	if err := sweep(ctx, d.host, d.name, &d.r); err != nil {
		return err
	}
	d.r.CgroupDirs = removeCgroups(d.name)
	return nil
}

// PushAgents pushes the agents image to the testbed's registry container.
func (localEnv) PushAgents(ctx context.Context, img images.Image, inv inventory.Inventory, _ workspace.Settings) (string, bool, error) {
	pushed, err := images.Push(ctx, img, inv.Registry.HostAddress)
	return "", pushed, err
}

func (localEnv) NodesOnThisHost() bool { return true }
func (localEnv) UnreachableHint() string {
	return "is the host's Docker Engine running?"
}
