// Package awsapi is what the orchestrator asks AWS itself, beside
// Terraform: a login to ECR for the agents image, and which resources
// still carry a testbed's name tag after `terraform destroy`. Credentials come from the usual AWS chain
// (AWS_PROFILE, AWS_ACCESS_KEY_ID..., ~/.aws); an endpoint override points
// every call at an emulator (moto) instead.
package awsapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	taggingtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
)

// TagName is the tag terraform/aws puts on every resource of a testbed.
const TagName = "testbed.name"

// Client reaches one region.
type Client struct {
	cfg         aws.Config
	ec2Endpoint string // EC2's Query API: https://ec2.REGION.amazonaws.com/, or the emulator
	ecr         *ecr.Client
	tagging     *tagging.Client
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
	c := &Client{cfg: cfg, ec2Endpoint: "https://ec2." + region + ".amazonaws.com/"}
	if endpoint != "" {
		c.ec2Endpoint = strings.TrimSuffix(endpoint, "/") + "/"
		c.tagging = tagging.NewFromConfig(cfg, func(o *tagging.Options) { o.BaseEndpoint = aws.String(endpoint) })
		c.ecr = ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.BaseEndpoint = aws.String(endpoint) })
	} else {
		c.ecr = ecr.NewFromConfig(cfg)
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
// or terminated: EC2's DescribeInstances, through its Query API signed
// with the SDK's SigV4 signer. The SDK's EC2 client package is left out on
// purpose: it alone takes 88 s to compile on 2 cores (the longest step of
// a build with an empty Go cache), for this one call.
func (c *Client) terminated(ctx context.Context, name string) (map[string]bool, error) {
	out := map[string]bool{}
	token := ""
	for {
		page, err := c.describeInstances(ctx, name, token)
		if err != nil {
			return nil, fmt.Errorf("describe the instances tagged %s=%s: %w", TagName, name, err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				if i.State == "terminated" || i.State == "shutting-down" {
					out[i.ID] = true
				}
			}
		}
		if token = page.NextToken; token == "" {
			return out, nil
		}
	}
}

// describeInstancesPage is the part of a DescribeInstances response that
// terminated reads (EC2 API version 2016-11-15).
type describeInstancesPage struct {
	Reservations []struct {
		Instances []struct {
			ID    string `xml:"instanceId"`
			State string `xml:"instanceState>name"`
		} `xml:"instancesSet>item"`
	} `xml:"reservationSet>item"`
	NextToken string `xml:"nextToken"`
}

// ec2Error is EC2's error response.
type ec2Error struct {
	Errors []struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Errors>Error"`
}

func (c *Client) describeInstances(ctx context.Context, name, token string) (describeInstancesPage, error) {
	form := url.Values{"Action": {"DescribeInstances"}, "Version": {"2016-11-15"},
		"Filter.1.Name": {"tag:" + TagName}, "Filter.1.Value.1": {name}}
	if token != "" {
		form.Set("NextToken", token)
	}
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.ec2Endpoint, strings.NewReader(body))
	if err != nil {
		return describeInstancesPage{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return describeInstancesPage{}, fmt.Errorf("AWS credentials: %w", err)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ec2", c.cfg.Region, time.Now()); err != nil {
		return describeInstancesPage{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return describeInstancesPage{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return describeInstancesPage{}, err
	}
	if resp.StatusCode != http.StatusOK {
		var e ec2Error
		if xml.Unmarshal(data, &e) == nil && len(e.Errors) > 0 {
			return describeInstancesPage{}, fmt.Errorf("EC2 %s: %s: %s", resp.Status, e.Errors[0].Code, e.Errors[0].Message)
		}
		return describeInstancesPage{}, fmt.Errorf("EC2 %s: %.200s", resp.Status, data)
	}
	var page describeInstancesPage
	if err := xml.Unmarshal(data, &page); err != nil {
		return describeInstancesPage{}, fmt.Errorf("read EC2's answer: %w", err)
	}
	return page, nil
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
