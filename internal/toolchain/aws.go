package toolchain

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

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
// registry does not answer, is built: about 25 minutes, 12 GB of memory
// and 9 GB of Go build cache on 2 cores, a 1.3 GB binary; only the aws
// environment and its tests need it.
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
	cmd := exec.CommandContext(ctx, "go", "install", "-trimpath", awsProviderModule+"@"+awsProviderModuleVersion)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOWORK=off")
	if err := runLogged(cmd, filepath.Join(cacheDir, "logs", "provider-aws-build.log")); err != nil {
		return fmt.Errorf("build the hashicorp/aws provider %s (%s@%s): %w", AWSProviderVersion, awsProviderModule, awsProviderModuleVersion, err)
	}
	return os.Rename(filepath.Join(tmp, "terraform-provider-aws"), dest)
}
