// Package toolchain installs the tools the orchestrator drives: Terraform
// 1.5.7 and the kreuzwerker/docker provider, both built from the Go module
// proxy into the workspace cache (no release downloads are reachable on the
// machines this project is built on), and a Terraform CLI configuration
// that makes Terraform find the locally built provider in a filesystem
// mirror. Each build happens once; later calls find the binaries and return
// at once.
package toolchain

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/alert-testbed/testbed/internal/workspace"
)

const (
	// TerraformVersion is the last Terraform release that `go install` can
	// build (later ones carry replace directives).
	TerraformVersion = "1.5.7"
	// DockerProviderVersion is the version under which the provider is
	// placed in the mirror. The code is kreuzwerker/terraform-provider-docker
	// at commit 96d331c98ff4 (2026-09-16), two weeks past v4.6.0; see
	// provider-docker.go.mod.txt.
	DockerProviderVersion = "4.6.0"
	dockerProviderPackage = "github.com/terraform-providers/terraform-provider-docker"
)

//go:embed provider-docker.go.mod.txt
var providerGoMod []byte

//go:embed provider-docker.go.sum.txt
var providerGoSum []byte

//go:embed provider-docker.tools.go.txt
var providerToolsGo []byte

// Toolchain is the set of installed tools.
type Toolchain struct {
	Terraform     string // path of the terraform binary
	CLIConfigFile string // TF_CLI_CONFIG_FILE to pass to Terraform
	MirrorDir     string // provider filesystem mirror
}

// Env returns the environment Terraform must run with: no update checks,
// and the project's own CLI config (the machines preset TF_CLI_CONFIG_FILE
// to a file that does not exist).
func (t Toolchain) Env() map[string]string {
	return map[string]string{
		"CHECKPOINT_DISABLE": "1",
		"TF_CLI_CONFIG_FILE": t.CLIConfigFile,
	}
}

// Paths returns where the tools live in cacheDir, built or not.
func Paths(cacheDir string) Toolchain {
	return Toolchain{
		Terraform:     filepath.Join(cacheDir, "bin", "terraform-"+TerraformVersion, "terraform"),
		CLIConfigFile: filepath.Join(cacheDir, "terraform.rc"),
		MirrorDir:     filepath.Join(cacheDir, "terraform-providers"),
	}
}

func (t Toolchain) dockerProviderPath() string {
	return filepath.Join(t.MirrorDir, "registry.terraform.io", "kreuzwerker", "docker", DockerProviderVersion,
		"linux_amd64", "terraform-provider-docker_v"+DockerProviderVersion)
}

// Missing lists the tools that Ensure would have to build.
func (t Toolchain) Missing() []string {
	var m []string
	if !isExecutable(t.Terraform) {
		m = append(m, "Terraform "+TerraformVersion)
	}
	if !isExecutable(t.dockerProviderPath()) {
		m = append(m, "the kreuzwerker/docker provider")
	}
	return m
}

// Ensure builds whatever is missing and writes the CLI config. Build logs go
// to cacheDir/logs; a failed build's last lines are in the error.
func Ensure(ctx context.Context, cacheDir string) (Toolchain, error) {
	t := Paths(cacheDir)
	if runtimeGOARCHOS() != "linux_amd64" {
		return t, fmt.Errorf("the local environment is built for linux/amd64; this is %s", runtimeGOARCHOS())
	}
	if _, err := exec.LookPath("go"); err != nil {
		return t, errors.New("the Go toolchain (go 1.24 or later) is needed to build Terraform and its docker provider from the Go module proxy: install Go and put it on PATH")
	}
	unlock, err := workspace.Lock(filepath.Join(cacheDir, "locks", "toolchain"))
	if err != nil {
		return t, err
	}
	defer unlock()
	if !isExecutable(t.Terraform) {
		if err := buildTerraform(ctx, cacheDir, t.Terraform); err != nil {
			return t, err
		}
	}
	if !isExecutable(t.dockerProviderPath()) {
		if err := buildDockerProvider(ctx, cacheDir, t.dockerProviderPath()); err != nil {
			return t, err
		}
	}
	cfg := fmt.Sprintf(`# Written by testbed: Terraform finds the providers testbed built from the
# Go module proxy in this filesystem mirror, and looks nowhere else.
provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/*/*"]
  }
}
`, t.MirrorDir)
	if err := writeIfChanged(t.CLIConfigFile, []byte(cfg)); err != nil {
		return t, err
	}
	return t, nil
}

func buildTerraform(ctx context.Context, cacheDir, dest string) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	// A scratch folder of its own: two testbed commands may build at once.
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// go install names the binary after the package; GOBIN points it at a
	// scratch folder so an interrupted build leaves no half-written binary.
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/hashicorp/terraform@v"+TerraformVersion)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOWORK=off")
	if err := runLogged(cmd, filepath.Join(cacheDir, "logs", "terraform-build.log")); err != nil {
		return fmt.Errorf("build Terraform %s with `go install`: %w", TerraformVersion, err)
	}
	return os.Rename(filepath.Join(tmp, "terraform"), dest)
}

func buildDockerProvider(ctx context.Context, cacheDir, dest string) error {
	if err := os.MkdirAll(filepath.Join(cacheDir, "build"), 0o755); err != nil {
		return err
	}
	mod, err := os.MkdirTemp(filepath.Join(cacheDir, "build"), "provider-docker-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(mod)
	for name, data := range map[string][]byte{"go.mod": providerGoMod, "go.sum": providerGoSum, "tools.go": providerToolsGo} {
		if err := os.WriteFile(filepath.Join(mod, name), data, 0o644); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(mod, "terraform-provider-docker")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp, dockerProviderPackage)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false -mod=mod", "GOWORK=off")
	if err := runLogged(cmd, filepath.Join(cacheDir, "logs", "provider-docker-build.log")); err != nil {
		return fmt.Errorf("build the kreuzwerker/docker provider: %w", err)
	}
	return os.Rename(tmp, dest)
}

// runLogged runs cmd with its output in logPath, and on failure returns an
// error carrying the last lines of the log.
func runLogged(cmd *exec.Cmd, logPath string) error {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return err
	}
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("%v; last lines of %s:\n%s", err, logPath, tail(log, 15))
	}
	return nil
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
