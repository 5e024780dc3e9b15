// Package toolchain finds or installs the tools the orchestrator drives:
// Terraform and the providers its modules need (kreuzwerker/docker, and
// hashicorp/aws for the aws environment), and writes the Terraform CLI
// configuration that says where Terraform finds those providers.
//
// Terraform: a supported one on PATH (MinTerraform or later 1.x) is used as
// it is; otherwise Terraform TerraformVersion is built from the Go module
// proxy into the workspace cache. Providers: those already built into the
// cache's filesystem mirror come from it; the others from the Terraform
// registry where it answers, and are built from the Go module proxy into
// the mirror where it does not (no release download is reachable on the
// machines this project is built on). Each build happens once; later calls
// find the binaries and return at once.
package toolchain

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

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
	dockerProviderAddr    = "registry.terraform.io/kreuzwerker/docker"
	awsProviderAddr       = "registry.terraform.io/hashicorp/aws"
)

//go:embed provider-docker.go.mod.txt
var providerGoMod []byte

//go:embed provider-docker.go.sum.txt
var providerGoSum []byte

//go:embed provider-docker.tools.go.txt
var providerToolsGo []byte

// MinTerraform is the oldest Terraform release found on PATH that is used
// (any later 1.x is too): the one TerraformVersion builds is of that
// series, and the modules and terraform-exec calls are tested with it and
// with 1.11.
const MinTerraform = "1.5.0"

// Toolchain is the set of installed tools.
type Toolchain struct {
	Terraform        string // path of the terraform binary
	TerraformVersion string // its version: "1.11.4"
	TerraformOnPath  bool   // found on PATH, not built
	CLIConfigFile    string // TF_CLI_CONFIG_FILE to pass to Terraform
	MirrorDir        string // provider filesystem mirror
	// RegistryProviders lists the providers (registry.terraform.io/...)
	// that Terraform installs from the registry, not from the mirror.
	RegistryProviders []string
}

// Describe says, for a status line, which Terraform and docker provider
// are used and where they come from.
func (t Toolchain) Describe() string {
	tf := "terraform " + t.TerraformVersion + " (built)"
	if t.TerraformOnPath {
		tf = "terraform " + t.TerraformVersion + " (on PATH: " + t.Terraform + ")"
	}
	return tf + ", kreuzwerker/docker " + DockerProviderVersion + " (" + t.providerSource(dockerProviderAddr) + ")"
}

func (t Toolchain) providerSource(addr string) string {
	for _, p := range t.RegistryProviders {
		if p == addr {
			return "from the Terraform registry"
		}
	}
	return "built"
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

// Paths returns where the tools live: a supported Terraform on PATH, or
// the one built into cacheDir (built or not); the CLI config and the
// provider mirror in cacheDir.
func Paths(cacheDir string) Toolchain {
	t := Toolchain{
		Terraform:        filepath.Join(cacheDir, "bin", "terraform-"+TerraformVersion, "terraform"),
		TerraformVersion: TerraformVersion,
		CLIConfigFile:    filepath.Join(cacheDir, "terraform.rc"),
		MirrorDir:        filepath.Join(cacheDir, "terraform-providers"),
	}
	if path, version, err := TerraformOnPath(); err == nil {
		t.Terraform, t.TerraformVersion, t.TerraformOnPath = path, version, true
	}
	return t
}

// TerraformOnPath finds `terraform` on PATH and returns its path and
// version; an error when there is none, or it is not MinTerraform or a
// later 1.x.
func TerraformOnPath() (path, version string, err error) {
	path, err = exec.LookPath("terraform")
	if err != nil {
		return "", "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "version", "-json")
	// No update check, and no CLI config (a preset TF_CLI_CONFIG_FILE
	// that does not exist makes it warn).
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_CLI_CONFIG_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		return path, "", fmt.Errorf("%s version -json: %w", path, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return path, "", fmt.Errorf("%s version -json: %w", path, err)
	}
	if !supportedTerraform(v.Version) {
		return path, v.Version, fmt.Errorf("%s is Terraform %s: testbed uses %s or a later 1.x", path, v.Version, MinTerraform)
	}
	return path, v.Version, nil
}

// supportedTerraform says whether version (1.11.4, 1.6.0-beta1) is
// MinTerraform or a later 1.x.
func supportedTerraform(version string) bool {
	core, _, _ := strings.Cut(version, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return false
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return false
		}
		n[i] = v
	}
	return n[0] == 1 && n[1] >= 5
}

// registryURL is where Terraform's registry is asked whether it answers.
var registryURL = "https://registry.terraform.io/v1/providers/kreuzwerker/docker/versions"

// RegistryAnswers says whether the Terraform registry answers within 5 s.
func RegistryAnswers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, registryURL, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (t Toolchain) dockerProviderPath() string {
	return filepath.Join(t.MirrorDir, "registry.terraform.io", "kreuzwerker", "docker", DockerProviderVersion,
		"linux_amd64", "terraform-provider-docker_v"+DockerProviderVersion)
}

// Missing lists the tools that Ensure would have to build or fetch.
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

// Ensure finds or builds Terraform and the docker provider and writes the
// CLI config. Build logs go to cacheDir/logs; a failed build's last lines
// are in the error.
func Ensure(ctx context.Context, cacheDir string) (Toolchain, error) {
	return ensure(ctx, cacheDir, false)
}

func ensure(ctx context.Context, cacheDir string, aws bool) (Toolchain, error) {
	t := Paths(cacheDir)
	if runtimeGOARCHOS() != "linux_amd64" {
		return t, fmt.Errorf("the local environment is built for linux/amd64; this is %s", runtimeGOARCHOS())
	}
	unlock, err := workspace.Lock(filepath.Join(cacheDir, "locks", "toolchain"))
	if err != nil {
		return t, err
	}
	defer unlock()
	// The providers the environment's module needs, in a fixed order (the
	// CLI config lists them as given).
	type provider struct {
		addr, path string
		build      func(ctx context.Context, cacheDir, dest string) error
	}
	providers := []provider{{dockerProviderAddr, t.dockerProviderPath(), buildDockerProvider}}
	if aws {
		providers = append(providers, provider{awsProviderAddr, t.awsProviderPath(), buildAWSProvider})
	}
	var unbuilt []provider
	for _, p := range providers {
		if !isExecutable(p.path) {
			unbuilt = append(unbuilt, p)
		}
	}
	if len(unbuilt) > 0 && RegistryAnswers(ctx) {
		for _, p := range unbuilt {
			t.RegistryProviders = append(t.RegistryProviders, p.addr)
		}
		unbuilt = nil
	}
	if !isExecutable(t.Terraform) || len(unbuilt) > 0 {
		if _, err := exec.LookPath("go"); err != nil {
			return t, errors.New("the Go toolchain (go 1.24 or later) is needed to build Terraform or its providers from the Go module proxy (no supported Terraform on PATH, or the Terraform registry does not answer): install Go and put it on PATH")
		}
	}
	if !isExecutable(t.Terraform) {
		if err := buildTerraform(ctx, cacheDir, t.Terraform); err != nil {
			return t, err
		}
	}
	for _, p := range unbuilt {
		if err := p.build(ctx, cacheDir, p.path); err != nil {
			return t, err
		}
	}
	if err := writeIfChanged(t.CLIConfigFile, []byte(t.cliConfig())); err != nil {
		return t, err
	}
	return t, nil
}

// cliConfig is the Terraform CLI configuration: the providers built into
// the mirror come from it alone, those in RegistryProviders from the
// registry, and nothing else is installed.
func (t Toolchain) cliConfig() string {
	var b strings.Builder
	b.WriteString("# Written by testbed: Terraform finds the providers testbed built from the\n# Go module proxy in this filesystem mirror")
	if len(t.RegistryProviders) > 0 {
		b.WriteString(", and the others in the Terraform registry")
	}
	b.WriteString(".\nprovider_installation {\n")
	fmt.Fprintf(&b, "  filesystem_mirror {\n    path    = %q\n    include = [\"registry.terraform.io/*/*\"]\n", t.MirrorDir)
	if len(t.RegistryProviders) > 0 {
		fmt.Fprintf(&b, "    exclude = %s\n", hclList(t.RegistryProviders))
	}
	b.WriteString("  }\n")
	if len(t.RegistryProviders) > 0 {
		fmt.Fprintf(&b, "  direct {\n    include = %s\n  }\n", hclList(t.RegistryProviders))
	}
	b.WriteString("}\n")
	return b.String()
}

func hclList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
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
