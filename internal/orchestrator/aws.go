package orchestrator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/docker/docker/api/types/registry"

	"github.com/alert-testbed/testbed/internal/awsapi"
	"github.com/alert-testbed/testbed/internal/images"
	"github.com/alert-testbed/testbed/internal/inventory"
	"github.com/alert-testbed/testbed/internal/kafka"
	"github.com/alert-testbed/testbed/internal/pricing"
	"github.com/alert-testbed/testbed/internal/steps"
	"github.com/alert-testbed/testbed/internal/tf"
	"github.com/alert-testbed/testbed/internal/toolchain"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// AWSOptions are the inputs of `up --env aws`.
type AWSOptions struct {
	Region string
	// Endpoint points every AWS API call (Terraform's and the
	// orchestrator's) at an emulator; empty: AWS itself.
	Endpoint         string
	OperatorCIDR     string
	AllowAnyOperator bool
	Owner            string
	ExpiresIn        time.Duration
	ManagerType      string
	WorkerType       string
	// AMI overrides the Debian 12 image looked up by filter.
	AMI string
	// Yes skips the cost confirmation.
	Yes bool
	// NodeTimeout is how long to wait for the nodes' Docker APIs after
	// apply (boot and cloud-init take minutes); 0: awsNodeTimeout.
	NodeTimeout time.Duration
}

// Defaults of the aws environment: DMTN-028's instance types, and the
// volume sizes terraform/aws is given (the price covers them).
const (
	DefaultManagerType  = "m4.16xlarge"
	DefaultWorkerType   = "m4.4xlarge"
	DefaultRegion       = "us-east-1"
	DefaultExpiresIn    = 8 * time.Hour
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

// awsSettings checks the aws inputs before anything is made, and fills in
// the defaults. A testbed that exists keeps the settings it was made with.
func awsSettings(top topology.Topology, a AWSOptions, saved workspace.Settings, exists bool, now time.Time) (workspace.AWSSettings, error) {
	if exists && saved.AWS != nil {
		return *saved.AWS, nil
	}
	s := workspace.AWSSettings{
		Region: a.Region, Endpoint: a.Endpoint, Owner: a.Owner, OperatorCIDR: a.OperatorCIDR,
		AllowAnyOperator: a.AllowAnyOperator, ManagerType: a.ManagerType, WorkerType: a.WorkerType, AMI: a.AMI,
	}
	if s.Region == "" {
		s.Region = DefaultRegion
	}
	if s.ManagerType == "" {
		s.ManagerType = DefaultManagerType
	}
	if s.WorkerType == "" {
		s.WorkerType = DefaultWorkerType
	}
	if s.Owner == "" {
		if u, err := user.Current(); err == nil {
			host, _ := os.Hostname()
			s.Owner = u.Username + "@" + host
		}
	}
	if s.OperatorCIDR == "" {
		return s, errors.New("--operator-cidr is required with --env aws: the only network SSH, Kafka's external listener, Prometheus and Grafana will be open to, e.g. 203.0.113.7/32 for your own address")
	}
	ip, ipnet, err := net.ParseCIDR(s.OperatorCIDR)
	if err != nil || ip.To4() == nil {
		return s, fmt.Errorf("invalid --operator-cidr %q: use an IPv4 CIDR such as 203.0.113.7/32", s.OperatorCIDR)
	}
	if ones, _ := ipnet.Mask.Size(); ones == 0 && !s.AllowAnyOperator {
		return s, fmt.Errorf("--operator-cidr %s opens SSH and the testbed's UIs to the whole Internet: give your own network (e.g. 203.0.113.7/32), or add --allow-any-operator if that is really meant", s.OperatorCIDR)
	}
	in := a.ExpiresIn
	if in == 0 {
		in = DefaultExpiresIn
	}
	if in < 0 {
		return s, fmt.Errorf("invalid --expires-in %s: use a positive duration such as 8h", in)
	}
	s.ExpiresAt = now.Add(in).UTC().Truncate(time.Second).Format(time.RFC3339)
	if _, err := estimate(top, s); err != nil {
		return s, err
	}
	return s, nil
}

// estimate prices the topology with the settings' instance types.
func estimate(top topology.Topology, s workspace.AWSSettings) (pricing.Estimate, error) {
	return pricing.Price(pricing.Topology{
		Managers: top.Managers, Workers: top.Workers, ManagerType: s.ManagerType, WorkerType: s.WorkerType,
		RootGB: awsRootGB, ManagerDataGB: awsManagerDataGB, WorkerDataGB: awsWorkerDataGB,
	})
}

// printCost says what the testbed costs: per hour, until its expiry tag,
// and for one reference run.
func printCost(out io.Writer, top topology.Topology, s workspace.AWSSettings, e pricing.Estimate, now time.Time) {
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

// upAWS stands up (or confirms) a testbed on AWS: price and confirm,
// build the hashicorp/aws provider (once), make the SSH keys, apply
// terraform/aws, then the same swarm and stacks as local, over SSH, with
// the upstream images that the nodes pull themselves.
func upAWS(ctx context.Context, ws workspace.Workspace, top topology.Topology, o UpOptions, saved workspace.Settings, exists bool) (inventory.Inventory, error) {
	var inv inventory.Inventory
	now := time.Now()
	as, err := awsSettings(top, o.AWS, saved, exists, now)
	if err != nil {
		return inv, err
	}
	est, err := estimate(top, as)
	if err != nil {
		return inv, err
	}
	if o.Images == ImagesOffline && !o.ExplicitImages {
		o.Images = ImagesUpstream
	}
	if o.Images != ImagesUpstream {
		return inv, fmt.Errorf("--images %s is for the local environment: aws nodes pull the upstream images themselves (use --images upstream)", o.Images)
	}
	fmt.Fprintf(o.Out, "Standing up testbed %q: %d managers (%s), %d workers (%s), env aws, region %s, owner %s, expires %s\n",
		top.Name, top.Managers, as.ManagerType, top.Workers, as.WorkerType, as.Region, as.Owner, as.ExpiresAt)
	if as.Endpoint != "" {
		fmt.Fprintf(o.Out, "AWS API: %s (an emulator, not AWS)\n", as.Endpoint)
	}
	printCost(o.Out, top, as, est, now)
	if !exists && !o.AWS.Yes {
		if err := confirm(o.In, o.Out, fmt.Sprintf("Create %d EC2 instances and their network in %s?", top.NodeCount(), as.Region)); err != nil {
			return inv, err
		}
	}

	if !exists {
		saved = workspace.Settings{Env: top.Env, Managers: top.Managers, Workers: top.Workers,
			KafkaClusterID: kafka.NewClusterID(), GrafanaPassword: kafka.NewClusterID()[:16],
			CreatedAt: now.UTC().Truncate(time.Second).Format(time.RFC3339)}
	}
	saved.DockerAPI = DockerAPISSH
	saved.AWS = &as
	if err := ws.SaveSettings(top.Name, saved); err != nil {
		return inv, err
	}

	p := &steps.Printer{W: o.Out}
	var tc toolchain.Toolchain
	if err := p.Run("Finding Terraform and the hashicorp/aws provider", func(s *steps.Step) error {
		paths := toolchain.Paths(ws.CacheDir())
		missing := paths.Missing()
		if !paths.AWSProviderBuilt() {
			missing = append(missing, "hashicorp/aws "+toolchain.AWSProviderVersion)
		}
		if len(missing) == 0 {
			s.Unchanged()
		} else {
			fmt.Fprintf(o.Out, "   %s: from the Terraform registry where it answers, else built from the Go module proxy (once; the aws provider takes 25 to 40 minutes and 12 GB of memory)\n", strings.Join(missing, " and "))
		}
		var err error
		tc, err = toolchain.EnsureAWS(ctx, ws.CacheDir())
		s.Detail("%s, hashicorp/aws %s", tc.Describe(), toolchain.AWSProviderVersion)
		return err
	}); err != nil {
		return inv, err
	}

	keys := sshKeys(ws, top.Name)
	if err := keys.Ensure(top.NodeNames()); err != nil {
		return inv, fmt.Errorf("the testbed's SSH keys in %s: %w", keys.Dir, err)
	}
	vars, err := awsVars(ws, top, as)
	if err != nil {
		return inv, err
	}
	if err := p.Run(fmt.Sprintf("Creating the nodes (terraform apply: VPC, security group, %d EC2 instances)", top.NodeCount()), func(s *steps.Step) error {
		var err error
		inv, err = applyNodes(ctx, s, ws, tc, top, vars)
		return err
	}); err != nil {
		return inv, err
	}

	timeout := o.AWS.NodeTimeout
	if timeout == 0 {
		timeout = awsNodeTimeout
	}
	if err := formAndDeploy(ctx, p, ws, top, inv, upstreamImages(), saved, o, timeout); err != nil {
		return inv, fmt.Errorf("%w\n(the instances are running and billed: `testbed up --name %s` tries again, `testbed down --name %s` removes them)", err, top.Name, top.Name)
	}
	return inv, nil
}

// awsVars are terraform/aws's variables for the testbed.
func awsVars(ws workspace.Workspace, top topology.Topology, as workspace.AWSSettings) (tf.Vars, error) {
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

// downAWS destroys an aws testbed with the variables it was made with,
// then asks AWS for anything still tagged with its name; one left is an
// error that lists it.
func downAWS(ctx context.Context, ws workspace.Workspace, name string, settings workspace.Settings, out io.Writer) (Removed, error) {
	var r Removed
	as := *settings.AWS
	top := topology.Topology{Name: name, Env: topology.EnvAWS, Managers: settings.Managers, Workers: settings.Workers}
	tc, err := toolchain.EnsureAWS(ctx, ws.CacheDir())
	if err != nil {
		return r, err
	}
	m, addrs, err := stateOf(ctx, ws, tc, name, topology.EnvAWS)
	if err != nil {
		return r, err
	}
	if len(addrs) > 0 {
		keys := sshKeys(ws, name)
		if err := keys.Ensure(top.NodeNames()); err != nil {
			return r, err
		}
		vars, err := awsVars(ws, top, as)
		if err != nil {
			return r, err
		}
		fmt.Fprintf(out, " • terraform destroy (%d resources) ...\n", len(addrs))
		if err := m.Destroy(ctx, vars); err != nil {
			return r, fmt.Errorf("terraform destroy: %w\n(run `testbed down --name %s` again; the state in %s says what is left)", err, name, ws.TestbedDir(name))
		}
		r.TerraformResources = addrs
	}
	api, err := awsapi.New(ctx, as.Region, as.Endpoint)
	if err != nil {
		return r, err
	}
	left, err := api.Tagged(ctx, name)
	if err != nil {
		return r, fmt.Errorf("%w (could not check that nothing tagged %s=%s is left; the testbed's folder is kept)", err, awsapi.TagName, name)
	}
	if len(left) > 0 {
		return r, fmt.Errorf("%d resources are still tagged %s=%s after terraform destroy (remove them by hand; the testbed's folder %s is kept):\n  %s",
			len(left), awsapi.TagName, name, ws.TestbedDir(name), strings.Join(left, "\n  "))
	}
	fmt.Fprintf(out, " • nothing is left tagged %s=%s in %s\n", awsapi.TagName, name, as.Region)
	dir := ws.TestbedDir(name)
	if err := os.RemoveAll(dir); err != nil {
		return r, fmt.Errorf("remove %s: %w", dir, err)
	}
	r.StateDir = dir
	return r, nil
}

// pushToECR logs in to the account's ECR registry, pushes img to the
// testbed's repository and returns the login encoded for swarm services,
// which hand it to the nodes that pull the image.
func pushToECR(ctx context.Context, img images.Image, inv inventory.Inventory, as workspace.AWSSettings) (string, error) {
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
