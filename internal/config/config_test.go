package config

import (
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/topology"
)

// The defaults come from one place and depend on the environment only
// where the environment makes them differ.
func TestSetDefaultsByEnvironment(t *testing.T) {
	local := Default()
	SetDefaults(&local)
	want := Testbed{Env: "local", Managers: 3, Workers: 10, Images: DefaultLocalImages, DockerAPI: "unix", Retention: "15d"}
	if local.Env != want.Env || local.Managers != 3 || local.Workers != 10 || local.Images != want.Images ||
		local.DockerAPI != "unix" || local.Retention != "15d" || local.AWS != nil {
		t.Errorf("local defaults %+v, want %+v", local, want)
	}
	if err := local.Validate("tb"); err != nil {
		t.Errorf("the local defaults do not validate: %v", err)
	}

	aws := Default()
	aws.Env = topology.EnvAWS
	aws.AWS = &AWS{OperatorCIDR: "203.0.113.7/32", Owner: "ops"}
	SetDefaults(&aws)
	if aws.Images != ImagesUpstream || aws.DockerAPI != DockerAPISSH {
		t.Errorf("aws images %q, docker api %q; want upstream, ssh", aws.Images, aws.DockerAPI)
	}
	wantAWS := AWS{Region: "us-east-1", Owner: "ops", OperatorCIDR: "203.0.113.7/32", ExpiresIn: 8 * time.Hour,
		ManagerType: "m4.16xlarge", WorkerType: "m4.4xlarge"}
	if *aws.AWS != wantAWS {
		t.Errorf("aws defaults %+v, want %+v", *aws.AWS, wantAWS)
	}
	if err := aws.Validate("tb"); err != nil {
		t.Errorf("the aws defaults with an operator CIDR do not validate: %v", err)
	}
	// What is set stays.
	set := Testbed{Env: "local", Images: ImagesUpstream, DockerAPI: DockerAPISSH, Retention: "1d"}
	SetDefaults(&set)
	if set.Images != ImagesUpstream || set.DockerAPI != DockerAPISSH || set.Retention != "1d" {
		t.Errorf("SetDefaults overwrote what was set: %+v", set)
	}
}

// Every invalid configuration is refused with the flag that sets it and
// what to give instead.
func TestValidateRefusals(t *testing.T) {
	aws := func(f func(*AWS)) Testbed {
		a := AWS{OperatorCIDR: "10.0.0.1/32", Owner: "ops"}
		f(&a)
		t := Testbed{Env: topology.EnvAWS, Managers: 3, Workers: 10, AWS: &a}
		SetDefaults(&t)
		return t
	}
	local := func(f func(*Testbed)) Testbed {
		t := Default()
		f(&t)
		SetDefaults(&t)
		return t
	}
	for _, c := range []struct {
		t    Testbed
		want string
	}{
		{local(func(t *Testbed) { t.Managers = 4 }), "invalid --managers 4"},
		{local(func(t *Testbed) { t.Workers = -1 }), "invalid --workers -1"},
		{local(func(t *Testbed) { t.Env = "gcp" }), `unknown --env "gcp"`},
		{local(func(t *Testbed) { t.Images = "foo" }), `unknown --images "foo"`},
		{local(func(t *Testbed) { t.DockerAPI = "tcp" }), `unknown --docker-api "tcp"`},
		{local(func(t *Testbed) { t.Retention = "0s" }), `invalid --retention "0s"`},
		{local(func(t *Testbed) { t.Retention = "1.5d" }), `invalid --retention "1.5d"`},
		{local(func(t *Testbed) { t.AWS = &AWS{} }), "the aws flags need --env aws"},
		{aws(func(a *AWS) { a.OperatorCIDR = "" }), "--operator-cidr is required"},
		{aws(func(a *AWS) { a.OperatorCIDR = "0.0.0.0/0" }), "opens SSH and the testbed's UIs to the whole Internet"},
		{aws(func(a *AWS) { a.OperatorCIDR = "2001:db8::/32" }), "use an IPv4 CIDR"},
		{aws(func(a *AWS) { a.ExpiresIn = -time.Hour }), "invalid --expires-in -1h0m0s"},
		{aws(func(a *AWS) { a.ManagerType = "m4.huge" }), `--manager-type: instance type "m4.huge" is not in the price table`},
		{aws(func(a *AWS) { a.WorkerType = "t9.nano" }), `--worker-type: instance type "t9.nano" is not in the price table`},
	} {
		if err := c.t.Validate("tb"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.t, err, c.want)
		}
	}
	ok := aws(func(a *AWS) { a.OperatorCIDR = "0.0.0.0/0"; a.AllowAnyOperator = true })
	if err := ok.Validate("tb"); err != nil {
		t.Errorf("0.0.0.0/0 with --allow-any-operator: %v", err)
	}
	for _, c := range []struct {
		f    func(*Testbed)
		want string
	}{
		{func(t *Testbed) { t.DockerAPI = DockerAPIUnix }, "--docker-api unix is for the local environment only"},
		{func(t *Testbed) { t.Images = ImagesOffline }, "--images offline is for the local environment"},
	} {
		tb := aws(func(*AWS) {})
		c.f(&tb)
		if err := tb.Validate("tb"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", tb, err, c.want)
		}
	}
}

// A testbed keeps its shape, image source and aws inputs; retention,
// Grafana and the Docker API transport may change.
func TestCheckChange(t *testing.T) {
	saved := Default()
	SetDefaults(&saved)
	for _, c := range []struct {
		f    func(*Testbed)
		want string
	}{
		{func(t *Testbed) { t.Env = topology.EnvAWS }, `testbed "tb" already exists in env local`},
		{func(t *Testbed) { t.Workers = 2 }, "already exists with 3 managers and 10 workers; resizing is not supported"},
		{func(t *Testbed) { t.Images = ImagesUpstream }, "already exists with --images " + saved.Images},
		{func(t *Testbed) { t.Retention = "1d"; t.GrafanaImage = "g:1"; t.DockerAPI = DockerAPISSH }, ""},
	} {
		asked := saved
		c.f(&asked)
		err := CheckChange("tb", saved, asked)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", asked, err, c.want)
		}
	}
	savedAWS := Testbed{Env: topology.EnvAWS, Managers: 3, Workers: 10, AWS: &AWS{OperatorCIDR: "10.0.0.1/32", ExpiresAt: "2026-11-27T20:00:00Z"}}
	SetDefaults(&savedAWS)
	for _, c := range []struct {
		f    func(*AWS)
		want string
	}{
		{func(a *AWS) { a.Region = "eu-west-1" }, `was made with --region "us-east-1", not "eu-west-1"`},
		{func(a *AWS) { a.WorkerType = "m5.large" }, `--worker-type "m4.4xlarge", not "m5.large"`},
		{func(a *AWS) { a.ExpiresIn = time.Hour }, "expires at 2026-11-27T20:00:00Z, set when it was made"},
		{func(*AWS) {}, ""},
	} {
		a := *savedAWS.AWS
		c.f(&a)
		asked := savedAWS
		asked.AWS = &a
		err := CheckChange("tb", savedAWS, asked)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", a, err, c.want)
		}
	}
}

// Grafana is the image to deploy, or "" for none.
func TestGrafana(t *testing.T) {
	for image, want := range map[string]string{GrafanaAuto: "", GrafanaNone: "", "grafana/grafana-oss:12.2.1": "grafana/grafana-oss:12.2.1"} {
		if got := (Testbed{GrafanaImage: image}).Grafana(); got != want {
			t.Errorf("GrafanaImage %q: Grafana() = %q, want %q", image, got, want)
		}
	}
}
