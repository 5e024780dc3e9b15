package tf

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/alert-testbed/testbed/internal/awsapi"
	"github.com/alert-testbed/testbed/internal/awstest"
)

// operatorKey is a fresh ed25519 public key in authorized_keys form: the
// emulator, like EC2, parses the key it is asked to import.
func operatorKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))) + " operator@testbed"
}

// terraform apply of the default topology against moto through
// terraform-exec: 13 instances with their roles, types and tags, the
// security group rules as specified, the inventory parsed; after destroy
// the emulator holds none of the testbed's resources.
func TestAWSModuleAppliesAndDestroysAgainstAnEmulator(t *testing.T) {
	m, _ := awsModule(t)
	endpoint, python := awstest.StartMoto(t, cacheDir(t))
	name := "tb-moto"
	vars := Vars{"name": name, "owner": "ops@example.org", "expires_at": "2026-11-23T18:00:00Z",
		"operator_cidr": "203.0.113.7/32", "ssh_public_key": operatorKey(t),
		"ami_id": awstest.Describe(t, python, endpoint, name).Image, "aws_endpoint": endpoint}
	ctx := context.Background()
	start := time.Now()
	if err := m.Apply(ctx, vars); err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Logf("apply: %s", time.Since(start).Round(time.Second))
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			m.Destroy(context.Background(), vars)
		}
	})

	inv, err := m.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Env != "aws" || len(inv.Managers()) != 3 || len(inv.Workers()) != 10 {
		t.Fatalf("inventory: env %s, %d managers, %d workers", inv.Env, len(inv.Managers()), len(inv.Workers()))
	}
	for _, n := range inv.Nodes {
		if !strings.HasPrefix(n.DockerHost, "ssh://admin@") || n.PrivateAddress == "" || !strings.HasPrefix(n.PrivateAddress, "10.42.0.") {
			t.Errorf("node %+v: want an ssh:// Docker host and a private address in 10.42.0.0/24", n)
		}
	}

	e := awstest.Describe(t, python, endpoint, name)
	types := map[string]int{}
	for _, i := range e.Instances {
		types[i.Tags["testbed.role"]+" "+i.Type]++
		if i.Tags["testbed.owner"] != "ops@example.org" || i.Tags["testbed.expires-at"] != "2026-11-23T18:00:00Z" || !strings.HasPrefix(i.Tags["Name"], name+"-") {
			t.Errorf("instance tags %v", i.Tags)
		}
	}
	if types["manager m4.16xlarge"] != 3 || types["worker m4.4xlarge"] != 10 || len(e.Instances) != 13 {
		t.Errorf("instances by role and type: %v", types)
	}
	if e.VPCs != 1 || e.Subnets != 1 || e.KeyPairs != 1 || len(e.ECR) != 1 || len(e.SecurityGroups) != 1 {
		t.Errorf("vpcs %d, subnets %d, key pairs %d, ecr %v, security groups %d", e.VPCs, e.Subnets, e.KeyPairs, e.ECR, len(e.SecurityGroups))
	}
	rules := map[string]string{}
	for _, r := range e.SecurityGroups[0].Rules {
		if r.From != nil {
			rules[fmt.Sprintf("%s/%d-%d", r.Proto, *r.From, *r.To)] = strings.Join(r.CIDRs, ",")
		}
	}
	want := map[string]string{
		"tcp/2377-2377": "10.42.0.0/16", "tcp/7946-7946": "10.42.0.0/16", "udp/7946-7946": "10.42.0.0/16", "udp/4789-4789": "10.42.0.0/16",
		"tcp/9092-9094": "10.42.0.0/16", "tcp/19092-19093": "10.42.0.0/16",
		"tcp/22-22": "203.0.113.7/32", "tcp/9094-9094": "203.0.113.7/32", "tcp/9090-9090": "203.0.113.7/32", "tcp/3000-3000": "203.0.113.7/32",
	}
	for k, v := range want {
		if rules[k] != v {
			t.Errorf("ingress %s from %q, want %q", k, rules[k], v)
		}
	}
	if len(rules) != len(want) {
		t.Errorf("ingress rules %v, want exactly %v", rules, want)
	}
	for _, cidrs := range rules {
		if strings.Contains(cidrs, "0.0.0.0/0") {
			t.Errorf("an ingress rule is open to the world: %v", rules)
		}
	}

	// What `testbed down` asks AWS after destroy sees the testbed now.
	api, err := awsapi.New(ctx, "us-east-1", endpoint)
	if err != nil {
		t.Fatal(err)
	}
	tagged, err := api.Tagged(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	// The agents image goes to the testbed's ECR repository, pushed and
	// pulled with the account's ECR login.
	auth, err := api.ECRAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimPrefix(auth.Server, "https://") + "/" + name; auth.Username != "AWS" || auth.Password == "" || inv.Registry.NodeAddress != want || inv.Registry.HostAddress != want {
		t.Errorf("ECR login %q at %s, registry %+v; want user AWS and the registry %s", auth.Username, auth.Server, inv.Registry, want)
	}
	if len(e.ECR) != 1 || e.ECR[0] != name+"/testbed/agents" {
		t.Errorf("ECR repositories %v, want %s/testbed/agents", e.ECR, name)
	}
	kinds := map[string]int{}
	for _, arn := range tagged {
		kinds[strings.SplitN(strings.SplitN(arn, ":", 6)[5], "/", 2)[0]]++
	}
	if kinds["instance"] != 13 || kinds["vpc"] != 1 || kinds["security-group"] != 1 {
		t.Errorf("resources tagged %s=%s: %v, want 13 instances, a VPC and a security group among them", awsapi.TagName, name, kinds)
	}

	start = time.Now()
	if err := m.Destroy(ctx, vars); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	destroyed = true
	t.Logf("destroy: %s", time.Since(start).Round(time.Second))
	e = awstest.Describe(t, python, endpoint, name)
	if len(e.Instances) != 0 || e.VPCs != 0 || e.Subnets != 0 || e.KeyPairs != 0 || len(e.ECR) != 0 || len(e.SecurityGroups) != 0 {
		t.Errorf("after destroy the emulator still holds: %+v", e)
	}
	if tagged, err := api.Tagged(ctx, name); err != nil || len(tagged) != 0 {
		t.Errorf("after destroy, tagged %s=%s: %v %v", awsapi.TagName, name, tagged, err)
	}
}
