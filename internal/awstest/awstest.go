// Package awstest starts an AWS API emulator (moto's server mode, from
// PyPI) for tests of the aws environment, and asks it what it holds.
package awstest

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/pyvenv"
)

// motoVersion is the AWS API emulator the aws module is applied against.
const motoVersion = "5.2.5"

// StartMoto installs moto's server mode from PyPI into the workspace cache
// (once) and starts it on a loopback port for the test. It returns the
// endpoint and the venv's python (boto3 comes with moto).
func StartMoto(t testing.TB, cacheDir string) (endpoint, python string) {
	t.Helper()
	// A venv is checked by importing moto's server, and moto is run as
	// `python -m moto.server` (pyvenv says why).
	python = pyvenv.Python(t, cacheDir, "moto-"+motoVersion, "import moto.server", "moto[server]=="+motoVersion)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
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

// describeScript asks the emulator, through boto3, for the EC2 and ECR objects
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

// Emulated is what the emulator holds of one testbed.
type Emulated struct {
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

func Describe(t testing.TB, python, endpoint, name string) Emulated {
	t.Helper()
	out, err := exec.Command(python, "-c", describeScript, endpoint, name).Output()
	if err != nil {
		t.Fatalf("describe the emulator's resources: %v", err)
	}
	var e Emulated
	if err := json.Unmarshal(out, &e); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return e
}
