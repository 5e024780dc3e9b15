package orchestrator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

// fakeEnv records what up and down ask of an environment. Its Vars fails
// with errStop: the flow up to the nodes runs without Docker or Terraform.
type fakeEnv struct{ calls *[]string }

var errStop = errors.New("stop before terraform")

func (f fakeEnv) call(s string) { *f.calls = append(*f.calls, s) }
func (f fakeEnv) Name() string  { return topology.EnvLocal }
func (f fakeEnv) Plan(u *upState) error {
	f.call("Plan")
	return nil
}
func (f fakeEnv) Announce(u *upState) error {
	f.call("Announce")
	fmt.Fprintf(u.o.Out, "Standing up %s\n", u.top.Name)
	return nil
}
func (f fakeEnv) HostTitle() string { return "Checking the host" }
func (f fakeEnv) CheckHost(context.Context) error {
	f.call("CheckHost")
	return nil
}
func (f fakeEnv) ToolchainTitle() string { return "Finding the toolchain" }
func (f fakeEnv) Toolchain(context.Context, string) (toolchain.Toolchain, error) {
	f.call("Toolchain")
	return toolchain.Toolchain{TerraformVersion: "1.9.0"}, nil
}
func (f fakeEnv) Missing(string) []string    { return nil }
func (f fakeEnv) ToolchainBuildTime() string { return "" }
func (f fakeEnv) DescribeToolchain(tc toolchain.Toolchain) string {
	return "terraform " + tc.TerraformVersion
}
func (f fakeEnv) ImagesTitle() string { return "" } // left out
func (f fakeEnv) BuildImages(context.Context, *upState, *steps.Step) error {
	f.call("BuildImages")
	return nil
}
func (f fakeEnv) NodesTitle(topology.Topology) string { return "Creating nodes" }
func (f fakeEnv) Vars(*upState) (tf.Vars, error) {
	f.call("Vars")
	return nil, errStop
}
func (f fakeEnv) StackImagesTitle() string { return "Pushing images" }
func (f fakeEnv) StackImages(context.Context, *upState, *steps.Step) error {
	f.call("StackImages")
	return nil
}
func (f fakeEnv) NodeTimeout(*upState) time.Duration { return time.Second }
func (f fakeEnv) AfterNodes(_ string, err error) error {
	f.call("AfterNodes")
	return err
}
func (f fakeEnv) Reachable(context.Context, *downState) error {
	f.call("Reachable")
	return nil
}
func (f fakeEnv) Destroy(_ context.Context, d *downState) error {
	f.call("Destroy")
	d.r.TerraformResources = []string{"fake.node"}
	return nil
}
func (f fakeEnv) Leftovers(context.Context, *downState) error {
	f.call("Leftovers")
	return nil
}
func (f fakeEnv) PushAgents(context.Context, images.Image, inventory.Inventory, workspace.Settings) (string, bool, error) {
	return "", false, nil
}
func (f fakeEnv) NodesOnThisHost() bool   { return false }
func (f fakeEnv) UnreachableHint() string { return "" }

// Up runs its actions in order and asks the environment at each; a step
// whose title the environment leaves empty is left out; the settings are
// saved before the nodes are made. Down asks it in its order and removes
// the testbed's folder.
func TestUpAndDownAskTheEnvironment(t *testing.T) {
	var calls []string
	defer func(e Environment) { environments[topology.EnvLocal] = e }(environments[topology.EnvLocal])
	environments[topology.EnvLocal] = fakeEnv{&calls}
	ws := workspace.Workspace{Root: t.TempDir()}
	var out bytes.Buffer
	_, err := Up(context.Background(), ws, UpOptions{
		Name: "fake", Set: func(t *config.Testbed) { t.Workers = 2 }, Out: &out,
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Up: %v, want the fake's %v", err, errStop)
	}
	if got, want := strings.Join(calls, " "), "Plan Announce CheckHost Toolchain Vars"; got != want {
		t.Errorf("up asked %s, want %s", got, want)
	}
	lines := out.String()
	for _, want := range []string{"Standing up fake\n", " ✓ Checking the host", " ✓ Finding the toolchain (unchanged: terraform 1.9.0)", " ✗ Creating nodes"} {
		if !strings.Contains(lines, want) {
			t.Errorf("up's output lacks %q:\n%s", want, lines)
		}
	}
	if strings.Contains(lines, "Pushing images") {
		t.Errorf("up ran a step after the one that failed:\n%s", lines)
	}
	if _, found, err := ws.LoadSettings("fake"); err != nil || !found {
		t.Errorf("settings not saved before the nodes are made: %v, %v", found, err)
	}

	calls = nil
	r, err := Down(context.Background(), ws, "fake", &out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(calls, " "), "Reachable Destroy Leftovers"; got != want {
		t.Errorf("down asked %s, want %s", got, want)
	}
	if r.StateDir != filepath.Join(ws.Root, "testbeds", "fake") || len(r.TerraformResources) != 1 {
		t.Errorf("down removed %+v", r)
	}
	if _, err := os.Stat(r.StateDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the testbed's folder is still there: %v", err)
	}
}

// The environment is chosen once, from the saved settings.
func TestSavedEnvironment(t *testing.T) {
	as := config.AWS{Region: "us-east-1"}
	cases := []struct {
		s     workspace.Settings
		found bool
		want  string
	}{
		{workspace.Settings{}, false, topology.EnvLocal},
		{workspace.Settings{Testbed: config.Testbed{Env: topology.EnvLocal}}, true, topology.EnvLocal},
		{workspace.Settings{Testbed: config.Testbed{Env: topology.EnvAWS, AWS: &as}}, true, topology.EnvAWS},
		{workspace.Settings{Testbed: config.Testbed{Env: topology.EnvAWS}}, true, topology.EnvLocal},
	}
	for _, c := range cases {
		env, err := savedEnvironment(c.s, c.found)
		if err != nil || env.Name() != c.want {
			t.Errorf("savedEnvironment(%+v, %v) = %v, %v; want %s", c.s, c.found, env, err, c.want)
		}
	}
	if _, err := environmentOf("gcp"); err == nil || !strings.Contains(err.Error(), `unknown environment "gcp"`) {
		t.Errorf("environmentOf(gcp): %v", err)
	}
}
