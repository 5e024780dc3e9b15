package images

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Push makes sure the testbed's registry, reached from the host at
// hostRegistry (127.0.0.1:PORT, which the Engine trusts without TLS), holds
// img. It returns whether it had to push. A registry that already has the
// manifest is left alone, so a second `up` pushes nothing.
func Push(ctx context.Context, img Image, hostRegistry string) (bool, error) {
	repo, tag, _ := strings.Cut(img.Ref, ":")
	if ok, err := hasManifest(ctx, hostRegistry, repo, tag); err != nil {
		return false, err
	} else if ok {
		return false, nil
	}
	if err := pushAs(ctx, img, hostRegistry); err != nil {
		return false, fmt.Errorf("push %s to the testbed registry: %w", img.Ref, err)
	}
	return true, nil
}

// pushAs tags img as registry/img.Ref, pushes that with the docker CLI
// (dockerArgs go before `push`, e.g. --config DIR) and removes the tag.
func pushAs(ctx context.Context, img Image, registry string, dockerArgs ...string) error {
	target := registry + "/" + img.Ref
	b := &Builder{Log: discard{}}
	if err := b.run(ctx, "docker", "tag", img.Ref, target); err != nil {
		return err
	}
	defer b.run(context.WithoutCancel(ctx), "docker", "rmi", target)
	args := append(append([]string{}, dockerArgs...), "push", target)
	if out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("docker push %s: %w\n%s", target, err, out)
	}
	return nil
}

// PushWithLogin pushes img to registry (HOST[/PATH], a registry that wants
// a login, such as ECR) under registry/img.Ref, logged in with user and
// password. The login goes to a Docker config folder of its own, removed
// afterwards, so nothing is left in the user's ~/.docker. A push of layers
// the registry has is cheap, so it always pushes.
func PushWithLogin(ctx context.Context, img Image, registry, user, password string) error {
	cfg, err := os.MkdirTemp("", "testbed-docker-config-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cfg)
	host, _, _ := strings.Cut(registry, "/")
	login := exec.CommandContext(ctx, "docker", "--config", cfg, "login", "--username", user, "--password-stdin", host)
	login.Stdin = strings.NewReader(password)
	if out, err := login.CombinedOutput(); err != nil {
		return fmt.Errorf("docker login %s: %w\n%s", host, err, out)
	}
	if err := pushAs(ctx, img, registry, "--config", cfg); err != nil {
		return fmt.Errorf("push %s to %s: %w", img.Ref, registry, err)
	}
	return nil
}

// NodeRef is the reference the swarm nodes pull img by.
func NodeRef(img Image, nodeRegistry string) string { return nodeRegistry + "/" + img.Ref }

func hasManifest(ctx context.Context, registry, repo, tag string) (bool, error) {
	url := fmt.Sprintf("http://%s/v2/%s/manifests/%s", registry, repo, tag)
	var lastErr error
	// The registry container may still be starting right after apply.
	for attempt := 0; attempt < 30; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
		if err != nil {
			return false, err
		}
		req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				return true, nil
			case http.StatusNotFound:
				return false, nil
			}
			lastErr = fmt.Errorf("HEAD %s: %s", url, resp.Status)
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return false, fmt.Errorf("the testbed registry at %s does not answer: %w", registry, lastErr)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
