// Command gotest runs `go test -json` with the given arguments and prints
// what a plain `go test` prints (each package's result line, and the
// output of the tests that failed), then, when a test failed, a digest of
// the failures at the very end: the first line of each message of each
// failing test (t.Error, t.Fatal and t.Log), leaving out the messages
// that log a command the test ran and its output (those starting "$ "),
// and each panic's first line (a test binary's timeout is one).
//
// Why: `make test` is what CI runs, and a CI report keeps the start and
// the end of the output. An integration test's output is thousands of
// lines (every testbed command it ran, logged), so its failure messages
// fall in the middle and are cut.
//
// Usage: go run ./tools/gotest [go test flags] [packages]
// The exit status is go test's.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

func main() {
	cmd := exec.Command("go", append([]string{"test", "-json"}, os.Args[1:]...)...)
	cmd.Stderr = os.Stderr
	events, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gotest:", err)
		os.Exit(2)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "gotest:", err)
		os.Exit(2)
	}
	d := newDigest(os.Stdout)
	if err := d.read(events); err != nil {
		fmt.Fprintln(os.Stderr, "gotest: reading go test -json:", err)
	}
	err = cmd.Wait()
	d.summary(maxDigestLines)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.ExitCode())
	case err != nil:
		fmt.Fprintln(os.Stderr, "gotest:", err)
		os.Exit(2)
	}
}

// maxDigestLines bounds the digest: it has to fit in the end a CI report
// keeps.
const maxDigestLines = 25

// event is one line of go test -json (cmd/test2json's TestEvent).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// line is one output line of a test, kept until its package ends.
type line struct {
	test, text string
}

type failure struct {
	pkg, test string
	errors    []string // the first line of each message
}

type digest struct {
	out      io.Writer
	lines    map[string][]line          // package -> its tests' output, in order
	failedIn map[string]map[string]bool // package -> failed tests
	failures []failure
	index    map[[2]string]int // (package, test) -> failures index
	pkgFails []string          // packages that failed with no failing test's error (a panic, a timeout)
}

func newDigest(out io.Writer) *digest {
	return &digest{out: out, lines: map[string][]line{}, failedIn: map[string]map[string]bool{}, index: map[[2]string]int{}}
}

func (d *digest) failed() bool { return len(d.failedTests()) > 0 || len(d.pkgFails) > 0 }

// failedTests are the digest entries of the tests that failed, in the
// order of their first message.
func (d *digest) failedTests() []failure {
	var out []failure
	for _, f := range d.failures {
		if d.failedIn[f.pkg][f.test] {
			out = append(out, f)
		}
	}
	return out
}

// read consumes the event stream; a line that is not an event (go's own
// messages) is printed as it is.
func (d *digest) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(d.out, sc.Text())
			continue
		}
		d.event(e)
	}
	for pkg := range d.lines { // packages that never ended: go test was killed
		d.flush(pkg)
	}
	return sc.Err()
}

func (d *digest) event(e event) {
	switch {
	case e.Action == "build-output":
		fmt.Fprint(d.out, e.Output)
	case e.Action == "output":
		if e.Test != "" && runFrame.MatchString(e.Output) {
			return // -json implies -v; plain go test has no === RUN lines
		}
		if e.Test == "" && e.Output == "PASS\n" {
			return // nor the bare PASS that -v adds
		}
		d.lines[e.Package] = append(d.lines[e.Package], line{e.Test, e.Output})
		if (e.Test != "" && isMessage(e.Output)) || strings.HasPrefix(e.Output, "panic: ") {
			f := d.failure(e.Package, e.Test)
			f.errors = append(f.errors, strings.TrimSpace(e.Output))
		}
	case e.Action == "fail" && e.Test != "":
		if d.failedIn[e.Package] == nil {
			d.failedIn[e.Package] = map[string]bool{}
		}
		d.failedIn[e.Package][e.Test] = true
	case e.Action == "fail" || e.Action == "pass" || e.Action == "skip": // the package's end
		if e.Action == "fail" { // its own panic, if any, goes in the digest
			if d.failedIn[e.Package] == nil {
				d.failedIn[e.Package] = map[string]bool{}
			}
			d.failedIn[e.Package][""] = true
		}
		d.flush(e.Package)
		if e.Action == "fail" && !d.hasErrors(e.Package) {
			d.pkgFails = append(d.pkgFails, e.Package)
		}
	}
}

// runFrame is the line -v writes as a test starts, pauses or goes on.
var runFrame = regexp.MustCompile(`^=== (RUN|PAUSE|CONT|NAME) `)

// messageHeader is the first line of a test's message as the testing
// package writes it: four spaces, the file and line, then the text (the
// message's further lines are indented by eight).
var messageHeader = regexp.MustCompile(`^    [^ ]+\.go:\d+: `)

// isMessage says whether an output line starts a message for the digest:
// not one that logs a command the test ran ("$ testbed up ...").
func isMessage(s string) bool {
	loc := messageHeader.FindStringIndex(s)
	return loc != nil && !strings.HasPrefix(s[loc[1]:], "$ ")
}

// failure is the digest entry of a test, made on its first message.
func (d *digest) failure(pkg, test string) *failure {
	k := [2]string{pkg, test}
	i, ok := d.index[k]
	if !ok {
		i = len(d.failures)
		d.index[k] = i
		d.failures = append(d.failures, failure{pkg: pkg, test: test})
	}
	return &d.failures[i]
}

func (d *digest) hasErrors(pkg string) bool {
	for _, f := range d.failedTests() {
		if f.pkg == pkg {
			return true
		}
	}
	return false
}

// flush prints a package's lines as plain go test does: the output of
// its failed tests (with their subtests' lines) and its own lines (its
// result, a panic).
func (d *digest) flush(pkg string) {
	failed := d.failedIn[pkg]
	for _, l := range d.lines[pkg] {
		if l.test == "" || failed[topLevel(l.test)] || failed[l.test] {
			fmt.Fprint(d.out, l.text)
		}
	}
	delete(d.lines, pkg)
}

func topLevel(test string) string {
	name, _, _ := strings.Cut(test, "/")
	return name
}

// summary prints the digest, at most max lines of errors, when anything
// failed.
func (d *digest) summary(max int) {
	if !d.failed() {
		return
	}
	failures, n := d.failedTests(), 0
	for _, f := range failures {
		n += len(f.errors)
	}
	fmt.Fprintf(d.out, "\nFAILURES: %d messages of the failing tests and packages (the first line of each, commands left out; the whole output is above)\n", n)
	shown := 0
	for _, f := range failures {
		for _, msg := range f.errors {
			if shown == max {
				fmt.Fprintf(d.out, "  ... and %d more\n", n-shown)
				goto packages
			}
			fmt.Fprintf(d.out, "  %s: %s\n", strings.TrimSpace(f.pkg+" "+f.test), clip(msg, 300))
			shown++
		}
	}
packages:
	for _, p := range d.pkgFails {
		fmt.Fprintf(d.out, "  %s: failed with no test's error (a panic, a timeout or a build failure: see its output above)\n", p)
	}
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + " ..."
	}
	return s
}
