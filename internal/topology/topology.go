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
	// MinManagers is BrokerCount: one broker on each of the first managers.
	MinManagers = BrokerCount
	MaxWorkers  = 100
	// BrokerCount is the number of Kafka brokers the kafka stack runs.
	BrokerCount = 3
)

// KafkaStack is the swarm stack the brokers run in (swarm/kafka.yml, one
// service per broker: kafka-1 … kafka-BrokerCount).
const KafkaStack = "kafka"

// BrokerServicePrefix begins every broker's swarm service name, the name
// Docker gives a stack's service: "kafka_kafka-".
const BrokerServicePrefix = KafkaStack + "_kafka-"

// BrokerServiceName is the swarm service of broker i (1-based):
// "kafka_kafka-1".
func BrokerServiceName(i int) string { return fmt.Sprintf("%s%d", BrokerServicePrefix, i) }

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
// volume name prefixes, as swarm hostnames and as Terraform values: the
// same rule as the name variable of terraform/local and terraform/aws. The
// length bound keeps the node sockets' paths short enough for AF_UNIX. A
// valid name is also a single path element that is neither "." nor "..",
// so TESTBED_HOME/testbeds/NAME is always a folder inside testbeds/.
var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,18}[a-z0-9]$`)

// ValidateName reports whether name can be a testbed's name. Every command
// that takes --name calls it before it contacts or creates anything.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("invalid --name %q: use 2 to 20 characters, lower-case letters, digits and '-', starting with a letter and not ending with '-'", name)
	}
	return nil
}

// Validate reports the first thing that makes t impossible to build, in a
// sentence that says what is allowed.
func (t Topology) Validate() error {
	if err := ValidateName(t.Name); err != nil {
		return err
	}
	switch t.Env {
	case EnvLocal:
	case EnvAWS:
	default:
		return fmt.Errorf("unknown --env %q: use \"local\" or \"aws\"", t.Env)
	}
	// Every managers message ends with the same allowed values.
	allowed := fmt.Sprintf("use an odd number from %d to %d", MinManagers, MaxManagers)
	switch {
	case t.Managers < MinManagers:
		return fmt.Errorf("invalid --managers %d: the Kafka stack runs %d brokers, one per manager; %s", t.Managers, BrokerCount, allowed)
	case t.Managers > MaxManagers:
		return fmt.Errorf("invalid --managers %d: more than %d managers slow every swarm write and add no fault tolerance the testbed needs; %s", t.Managers, MaxManagers, allowed)
	case t.Managers%2 == 0:
		return fmt.Errorf("invalid --managers %d: a swarm needs an odd number of managers to keep a Raft majority; %s (%d or %d)", t.Managers, allowed, t.Managers-1, t.Managers+1)
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
