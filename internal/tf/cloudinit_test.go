package tf

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/alert-testbed/testbed/internal/dockerssh"
	"github.com/alert-testbed/testbed/internal/toolchain"
)

// cloudInitSchema returns a command line that runs Debian's own
// `cloud-init schema` (the version the aws nodes' Debian 12 runs): the
// package is downloaded with apt-get and unpacked into the workspace cache
// (not installed: it would hook into this machine's boot), its Python
// dependencies go into a venv from PyPI.
func cloudInitSchema(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(cacheDir(t), "cloud-init")
	python := filepath.Join(dir, "venv", "bin", "python")
	script := filepath.Join(dir, "root", "usr", "bin", "cloud-init")
	if _, err := os.Stat(filepath.Join(dir, "ready")); err != nil {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		steps := [][]string{
			{"apt-get", "download", "cloud-init"},
			{"sh", "-c", "dpkg-deb -x cloud-init_*.deb root && rm cloud-init_*.deb"},
			{"python3", "-m", "venv", "venv"},
			{"venv/bin/pip", "install", "-q", "pyyaml", "jsonschema", "jinja2", "configobj", "jsonpatch", "requests", "oauthlib", "netifaces"},
		}
		for _, s := range steps {
			cmd := exec.Command(s[0], s[1:]...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("setting up cloud-init's schema check: %v: %v\n%s\n(needs Debian's apt-get and dpkg-deb, python3-venv and PyPI)", s, err, out)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"env", "PYTHONPATH=" + filepath.Join(dir, "root", "usr", "lib", "python3", "dist-packages"), python, script, "schema", "--config-file"}
}

// renderCloudInit renders terraform/aws's cloud-init template with
// Terraform's own templatefile, as the module does, for one node.
func renderCloudInit(t *testing.T, tc toolchain.Toolchain, hostKey *dockerssh.HostKey) string {
	t.Helper()
	wd, _ := os.Getwd()
	tmpl := filepath.Join(wd, "..", "..", "terraform", "aws", "cloud-init.yaml.tftpl")
	dir := t.TempDir()
	main := `variable "host_key" {
  type    = object({ private = string, public = string })
  default = null
}
output "doc" {
  value = templatefile(` + "\"" + tmpl + "\"" + `, { hostname = "tb-manager-1", ssh_user = "admin", host_key = var.host_key })
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	tfx, err := tfexec.NewTerraform(dir, tc.Terraform)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := tfx.Init(ctx); err != nil {
		t.Fatal(err)
	}
	var opts []tfexec.ApplyOption
	if hostKey != nil {
		m := &Module{Dir: dir}
		vf, err := m.varFile(Vars{"host_key": hostKey})
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, vf)
	}
	if err := tfx.Apply(ctx, opts...); err != nil {
		t.Fatal(err)
	}
	outs, err := tfx.Output(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var doc string
	if err := json.Unmarshal(outs["doc"].Value, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// The cloud-init document of a node, with and without a host key from the
// orchestrator, passes Debian's cloud-init schema check; a document with a
// schema error fails it (the check checks).
func TestAWSCloudInitPassesTheSchema(t *testing.T) {
	tc := toolchainOf(t)
	schema := cloudInitSchema(t)
	keys := dockerssh.Keys{Dir: t.TempDir()}
	if err := keys.Ensure([]string{"tb-manager-1"}); err != nil {
		t.Fatal(err)
	}
	hk, err := keys.HostKeys([]string{"tb-manager-1"})
	if err != nil {
		t.Fatal(err)
	}
	key := hk["tb-manager-1"]
	check := func(name, doc string) (string, error) {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(schema[0], append(schema[1:], path)...).CombinedOutput()
		return string(out), err
	}
	withKey := renderCloudInit(t, tc, &key)
	for name, doc := range map[string]string{"with-host-key.yaml": withKey, "without.yaml": renderCloudInit(t, tc, nil)} {
		if !strings.HasPrefix(doc, "#cloud-config\n") {
			t.Errorf("%s does not start with #cloud-config", name)
		}
		if out, err := check(name, doc); err != nil || !strings.Contains(out, "Valid cloud-config") {
			t.Errorf("cloud-init schema %s: %v\n%s\n%s", name, err, out, doc)
		}
	}
	if !strings.Contains(withKey, "ed25519_public: "+`"`+key.Public+`"`) || !strings.Contains(withKey, "BEGIN OPENSSH PRIVATE KEY") {
		t.Errorf("the host key is not in the document:\n%s", withKey)
	}
	if out, err := check("broken.yaml", withKey+"ssh_genkeytypes: []\n"); err == nil || !strings.Contains(out, "ssh_genkeytypes") {
		t.Errorf("a schema error passed the check: %v\n%s", err, out)
	}
}
