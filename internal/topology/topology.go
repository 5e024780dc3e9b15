// Package topology holds what a user asks for when standing up a testbed:
// its name, the environment it lives in and how many swarm nodes it has.
// Defaults and validation are kept apart (kind's config style): Default
// fills in, Validate says what is wrong in the words a user sees.
package topology

import (
	"fmt"
	"regexp"
)

// Environments the orchestrator knows how to stand up.
const (
	EnvLocal = "local"
	EnvAWS   = "aws"
)

// Limits on the shape of a testbed. Swarm managers run Raft: an even count
// adds a member without adding fault tolerance, and more than 7 managers
// slows every write for nothing. The Kafka stack places one broker per
// manager on the first three managers, so a 3-broker cluster needs 3.
const (
	MaxManagers = 7
	MaxWorkers  = 100
	// BrokerCount is the number of Kafka brokers the kafka stack runs.
	BrokerCount = 3
)

// Topology is the requested shape of one testbed.
type Topology struct {
	Name     string
	Env      string
	Managers int
	Workers  int
}

// Default returns the DMTN-028 shape: 3 managers and 10 workers on the
// local environment, named "testbed".
func Default() Topology {
	return Topology{Name: "testbed", Env: EnvLocal, Managers: 3, Workers: 10}
}

// nameRE admits names that are valid as Docker container, network and
// volume name prefixes, as swarm hostnames and as Terraform values. The
// length bound keeps the node sockets' paths short enough for AF_UNIX.
var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,18}[a-z0-9]$`)

// Validate reports the first thing that makes t impossible to build, in a
// sentence that says what is allowed.
func (t Topology) Validate() error {
	if !nameRE.MatchString(t.Name) {
		return fmt.Errorf("invalid --name %q: use 2 to 20 characters, lower-case letters, digits and '-', starting with a letter and not ending with '-'", t.Name)
	}
	switch t.Env {
	case EnvLocal:
	case EnvAWS:
	default:
		return fmt.Errorf("unknown --env %q: use \"local\" or \"aws\"", t.Env)
	}
	if t.Managers < 1 || t.Managers > MaxManagers {
		return fmt.Errorf("invalid --managers %d: use an odd number from 1 to %d", t.Managers, MaxManagers)
	}
	if t.Managers%2 == 0 {
		return fmt.Errorf("invalid --managers %d: a swarm needs an odd number of managers to keep a Raft majority; use %d or %d", t.Managers, t.Managers-1, t.Managers+1)
	}
	if t.Managers < BrokerCount {
		return fmt.Errorf("invalid --managers %d: the Kafka stack runs %d brokers, one per manager; use at least %d managers", t.Managers, BrokerCount, BrokerCount)
	}
	if t.Workers < 0 || t.Workers > MaxWorkers {
		return fmt.Errorf("invalid --workers %d: use a number from 0 to %d", t.Workers, MaxWorkers)
	}
	return nil
}

// NodeNames are the nodes' names, managers first, as every environment's
// Terraform module names them (NAME-manager-I, NAME-worker-I).
func (t Topology) NodeNames() []string {
	var out []string
	for i := 1; i <= t.Managers; i++ {
		out = append(out, fmt.Sprintf("%s-manager-%d", t.Name, i))
	}
	for i := 1; i <= t.Workers; i++ {
		out = append(out, fmt.Sprintf("%s-worker-%d", t.Name, i))
	}
	return out
}

// NodeCount is the number of swarm nodes in the testbed.
func (t Topology) NodeCount() int { return t.Managers + t.Workers }
