package toolchain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/alert-testbed/testbed/internal/workspace"
)

const (
	// AWSProviderVersion is the version under which hashicorp/aws is placed
	// in the mirror: the code of its 6.47.1 release, which the Go module
	// proxy has only as the pseudo-version awsProviderModuleVersion (the
	// provider's tags lack the /v6 suffix).
	AWSProviderVersion       = "6.47.1"
	awsProviderModule        = "github.com/hashicorp/terraform-provider-aws"
	awsProviderModuleVersion = "v1.60.1-0.20260602190131-5f2286d6d836"
)

func (t Toolchain) awsProviderPath() string {
	return filepath.Join(t.MirrorDir, "registry.terraform.io", "hashicorp", "aws", AWSProviderVersion,
		"linux_amd64", "terraform-provider-aws_v"+AWSProviderVersion)
}

// AWSProviderBuilt says whether EnsureAWS has nothing to build.
func (t Toolchain) AWSProviderBuilt() bool { return isExecutable(t.awsProviderPath()) }

// EnsureAWS finds or builds Terraform, the docker provider and the
// hashicorp/aws provider (Ensure), once. The aws provider, where the
// registry does not answer, is built with only the service packages the
// aws module uses (awsServicePackages): 3m26s, 3.4 GB of memory and
// 0.9 GB of Go build cache on 2 cores with that cache empty, a 96 MB
// binary (the whole provider took 41 minutes, 12 GB and 9 GB, 1.3 GB);
// only the aws environment and its tests need it.
func EnsureAWS(ctx context.Context, cacheDir string) (Toolchain, error) {
	return ensure(ctx, cacheDir, true)
}

func buildAWSProvider(ctx context.Context, cacheDir, dest string) error {
	unlock, err := workspace.Lock(filepath.Join(cacheDir, "locks", "toolchain-aws"))
	if err != nil {
		return err
	}
	defer unlock()
	if isExecutable(dest) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	log := filepath.Join(cacheDir, "logs", "provider-aws-build.log")
	env := append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false -mod=readonly", "GOWORK=off")
	download := exec.CommandContext(ctx, "go", "mod", "download", "-json", awsProviderModule+"@"+awsProviderModuleVersion)
	download.Dir, download.Env = tmp, env
	out, err := download.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(exit.Stderr))
		}
		return fmt.Errorf("download the hashicorp/aws provider's code (%s@%s) from the Go module proxy: %w", awsProviderModule, awsProviderModuleVersion, err)
	}
	var module struct{ Dir string }
	if err := json.Unmarshal(out, &module); err != nil || module.Dir == "" {
		return fmt.Errorf("go mod download %s@%s: no module directory in %q", awsProviderModule, awsProviderModuleVersion, out)
	}
	src := filepath.Join(tmp, "src")
	if err := copyTrimmedAWSProvider(module.Dir, src); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -X "+awsProviderModule+"/version.ProviderVersion="+AWSProviderVersion,
		"-o", filepath.Join(tmp, "terraform-provider-aws"), ".")
	cmd.Dir, cmd.Env = src, env
	if err := runLogged(cmd, log); err != nil {
		return fmt.Errorf("build the hashicorp/aws provider %s (%s@%s, service packages %s): %w",
			AWSProviderVersion, awsProviderModule, awsProviderModuleVersion, strings.Join(awsServicePackages, ", "), err)
	}
	return os.Rename(filepath.Join(tmp, "terraform-provider-aws"), dest)
}
