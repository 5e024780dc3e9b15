package tf

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/alert-testbed/testbed/internal/toolchain"
)

// cacheDir is the repository's workspace cache, shared with the other tests
// so Terraform and the provider are built once per machine.
func cacheDir(t *testing.T) string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..", ".testbed", "cache")
}

// toolchainOf builds Terraform and the docker provider if missing; under
// -short (`make unit`) it skips t instead: the build takes minutes and the
// Go module proxy. `make test` runs every test that calls it.
func toolchainOf(t *testing.T) toolchain.Toolchain {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Terraform and its providers built (minutes, network): not under -short; `make test` runs it")
	}
	tc, err := toolchain.Ensure(context.Background(), cacheDir(t))
	if err != nil {
		t.Fatalf("toolchain: %v", err)
	}
	return tc
}

// module builds the toolchain if missing (several minutes on a fresh
// machine) and prepares the local module in a scratch testbed folder.
func module(t *testing.T) (*Module, toolchain.Toolchain) {
	t.Helper()
	tc := toolchainOf(t)
	return prepared(t, tc, "local"), tc
}

// prepared is terraform/<env> copied to a scratch testbed folder and
// initialised.
func prepared(t *testing.T, tc toolchain.Toolchain, env string) *Module {
	t.Helper()
	m, err := Prepare(tc, t.TempDir(), env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLocalModuleIsFormattedAndValid(t *testing.T) {
	m, tc := module(t)
	checkFormattedAndValid(t, m, tc)
}

// checkFormattedAndValid runs terraform validate and fmt -check.
func checkFormattedAndValid(t *testing.T, m *Module, tc toolchain.Toolchain) {
	t.Helper()
	v, err := m.tf.Validate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !v.Valid {
		t.Fatalf("terraform validate: %+v", v.Diagnostics)
	}
	out, err := exec.Command(tc.Terraform, "fmt", "-check", "-diff", m.Dir).CombinedOutput()
	if err != nil {
		t.Fatalf("terraform fmt -check: %v\n%s", err, out)
	}
}

func TestLocalModuleRejectsBadVariables(t *testing.T) {
	m, _ := module(t)
	good := Vars{"name": "tb", "managers": 3, "workers": 2, "node_image": "n", "registry_image": "r",
		"registry_host_port": 5000, "api_socket_dir": "/tmp/x"}
	checkRejected(t, m, good, []rejection{
		{"managers", 4, "The manager count must be an odd whole number from 1 to 7."},
		{"managers", 9, "The manager count must be an odd whole number from 1 to 7."},
		{"workers", -1, "The worker count must be a whole number from 0 to 100."},
		{"name", "Bad_Name", "The name must be 2 to 20 characters"},
		{"registry_host_port", 80, "The registry host port must be from 1024 to 65535."},
		{"api_socket_dir", "relative/dir", "The API socket folder must be an absolute path"},
	})
}

// rejection is a variable's bad value and the error plan must give; a nil
// value leaves the variable unset.
type rejection struct {
	key  string
	val  any
	want string
}

// checkRejected plans good with each case's change and checks the error.
func checkRejected(t *testing.T, m *Module, good Vars, cases []rejection) {
	t.Helper()
	for _, c := range cases {
		vars := Vars{}
		for k, v := range good {
			if k != c.key || c.val != nil {
				vars[k] = v
			}
		}
		if c.val != nil {
			vars[c.key] = c.val
		}
		_, err := m.tf.Plan(context.Background(), planOpts(t, m, vars)...)
		if err == nil {
			t.Errorf("%s=%v accepted by terraform plan", c.key, c.val)
			continue
		}
		// Terraform wraps long messages; compare with whitespace folded.
		got := strings.Join(strings.Fields(err.Error()), " ")
		if !strings.Contains(got, c.want) {
			t.Errorf("%s=%v: error lacks %q:\n%s", c.key, c.val, c.want, got)
		}
	}
}

// planOpts are the options of a plan of vars that refreshes nothing.
func planOpts(t *testing.T, m *Module, vars Vars) []tfexec.PlanOption {
	t.Helper()
	vf, err := m.varFile(vars)
	if err != nil {
		t.Fatal(err)
	}
	return []tfexec.PlanOption{vf, tfexec.Refresh(false)}
}
