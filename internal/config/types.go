// Package config holds what `testbed up` is asked for one testbed: its
// shape (environment, managers, workers), where its images come from, how
// its nodes' Docker APIs are reached, Prometheus' retention, Grafana and
// the aws environment's inputs. As in kind's apis/config, the types
// (types.go), their defaults (default.go) and their validation
// (validate.go) are kept apart: a Testbed is the saved settings of a
// testbed (workspace.Settings embeds it), the flags a user set override it,
// and the CLI takes its defaults and help from here.
package config

import (
	"time"

	"github.com/alert-testbed/testbed/internal/topology"
)

// Testbed is the configuration of one testbed, as saved in its
// settings.json (the JSON names are the file's keys). The testbed's name
// is not part of it: it names the folder the settings live in.
type Testbed struct {
	// Env is the environment: topology.EnvLocal or topology.EnvAWS.
	Env string `json:"env"`
	// Managers and Workers are the swarm's node counts (topology's limits).
	Managers int `json:"managers"`
	Workers  int `json:"workers"`
	// Images is where the stacks' images come from: ImagesAuto (decided
	// per image when the testbed is made; the choice is kept in its
	// settings), ImagesOffline or ImagesUpstream.
	Images string `json:"images,omitempty"`
	// DockerAPI is how the nodes' Docker APIs are reached: DockerAPIUnix
	// (local only) or DockerAPISSH.
	DockerAPI string `json:"docker_api,omitempty"`
	// Retention is how long Prometheus keeps samples, a Prometheus duration
	// (its --storage.tsdb.retention.time).
	Retention string `json:"retention,omitempty"`
	// GrafanaImage is the Grafana image the nodes pull: GrafanaAuto
	// (images.Grafana where it can be had; resolved when the testbed is
	// made, and saved resolved), GrafanaNone, or an image reference.
	GrafanaImage string `json:"grafana_image,omitempty"`
	// RegistryMirrors are the registry mirrors (URLs, as dockerd's
	// --registry-mirror takes them) the local nodes pull Docker Hub's
	// images through, and that ImagesAuto looks the upstream images up on.
	RegistryMirrors []string `json:"registry_mirrors,omitempty"`
	// AWS holds the aws environment's inputs; nil on local.
	AWS *AWS `json:"aws,omitempty"`
}

// Topology is the testbed's shape under a name.
func (t Testbed) Topology(name string) topology.Topology {
	return topology.Topology{Name: name, Env: t.Env, Managers: t.Managers, Workers: t.Workers}
}

// Where the stacks' images come from (Testbed.Images).
const (
	// ImagesAuto: each stack image from upstream where the nodes can pull
	// it (from Docker Hub, or a registry mirror), built here otherwise;
	// decided once, when the testbed is made.
	ImagesAuto = "auto"
	// ImagesOffline: built here from package registries and pushed to the
	// testbed's registry.
	ImagesOffline = "offline"
	// ImagesUpstream: the nodes pull the upstream images from Docker Hub.
	ImagesUpstream = "upstream"
)

// Grafana is the Grafana image the testbed deploys: GrafanaImage once
// resolved, "" for none (GrafanaNone, or GrafanaAuto not resolved to an
// image).
func (t Testbed) Grafana() string {
	if t.GrafanaImage == GrafanaNone {
		return ""
	}
	return t.GrafanaImage
}

// Grafana choices (Testbed.GrafanaImage) other than an image reference.
const (
	GrafanaAuto = ""     // images.Grafana where it can be had, else none
	GrafanaNone = "none" // no Grafana
)

// Transports to the nodes' Docker APIs (Testbed.DockerAPI).
const (
	DockerAPIUnix = "unix" // a socket per node in the workspace (local only)
	DockerAPISSH  = "ssh"  // over SSH, host keys checked (aws; local on request)
)

// AWS are the inputs of terraform/aws that a testbed is made with, which
// `down` must give Terraform again.
type AWS struct {
	Region string `json:"region"`
	// Endpoint points every AWS API call (Terraform's and the
	// orchestrator's) at an emulator such as moto; "": AWS itself.
	Endpoint string `json:"endpoint,omitempty"`
	// Owner answers for the testbed; tagged on every resource.
	Owner string `json:"owner"`
	// ExpiresIn is how long from its making the testbed may live; it sets
	// ExpiresAt when the testbed is made and is not saved.
	ExpiresIn time.Duration `json:"-"`
	// ExpiresAt is the expiry tag, RFC 3339 in UTC.
	ExpiresAt string `json:"expires_at"`
	// OperatorCIDR is the only network SSH, Kafka's external listener,
	// Prometheus and Grafana are open to (IPv4).
	OperatorCIDR     string `json:"operator_cidr"`
	AllowAnyOperator bool   `json:"allow_any_operator,omitempty"`
	ManagerType      string `json:"manager_instance_type"`
	WorkerType       string `json:"worker_instance_type"`
	// AMI overrides the Debian 12 image looked up by filter.
	AMI string `json:"ami,omitempty"`
}
