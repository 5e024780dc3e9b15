package images

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/client"
)

// Upstream are the images the stacks run where the nodes can pull them,
// by the short name of the image built here in their place, at the
// versions the project's configuration is tested with (the offline builds
// are of the same versions, so the stacks' files serve both).
var Upstream = map[string]string{
	"kafka":         "apache/kafka:" + KafkaVersion,
	"prometheus":    "prom/prometheus:v3.15.0",
	"node-exporter": "prom/node-exporter:v1.12.1",
	"cadvisor":      "gcr.io/cadvisor/cadvisor:v0.53.0",
	"alertmanager":  "prom/alertmanager:v0.31.1",
}

// StackNames are the stack images by the short names of their offline
// builds (the keys of Upstream), in the order Set.Stack lists them and up
// reports them.
var StackNames = []string{"kafka", "prometheus", "node-exporter", "cadvisor", "alertmanager"}

// Grafana is the Grafana image deployed where it can be had: no package
// registry carries Grafana, so there is no offline build of it.
const Grafana = "grafana/grafana-oss:12.2.1"

// availabilityTimeout bounds one image's check: an unreachable registry
// must not hold up `up`.
const availabilityTimeout = 10 * time.Second

// Available checks, concurrently, whether each of refs can be pulled by
// nodes that pull Docker Hub's images through mirrors (registry mirror
// URLs, as dockerd's --registry-mirror takes them; none: Docker Hub
// itself). A Docker Hub image is looked up on each mirror by the registry
// API (GET /v2/REPO/manifests/TAG), then, like dockerd, on Docker Hub; an
// image of another registry (gcr.io) on that registry. Docker Hub and the
// other registries are asked through this host's Docker Engine
// (DistributionInspect), which resolves the manifest without pulling. It
// returns nil for an image that can be had and the reason for one that
// cannot, by ref.
func Available(ctx context.Context, refs []string, mirrors []string) map[string]error {
	out := make(map[string]error, len(refs))
	// One client of this host's Engine for every check; it connects when
	// first used, so a check answered by a mirror needs no Engine.
	cli, cliErr := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if cliErr == nil {
		defer cli.Close()
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := available(ctx, cli, cliErr, ref, mirrors)
			mu.Lock()
			out[ref] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func available(ctx context.Context, cli *client.Client, cliErr error, ref string, mirrors []string) error {
	repo, tag, onHub := dockerHubRepo(ref)
	var reasons []string
	if onHub {
		for _, m := range mirrors {
			err := onMirror(ctx, m, repo, tag)
			if err == nil {
				return nil
			}
			reasons = append(reasons, err.Error())
		}
	}
	if cliErr != nil {
		reasons = append(reasons, "this host's Docker Engine: "+cliErr.Error())
		return errors.New(strings.Join(reasons, "; "))
	}
	ctx, cancel := context.WithTimeout(ctx, availabilityTimeout)
	defer cancel()
	if _, err := cli.DistributionInspect(ctx, ref, ""); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("no answer in %s", availabilityTimeout)
		}
		reasons = append(reasons, firstLine(err.Error()))
		return errors.New(strings.Join(reasons, "; "))
	}
	return nil
}

// dockerHubRepo splits a Docker Hub reference into its repository path
// (library/ for official images) and tag; onHub is false for a reference
// of another registry (its first part has a dot or a port).
func dockerHubRepo(ref string) (repo, tag string, onHub bool) {
	name, tag := ref, "latest"
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		name, tag = ref[:i], ref[i+1:]
	}
	first, _, hasSlash := strings.Cut(name, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return name, tag, false
	}
	if !hasSlash {
		name = "library/" + name
	}
	return name, tag, true
}

// onMirror asks a registry mirror for a manifest (the media types dockerd
// accepts: manifest lists, OCI indexes, single manifests).
func onMirror(ctx context.Context, mirror, repo, tag string) error {
	ctx, cancel := context.WithTimeout(ctx, availabilityTimeout)
	defer cancel()
	url := strings.TrimSuffix(mirror, "/") + "/v2/" + repo + "/manifests/" + tag
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", strings.Join([]string{
		"application/vnd.oci.image.index.v1+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
		"application/vnd.oci.image.manifest.v1+json",
		"application/vnd.docker.distribution.manifest.v2+json",
	}, ", "))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("mirror %s: %v", mirror, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mirror %s has no %s:%s (%s)", mirror, repo, tag, resp.Status)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
