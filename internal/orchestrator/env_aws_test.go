package orchestrator

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/config"
	"github.com/alert-testbed/testbed/internal/topology"
	"github.com/alert-testbed/testbed/internal/workspace"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestCostOfTheDefaultTopology(t *testing.T) {
	top := topology.Topology{Name: "tb", Env: topology.EnvAWS, Managers: 3, Workers: 10}
	s := config.AWS{Region: "us-east-1", ExpiresAt: "2026-11-27T20:00:00Z", ManagerType: "m4.16xlarge", WorkerType: "m4.4xlarge"}
	e, err := estimate(top, s)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printCost(&out, top, s, e, now)
	// 3 x 3.20 + 10 x 0.80 = 17.60; gp3 (13 x 40 + 3 x 500 + 10 x 50 GB =
	// 2520 GB at 0.08/GB-month over 730 h) 0.2762; 13 x 0.005 IPv4 0.065.
	for _, want := range []string{
		"Cost (on-demand, us-east-1, table of 2026-06):",
		"3 x m4.16xlarge  $9.60/h", "10 x m4.4xlarge  $8.00/h",
		"$0.28/h", "13 public IPv4 addresses  $0.07/h", "hourly: $17.94",
		"until the expiry tag (2026-11-27T20:00:00Z, in 8h0m0s): $143.53",
		"per run (estimated: 35 min up, 10 LSST visits, down): $10.47",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("cost lacks %q:\n%s", want, out.String())
		}
	}
}

func TestConfirm(t *testing.T) {
	for in, ok := range map[string]bool{"y\n": true, "YES\n": true, "n\n": false, "\n": false, "": false, "yes please\n": false} {
		var out bytes.Buffer
		err := confirm(strings.NewReader(in), &out, "Create?")
		if (err == nil) != ok {
			t.Errorf("answer %q: %v, want confirmed=%v", in, err, ok)
		}
		if out.String() != "Create? [y/N] " {
			t.Errorf("question %q", out.String())
		}
	}
}

func TestLifetime(t *testing.T) {
	s := workspace.Settings{CreatedAt: "2026-11-27T10:00:00Z", Testbed: config.Testbed{AWS: &config.AWS{ExpiresAt: "2026-11-27T18:00:00Z"}}}
	if got, want := lifetime(s, now), "Lifetime: age 2h0m0s (made 2026-11-27T10:00:00Z), expires in 6h0m0s (expiry tag 2026-11-27T18:00:00Z)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := lifetime(s, now.Add(7*time.Hour)); !strings.Contains(got, "EXPIRED 1h0m0s ago") {
		t.Errorf("after expiry: %q", got)
	}
	if got := lifetime(workspace.Settings{}, now); got != "" {
		t.Errorf("nothing known: %q", got)
	}
}
