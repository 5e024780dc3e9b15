package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alert-testbed/testbed/internal/awstest"
	"github.com/alert-testbed/testbed/internal/orchestrator"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// up, status and down of an aws testbed, against moto on loopback: the
// cost is printed, terraform/aws is applied with the orchestrator's SSH
// keys, the inventory and known_hosts are written; forming the swarm then
// fails (the emulator's instances run no sshd) and says the instances are
// billed; status shows the lifetime against the expiry tag; down destroys
// and finds nothing left with the testbed's tag.
func TestUpStatusDownOnAWSAgainstAnEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the hashicorp/aws provider; not in -short")
	}
	bin := buildBinary(t)
	endpoint, python := awstest.StartMoto(t, filepath.Join(repoRoot, ".testbed", "cache"))
	name := randomName("aws-")
	downDone := false
	t.Cleanup(func() {
		if !downDone {
			run(t, bin, "down", "--name", name)
		}
	})

	ami := awstest.Describe(t, python, endpoint, name).Image
	r := run(t, bin, "up", "--name", name, "--env", "aws", "--aws-endpoint", endpoint, "--operator-cidr", "203.0.113.7/32",
		"--owner", "ops@example.org", "--ami", ami, "--yes", "--wait-nodes", "1s")
	for _, want := range []string{
		"AWS API: " + endpoint + " (an emulator, not AWS)",
		"3 x m4.16xlarge  $9.60/h", "10 x m4.4xlarge  $8.00/h", "hourly: $17.94",
		"✓ Creating the nodes (terraform apply: VPC, security group, 13 EC2 instances)",
		"✗ Forming the swarm",
		"the instances are running and billed: `testbed up --name " + name + "` tries again, `testbed down --name " + name + "` removes them",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("up output lacks %q", want)
		}
	}
	if r.code == 0 {
		t.Errorf("up exited 0, but no node can be reached")
	}
	if t.Failed() {
		t.Logf("up output:\n%s", r.out)
	}

	ws := workspace.Workspace{Root: filepath.Join(repoRoot, ".testbed")}
	inv, err := orchestrator.LoadInventory(ws, name)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Env != "aws" || len(inv.Managers()) != 3 || len(inv.Workers()) != 10 {
		t.Errorf("inventory: env %s, %d managers, %d workers", inv.Env, len(inv.Managers()), len(inv.Workers()))
	}
	known, err := os.ReadFile(filepath.Join(ws.TestbedDir(name), "ssh", "known_hosts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range inv.Nodes {
		if !strings.Contains(string(known), n.Address+" ssh-ed25519 ") && !strings.Contains(string(known), "["+n.Address+"]:22 ssh-ed25519 ") {
			t.Errorf("known_hosts has no host key for %s at %s:\n%s", n.Name, n.Address, known)
		}
	}
	if e := awstest.Describe(t, python, endpoint, name); len(e.Instances) != 13 {
		t.Errorf("the emulator holds %d instances, want 13", len(e.Instances))
	}

	r = run(t, bin, "status", "--name", name)
	lifetime := regexp.MustCompile(`Lifetime: age \S+ \(made \S+\), expires in [78]h[0-9]+m0s \(expiry tag \S+\)\n`)
	if r.code == 0 || !lifetime.MatchString(r.out) || !strings.Contains(r.out, "reachable from this host") {
		t.Errorf("status: exit %d, want non-zero with the lifetime against the expiry tag:\n%s", r.code, r.out)
	}

	r = run(t, bin, "down", "--name", name)
	downDone = true
	for _, want := range []string{"terraform destroy (", "nothing is left tagged testbed.name=" + name + " in us-east-1", "Removed testbed " + `"` + name + `"`} {
		if !strings.Contains(r.out, want) {
			t.Errorf("down output lacks %q:\n%s", want, r.out)
		}
	}
	if r.code != 0 {
		t.Errorf("down: exit %d", r.code)
	}
	if e := awstest.Describe(t, python, endpoint, name); len(e.Instances) != 0 || e.VPCs != 0 || len(e.SecurityGroups) != 0 {
		t.Errorf("after down the emulator still holds %+v", e)
	}
	if _, err := os.Stat(ws.TestbedDir(name)); !os.IsNotExist(err) {
		t.Errorf("down left the testbed folder: %v", err)
	}
}
