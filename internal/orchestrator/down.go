package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/alert-testbed/testbed/internal/tf"
	"github.com/alert-testbed/testbed/internal/toolchain"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// LabelName is the label on every host-side object of a testbed.
const LabelName = "testbed.name"

// Removed is what `down` removed.
type Removed struct {
	TerraformResources []string // addresses from the state, e.g. docker_container.node["tb-worker-1"]
	Containers         []string
	Networks           []string
	Volumes            []string
	CgroupDirs         int
	StateDir           string
}

// downState is what down's actions share.
type downState struct {
	ws       workspace.Workspace
	name     string
	dir      string // the testbed's folder
	settings workspace.Settings
	found    bool // settings were saved
	env      Environment
	out      io.Writer
	r        Removed
	host     *client.Client // this host's Docker API (local), once reached
}

// downActions are down's actions, in order, for every environment.
func downActions() []func(context.Context, *downState) error {
	return []func(context.Context, *downState) error{
		func(ctx context.Context, d *downState) error { return d.env.Reachable(ctx, d) },
		func(ctx context.Context, d *downState) error { return d.env.Destroy(ctx, d) },
		func(ctx context.Context, d *downState) error { return d.env.Leftovers(ctx, d) },
		removeFolder,
	}
}

// Down removes a testbed: terraform destroy when there is a state, then
// what the environment finds left (locally, every container, network and
// volume still labelled with its name, which an interrupted apply can
// leave, and the cgroups of its nodes' containers; on aws, anything still
// tagged with its name is an error), and its folder. It works whatever
// state an earlier `up` left behind.
func Down(ctx context.Context, ws workspace.Workspace, name string, out io.Writer) (Removed, error) {
	// Checked before anything is contacted: the testbed's folder is removed
	// at the end, and a name such as "" or ".." would make it all testbeds'
	// folder or the whole workspace (TestbedPath refuses those).
	dir, err := ws.TestbedPath(name)
	if err != nil {
		return Removed{}, err
	}
	settings, found, err := ws.LoadSettings(name)
	if err != nil {
		return Removed{}, err
	}
	env, err := savedEnvironment(settings, found)
	if err != nil {
		return Removed{}, err
	}
	d := &downState{ws: ws, name: name, dir: dir, settings: settings, found: found, env: env, out: out}
	defer func() {
		if d.host != nil {
			d.host.Close()
		}
	}()
	for _, act := range downActions() {
		if err := act(ctx, d); err != nil {
			return d.r, err
		}
	}
	return d.r, nil
}

// removeFolder removes the testbed's folder: its settings, state, keys and
// sockets.
func removeFolder(_ context.Context, d *downState) error {
	if _, err := os.Stat(d.dir); err != nil {
		return nil
	}
	if err := os.RemoveAll(d.dir); err != nil {
		return fmt.Errorf("remove %s: %w", d.dir, err)
	}
	d.r.StateDir = d.dir
	return nil
}

// stateOf prepares the testbed's module and lists what its state holds.
func stateOf(ctx context.Context, ws workspace.Workspace, tc toolchain.Toolchain, name, env string) (*tf.Module, []string, error) {
	m, err := prepareModule(ws, tc, name, env)
	if err != nil {
		return nil, nil, err
	}
	if err := m.Init(ctx); err != nil {
		return nil, nil, err
	}
	addrs, err := m.StateResources(ctx)
	return m, addrs, err
}

// sweep removes whatever the host Engine still has with the testbed's label.
func sweep(ctx context.Context, api *client.Client, name string, r *Removed) error {
	label := filters.NewArgs(filters.Arg("label", LabelName+"="+name))
	cs, err := api.ContainerList(ctx, container.ListOptions{All: true, Filters: label})
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := api.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			return fmt.Errorf("remove container %s: %w", strings.TrimPrefix(c.Names[0], "/"), err)
		}
		r.Containers = append(r.Containers, strings.TrimPrefix(c.Names[0], "/"))
	}
	vs, err := api.VolumeList(ctx, volume.ListOptions{Filters: label})
	if err != nil {
		return err
	}
	for _, v := range vs.Volumes {
		if err := api.VolumeRemove(ctx, v.Name, true); err != nil {
			return fmt.Errorf("remove volume %s: %w", v.Name, err)
		}
		r.Volumes = append(r.Volumes, v.Name)
	}
	ns, err := api.NetworkList(ctx, network.ListOptions{Filters: label})
	if err != nil {
		return err
	}
	for _, n := range ns {
		if err := api.NetworkRemove(ctx, n.ID); err != nil {
			return fmt.Errorf("remove network %s: %w", n.Name, err)
		}
		r.Networks = append(r.Networks, n.Name)
	}
	sort.Strings(r.Containers)
	return nil
}

// removeCgroups removes the cgroup folders under /testbed-NAME that the
// nodes' inner containers used (the nodes share the host's cgroup
// namespace). Only empty folders can be removed, deepest first; it returns
// how many top-level hierarchies it cleaned.
func removeCgroups(name string) int {
	roots, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", "testbed-"+name))
	if unified := filepath.Join("/sys/fs/cgroup", "testbed-"+name); isDir(unified) {
		roots = append(roots, unified)
	}
	cleaned := 0
	for _, root := range roots {
		var dirs []string
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		ok := true
		for _, d := range dirs {
			if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
				ok = false
			}
		}
		if ok {
			cleaned++
		}
	}
	return cleaned
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func hostDocker() (*client.Client, error) {
	api, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client for the host Engine: %w", err)
	}
	return api, nil
}

// Summary is the line `down` prints.
func (r Removed) Summary(name string) string {
	if len(r.TerraformResources) == 0 && len(r.Containers) == 0 && len(r.Networks) == 0 && len(r.Volumes) == 0 && r.StateDir == "" {
		return fmt.Sprintf("Nothing to remove: no testbed named %q here.", name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Removed testbed %q:", name)
	if len(r.TerraformResources) > 0 {
		fmt.Fprintf(&b, "\n  terraform destroy: %d resources (%s)", len(r.TerraformResources), groupAddresses(r.TerraformResources))
	}
	if len(r.Containers)+len(r.Networks)+len(r.Volumes) > 0 {
		fmt.Fprintf(&b, "\n  left outside the Terraform state, removed by label: %d containers %v, %d networks %v, %d volumes %v",
			len(r.Containers), r.Containers, len(r.Networks), r.Networks, len(r.Volumes), r.Volumes)
	}
	if r.CgroupDirs > 0 {
		fmt.Fprintf(&b, "\n  cgroups of the nodes' containers: %d hierarchies cleaned", r.CgroupDirs)
	}
	if r.StateDir != "" {
		fmt.Fprintf(&b, "\n  state folder %s", r.StateDir)
	}
	return b.String()
}

// groupAddresses summarises resource addresses by resource, dropping the
// instance keys: "docker_container.node x5, docker_network.testbed".
func groupAddresses(addrs []string) string {
	count := map[string]int{}
	var order []string
	for _, a := range addrs {
		base, _, _ := strings.Cut(a, "[")
		if count[base] == 0 {
			order = append(order, base)
		}
		count[base]++
	}
	sort.Strings(order)
	parts := make([]string, len(order))
	for i, base := range order {
		parts[i] = base
		if count[base] > 1 {
			parts[i] += fmt.Sprintf(" x%d", count[base])
		}
	}
	return strings.Join(parts, ", ")
}
