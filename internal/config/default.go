package config

import (
	"os"
	"os/user"
	"time"

	"github.com/alert-testbed/testbed/internal/topology"
)

// The defaults, in one place. The shape is DMTN-028's (3 managers, 10
// workers); the aws instance types are DMTN-028's too.
const (
	DefaultEnv      = topology.EnvLocal
	DefaultManagers = 3
	DefaultWorkers  = 10
	// DefaultRetention is Prometheus' own default retention.
	DefaultRetention = "15d"
	// DefaultLocalImages is where a local testbed's images come from.
	DefaultLocalImages = ImagesAuto

	DefaultRegion      = "us-east-1"
	DefaultManagerType = "m4.16xlarge"
	DefaultWorkerType  = "m4.4xlarge"
	// DefaultExpiresIn bounds what a forgotten aws testbed costs: one
	// working day.
	DefaultExpiresIn = 8 * time.Hour
)

// Default is the configuration of a new testbed before any flag: the
// environment-independent defaults. SetDefaults fills in the rest once
// the environment is known.
func Default() Testbed {
	return Testbed{Env: DefaultEnv, Managers: DefaultManagers, Workers: DefaultWorkers, Retention: DefaultRetention}
}

// SetDefaults fills in what t leaves empty, by its environment: on local,
// images DefaultLocalImages and the Docker API over unix sockets; on aws,
// upstream images (the instances pull them), the Docker API over SSH and
// the AWS defaults (region, DMTN-028's instance types, 8 h expiry, owner
// USER@HOST).
func SetDefaults(t *Testbed) {
	if t.Env == "" {
		t.Env = DefaultEnv
	}
	if t.Retention == "" {
		t.Retention = DefaultRetention
	}
	switch t.Env {
	case topology.EnvAWS:
		if t.Images == "" {
			t.Images = ImagesUpstream
		}
		if t.DockerAPI == "" {
			t.DockerAPI = DockerAPISSH
		}
		if t.AWS == nil {
			t.AWS = &AWS{}
		}
		setAWSDefaults(t.AWS)
	default:
		if t.Images == "" {
			t.Images = DefaultLocalImages
		}
		if t.DockerAPI == "" {
			t.DockerAPI = DockerAPIUnix
		}
	}
}

func setAWSDefaults(a *AWS) {
	if a.Region == "" {
		a.Region = DefaultRegion
	}
	if a.ManagerType == "" {
		a.ManagerType = DefaultManagerType
	}
	if a.WorkerType == "" {
		a.WorkerType = DefaultWorkerType
	}
	if a.ExpiresIn == 0 && a.ExpiresAt == "" {
		a.ExpiresIn = DefaultExpiresIn
	}
	if a.Owner == "" {
		if u, err := user.Current(); err == nil {
			host, _ := os.Hostname()
			a.Owner = u.Username + "@" + host
		}
	}
}
