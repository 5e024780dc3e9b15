package report

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium, installing it when the test runs as
// root on Debian (as `make setup` would), or fails saying what is missing.
func chromium(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if testing.Short() {
		t.Skip("chromium is not installed, and installing it needs the network: not under -short; `make setup` installs it, `make test` runs this")
	}
	if _, err := exec.LookPath("apt-get"); err != nil || os.Geteuid() != 0 {
		t.Fatalf("chromium is not installed and this test cannot install it (not root on Debian): `apt-get install -y chromium`, or `make setup`")
	}
	t.Logf("installing chromium from Debian (apt-get install -y chromium)")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "chromium"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium installed but not on PATH: %v", err)
	}
	return p
}

// TestHTMLReportsRenderInChromium opens a run's report.html and a
// comparison's compare.html in headless Chromium and checks that their
// tables and plots are laid out (drawn with a size), with no request
// leaving the file. A screenshot of each is kept in
// $TESTBED_TEST_ARTIFACTS (default: the system's temporary folder).
func TestHTMLReportsRenderInChromium(t *testing.T) {
	exe := chromium(t)
	runs := t.TempDir()
	var dirs []string
	for _, s := range []synthetic{{id: "20261130-100000-0001", producers: 1, stamps: true}, {id: "20261130-100000-0002", producers: 4, stamps: true},
		{id: "20261130-100000-0003", producers: 10, stamps: true}} {
		dirs = append(dirs, writeArchive(t, runs, s))
	}
	sweep := filepath.Join(runs, "sweep-x")
	if err := WriteSweep(sweep, dirs, "", "browser test"); err != nil {
		t.Fatal(err)
	}
	artifacts := os.Getenv("TESTBED_TEST_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(os.TempDir(), "testbed-test-artifacts")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	// The page is copied alone into an empty folder: it must need nothing
	// beside it (the plots are inline).
	for _, page := range []struct {
		file        string
		tables, svg int
	}{
		{filepath.Join(dirs[0], "report.html"), 3, len(Plots)},
		{filepath.Join(sweep, "compare.html"), 3, len(Metrics)}, // only producers varies
	} {
		t.Run(filepath.Base(page.file), func(t *testing.T) {
			alone := filepath.Join(t.TempDir(), filepath.Base(page.file))
			data, err := os.ReadFile(page.file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(alone, data, 0o644); err != nil {
				t.Fatal(err)
			}
			opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
				chromedp.WindowSize(1280, 900))
			actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
			defer cancel()
			ctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
			defer cancel()
			if err := chromedp.Do(ctx, chromedp.Navigate("file://"+alone), chromedp.WaitReady("body")); err != nil {
				t.Fatalf("chromium: %v", err)
			}
			count := func(js string) int {
				n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
				if err != nil {
					t.Fatalf("chromium: %s: %v", js, err)
				}
				return n
			}
			tables := count(`document.querySelectorAll("table").length`)
			rows := count(`document.querySelectorAll("tbody tr").length`)
			// An SVG that rendered has a size on the page.
			drawnSVG := count(`Array.from(document.querySelectorAll("svg")).filter(s => { const r = s.getBoundingClientRect(); return r.width > 100 && r.height > 100 }).length`)
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("chromium: screenshot: %v", err)
			}
			name := filepath.Join(artifacts, strings.TrimSuffix(filepath.Base(page.file), ".html")+".png")
			if err := os.WriteFile(name, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s (%d bytes); %d tables, %d rows, %d plots drawn", name, len(shot), tables, rows, drawnSVG)
			if tables < page.tables || rows < 3 {
				t.Errorf("%d tables with %d rows rendered, want at least %d tables", tables, rows, page.tables)
			}
			if drawnSVG != page.svg {
				t.Errorf("%d plots drawn, want %d", drawnSVG, page.svg)
			}
		})
	}
}
