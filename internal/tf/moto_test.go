package tf

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// motoVersion is the AWS API emulator the aws module is applied against.
const motoVersion = "5.2.5"

// startMoto installs moto's server mode from PyPI into the workspace cache
// (once) and starts it on a loopback port for the test. It returns the
// endpoint and the venv's python (boto3 comes with moto).
func startMoto(t *testing.T) (endpoint, python string) {
	t.Helper()
	venv := filepath.Join(cacheDir(t), "moto-"+motoVersion)
	python = filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(filepath.Join(venv, "bin", "moto_server")); err != nil {
		if out, err := exec.Command("python3", "-m", "venv", venv).CombinedOutput(); err != nil {
			t.Fatalf("python3 -m venv (Debian: apt-get install python3-venv): %v\n%s", err, out)
		}
		if out, err := exec.Command(filepath.Join(venv, "bin", "pip"), "install", "-q", "moto[server]=="+motoVersion).CombinedOutput(); err != nil {
			os.RemoveAll(venv)
			t.Fatalf("pip install moto[server]==%s: %v\n%s", motoVersion, err, out)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(filepath.Join(venv, "bin", "moto_server"), "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	logf, _ := os.Create(filepath.Join(t.TempDir(), "moto.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return endpoint, python
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not listen on %d within 30 s", port)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// describe asks the emulator, through boto3, for the EC2 and ECR objects
// that carry the testbed's name tag.
const describeScript = `
import boto3, json, sys
ep, name = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
ec2 = boto3.client("ec2", **kw)
f = [{"Name": "tag:testbed.name", "Values": [name]}]
inst = [i for r in ec2.describe_instances(Filters=f)["Reservations"] for i in r["Instances"] if i["State"]["Name"] != "terminated"]
out = {
  "instances": [{"type": i["InstanceType"], "tags": {t["Key"]: t["Value"] for t in i.get("Tags", [])}} for i in inst],
  "vpcs": len(ec2.describe_vpcs(Filters=f)["Vpcs"]),
  "subnets": len(ec2.describe_subnets(Filters=f)["Subnets"]),
  "security_groups": [{"rules": [{"proto": p["IpProtocol"], "from": p.get("FromPort"), "to": p.get("ToPort"), "cidrs": [r["CidrIp"] for r in p.get("IpRanges", [])]} for p in g["IpPermissions"]]} for g in ec2.describe_security_groups(Filters=f)["SecurityGroups"]],
  "key_pairs": len(ec2.describe_key_pairs(Filters=f)["KeyPairs"]),
  "ecr": [r["repositoryName"] for r in boto3.client("ecr", **kw).describe_repositories()["repositories"] if r["repositoryName"].startswith(name + "/")],
  "image": [i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"] if "amzn" in i.get("Name", "")][0],
}
json.dump(out, sys.stdout)
`

type emulated struct {
	Instances []struct {
		Type string            `json:"type"`
		Tags map[string]string `json:"tags"`
	} `json:"instances"`
	VPCs           int `json:"vpcs"`
	Subnets        int `json:"subnets"`
	SecurityGroups []struct {
		Rules []struct {
			Proto string   `json:"proto"`
			From  *int     `json:"from"`
			To    *int     `json:"to"`
			CIDRs []string `json:"cidrs"`
		} `json:"rules"`
	} `json:"security_groups"`
	KeyPairs int      `json:"key_pairs"`
	ECR      []string `json:"ecr"`
	Image    string   `json:"image"`
}

func describe(t *testing.T, python, endpoint, name string) emulated {
	t.Helper()
	out, err := exec.Command(python, "-c", describeScript, endpoint, name).Output()
	if err != nil {
		t.Fatalf("describe the emulator's resources: %v", err)
	}
	var e emulated
	if err := json.Unmarshal(out, &e); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return e
}

// terraform apply of the default topology against moto through
// terraform-exec: 13 instances with their roles, types and tags, the
// security group rules as specified, the inventory parsed; after destroy
// the emulator holds none of the testbed's resources.
func TestAWSModuleAppliesAndDestroysAgainstAnEmulator(t *testing.T) {
	m, _ := awsModule(t)
	endpoint, python := startMoto(t)
	name := "tb-moto"
	vars := Vars{"name": name, "owner": "ops@example.org", "expires_at": "2026-11-23T18:00:00Z",
		"operator_cidr": "203.0.113.7/32", "ssh_public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 op",
		"ami_id": describe(t, python, endpoint, name).Image, "aws_endpoint": endpoint}
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

	e := describe(t, python, endpoint, name)
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

	start = time.Now()
	if err := m.Destroy(ctx, vars); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	destroyed = true
	t.Logf("destroy: %s", time.Since(start).Round(time.Second))
	e = describe(t, python, endpoint, name)
	if len(e.Instances) != 0 || e.VPCs != 0 || e.Subnets != 0 || e.KeyPairs != 0 || len(e.ECR) != 0 || len(e.SecurityGroups) != 0 {
		t.Errorf("after destroy the emulator still holds: %+v", e)
	}
}
