package topology

import (
	"fmt"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("default topology rejected: %v", err)
	}
	if d.Managers != 3 || d.Workers != 10 || d.Env != EnvLocal || d.Name != "testbed" {
		t.Fatalf("default topology is %+v, want testbed/local with 3 managers and 10 workers", d)
	}
}

func TestValidateErrors(t *testing.T) {
	ok := Default()
	cases := []struct {
		name   string
		mutate func(*Topology)
		want   string
	}{
		{"even managers", func(t *Topology) { t.Managers = 4 }, "invalid --managers 4: a swarm needs an odd number of managers to keep a Raft majority; use an odd number from 3 to 7 (3 or 5)"},
		{"six managers", func(t *Topology) { t.Managers = 6 }, "invalid --managers 6: a swarm needs an odd number of managers to keep a Raft majority; use an odd number from 3 to 7 (5 or 7)"},
		{"two managers", func(t *Topology) { t.Managers = 2 }, "invalid --managers 2: the Kafka stack runs 3 brokers, one per manager; use an odd number from 3 to 7"},
		{"zero managers", func(t *Topology) { t.Managers = 0 }, "invalid --managers 0: the Kafka stack runs 3 brokers, one per manager; use an odd number from 3 to 7"},
		{"too many managers", func(t *Topology) { t.Managers = 9 }, "invalid --managers 9: more than 7 managers slow every swarm write and add no fault tolerance the testbed needs; use an odd number from 3 to 7"},
		{"even and too many managers", func(t *Topology) { t.Managers = 8 }, "invalid --managers 8: more than 7 managers slow every swarm write and add no fault tolerance the testbed needs; use an odd number from 3 to 7"},
		{"one manager", func(t *Topology) { t.Managers = 1 }, "invalid --managers 1: the Kafka stack runs 3 brokers, one per manager; use an odd number from 3 to 7"},
		{"negative workers", func(t *Topology) { t.Workers = -1 }, "invalid --workers -1: use a number from 0 to 100"},
		{"too many workers", func(t *Topology) { t.Workers = 101 }, "invalid --workers 101: use a number from 0 to 100"},
		{"upper-case name", func(t *Topology) { t.Name = "Testbed" }, `invalid --name "Testbed": use 2 to 20 characters, lower-case letters, digits and '-', starting with a letter and not ending with '-'`},
		{"name with underscore", func(t *Topology) { t.Name = "my_bed" }, `invalid --name "my_bed": use 2 to 20 characters, lower-case letters, digits and '-', starting with a letter and not ending with '-'`},
		{"name ending in dash", func(t *Topology) { t.Name = "bed-" }, `invalid --name "bed-": use 2 to 20 characters, lower-case letters, digits and '-', starting with a letter and not ending with '-'`},
		{"name too long", func(t *Topology) { t.Name = "abcdefghijklmnopqrstu" }, `invalid --name "abcdefghijklmnopqrstu": use 2 to 20 characters, lower-case letters, digits and '-', starting with a letter and not ending with '-'`},
		{"unknown env", func(t *Topology) { t.Env = "gcp" }, `unknown --env "gcp": use "local" or "aws"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			top := ok
			c.mutate(&top)
			err := top.Validate()
			if err == nil {
				t.Fatalf("%+v accepted, want error %q", top, c.want)
			}
			if err.Error() != c.want {
				t.Fatalf("error\n got: %s\nwant: %s", err, c.want)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	for _, top := range []Topology{
		{Name: "tb", Env: EnvLocal, Managers: 3, Workers: 0},
		{Name: "ci-3x2", Env: EnvLocal, Managers: 3, Workers: 2},
		{Name: "big", Env: EnvLocal, Managers: 7, Workers: 100},
	} {
		if err := top.Validate(); err != nil {
			t.Errorf("%+v rejected: %v", top, err)
		}
	}
}

// ValidateName is the one testbed name rule: terraform/local's and
// terraform/aws's, which also keeps TESTBED_HOME/testbeds/NAME inside
// testbeds/.
func TestValidateName(t *testing.T) {
	const rule = ": use 2 to 20 characters, lower-case letters, digits and '-', starting with a letter and not ending with '-'"
	for _, name := range []string{"", ".", "..", "a", "A", "-x", "x-", "a/b", "../x", "a.b", "a_b", "Testbed", "1bed", "bed\n", "abcdefghijklmnopqrstu", strings.Repeat("a", 64)} {
		err := ValidateName(name)
		if err == nil {
			t.Errorf("name %q accepted", name)
			continue
		}
		if want := fmt.Sprintf("invalid --name %q", name) + rule; err.Error() != want {
			t.Errorf("name %q: error\n got: %s\nwant: %s", name, err, want)
		}
	}
	for _, name := range []string{"tb", "testbed", "ci-3x2", "a-b", "abcdefghijklmnopqrst"} {
		if err := ValidateName(name); err != nil {
			t.Errorf("name %q rejected: %v", name, err)
		}
	}
}
