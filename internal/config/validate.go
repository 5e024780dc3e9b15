package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/alert-testbed/testbed/internal/pricing"
	"github.com/alert-testbed/testbed/internal/topology"
)

// Validate reports the first thing that makes t impossible to stand up
// under name, naming the flag that sets it and what is allowed. It expects
// SetDefaults to have run.
func (t Testbed) Validate(name string) error {
	if err := t.Topology(name).Validate(); err != nil {
		return err
	}
	switch t.Images {
	case ImagesAuto, ImagesOffline, ImagesUpstream:
	default:
		return fmt.Errorf("unknown --images %q: use %q (upstream images where the nodes can pull from Docker Hub, else built here; the default), %q (build here) or %q (nodes pull the upstream images from Docker Hub)", t.Images, ImagesAuto, ImagesOffline, ImagesUpstream)
	}
	switch t.DockerAPI {
	case DockerAPIUnix, DockerAPISSH:
	default:
		return fmt.Errorf("unknown --docker-api %q: use %q (a socket per node, local only) or %q (over SSH, as on aws)", t.DockerAPI, DockerAPIUnix, DockerAPISSH)
	}
	if err := ValidateRetention(t.Retention); err != nil {
		return err
	}
	for _, m := range t.RegistryMirrors {
		if u, err := url.Parse(m); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
			return fmt.Errorf("invalid --registry-mirror %q: use a registry's URL, http:// or https:// and a host[:port] with no path, e.g. http://10.0.0.5:5000", m)
		}
	}
	if t.Env != topology.EnvAWS {
		if t.AWS != nil {
			return errors.New("aws settings on a local testbed: the aws flags need --env aws")
		}
		return nil
	}
	if t.DockerAPI != DockerAPISSH {
		return fmt.Errorf("--docker-api %s is for the local environment only: aws nodes are reached over ssh", t.DockerAPI)
	}
	if t.Images == ImagesOffline {
		return fmt.Errorf("--images %s is for the local environment: aws nodes pull the upstream images themselves (use --images upstream)", t.Images)
	}
	if len(t.RegistryMirrors) > 0 {
		return errors.New("--registry-mirror is for the local environment: aws nodes pull from the registries themselves")
	}
	if t.AWS == nil {
		return errors.New("an aws testbed without its aws settings: give --operator-cidr")
	}
	return t.AWS.validate()
}

// ValidateRetention checks a --retention value with the parser Prometheus
// reads --storage.tsdb.retention.time with, and refuses 0, which
// Prometheus would take as its own default.
func ValidateRetention(retention string) error {
	if d, err := model.ParseDuration(retention); err != nil || d <= 0 {
		return fmt.Errorf("invalid --retention %q: use a Prometheus duration of more than 0, such as 15d, 12h or 1w (a whole number and a unit: ms, s, m, h, d, w or y; combined as in 1d12h)", retention)
	}
	return nil
}

func (a AWS) validate() error {
	if a.OperatorCIDR == "" {
		return errors.New("--operator-cidr is required with --env aws: the only network SSH, Kafka's external listener, Prometheus and Grafana will be open to, e.g. 203.0.113.7/32 for your own address")
	}
	ip, ipnet, err := net.ParseCIDR(a.OperatorCIDR)
	if err != nil || ip.To4() == nil {
		return fmt.Errorf("invalid --operator-cidr %q: use an IPv4 CIDR such as 203.0.113.7/32", a.OperatorCIDR)
	}
	if ones, _ := ipnet.Mask.Size(); ones == 0 && !a.AllowAnyOperator {
		return fmt.Errorf("--operator-cidr %s opens SSH and the testbed's UIs to the whole Internet: give your own network (e.g. 203.0.113.7/32), or add --allow-any-operator if that is really meant", a.OperatorCIDR)
	}
	if a.ExpiresAt == "" && a.ExpiresIn <= 0 {
		return fmt.Errorf("invalid --expires-in %s: use a positive duration such as 8h", a.ExpiresIn)
	}
	if err := pricing.CheckType(a.ManagerType); err != nil {
		return fmt.Errorf("--manager-type: %w", err)
	}
	if err := pricing.CheckType(a.WorkerType); err != nil {
		return fmt.Errorf("--worker-type: %w", err)
	}
	return nil
}

// CheckChange reports what asked would change of a testbed that exists
// with saved (both with their defaults set): its environment, its node
// counts, where its images come from and its aws inputs are kept from its
// making (`down` first to change them); Prometheus' retention, Grafana and
// the Docker API transport may change on a later up.
func CheckChange(name string, saved, asked Testbed) error {
	if asked.Env != saved.Env {
		return fmt.Errorf("testbed %q already exists in env %s; run `testbed down --name %s` first, or leave --env out", name, saved.Env, name)
	}
	if asked.Managers != saved.Managers || asked.Workers != saved.Workers {
		return fmt.Errorf("testbed %q already exists with %d managers and %d workers; resizing is not supported: run `testbed down --name %s` first, or leave --managers and --workers out", name, saved.Managers, saved.Workers, name)
	}
	if !slices.Equal(asked.RegistryMirrors, saved.RegistryMirrors) {
		return fmt.Errorf("testbed %q already exists with registry mirrors [%s]; its nodes keep them: run `testbed down --name %s` first, or leave --registry-mirror out", name, strings.Join(saved.RegistryMirrors, " "), name)
	}
	if asked.Images != saved.Images {
		return fmt.Errorf("testbed %q already exists with --images %s; run `testbed down --name %s` first, or leave --images out", name, saved.Images, name)
	}
	if saved.AWS == nil || asked.AWS == nil {
		return nil
	}
	s, a := *saved.AWS, *asked.AWS
	for _, f := range []struct{ flag, saved, asked string }{
		{"--region", s.Region, a.Region},
		{"--aws-endpoint", s.Endpoint, a.Endpoint},
		{"--owner", s.Owner, a.Owner},
		{"--operator-cidr", s.OperatorCIDR, a.OperatorCIDR},
		{"--allow-any-operator", fmt.Sprint(s.AllowAnyOperator), fmt.Sprint(a.AllowAnyOperator)},
		{"--manager-type", s.ManagerType, a.ManagerType},
		{"--worker-type", s.WorkerType, a.WorkerType},
		{"--ami", s.AMI, a.AMI},
	} {
		if f.asked != f.saved {
			return fmt.Errorf("testbed %q was made with %s %q, not %q; an aws testbed keeps the inputs it was made with: run `testbed down --name %s` first, or leave %s out", name, f.flag, f.saved, f.asked, name, f.flag)
		}
	}
	if a.ExpiresIn != 0 {
		return fmt.Errorf("testbed %q expires at %s, set when it was made; --expires-in applies to a new testbed: leave it out", name, s.ExpiresAt)
	}
	return nil
}
