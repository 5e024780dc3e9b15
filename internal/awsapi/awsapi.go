// Package awsapi is what the orchestrator asks AWS itself, beside
// Terraform: a login to ECR for the agents image, and which resources
// still carry a testbed's name tag after `terraform destroy`. Credentials come from the usual AWS chain
// (AWS_PROFILE, AWS_ACCESS_KEY_ID..., ~/.aws); an endpoint override points
// every call at an emulator (moto) instead.
package awsapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	taggingtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
)

// TagName is the tag terraform/aws puts on every resource of a testbed.
const TagName = "testbed.name"

// Client reaches one region.
type Client struct {
	ec2     *ec2.Client
	ecr     *ecr.Client
	tagging *tagging.Client
}

// New loads credentials and makes the clients. With endpoint set (an
// emulator), fixed test credentials are used, as terraform/aws does.
func New(ctx context.Context, region, endpoint string) (*Client, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if endpoint != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	c := &Client{}
	if endpoint != "" {
		c.ec2 = ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String(endpoint) })
		c.tagging = tagging.NewFromConfig(cfg, func(o *tagging.Options) { o.BaseEndpoint = aws.String(endpoint) })
		c.ecr = ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.BaseEndpoint = aws.String(endpoint) })
	} else {
		c.ecr = ecr.NewFromConfig(cfg)
		c.ec2 = ec2.NewFromConfig(cfg)
		c.tagging = tagging.NewFromConfig(cfg)
	}
	return c, nil
}

// RegistryAuth is a login to the account's ECR registry (valid 12 hours).
type RegistryAuth struct {
	Username, Password string
	Server             string // https://ACCOUNT.dkr.ecr.REGION.amazonaws.com
}

// ECRAuth gets a login to the account's ECR registry, for pushing the
// agents image and for the swarm to pull it with.
func (c *Client) ECRAuth(ctx context.Context) (RegistryAuth, error) {
	out, err := c.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return RegistryAuth{}, fmt.Errorf("ECR login: %w", err)
	}
	if len(out.AuthorizationData) == 0 {
		return RegistryAuth{}, fmt.Errorf("ECR login: no authorization data")
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
	if err != nil {
		return RegistryAuth{}, fmt.Errorf("ECR login: token: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return RegistryAuth{}, fmt.Errorf("ECR login: the token is not USER:PASSWORD")
	}
	return RegistryAuth{Username: user, Password: pass, Server: aws.ToString(d.ProxyEndpoint)}, nil
}

// Tagged lists the ARNs of the resources tagged testbed.name=name that
// still exist. The tagging API goes on listing terminated instances for a
// while after they end; those are left out.
func (c *Client) Tagged(ctx context.Context, name string) ([]string, error) {
	var arns []string
	p := tagging.NewGetResourcesPaginator(c.tagging, &tagging.GetResourcesInput{
		TagFilters: []taggingtypes.TagFilter{{Key: aws.String(TagName), Values: []string{name}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the resources tagged %s=%s: %w", TagName, name, err)
		}
		for _, r := range page.ResourceTagMappingList {
			arns = append(arns, aws.ToString(r.ResourceARN))
		}
	}
	gone, err := c.terminated(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range arns {
		if !gone[instanceID(a)] {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out, nil
}

// terminated is the set of the testbed's instances that are shutting down
// or terminated.
func (c *Client) terminated(ctx context.Context, name string) (map[string]bool, error) {
	out := map[string]bool{}
	p := ec2.NewDescribeInstancesPaginator(c.ec2, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{{Name: aws.String("tag:" + TagName), Values: []string{name}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe the instances tagged %s=%s: %w", TagName, name, err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				if i.State != nil && (i.State.Name == ec2types.InstanceStateNameTerminated || i.State.Name == ec2types.InstanceStateNameShuttingDown) {
					out[aws.ToString(i.InstanceId)] = true
				}
			}
		}
	}
	return out, nil
}

// instanceID is the id in an instance ARN (arn:aws:ec2:R:A:instance/ID),
// or "" for other resources.
func instanceID(arn string) string {
	_, id, ok := strings.Cut(arn, ":instance/")
	if !ok {
		return ""
	}
	return id
}
