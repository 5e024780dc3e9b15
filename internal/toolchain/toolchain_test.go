package toolchain

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSupportedTerraform(t *testing.T) {
	for v, want := range map[string]bool{
		"1.5.0": true, "1.5.7": true, "1.11.4": true, "1.6.0-beta1": true,
		"1.4.7": false, "0.15.5": false, "2.0.0": false, "1.5": false, "": false, "x.y.z": false,
	} {
		if got := supportedTerraform(v); got != want {
			t.Errorf("supportedTerraform(%q) = %v, want %v", v, got, want)
		}
	}
}

// A Terraform on PATH is used when it is a supported version and not
// when it is older; without one, the built one's path is used.
func TestTerraformOnPath(t *testing.T) {
	fake := func(version string) string {
		dir := t.TempDir()
		script := "#!/bin/sh\necho '{\"terraform_version\":\"" + version + "\",\"platform\":\"linux_amd64\"}'\n"
		if err := os.WriteFile(filepath.Join(dir, "terraform"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	cache := t.TempDir()

	t.Setenv("PATH", fake("1.11.4")+":/usr/bin:/bin")
	tc := Paths(cache)
	if !tc.TerraformOnPath || tc.TerraformVersion != "1.11.4" || !strings.HasSuffix(tc.Terraform, "/terraform") || strings.HasPrefix(tc.Terraform, cache) {
		t.Errorf("with Terraform 1.11.4 on PATH: %+v", tc)
	}
	if d := tc.Describe(); !strings.Contains(d, "terraform 1.11.4 (on PATH: ") {
		t.Errorf("Describe() = %q", d)
	}

	t.Setenv("PATH", fake("1.4.7")+":/usr/bin:/bin")
	if _, v, err := TerraformOnPath(); err == nil || v != "1.4.7" || !strings.Contains(err.Error(), "is Terraform 1.4.7: testbed uses 1.5.0 or a later 1.x") {
		t.Errorf("Terraform 1.4.7 on PATH: version %q, err %v", v, err)
	}
	tc = Paths(cache)
	if tc.TerraformOnPath || tc.TerraformVersion != TerraformVersion || !strings.HasPrefix(tc.Terraform, cache) {
		t.Errorf("with Terraform 1.4.7 on PATH: %+v, want the built %s", tc, TerraformVersion)
	}

	t.Setenv("PATH", t.TempDir())
	if tc = Paths(cache); tc.TerraformOnPath {
		t.Errorf("with no Terraform on PATH: %+v", tc)
	}
}

// The CLI config takes the built providers from the mirror alone, and
// those left to the registry from it alone.
func TestCLIConfig(t *testing.T) {
	tc := Toolchain{MirrorDir: "/c/terraform-providers"}
	got := tc.cliConfig()
	if !strings.Contains(got, `path    = "/c/terraform-providers"`) || strings.Contains(got, "direct") || strings.Contains(got, "exclude") {
		t.Errorf("mirror only:\n%s", got)
	}
	tc.RegistryProviders = []string{awsProviderAddr}
	got = tc.cliConfig()
	for _, want := range []string{
		`exclude = ["registry.terraform.io/hashicorp/aws"]`,
		"direct {\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("aws from the registry: config lacks %q:\n%s", want, got)
		}
	}
	if d := tc.Describe(); !strings.Contains(d, "kreuzwerker/docker "+DockerProviderVersion+" (built)") {
		t.Errorf("Describe() = %q", d)
	}
}

func TestRegistryAnswers(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"versions":[]}`)) }))
	defer up.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) }))
	defer down.Close()
	defer func(u string) { registryURL = u }(registryURL)
	for url, want := range map[string]bool{up.URL: true, down.URL: false, "http://127.0.0.1:1/": false} {
		registryURL = url
		if got := RegistryAnswers(context.Background()); got != want {
			t.Errorf("RegistryAnswers(%s) = %v, want %v", url, got, want)
		}
	}
}
