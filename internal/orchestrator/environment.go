package orchestrator

import (
	"context"
	"fmt"
	"time"

	"github.com/alert-testbed/testbed/internal/images"
	"github.com/alert-testbed/testbed/internal/inventory"
	"github.com/alert-testbed/testbed/internal/steps"
	"github.com/alert-testbed/testbed/internal/tf"
	"github.com/alert-testbed/testbed/internal/toolchain"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// Environment is everything that differs between the places a testbed
// stands: local (Docker-in-Docker node containers on this host, localEnv)
// and aws (EC2 instances, awsEnv). It is chosen once, by environmentOf,
// from the testbed's saved settings (or, for a new testbed, up's --env);
// up's and down's actions (up.go, down.go), run and status ask it, and
// nothing else decides by environment.
type Environment interface {
	// Name is the environment's name in flags and settings: "local", "aws".
	Name() string

	// Plan checks the environment's inputs of up and completes u.settings
	// (a new testbed's, or an existing one's, kept) and u.o, before
	// anything is contacted or made.
	Plan(u *upState) error
	// Announce prints what up is about to stand up (and, where creating
	// costs money, the cost), and asks for a confirmation where needed.
	Announce(u *upState) error

	// HostTitle names up's check of this host ("": none), CheckHost does it.
	HostTitle() string
	CheckHost(ctx context.Context) error

	// ToolchainTitle names up's toolchain step; Toolchain finds or builds
	// Terraform and the providers the environment's module needs; Missing
	// lists what it would build or fetch, ToolchainBuildTime how long that
	// takes; DescribeToolchain says what was found, for the step's line.
	ToolchainTitle() string
	Toolchain(ctx context.Context, cacheDir string) (toolchain.Toolchain, error)
	Missing(cacheDir string) []string
	ToolchainBuildTime() string
	DescribeToolchain(tc toolchain.Toolchain) string

	// ImagesTitle names the step that builds the images the nodes need
	// before they exist ("": none); BuildImages does it (sets u.set).
	ImagesTitle() string
	BuildImages(ctx context.Context, u *upState, s *steps.Step) error
	// NodesTitle names the step that applies the environment's Terraform
	// module, and Vars are the module's variables.
	NodesTitle(top topology.Topology) string
	Vars(u *upState) (tf.Vars, error)
	// StackImagesTitle names the step that gets the stack images to the
	// nodes ("": none); StackImages does it. Either sets u.refs to what the
	// stacks run.
	StackImagesTitle() string
	StackImages(ctx context.Context, u *upState, s *steps.Step) error
	// NodeTimeout is how long the nodes' Docker APIs may take to answer
	// after apply.
	NodeTimeout(u *upState) time.Duration
	// AfterNodes words an error of the steps that follow apply (on aws,
	// the instances are running and billed meanwhile).
	AfterNodes(name string, err error) error

	// Reachable checks, first in down, that what down talks to answers.
	Reachable(ctx context.Context, d *downState) error
	// Destroy runs terraform destroy with the variables the testbed was
	// made with, where there is a state.
	Destroy(ctx context.Context, d *downState) error
	// Leftovers removes or reports what destroy may have left.
	Leftovers(ctx context.Context, d *downState) error

	// PushAgents gets the agents image to the testbed's registry and
	// returns the registry login swarm services need to pull it ("": none)
	// and whether anything was pushed.
	PushAgents(ctx context.Context, img images.Image, inv inventory.Inventory, settings workspace.Settings) (auth string, pushed bool, err error)
	// NodesOnThisHost says whether the nodes are containers of this host's
	// Docker Engine (faults that act inside a node need that).
	NodesOnThisHost() bool
	// UnreachableHint is what status suggests when the nodes do not answer.
	UnreachableHint() string
}

// environments are the environments by name (tests put a fake in place
// of one).
var environments = map[string]Environment{
	topology.EnvLocal: localEnv{},
	topology.EnvAWS:   awsEnv{},
}

// environmentOf returns the environment named name ("": local).
func environmentOf(name string) (Environment, error) {
	if name == "" {
		name = topology.EnvLocal
	}
	if env, ok := environments[name]; ok {
		return env, nil
	}
	return nil, fmt.Errorf("unknown environment %q: use %s or %s", name, topology.EnvLocal, topology.EnvAWS)
}

// savedEnvironment returns the environment of a testbed's saved settings:
// local when there are none (a testbed whose first up stopped early), and
// for an aws testbed whose settings lack their aws part, which cannot be
// destroyed with its variables (the local sweep then finds nothing).
func savedEnvironment(settings workspace.Settings, found bool) (Environment, error) {
	if !found || (settings.Env == topology.EnvAWS && settings.AWS == nil) {
		return environmentOf(topology.EnvLocal)
	}
	return environmentOf(settings.Env)
}
