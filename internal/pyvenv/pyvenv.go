// Package pyvenv makes the Python virtualenvs that tests use to check the
// testbed against other projects' own code (moto's AWS emulation, Rubin's
// alert packet, fastavro), from PyPI, once, in the workspace cache.
package pyvenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/alert-testbed/testbed/internal/workspace"
)

// Python returns the python of the virtualenv cacheDir/dir, made with
// pkgs (pip requirement specifiers) unless `python -c check` already
// succeeds in it. Tests of several packages may ask at once: one makes it
// while the others wait (a lock under cacheDir/locks). A venv is checked
// by importing, not by its scripts: those carry the absolute path it was
// made at, which a cache copied or linked elsewhere no longer has. One
// that fails the check is made again from nothing. It fails the test,
// saying what is missing, when python3's venv module or PyPI is.
func Python(t testing.TB, cacheDir, dir, check string, pkgs ...string) string {
	t.Helper()
	venv := filepath.Join(cacheDir, dir)
	python := filepath.Join(venv, "bin", "python")
	unlock, err := workspace.Lock(filepath.Join(cacheDir, "locks", filepath.Base(dir)))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if exec.Command(python, "-c", check).Run() == nil {
		return python
	}
	if err := os.RemoveAll(venv); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("python3", "-m", "venv", venv).CombinedOutput(); err != nil {
		t.Fatalf("python3 -m venv %s (Debian: apt-get install python3-venv): %v\n%s", venv, err, out)
	}
	args := append([]string{"-m", "pip", "install", "-q"}, pkgs...)
	if out, err := exec.Command(python, args...).CombinedOutput(); err != nil {
		os.RemoveAll(venv)
		t.Fatalf("pip install %v: %v\n%s", pkgs, err, out)
	}
	return python
}

// Rubin returns the python of a virtualenv with Rubin's alert packet
// (lsst-alert-packet of version packet, alertschema.PacketVersion; it
// brings fastavro) and astropy.
func Rubin(t testing.TB, cacheDir, packet string) string {
	t.Helper()
	return Python(t, cacheDir, filepath.Join("python", "lsst-alert-packet-"+packet),
		"import lsst.alert.packet, fastavro, astropy.io.fits", "lsst-alert-packet=="+packet, "astropy")
}
