package toolchain

import (
	"go/ast"
	"strings"
	"testing"
)

// The two generated registries, in the shape the provider generates them,
// keep only the listed packages and accessors, and lose exactly the imports
// nothing uses any more.
func TestTrimAWSRegistries(t *testing.T) {
	packages := `// Code generated; DO NOT EDIT.

package sdkv2

import (
	"context"
	"slices"

	"github.com/hashicorp/terraform-provider-aws/internal/conns"
	"github.com/hashicorp/terraform-provider-aws/internal/service/acm"
	"github.com/hashicorp/terraform-provider-aws/internal/service/ec2"
	"github.com/hashicorp/terraform-provider-aws/internal/service/sts"
)

func servicePackages(ctx context.Context) []conns.ServicePackage {
	v := []conns.ServicePackage{
		acm.ServicePackage(ctx),
		ec2.ServicePackage(ctx),
		sts.ServicePackage(ctx),
	}

	return slices.Clone(v)
}
`
	got, err := trimGoFile([]byte(packages), func(f *ast.File) { keepServicePackages(f, []string{"ec2", "sts"}) })
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"context"`, `"slices"`, "internal/conns\"", "internal/service/ec2\"", "internal/service/sts\"", "ec2.ServicePackage(ctx)", "sts.ServicePackage(ctx)", "slices.Clone(v)"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("service packages: %q was dropped:\n%s", want, got)
		}
	}
	if strings.Contains(string(got), "acm") {
		t.Errorf("service packages: acm kept:\n%s", got)
	}

	clients := `package conns

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/hashicorp/terraform-provider-aws/internal/errs"
	"github.com/hashicorp/terraform-provider-aws/names"
)

func (c *AWSClient) ACMClient(ctx context.Context) *acm.Client {
	return errs.Must(client[*acm.Client](ctx, c, names.ACM, make(map[string]any)))
}

func (c *AWSClient) EC2Client(ctx context.Context) *ec2.Client {
	return errs.Must(client[*ec2.Client](ctx, c, names.EC2, make(map[string]any)))
}

func (c *AWSClient) HTTPClient(ctx context.Context) int { return 0 }
`
	got, err = trimGoFile([]byte(clients), func(f *ast.File) { keepClientAccessors(f, []string{"EC2", "HTTP"}) })
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"context"`, "service/ec2\"", "internal/errs\"", "/names\"", "EC2Client", "HTTPClient"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("clients: %q was dropped:\n%s", want, got)
		}
	}
	if strings.Contains(string(got), "acm") || strings.Contains(string(got), "ACM") {
		t.Errorf("clients: ACM kept:\n%s", got)
	}
}
