// Package images makes the container images a testbed runs, offline: from
// Debian packages (debootstrap), Maven Central and the Go module proxy
// only: the machines this project is built on reach package registries
// but no container registry (README, "What is built, and from what").
// Every image is tagged with a hash of what went into it, so a build with
// nothing changed finds its images and returns in seconds.
package images

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/alert-testbed/testbed/internal/workspace"
)

//go:embed node registry kafka prometheus node-exporter cadvisor alertmanager agents
var buildFiles embed.FS

// DebianSuite is the release every root file system is made from.
const DebianSuite = "bookworm"

// goBuild is one static Go program of an image, built from the Go module
// proxy: either `go install Install` (a module without replace directives),
// or `go build Package` inside a small module of our own (ToolsMod, a file
// of the image's folder, with main.go.txt when the program is ours) for
// programs whose own module cannot be installed.
type goBuild struct {
	Install  string // module/path/cmd@version
	ToolsMod string // name of a go.mod in the image's folder
	Package  string // package to build inside the tools module
	Binary   string // name of the binary in the build context
}

// goImages are the FROM scratch images of Go programs, by image name.
var goImages = map[string][]goBuild{
	"registry": {{Install: "github.com/distribution/distribution/v3/cmd/registry@v3.1.2", Binary: "registry"}},
	"prometheus": {
		{ToolsMod: "tools.go.mod.txt", Package: PrometheusModule + "/cmd/prometheus", Binary: "prometheus"},
		{ToolsMod: "tools.go.mod.txt", Package: PrometheusModule + "/cmd/promtool", Binary: "promtool"},
	},
	"node-exporter": {{Install: "github.com/prometheus/node_exporter@v1.12.1", Binary: "node_exporter"}},
	"alertmanager":  {{Install: "github.com/prometheus/alertmanager/cmd/alertmanager@v0.31.1", Binary: "alertmanager"}},
	"cadvisor":      {{ToolsMod: "tools.go.mod.txt", Package: ".", Binary: "cadvisor"}},
}

// PrometheusModule is built at the version prometheus/tools.go.mod.txt
// requires: 3.15.0 (3.x releases are v0.3xx module versions), whose own
// go.mod has replace and exclude directives that `go install` refuses.
const PrometheusModule = "github.com/prometheus/prometheus"

// base is a Debian minbase root file system with extra packages, imported
// as an image that the Dockerfiles build FROM.
type base struct {
	name     string
	packages []string
}

var (
	nodeBase = base{name: "node-base", packages: []string{
		"docker.io", "iptables", "tini", "ca-certificates", "procps", "iproute2", "openssh-server",
	}}
	javaBase = base{name: "java-base", packages: []string{
		"openjdk-17-jre-headless", "ca-certificates", "procps",
	}}
)

// Image is one built image of the testbed.
type Image struct {
	Name string // short name: node, registry, kafka
	Ref  string // local reference, testbed/NAME:HASH
	// Pushed says whether the swarm pulls it from the testbed's registry
	// (stack images) or the host runs it directly (node, registry).
	Pushed bool
}

// Set is the images a testbed needs.
type Set struct {
	Node, Registry, Kafka                            Image
	Prometheus, NodeExporter, CAdvisor, Alertmanager Image
}

// Stack returns the images the swarm nodes pull from the registry.
func (s Set) Stack() []Image {
	return []Image{s.Kafka, s.Prometheus, s.NodeExporter, s.CAdvisor, s.Alertmanager}
}

// All returns every image of the set.
func (s Set) All() []Image { return append([]Image{s.Node, s.Registry}, s.Stack()...) }

// Builder builds images on the host's Docker Engine with the docker CLI.
type Builder struct {
	CacheDir string    // build scratch space and logs
	Log      io.Writer // build output
	// Mirror is the Debian mirror debootstrap uses.
	Mirror string
}

// NewBuilder returns a builder that logs to cacheDir/logs/images.log.
func NewBuilder(cacheDir string) (*Builder, io.Closer, error) {
	if err := os.MkdirAll(filepath.Join(cacheDir, "logs"), 0o755); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(filepath.Join(cacheDir, "logs", "images.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	mirror := os.Getenv("TESTBED_DEBIAN_MIRROR")
	if mirror == "" {
		mirror = "http://deb.debian.org/debian"
	}
	return &Builder{CacheDir: cacheDir, Log: f, Mirror: mirror}, f, nil
}

// Planned returns the references the images will have, without building.
func Planned() Set {
	return Set{
		Node:     Image{Name: "node", Ref: ref("node", nodeBase.hash(), dirHash("node"))},
		Registry: goImage("registry", false),
		Kafka:    Image{Name: "kafka", Ref: ref("kafka", javaBase.hash(), dirHash("kafka")), Pushed: true},

		Prometheus:   goImage("prometheus", true),
		NodeExporter: goImage("node-exporter", true),
		CAdvisor:     goImage("cadvisor", true),
		Alertmanager: goImage("alertmanager", true),
	}
}

func goImage(name string, pushed bool) Image {
	parts := []string{dirHash(name)}
	for _, g := range goImages[name] {
		parts = append(parts, g.Install, g.ToolsMod, g.Package, g.Binary)
	}
	return Image{Name: name, Ref: ref(name, parts...), Pushed: pushed}
}

// Result tells what Ensure did for one image.
type Result struct {
	Image    Image
	Built    bool
	Duration time.Duration
	Size     int64
}

// Ensure builds every image of the set that the Engine does not have yet.
// progress is called as each image starts, for status lines.
func (b *Builder) Ensure(ctx context.Context, progress func(name string)) (Set, []Result, error) {
	return b.EnsureExcept(ctx, nil, progress)
}

// EnsureExcept is Ensure for the images not named in skip (short names:
// the stack images a testbed takes from upstream instead). The returned
// set still holds every planned reference; results cover the others.
func (b *Builder) EnsureExcept(ctx context.Context, skip map[string]bool, progress func(name string)) (Set, []Result, error) {
	if err := checkDocker(ctx); err != nil {
		return Set{}, nil, err
	}
	unlock, err := workspace.Lock(filepath.Join(b.CacheDir, "locks", "images"))
	if err != nil {
		return Set{}, nil, err
	}
	defer unlock()
	set := Planned()
	var results []Result
	for _, img := range set.All() {
		if skip[img.Name] {
			continue
		}
		start := time.Now()
		have, err := exists(ctx, img.Ref)
		if err != nil {
			return set, results, err
		}
		r := Result{Image: img}
		if !have {
			if progress != nil {
				progress(img.Name)
			}
			fmt.Fprintf(b.Log, "\n=== %s: building %s\n", time.Now().Format(time.RFC3339), img.Ref)
			switch img.Name {
			case "node":
				err = b.buildOnBase(ctx, img, nodeBase, nil)
			case "kafka":
				err = b.buildOnBase(ctx, img, javaBase, b.fetchKafkaJars)
			default:
				err = b.buildGoImage(ctx, img)
			}
			if err != nil {
				return set, results, fmt.Errorf("build image %s: %w (log: %s)", img.Ref, err, filepath.Join(b.CacheDir, "logs", "images.log"))
			}
			r.Built = true
		}
		r.Duration = time.Since(start)
		r.Size, _ = size(ctx, img.Ref)
		results = append(results, r)
	}
	return set, results, nil
}

func ref(name string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "testbed/" + name + ":" + hex.EncodeToString(h.Sum(nil))[:12]
}

func (bs base) hash() string {
	return DebianSuite + " minbase " + strings.Join(bs.packages, ",")
}

func (bs base) ref() string { return ref(bs.name, bs.hash()) }

// dirHash hashes the embedded build files of one image.
func dirHash(dir string) string {
	h := sha256.New()
	var names []string
	fs.WalkDir(buildFiles, dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		data, _ := buildFiles.ReadFile(n)
		fmt.Fprintf(h, "%s %d\n", n, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// context writes the embedded files of dir into a fresh build context.
func (b *Builder) context(dir string) (string, error) {
	if err := os.MkdirAll(filepath.Join(b.CacheDir, "build"), 0o755); err != nil {
		return "", err
	}
	// A folder of its own: two testbed commands may build at once.
	ctxDir, err := os.MkdirTemp(filepath.Join(b.CacheDir, "build"), "context-"+dir+"-")
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(buildFiles, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(ctxDir, strings.TrimPrefix(p, dir))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := buildFiles.ReadFile(p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if path.Ext(p) == ".sh" {
			mode = 0o755
		}
		return os.WriteFile(dst, data, mode)
	})
	return ctxDir, err
}

// buildOnBase imports the Debian base if missing, then docker-builds the
// image's Dockerfile on it. prepare may add files to the build context.
func (b *Builder) buildOnBase(ctx context.Context, img Image, bs base, prepare func(context.Context, string) error) error {
	baseRef := bs.ref()
	have, err := exists(ctx, baseRef)
	if err != nil {
		return err
	}
	if !have {
		if err := b.debootstrap(ctx, bs, baseRef); err != nil {
			return err
		}
	}
	ctxDir, err := b.context(img.Name)
	if err != nil {
		return err
	}
	defer os.RemoveAll(ctxDir)
	if prepare != nil {
		if err := prepare(ctx, ctxDir); err != nil {
			return err
		}
	}
	return b.run(ctx, "docker", "build", "--build-arg", "BASE="+baseRef, "-t", img.Ref, ctxDir)
}

// debootstrap makes a Debian minbase root file system with bs.packages and
// imports it as baseRef. It needs root and the debootstrap package.
func (b *Builder) debootstrap(ctx context.Context, bs base, baseRef string) error {
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return errors.New("debootstrap is needed to build the Debian-based images: apt-get install -y debootstrap (or run `make setup`)")
	}
	if err := os.MkdirAll(filepath.Join(b.CacheDir, "build"), 0o755); err != nil {
		return err
	}
	root, err := os.MkdirTemp(filepath.Join(b.CacheDir, "build"), "rootfs-"+bs.name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	if err := b.run(ctx, "debootstrap", "--variant=minbase", "--include="+strings.Join(bs.packages, ","),
		DebianSuite, root, b.Mirror); err != nil {
		return fmt.Errorf("debootstrap %s: %w", bs.name, err)
	}
	// What apt downloaded is not part of the image.
	for _, p := range []string{"var/cache/apt/archives", "var/lib/apt/lists"} {
		entries, _ := os.ReadDir(filepath.Join(root, p))
		for _, e := range entries {
			if e.Name() != "lock" && e.Name() != "partial" {
				os.RemoveAll(filepath.Join(root, p, e.Name()))
			}
		}
	}
	tarCmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "-C", root, "-c", ".")
	importCmd := exec.CommandContext(ctx, "docker", "import", "-", baseRef)
	pipe, err := tarCmd.StdoutPipe()
	if err != nil {
		return err
	}
	importCmd.Stdin = pipe
	tarCmd.Stderr, importCmd.Stdout, importCmd.Stderr = b.Log, b.Log, b.Log
	if err := tarCmd.Start(); err != nil {
		return err
	}
	if err := importCmd.Run(); err != nil {
		tarCmd.Wait()
		return fmt.Errorf("docker import %s: %w", baseRef, err)
	}
	if err := tarCmd.Wait(); err != nil {
		return fmt.Errorf("tar of %s: %w", root, err)
	}
	return nil
}

// fetchKafkaJars puts Apache Kafka's runtime jars and the JMX exporter agent
// from Maven Central into the build context's libs/.
func (b *Builder) fetchKafkaJars(ctx context.Context, ctxDir string) error {
	if _, err := exec.LookPath("mvn"); err != nil {
		return errors.New("Maven (mvn) is needed to fetch Apache Kafka from Maven Central: apt-get install -y maven")
	}
	return b.run(ctx, "mvn", "-B", "-q", "-f", filepath.Join(ctxDir, "pom.xml"),
		"dependency:copy-dependencies", "-DincludeScope=runtime", "-DoutputDirectory="+filepath.Join(ctxDir, "libs"))
}

// buildGoImage builds an image's Go programs statically and puts them in
// a FROM scratch image.
func (b *Builder) buildGoImage(ctx context.Context, img Image) error {
	ctxDir, err := b.context(img.Name)
	if err != nil {
		return err
	}
	defer os.RemoveAll(ctxDir)
	for _, g := range goImages[img.Name] {
		var cmd *exec.Cmd
		env := append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOWORK=off")
		if g.Install != "" {
			tmp, err := os.MkdirTemp(ctxDir, "gobin-")
			if err != nil {
				return err
			}
			cmd = exec.CommandContext(ctx, "go", "install", "-trimpath", "-ldflags=-s -w", g.Install)
			cmd.Dir, cmd.Env = tmp, append(env, "GOBIN="+tmp)
			fmt.Fprintf(b.Log, "$ go install %s\n", g.Install)
			cmd.Stdout, cmd.Stderr = b.Log, b.Log
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("go install %s: %w", g.Install, err)
			}
			built, err := filepath.Glob(filepath.Join(tmp, "*"))
			if err != nil || len(built) != 1 {
				return fmt.Errorf("go install %s left %v", g.Install, built)
			}
			if err := os.Rename(built[0], filepath.Join(ctxDir, g.Binary)); err != nil {
				return err
			}
			os.RemoveAll(tmp)
			continue
		}
		mod, err := os.MkdirTemp(ctxDir, "gomod-")
		if err != nil {
			return err
		}
		for _, f := range []string{"go.mod", "go.sum"} {
			data, err := buildFiles.ReadFile(path.Join(img.Name, strings.Replace(g.ToolsMod, "go.mod", f, 1)))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(mod, f), data, 0o644); err != nil {
				return err
			}
		}
		// A program of our own in the tools module (cadvisor).
		if data, err := buildFiles.ReadFile(path.Join(img.Name, "main.go.txt")); err == nil {
			if err := os.WriteFile(filepath.Join(mod, "main.go"), data, 0o644); err != nil {
				return err
			}
		}
		cmd = exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(ctxDir, g.Binary), g.Package)
		cmd.Dir, cmd.Env = mod, append(env, "GOFLAGS=-buildvcs=false -mod=mod")
		fmt.Fprintf(b.Log, "$ go build %s (module %s)\n", g.Package, g.ToolsMod)
		cmd.Stdout, cmd.Stderr = b.Log, b.Log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s: %w", g.Package, err)
		}
		os.RemoveAll(mod)
	}
	return b.run(ctx, "docker", "build", "-t", img.Ref, ctxDir)
}

func (b *Builder) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	// The classic builder needs nothing from a registry for these
	// Dockerfiles; BuildKit would look for its frontend image.
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	cmd.Stdout, cmd.Stderr = b.Log, b.Log
	fmt.Fprintf(b.Log, "$ %s %s\n", name, strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, args[0], err)
	}
	return nil
}

func checkDocker(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("the Docker Engine is not reachable (%s): start it (on Debian: apt-get install -y docker.io, then dockerd, or run `make setup`)", strings.TrimSpace(lastLine(string(out))))
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func exists(ctx context.Context, ref string) (bool, error) {
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", ref).CombinedOutput()
	if err == nil {
		return true, nil
	}
	if strings.Contains(strings.ToLower(string(out)), "no such image") {
		return false, nil
	}
	return false, fmt.Errorf("docker image inspect %s: %s", ref, strings.TrimSpace(string(out)))
}

func size(ctx context.Context, ref string) (int64, error) {
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Size}}", ref).Output()
	if err != nil {
		return 0, err
	}
	var n int64
	_, err = fmt.Sscan(strings.TrimSpace(string(out)), &n)
	return n, err
}

// KafkaVersion is the Apache Kafka release the Kafka image runs; it must
// match kafka.version in kafka/pom.xml (a unit test checks).
const KafkaVersion = "4.3.1"
