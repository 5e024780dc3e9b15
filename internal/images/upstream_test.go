package images

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDockerHubRepo(t *testing.T) {
	for ref, want := range map[string][3]string{
		"apache/kafka:4.3.1":               {"apache/kafka", "4.3.1", "hub"},
		"busybox":                          {"library/busybox", "latest", "hub"},
		"grafana/grafana-oss:12.2.1":       {"grafana/grafana-oss", "12.2.1", "hub"},
		"gcr.io/cadvisor/cadvisor:v0.53.0": {"gcr.io/cadvisor/cadvisor", "v0.53.0", ""},
		"localhost/x:1":                    {"localhost/x", "1", ""},
		"10.0.0.5:5000/x:1":                {"10.0.0.5:5000/x", "1", ""},
		"10.0.0.5:5000/x":                  {"10.0.0.5:5000/x", "latest", ""},
	} {
		repo, tag, hub := dockerHubRepo(ref)
		if want[2] == "" && hub || want[2] != "" && (!hub || repo != want[0] || tag != want[1]) {
			t.Errorf("dockerHubRepo(%q) = %q %q %v, want %v", ref, repo, tag, hub, want)
		}
	}
}

// A Docker Hub image is found on a mirror by the registry API; one the
// mirror lacks is not, and the reason names the mirror. (The real mirror,
// the testbed's own registry, is used by cmd/testbed's local end-to-end
// test.)
func TestAvailableOnAMirror(t *testing.T) {
	var asked []string
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.Method+" "+r.URL.Path)
		if r.URL.Path == "/v2/apache/kafka/manifests/"+KafkaVersion && strings.Contains(r.Header.Get("Accept"), "application/vnd.oci.image.index.v1+json") {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer mirror.Close()
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock") // Docker Hub itself is not asked here
	got := Available(context.Background(), []string{Upstream["kafka"], Upstream["prometheus"]}, []string{mirror.URL + "/"})
	if err := got[Upstream["kafka"]]; err != nil {
		t.Errorf("%s on the mirror: %v", Upstream["kafka"], err)
	}
	err := got[Upstream["prometheus"]]
	if err == nil || !strings.Contains(err.Error(), "mirror "+mirror.URL+"/ has no prom/prometheus:v3.15.0 (404 Not Found)") {
		t.Errorf("%s, which the mirror lacks: %v", Upstream["prometheus"], err)
	}
	if len(asked) != 2 {
		t.Errorf("the mirror was asked %v, want once per image", asked)
	}
}

// StackNames, Upstream's keys and the planned stack images name the same
// images, in Set.Stack's order.
func TestStackNames(t *testing.T) {
	stack := Planned().Stack()
	if len(stack) != len(StackNames) || len(Upstream) != len(StackNames) {
		t.Fatalf("%d stack images, %d upstream, %d names", len(stack), len(Upstream), len(StackNames))
	}
	for i, img := range stack {
		if img.Name != StackNames[i] || Upstream[img.Name] == "" {
			t.Errorf("stack image %d is %q, StackNames has %q, upstream %q", i, img.Name, StackNames[i], Upstream[img.Name])
		}
	}
}
