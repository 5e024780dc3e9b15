package images

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/alert-testbed/testbed/internal/workspace"
)

// ModulePath is the Go module of this project.
const ModulePath = "github.com/alert-testbed/testbed"

// FindCheckout returns the root of the project's source checkout that dir
// is in: the agents image is built from source, so it needs one.
func FindCheckout(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if f, err := os.Open(filepath.Join(d, "go.mod")); err == nil {
			sc := bufio.NewScanner(f)
			isOurs := sc.Scan() && strings.TrimSpace(strings.TrimPrefix(sc.Text(), "module")) == ModulePath
			f.Close()
			if isOurs {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside a checkout of %s: the agents image is built from its source; run testbed from the checkout", abs, ModulePath)
		}
	}
}

// agentsHash hashes what goes into the agents image: go.mod, go.sum and
// every file under agents/.
func agentsHash(root string) (string, error) {
	var files []string
	err := filepath.WalkDir(filepath.Join(root, "agents"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	files = append(files, filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum"))
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(root, f)
		fmt.Fprintf(h, "%s %d\n", rel, len(data))
		h.Write(data)
	}
	h.Write([]byte(dirHash("agents")))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// EnsureAgents builds testbed/agents:HASH from the checkout at root unless
// the Engine has it, and returns it (Pushed: the swarm pulls it).
func (b *Builder) EnsureAgents(ctx context.Context, root string) (Result, error) {
	start := time.Now()
	hash, err := agentsHash(root)
	if err != nil {
		return Result{}, err
	}
	img := Image{Name: "agents", Ref: ref("agents", hash), Pushed: true}
	r := Result{Image: img}
	unlock, err := workspace.Lock(filepath.Join(b.CacheDir, "locks", "images"))
	if err != nil {
		return r, err
	}
	defer unlock()
	have, err := exists(ctx, img.Ref)
	if err != nil {
		return r, err
	}
	if !have {
		if err := b.buildAgents(ctx, root, img); err != nil {
			return r, fmt.Errorf("build image %s: %w (log: %s)", img.Ref, err, filepath.Join(b.CacheDir, "logs", "images.log"))
		}
		r.Built = true
	}
	r.Duration = time.Since(start)
	r.Size, _ = size(ctx, img.Ref)
	return r, nil
}

func (b *Builder) buildAgents(ctx context.Context, root string, img Image) error {
	ctxDir, err := b.context("agents")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ctxDir)
	fmt.Fprintf(b.Log, "\n=== %s: building %s from %s\n", time.Now().Format(time.RFC3339), img.Ref, root)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", ctxDir+string(filepath.Separator), "./agents/cmd/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOWORK=off")
	cmd.Stdout, cmd.Stderr = b.Log, b.Log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./agents/cmd/...: %w", err)
	}
	for _, bin := range []string{"alert-producer", "alert-consumer", "alert-filter"} {
		if _, err := os.Stat(filepath.Join(ctxDir, bin)); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("go build did not make %s", bin)
		}
	}
	return b.run(ctx, "docker", "build", "-t", img.Ref, ctxDir)
}
