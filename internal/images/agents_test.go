package images

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindCheckout(t *testing.T) {
	root, err := FindCheckout(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "agents", "cmd", "alert-producer")); err != nil {
		t.Fatalf("checkout root %s has no agents: %v", root, err)
	}
	if _, err := FindCheckout(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is not inside a checkout of github.com/alert-testbed/testbed") {
		t.Fatalf("outside a checkout: %v", err)
	}
}

// The agents image holds the three programs, and they start in it.
func TestAgentsImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agents image with the Docker Engine; not in -short (make unit)")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Fatalf("this test needs a running Docker Engine (make setup starts one): %v %s", err, out)
	}
	root, err := FindCheckout(".")
	if err != nil {
		t.Fatal(err)
	}
	b, closer, err := NewBuilder(filepath.Join(root, ".testbed", "cache"))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	r, err := b.EnsureAgents(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Image.Ref, "testbed/agents:") || !r.Image.Pushed {
		t.Fatalf("image %+v", r.Image)
	}
	for _, prog := range []string{"alert-producer", "alert-consumer", "alert-filter"} {
		out, err := exec.Command("docker", "run", "--rm", r.Image.Ref, "/bin/"+prog, "--help").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "NAME:\n   "+prog) {
			t.Errorf("%s --help in the image: %v\n%s", prog, err, out)
		}
	}
	again, err := b.EnsureAgents(context.Background(), root)
	if err != nil || again.Built || again.Image.Ref != r.Image.Ref {
		t.Fatalf("second EnsureAgents rebuilt or changed the image: %+v %v", again, err)
	}
}
