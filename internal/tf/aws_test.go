package tf

import (
	"context"
	"testing"

	"github.com/alert-testbed/testbed/internal/toolchain"
)

// awsModule builds the hashicorp/aws provider if missing (about 25 minutes
// and 12 GB of memory on a fresh machine; cached in .testbed/cache) and
// prepares terraform/aws in a scratch testbed folder.
func awsModule(t *testing.T) (*Module, toolchain.Toolchain) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the hashicorp/aws provider; not in -short")
	}
	tc, err := toolchain.EnsureAWS(context.Background(), cacheDir(t))
	if err != nil {
		t.Fatalf("toolchain: %v", err)
	}
	return prepared(t, tc, "aws"), tc
}

func TestAWSModuleIsFormattedAndValid(t *testing.T) {
	m, tc := awsModule(t)
	checkFormattedAndValid(t, m, tc)
}

// Bad input is refused by terraform plan before anything is created. The
// plan runs against an endpoint nothing listens on: with an AMI given, a
// plan of this module makes no AWS API call, so every error below is the
// module's own.
func TestAWSModuleRejectsBadVariables(t *testing.T) {
	m, _ := awsModule(t)
	good := Vars{"name": "tb", "owner": "ops@example.org", "expires_at": "2026-11-23T18:00:00Z",
		"operator_cidr": "203.0.113.7/32", "ssh_public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 op",
		"ami_id": "ami-0123456789abcdef0", "aws_endpoint": "http://127.0.0.1:1"}
	if _, err := m.tf.Plan(context.Background(), planOpts(t, m, good)...); err != nil {
		t.Fatalf("the good variables: %v", err)
	}
	checkRejected(t, m, good, []rejection{
		{"operator_cidr", "0.0.0.0/0", "operator_cidr 0.0.0.0/0 opens SSH, Kafka, Prometheus and Grafana to the whole Internet"},
		{"operator_cidr", "my laptop", "Use an IPv4 CIDR such as 203.0.113.7/32."},
		{"operator_cidr", nil, `The root module input variable "operator_cidr" is not set`},
		{"manager_count", 4, "A swarm needs an odd number of managers to keep a Raft majority, and Kafka 3: use 3, 5 or 7."},
		{"manager_count", 1, "A swarm needs an odd number of managers"},
		{"worker_count", 101, "Use a whole number from 0 to 100."},
		{"name", "Bad_Name", "Use 2 to 20 characters"},
		{"expires_at", "tomorrow", "Use an RFC 3339 time"},
		{"ssh_public_key", "hunter2", "Use an OpenSSH public key line"},
		{"ami_id", "ubuntu", "Use an AMI id"},
	})
	// 0.0.0.0/0 with the explicit override is accepted.
	vars := Vars{"operator_cidr": "0.0.0.0/0", "allow_any_operator": true}
	for k, v := range good {
		if _, ok := vars[k]; !ok {
			vars[k] = v
		}
	}
	if _, err := m.tf.Plan(context.Background(), planOpts(t, m, vars)...); err != nil {
		t.Errorf("0.0.0.0/0 with allow_any_operator: %v", err)
	}
}
