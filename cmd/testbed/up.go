package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/internal/config"
	"github.com/alert-testbed/testbed/internal/images"
	"github.com/alert-testbed/testbed/internal/orchestrator"
	"github.com/alert-testbed/testbed/internal/topology"
)

// upFlag is one flag of `up` that sets a field of the testbed's
// configuration: set applies it when the user gave it, over the saved
// configuration (or config.Default() for a new testbed). Defaults shown in
// the help are config's.
type upFlag struct {
	flag cli.Flag
	set  func(c *cli.Context, t *config.Testbed)
}

// awsOf is t's aws part, made when the first aws flag is applied.
func awsOf(t *config.Testbed) *config.AWS {
	if t.AWS == nil {
		t.AWS = &config.AWS{}
	}
	return t.AWS
}

// upstreamList names the upstream images, for the help.
func upstreamList() string {
	var refs []string
	for _, name := range images.StackNames {
		refs = append(refs, images.Upstream[name])
	}
	return strings.Join(refs, ", ")
}

func upConfigFlags() []upFlag {
	def := config.Default()
	return []upFlag{
		{&cli.StringFlag{Name: "env", Value: def.Env, Usage: "environment to stand the testbed up in: local (Docker-in-Docker nodes on this host) or aws (EC2 instances; see the aws flags)"},
			func(c *cli.Context, t *config.Testbed) { t.Env = c.String("env") }},
		{&cli.IntFlag{Name: "managers", Value: def.Managers, Usage: "swarm managers (odd, 3 to 7; one Kafka broker on each of the first 3)"},
			func(c *cli.Context, t *config.Testbed) { t.Managers = c.Int("managers") }},
		{&cli.IntFlag{Name: "workers", Value: def.Workers, Usage: "swarm workers (0 to 100)"},
			func(c *cli.Context, t *config.Testbed) { t.Workers = c.Int("workers") }},
		{&cli.StringFlag{Name: "images", DefaultText: config.DefaultLocalImages + " on local, " + config.ImagesUpstream + " on aws",
			Usage: "where stack images come from: " + config.ImagesAuto + " (each from upstream where the nodes can pull it, from Docker Hub or a --registry-mirror, else built here; decided once, when the testbed is made), " +
				config.ImagesOffline + " (built here from package registries, pushed to the testbed registry) or " + config.ImagesUpstream + " (nodes pull " + upstreamList() + ")"},
			func(c *cli.Context, t *config.Testbed) { t.Images = c.String("images") }},
		{&cli.StringSliceFlag{Name: "registry-mirror", Usage: "a registry mirror the local nodes pull Docker Hub's images through (dockerd --registry-mirror; http:// ones are trusted as insecure); repeatable; kept from the testbed's making"},
			func(c *cli.Context, t *config.Testbed) { t.RegistryMirrors = c.StringSlice("registry-mirror") }},
		{&cli.StringFlag{Name: "retention", Value: def.Retention, Usage: "how long Prometheus keeps samples (kept by later ups unless given)"},
			func(c *cli.Context, t *config.Testbed) { t.Retention = c.String("retention") }},
		{&cli.StringFlag{Name: "grafana-image", EnvVars: []string{"TESTBED_GRAFANA_IMAGE"}, DefaultText: images.Grafana + " where the nodes can pull it",
			Usage: "Grafana image the nodes pull, or " + config.GrafanaNone + " for no Grafana (no package registry carries Grafana: without a container registry it is left out)"},
			func(c *cli.Context, t *config.Testbed) { t.GrafanaImage = c.String("grafana-image") }},
		{&cli.StringFlag{Name: "docker-api", DefaultText: config.DockerAPIUnix + " on local, " + config.DockerAPISSH + " on aws",
			Usage: "how the nodes' Docker APIs are reached: unix (a socket per node, local only) or ssh (root@node:22, host keys checked: the path aws nodes are reached by)"},
			func(c *cli.Context, t *config.Testbed) { t.DockerAPI = c.String("docker-api") }},
	}
}

// upAWSFlags set the aws part of the configuration; they apply only when
// the testbed's environment is aws (AWS_REGION in the environment does not
// make a local testbed an aws one).
func upAWSFlags() []upFlag {
	return []upFlag{
		{&cli.StringFlag{Name: "operator-cidr", Category: "aws", EnvVars: []string{"TESTBED_OPERATOR_CIDR"},
			Usage: "(required) the only network SSH, Kafka's external listener, Prometheus and Grafana are open to, e.g. 203.0.113.7/32"},
			func(c *cli.Context, t *config.Testbed) { awsOf(t).OperatorCIDR = c.String("operator-cidr") }},
		{&cli.BoolFlag{Name: "allow-any-operator", Category: "aws", Usage: "accept 0.0.0.0/0 as --operator-cidr (open to the whole Internet)"},
			func(c *cli.Context, t *config.Testbed) { awsOf(t).AllowAnyOperator = c.Bool("allow-any-operator") }},
		{&cli.StringFlag{Name: "region", Category: "aws", Value: config.DefaultRegion, EnvVars: []string{"AWS_REGION"}, Usage: "AWS region"},
			func(c *cli.Context, t *config.Testbed) { awsOf(t).Region = c.String("region") }},
		{&cli.StringFlag{Name: "owner", Category: "aws", DefaultText: "USER@HOST", Usage: "who answers for the testbed, tagged on every resource"},
			func(c *cli.Context, t *config.Testbed) { awsOf(t).Owner = c.String("owner") }},
		{&cli.DurationFlag{Name: "expires-in", Category: "aws", Value: config.DefaultExpiresIn, Usage: "the expiry tag: how long from now a new testbed may live"},
			func(c *cli.Context, t *config.Testbed) { awsOf(t).ExpiresIn = c.Duration("expires-in") }},
		{&cli.StringFlag{Name: "manager-type", Category: "aws", Value: config.DefaultManagerType, Usage: "EC2 instance type of the managers (DMTN-028: m4.16xlarge)"},
			func(c *cli.Context, t *config.Testbed) { awsOf(t).ManagerType = c.String("manager-type") }},
		{&cli.StringFlag{Name: "worker-type", Category: "aws", Value: config.DefaultWorkerType, Usage: "EC2 instance type of the workers (DMTN-028: m4.4xlarge)"},
			func(c *cli.Context, t *config.Testbed) { awsOf(t).WorkerType = c.String("worker-type") }},
		{&cli.StringFlag{Name: "ami", Category: "aws", DefaultText: "the newest Debian 12 amd64 image, looked up by filter", Usage: "AMI id of the nodes"},
			func(c *cli.Context, t *config.Testbed) { awsOf(t).AMI = c.String("ami") }},
		{&cli.StringFlag{Name: "aws-endpoint", Category: "aws", EnvVars: []string{"TESTBED_AWS_ENDPOINT"},
			Usage: "send every AWS API call to this endpoint (an emulator such as moto, for tests)"},
			func(c *cli.Context, t *config.Testbed) { awsOf(t).Endpoint = c.String("aws-endpoint") }},
	}
}

// applyUpFlags applies the flags the user gave over t: the configuration's
// first, then, on aws, the aws ones.
func applyUpFlags(c *cli.Context, t *config.Testbed) {
	applySet(c, upConfigFlags(), t)
	if t.Env == topology.EnvAWS {
		applySet(c, upAWSFlags(), t)
	}
}

// applySet applies each of flags that the user set.
func applySet(c *cli.Context, flags []upFlag, t *config.Testbed) {
	for _, f := range flags {
		if c.IsSet(f.flag.Names()[0]) {
			f.set(c, t)
		}
	}
}

func upCommand() *cli.Command {
	flags := []cli.Flag{nameFlag()}
	for _, f := range append(upConfigFlags(), upAWSFlags()...) {
		flags = append(flags, f.flag)
	}
	flags = append(flags,
		&cli.BoolFlag{Name: "yes", Category: "aws", Usage: "do not ask before creating billed resources"},
		&cli.DurationFlag{Name: "wait-nodes", DefaultText: "2m on local, 15m on aws: boot and cloud-init", Usage: "how long to wait for the nodes' Docker APIs after apply"},
	)
	return &cli.Command{
		Name:  "up",
		Usage: "create or repair a testbed and wait until Kafka works",
		Description: "Runs named steps, one status line each: check the host, find Terraform and its\n" +
			"docker provider (a supported Terraform on PATH; built once otherwise), build images (once), terraform apply the environment,\n" +
			"push images to the testbed registry, form the swarm, deploy the monitoring stack\n" +
			"(Prometheus, node-exporter, cAdvisor, alertmanager; Grafana where its image can be\n" +
			"had) and the Kafka stack, wait for the KRaft quorum, a replicated produce/consume\n" +
			"round trip and every scrape target.\n" +
			"A second `up` on a running testbed changes nothing and says so: it keeps the\n" +
			"configuration the testbed was made with (saved in its settings.json), and\n" +
			"the flags given override it where a running testbed can change.\n" +
			"Prints the Kafka bootstrap addresses for the host and for the swarm, and the\n" +
			"Prometheus, Alertmanager (and Grafana) URLs.",
		Flags: flags,
		Action: func(c *cli.Context) error {
			name, ws, err := testbedAndWorkspace(c)
			if err != nil {
				return err
			}
			_, err = orchestrator.Up(c.Context, ws, orchestrator.UpOptions{
				Name:        name,
				Set:         func(t *config.Testbed) { applyUpFlags(c, t) },
				Yes:         c.Bool("yes"),
				NodeTimeout: c.Duration("wait-nodes"),
				In:          c.App.Reader,
				Out:         c.App.Writer,
			})
			return err
		},
	}
}
