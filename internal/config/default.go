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
	// DefaultLocalNetworkMTU is the local nodes' network MTU: jumbo frames.
	// All of a local testbed's traffic crosses one host's kernel several
	// times (producer to leader, leader to followers, leader to consumers),
	// each packet VXLAN-encapsulated; at Docker's 1,500 bytes the kernel's
	// per-packet work took half of the 2 cores during an LSST visit. The
	// figures are in the README ("Where an LSST visit's time goes").
	DefaultLocalNetworkMTU = 9000
	// DockerNetworkMTU is Docker's default MTU of a bridge network, what
	// local testbeds made before NetworkMTU was saved have.
	DockerNetworkMTU = 1500
	// MinNetworkMTU and MaxNetworkMTU bound --network-mtu: Docker's default
	// up to the usual jumbo frame.
	MinNetworkMTU = DockerNetworkMTU
	MaxNetworkMTU = 9000
	// OverlayOverhead is what VXLAN adds to each overlay packet (outer
	// Ethernet 14, IP 20, UDP 8, VXLAN 8 bytes): the overlay's MTU is the
	// underlying network's less this, as Docker's own 1,450 is 1,500's.
	OverlayOverhead = 50

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
// images DefaultLocalImages, the Docker API over unix sockets and a
// network MTU of DefaultLocalNetworkMTU; on aws,
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
		if t.NetworkMTU == 0 {
			t.NetworkMTU = DefaultLocalNetworkMTU
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
