// Package tf drives an environment's Terraform root module with
// hashicorp/terraform-exec: it lays the module out in the testbed's own
// folder (one state per testbed, so testbeds side by side never share
// state), and runs init, plan, apply, output and destroy.
package tf

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"

	testbed "github.com/alert-testbed/testbed"
	"github.com/alert-testbed/testbed/internal/inventory"
	"github.com/alert-testbed/testbed/internal/toolchain"
)

// Module is one testbed's copy of an environment's root module.
type Module struct {
	Dir   string // working directory holding the .tf files
	State string // local backend state file
	tf    *tfexec.Terraform
}

// Prepare copies terraform/<env>/*.tf into dir/terraform and returns a
// Module ready for Init. Terraform's output is written to log.
func Prepare(tc toolchain.Toolchain, testbedDir, env string, log io.Writer) (*Module, error) {
	src := path.Join("terraform", env)
	entries, err := fs.ReadDir(testbed.Files, src)
	if err != nil {
		return nil, fmt.Errorf("no Terraform module for environment %q: %w", env, err)
	}
	dir := filepath.Join(testbedDir, "terraform")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, e := range entries {
		data, err := fs.ReadFile(testbed.Files, path.Join(src, e.Name()))
		if err != nil {
			return nil, err
		}
		dst := filepath.Join(dir, e.Name())
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return nil, err
		}
	}
	t, err := tfexec.NewTerraform(dir, tc.Terraform)
	if err != nil {
		return nil, fmt.Errorf("terraform at %s: %w", tc.Terraform, err)
	}
	env2 := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env2[k] = v
		}
	}
	for k, v := range tc.Env() {
		env2[k] = v
	}
	if err := t.SetEnv(tfexec.CleanEnv(env2)); err != nil {
		return nil, err
	}
	if log != nil {
		t.SetStdout(log)
		t.SetStderr(log)
	}
	return &Module{Dir: dir, State: filepath.Join(testbedDir, "terraform.tfstate"), tf: t}, nil
}

// Init runs `terraform init` offline against the provider mirror.
func (m *Module) Init(ctx context.Context) error {
	err := m.tf.Init(ctx, tfexec.BackendConfig("path="+m.State), tfexec.Upgrade(false))
	if err != nil {
		return fmt.Errorf("terraform init in %s: %w", m.Dir, err)
	}
	return nil
}

// Vars are the values of the module's input variables.
type Vars map[string]any

// varFile writes vars to a JSON variables file in the module's folder,
// readable by its owner only (host keys are among the values), and returns
// the option that gives it to Terraform. A file, not -var flags: map and
// object values need no quoting, and no value shows in a process list.
func (m *Module) varFile(vars Vars) (*tfexec.VarFileOption, error) {
	b, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("terraform variables: %w", err)
	}
	path := filepath.Join(m.Dir, "testbed.tfvars.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	return tfexec.VarFile(path), nil
}

// Plan reports whether applying vars would change anything.
func (m *Module) Plan(ctx context.Context, vars Vars) (bool, error) {
	vf, err := m.varFile(vars)
	if err != nil {
		return false, err
	}
	changes, err := m.tf.Plan(ctx, vf)
	if err != nil {
		return false, fmt.Errorf("terraform plan: %w", err)
	}
	return changes, nil
}

// Apply runs `terraform apply` with vars.
func (m *Module) Apply(ctx context.Context, vars Vars) error {
	vf, err := m.varFile(vars)
	if err != nil {
		return err
	}
	if err := m.tf.Apply(ctx, vf); err != nil {
		return fmt.Errorf("terraform apply: %w", err)
	}
	return nil
}

// Inventory reads and parses the `inventory` output.
func (m *Module) Inventory(ctx context.Context) (inventory.Inventory, error) {
	outs, err := m.tf.Output(ctx)
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("terraform output: %w", err)
	}
	out, ok := outs["inventory"]
	if !ok {
		return inventory.Inventory{}, fmt.Errorf("terraform output: no `inventory` output in %s", m.Dir)
	}
	return inventory.Parse(out.Value)
}

// Destroy runs `terraform destroy` with vars (the module's variables
// without defaults must be given even to destroy).
func (m *Module) Destroy(ctx context.Context, vars Vars) error {
	vf, err := m.varFile(vars)
	if err != nil {
		return err
	}
	if err := m.tf.Destroy(ctx, vf); err != nil {
		return fmt.Errorf("terraform destroy: %w", err)
	}
	return nil
}

// StateResources lists the addresses of the resources in the state.
func (m *Module) StateResources(ctx context.Context) ([]string, error) {
	if _, err := os.Stat(m.State); os.IsNotExist(err) {
		return nil, nil
	}
	st, err := m.tf.Show(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform show: %w", err)
	}
	var addrs []string
	if st.Values != nil && st.Values.RootModule != nil {
		for _, r := range st.Values.RootModule.Resources {
			addrs = append(addrs, r.Address)
		}
	}
	return addrs, nil
}
