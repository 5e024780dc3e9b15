// Package workspace lays out the folders testbed keeps on the host: a cache
// of built tools and image stamps shared by every testbed, and one folder
// per testbed with its Terraform state, its saved settings and the Docker
// API sockets of its nodes. Everything lives under one root, .testbed in
// the current directory unless TESTBED_HOME says otherwise, and is
// git-ignored.
package workspace

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/alert-testbed/testbed/internal/config"
	"github.com/alert-testbed/testbed/internal/topology"
)

// Workspace is the root folder and the paths derived from it.
type Workspace struct {
	Root string
}

// Open returns the workspace rooted at $TESTBED_HOME or ./.testbed, as an
// absolute path (Terraform and the node containers need absolute paths).
func Open() (Workspace, error) {
	root := os.Getenv("TESTBED_HOME")
	if root == "" {
		root = ".testbed"
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return Workspace{}, fmt.Errorf("resolve workspace folder %q: %w", root, err)
	}
	return Workspace{Root: abs}, nil
}

// CacheDir holds built tools (Terraform, providers) shared by all testbeds.
func (w Workspace) CacheDir() string { return filepath.Join(w.Root, "cache") }

// TestbedsDir holds one folder per testbed.
func (w Workspace) TestbedsDir() string { return filepath.Join(w.Root, "testbeds") }

// TestbedPath is the folder of one testbed, TESTBED_HOME/testbeds/NAME, or
// an error when name is not a testbed name (topology.ValidateName): it
// never gives a path outside testbeds/, nor testbeds/ itself, so nothing
// that removes a testbed's folder can remove more ("", "..", "a/../..").
func (w Workspace) TestbedPath(name string) (string, error) {
	if err := topology.ValidateName(name); err != nil {
		return "", err
	}
	dir := filepath.Join(w.TestbedsDir(), name)
	if filepath.Dir(dir) != w.TestbedsDir() || filepath.Base(dir) != name {
		// Unreachable with the name rule; kept should the rule change.
		return "", fmt.Errorf("testbed name %q makes the folder %s, not one inside %s", name, dir, w.TestbedsDir())
	}
	return dir, nil
}

// TestbedDir is the folder of one testbed, for a name already checked
// (every command checks --name first). It panics on a name that is not a
// testbed name rather than give a path outside TESTBED_HOME/testbeds/.
func (w Workspace) TestbedDir(name string) string {
	dir, err := w.TestbedPath(name)
	if err != nil {
		panic("workspace.TestbedDir: " + err.Error())
	}
	return dir
}

// Testbeds lists the names of the testbeds that have a folder.
func (w Workspace) Testbeds() ([]string, error) {
	entries, err := os.ReadDir(w.TestbedsDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Settings are a testbed's configuration (what `up` was asked, with its
// defaults) and the values chosen once when it was first stood up, reused
// by every later up so that a second up changes nothing. The
// configuration's fields are at the top level of settings.json.
type Settings struct {
	config.Testbed
	RegistryHostPort int    `json:"registry_host_port"`
	KafkaClusterID   string `json:"kafka_cluster_id"`
	GrafanaPassword  string `json:"grafana_password"`
	// ImageSources says where each stack image comes from (by the short
	// name of its offline build: "upstream" or "offline"), chosen when the
	// testbed is made (config.ImagesAuto decides per image).
	ImageSources map[string]string `json:"image_sources,omitempty"`
	// CreatedAt is when the testbed was first stood up (RFC 3339, UTC).
	CreatedAt string `json:"created_at,omitempty"`
}

// LoadSettings returns the saved settings of a testbed, or ok=false when it
// has none (it was never stood up, or it was taken down).
func (w Workspace) LoadSettings(name string) (s Settings, ok bool, err error) {
	ok, err = w.load(name, "settings.json", &s)
	return s, ok, err
}

// SaveSettings writes the settings of a testbed.
func (w Workspace) SaveSettings(name string, s Settings) error {
	return w.save(name, "settings.json", s)
}

// file is the path of one of testbed name's files in its folder; an error
// for a name that is not a testbed's.
func (w Workspace) file(name, file string) (string, error) {
	dir, err := w.TestbedPath(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, file), nil
}

// load reads testbed name's JSON file into v; ok=false when there is none.
func (w Workspace) load(name, file string, v any) (ok bool, err error) {
	path, err := w.file(name, file)
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("read %s: %w (remove it with `testbed down --name %s`)", path, err, name)
	}
	return true, nil
}

// save writes v to testbed name's file as indented JSON, whole or not at
// all, making the testbed's folder if it is not there yet.
func (w Workspace) save(name, file string, v any) error {
	path, err := w.file(name, file)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
