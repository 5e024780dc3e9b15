package main

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/internal/images"
)

// mirroredImages are the upstream images the test mirror holds: the Docker
// Hub ones (a registry mirror serves Docker Hub only, so cAdvisor, on
// gcr.io, stays built here).
var mirroredImages = []string{"kafka", "prometheus", "node-exporter", "alertmanager"}

// startMirror runs the testbed's own registry image on this host as a
// Docker Hub registry mirror holding the images built here under their
// upstream names (apache/kafka:4.3.1, prom/...), so that `up --images
// auto` takes the upstream path here, where Docker Hub does not answer.
// It returns the mirror's URL as the nodes reach it (this host's address)
// and removes the mirror when the test ends.
func startMirror(t *testing.T, bin, name string) string {
	t.Helper()
	if r := run(t, bin, "images", "build"); r.code != 0 {
		t.Fatalf("testbed images build failed")
	}
	set := images.Planned()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	container := "mirror-" + name
	docker := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", "-v", container).Run() })
	docker("run", "-d", "--name", container, "--network", "host", "-e", fmt.Sprintf("REGISTRY_HTTP_ADDR=:%d", port), set.Registry.Ref)
	local := fmt.Sprintf("localhost:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + local + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mirror on %s does not answer: %v", local, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	built := map[string]string{}
	for _, img := range set.Stack() {
		built[img.Name] = img.Ref
	}
	for _, n := range mirroredImages {
		as := local + "/" + images.Upstream[n]
		docker("tag", built[n], as)
		docker("push", as)
		docker("rmi", as)
	}
	// The nodes reach the host at its own address (not Docker's bridge
	// gateway: each node's Engine has a docker0 of its own at that address).
	// A UDP socket sends nothing: it only asks the kernel for the source
	// address of the default route.
	c, err := net.Dial("udp", "192.0.2.1:53")
	if err != nil {
		t.Fatalf("this host's address on its default route, for the nodes to reach the mirror at: %v", err)
	}
	host := c.LocalAddr().(*net.UDPAddr).IP.String()
	c.Close()
	return fmt.Sprintf("http://%s:%d", host, port)
}
