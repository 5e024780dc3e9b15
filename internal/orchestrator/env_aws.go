package orchestrator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/docker/docker/api/types/registry"

	"github.com/alert-testbed/testbed/internal/awsapi"
	"github.com/alert-testbed/testbed/internal/config"
	"github.com/alert-testbed/testbed/internal/images"
	"github.com/alert-testbed/testbed/internal/inventory"
	"github.com/alert-testbed/testbed/internal/pricing"
	"github.com/alert-testbed/testbed/internal/steps"
	"github.com/alert-testbed/testbed/internal/tf"
	"github.com/alert-testbed/testbed/internal/toolchain"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// The volume sizes terraform/aws is given (the price covers them).
const (
	awsRootGB           = 40
	awsManagerDataGB    = 500
	awsWorkerDataGB     = 50
	awsNodeTimeout      = 15 * time.Minute
	referenceRunMinutes = 35
)

// referenceRun is what one DMTN-028-style design-review run keeps the
// testbed up for: stand up (about 15 minutes: boot, cloud-init, images),
// 10 LSST visits of 39 s with their drain (about 10 minutes), take down
// (about 10 minutes). An estimate, not a measurement: no AWS account is
// reachable from where testbed is built.
const referenceRun = referenceRunMinutes * time.Minute

// estimate prices the topology with the settings' instance types.
func estimate(top topology.Topology, s config.AWS) (pricing.Estimate, error) {
	return pricing.Price(pricing.Topology{
		Managers: top.Managers, Workers: top.Workers, ManagerType: s.ManagerType, WorkerType: s.WorkerType,
		RootGB: awsRootGB, ManagerDataGB: awsManagerDataGB, WorkerDataGB: awsWorkerDataGB,
	})
}

// printCost says what the testbed costs: per hour, until its expiry tag,
// and for one reference run.
func printCost(out io.Writer, top topology.Topology, s config.AWS, e pricing.Estimate, now time.Time) {
	where := pricing.Region
	if s.Region != pricing.Region {
		where = pricing.Region + " prices; " + s.Region + " may differ"
	}
	fmt.Fprintf(out, "Cost (on-demand, %s, table of %s):\n", where, pricing.AsOf)
	fmt.Fprintf(out, "   %d x %s  $%.2f/h\n", top.Managers, s.ManagerType, float64(top.Managers)*pricing.Hourly[s.ManagerType])
	fmt.Fprintf(out, "   %d x %s  $%.2f/h\n", top.Workers, s.WorkerType, float64(top.Workers)*pricing.Hourly[s.WorkerType])
	fmt.Fprintf(out, "   gp3 volumes (%d GB root each, %d GB data per manager, %d GB per worker)  $%.2f/h\n", awsRootGB, awsManagerDataGB, awsWorkerDataGB, e.Volumes)
	fmt.Fprintf(out, "   %d public IPv4 addresses  $%.2f/h\n", top.NodeCount(), e.Addresses)
	fmt.Fprintf(out, "   hourly: $%.2f\n", e.Hourly)
	if exp, err := time.Parse(time.RFC3339, s.ExpiresAt); err == nil {
		left := exp.Sub(now).Round(time.Minute)
		fmt.Fprintf(out, "   until the expiry tag (%s, in %s): $%.2f\n", s.ExpiresAt, left, e.For(left))
	}
	fmt.Fprintf(out, "   per run (estimated: %d min up, 10 LSST visits, down): $%.2f\n", referenceRunMinutes, e.For(referenceRun))
}

// confirm asks on in whether to go on; only "y" or "yes" does.
func confirm(in io.Reader, out io.Writer, question string) error {
	fmt.Fprintf(out, "%s [y/N] ", question)
	if in == nil {
		in = os.Stdin
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	if answer == "y" || answer == "yes" {
		return nil
	}
	if err != nil && answer == "" {
		return errors.New("not confirmed (no answer on standard input): nothing was created; pass --yes to go on without asking")
	}
	return errors.New("not confirmed: nothing was created")
}

// awsEnv is the aws environment: EC2 instances and their network
// (terraform/aws), reached over SSH, pulling the upstream images
// themselves; the agents image goes to the account's ECR.
type awsEnv struct{}

func (awsEnv) Name() string { return topology.EnvAWS }

// Plan sets a new testbed's expiry tag from its --expires-in and prices
// it (config.Testbed.Validate checked the inputs; a testbed that exists
// keeps the settings it was made with).
func (awsEnv) Plan(u *upState) error {
	as := u.settings.AWS
	if as.ExpiresAt == "" {
		as.ExpiresAt = u.now.Add(as.ExpiresIn).UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	// The instances reach Docker Hub: every image is upstream, Grafana too.
	u.settings.ImageSources = map[string]string{}
	for _, name := range images.StackNames {
		u.settings.ImageSources[name] = config.ImagesUpstream
	}
	if u.settings.GrafanaImage == config.GrafanaAuto {
		u.settings.GrafanaImage = images.Grafana
	}
	u.refs = stackImagesOf(images.Upstream)
	_, err := estimate(u.top, *as)
	return err
}

// Announce prints the testbed, its price, and asks before a new testbed's
// instances are created (unless --yes).
func (awsEnv) Announce(u *upState) error {
	as := *u.settings.AWS
	est, err := estimate(u.top, as)
	if err != nil {
		return err
	}
	fmt.Fprintf(u.o.Out, "Standing up testbed %q: %d managers (%s), %d workers (%s), env aws, region %s, owner %s, expires %s\n",
		u.top.Name, u.top.Managers, as.ManagerType, u.top.Workers, as.WorkerType, as.Region, as.Owner, as.ExpiresAt)
	if as.Endpoint != "" {
		fmt.Fprintf(u.o.Out, "AWS API: %s (an emulator, not AWS)\n", as.Endpoint)
	}
	printCost(u.o.Out, u.top, as, est, u.now)
	if !u.exists && !u.o.Yes {
		return confirm(u.o.In, u.o.Out, fmt.Sprintf("Create %d EC2 instances and their network in %s?", u.top.NodeCount(), as.Region))
	}
	return nil
}

func (awsEnv) HostTitle() string               { return "" }
func (awsEnv) CheckHost(context.Context) error { return nil }

func (awsEnv) ToolchainTitle() string { return "Finding Terraform and the hashicorp/aws provider" }
func (awsEnv) Toolchain(ctx context.Context, cacheDir string) (toolchain.Toolchain, error) {
	return toolchain.EnsureAWS(ctx, cacheDir)
}
func (awsEnv) Missing(cacheDir string) []string {
	paths := toolchain.Paths(cacheDir)
	missing := paths.Missing()
	if !paths.AWSProviderBuilt() {
		missing = append(missing, "hashicorp/aws "+toolchain.AWSProviderVersion)
	}
	return missing
}
func (awsEnv) ToolchainBuildTime() string {
	return "the aws provider takes about 4 minutes and 3.4 GB of memory"
}
func (awsEnv) DescribeToolchain(tc toolchain.Toolchain) string {
	return tc.Describe() + ", hashicorp/aws " + toolchain.AWSProviderVersion
}

func (awsEnv) ImagesTitle() string                                      { return "" }
func (awsEnv) BuildImages(context.Context, *upState, *steps.Step) error { return nil }

func (awsEnv) NodesTitle(top topology.Topology) string {
	return fmt.Sprintf("Creating the nodes (terraform apply: VPC, security group, %d EC2 instances)", top.NodeCount())
}
func (awsEnv) Vars(u *upState) (tf.Vars, error) { return awsVars(u.ws, u.top, *u.settings.AWS) }

func (awsEnv) StackImagesTitle() string                                 { return "" }
func (awsEnv) StackImages(context.Context, *upState, *steps.Step) error { return nil }

func (awsEnv) NodeTimeout(u *upState) time.Duration {
	if u.o.NodeTimeout > 0 {
		return u.o.NodeTimeout
	}
	return awsNodeTimeout
}

func (awsEnv) AfterNodes(name string, err error) error {
	return fmt.Errorf("%w\n(the instances are running and billed: `testbed up --name %s` tries again, `testbed down --name %s` removes them)", err, name, name)
}

func (awsEnv) Reachable(context.Context, *downState) error { return nil }

// Destroy destroys an aws testbed with the variables it was made with; a
// failure is an error (the state says what is left).
func (awsEnv) Destroy(ctx context.Context, d *downState) error {
	as := *d.settings.AWS
	top := topology.Topology{Name: d.name, Env: topology.EnvAWS, Managers: d.settings.Managers, Workers: d.settings.Workers}
	tc, err := toolchain.EnsureAWS(ctx, d.ws.CacheDir())
	if err != nil {
		return err
	}
	m, addrs, err := stateOf(ctx, d.ws, tc, d.name, topology.EnvAWS)
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return nil
	}
	keys := sshKeys(d.ws, d.name)
	if err := keys.Ensure(top.NodeNames()); err != nil {
		return err
	}
	vars, err := awsVars(d.ws, top, as)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, " • terraform destroy (%d resources) ...\n", len(addrs))
	if err := m.Destroy(ctx, vars); err != nil {
		return fmt.Errorf("terraform destroy: %w\n(run `testbed down --name %s` again; the state in %s says what is left)", err, d.name, d.dir)
	}
	d.r.TerraformResources = addrs
	return nil
}

// Leftovers asks AWS for anything still tagged with the testbed's name;
// one left is an error that lists it (and the folder is kept).
func (awsEnv) Leftovers(ctx context.Context, d *downState) error {
	as := *d.settings.AWS
	api, err := awsapi.New(ctx, as.Region, as.Endpoint)
	if err != nil {
		return err
	}
	left, err := api.Tagged(ctx, d.name)
	if err != nil {
		return fmt.Errorf("%w (could not check that nothing tagged %s=%s is left; the testbed's folder is kept)", err, awsapi.TagName, d.name)
	}
	if len(left) > 0 {
		return fmt.Errorf("%d resources are still tagged %s=%s after terraform destroy (remove them by hand; the testbed's folder %s is kept):\n  %s",
			len(left), awsapi.TagName, d.name, d.dir, strings.Join(left, "\n  "))
	}
	fmt.Fprintf(d.out, " • nothing is left tagged %s=%s in %s\n", awsapi.TagName, d.name, as.Region)
	return nil
}

// PushAgents logs in to the account's ECR registry (to push, and for the
// nodes to pull) and pushes the agents image.
func (awsEnv) PushAgents(ctx context.Context, img images.Image, inv inventory.Inventory, settings workspace.Settings) (string, bool, error) {
	auth, err := pushToECR(ctx, img, inv, *settings.AWS)
	return auth, true, err
}

func (awsEnv) NodesOnThisHost() bool { return false }
func (awsEnv) UnreachableHint() string {
	return "are the instances running, and reachable from this host (its address in the operator CIDR)?"
}

// awsVars are terraform/aws's variables for the testbed.
func awsVars(ws workspace.Workspace, top topology.Topology, as config.AWS) (tf.Vars, error) {
	keys := sshKeys(ws, top.Name)
	pub, err := keys.OperatorPublicKey()
	if err != nil {
		return nil, err
	}
	hostKeys, err := keys.HostKeys(top.NodeNames())
	if err != nil {
		return nil, err
	}
	vars := tf.Vars{
		"name": top.Name, "region": as.Region, "owner": as.Owner, "expires_at": as.ExpiresAt,
		"operator_cidr": as.OperatorCIDR, "allow_any_operator": as.AllowAnyOperator,
		"ssh_public_key": pub, "ssh_host_keys": hostKeys,
		"manager_count": top.Managers, "worker_count": top.Workers,
		"manager_instance_type": as.ManagerType, "worker_instance_type": as.WorkerType,
		"root_volume_gb": awsRootGB, "manager_data_volume_gb": awsManagerDataGB, "worker_data_volume_gb": awsWorkerDataGB,
	}
	if as.Endpoint != "" {
		vars["aws_endpoint"] = as.Endpoint
	}
	if as.AMI != "" {
		vars["ami_id"] = as.AMI
	}
	return vars, nil
}

// pushToECR logs in to the account's ECR registry, pushes img to the
// testbed's repository and returns the login encoded for swarm services,
// which hand it to the nodes that pull the image.
func pushToECR(ctx context.Context, img images.Image, inv inventory.Inventory, as config.AWS) (string, error) {
	api, err := awsapi.New(ctx, as.Region, as.Endpoint)
	if err != nil {
		return "", err
	}
	auth, err := api.ECRAuth(ctx)
	if err != nil {
		return "", err
	}
	if err := images.PushWithLogin(ctx, img, inv.Registry.HostAddress, auth.Username, auth.Password); err != nil {
		return "", err
	}
	host, _, _ := strings.Cut(inv.Registry.NodeAddress, "/")
	return registry.EncodeAuthConfig(registry.AuthConfig{Username: auth.Username, Password: auth.Password, ServerAddress: host})
}
