package main

import (
	"bytes"
	"strings"
	"testing"
)

// A stream as go1.26.8 test -json writes it: a passing package, a package
// whose test fails in a subtest (t.Errorf with two lines, then t.Fatalf)
// amid logs, and a package that panics.
const stream = `{"Action":"start","Package":"example.com/m/a"}
{"Action":"run","Package":"example.com/m/a","Test":"TestOK"}
{"Action":"output","Package":"example.com/m/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"example.com/m/a","Test":"TestOK","Output":"    a_test.go:5: a log line\n"}
{"Action":"output","Package":"example.com/m/a","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}
{"Action":"pass","Package":"example.com/m/a","Test":"TestOK"}
{"Action":"output","Package":"example.com/m/a","Output":"PASS\n"}
{"Action":"output","Package":"example.com/m/a","Output":"ok  \texample.com/m/a\t0.01s\n"}
{"Action":"pass","Package":"example.com/m/a"}
go: a line that is no event
{"Action":"start","Package":"example.com/m/cmd/b"}
{"Action":"run","Package":"example.com/m/cmd/b","Test":"TestRun"}
{"Action":"output","Package":"example.com/m/cmd/b","Test":"TestRun","Output":"=== RUN   TestRun\n"}
{"Action":"output","Package":"example.com/m/cmd/b","Test":"TestRun","Output":"    run_test.go:88: $ testbed up\n"}
{"Action":"output","Package":"example.com/m/cmd/b","Test":"TestRun","Output":"        Standing up ...\n"}
{"Action":"output","Package":"example.com/m/cmd/b","Test":"TestRun","Output":"    run_test.go:120: run output lacks visit 3/3\n"}
{"Action":"output","Package":"example.com/m/cmd/b","Test":"TestRun","Output":"        and this\n"}
{"Action":"output","Package":"example.com/m/cmd/b","Test":"TestRun/kill","Output":"=== RUN   TestRun/kill\n"}
{"Action":"output","Package":"example.com/m/cmd/b","Test":"TestRun/kill","Output":"    run_test.go:300: fault 1 never fired\n"}
{"Action":"output","Package":"example.com/m/cmd/b","Test":"TestRun/kill","Output":"    --- FAIL: TestRun/kill (1.00s)\n"}
{"Action":"fail","Package":"example.com/m/cmd/b","Test":"TestRun/kill"}
{"Action":"output","Package":"example.com/m/cmd/b","Test":"TestRun","Output":"--- FAIL: TestRun (2.00s)\n"}
{"Action":"fail","Package":"example.com/m/cmd/b","Test":"TestRun"}
{"Action":"run","Package":"example.com/m/cmd/b","Test":"TestOther"}
{"Action":"output","Package":"example.com/m/cmd/b","Test":"TestOther","Output":"    other_test.go:9: a passing test's log\n"}
{"Action":"pass","Package":"example.com/m/cmd/b","Test":"TestOther"}
{"Action":"output","Package":"example.com/m/cmd/b","Output":"FAIL\n"}
{"Action":"output","Package":"example.com/m/cmd/b","Output":"FAIL\texample.com/m/cmd/b\t2.5s\n"}
{"Action":"fail","Package":"example.com/m/cmd/b"}
{"Action":"start","Package":"example.com/m/c"}
{"Action":"output","Package":"example.com/m/c","Output":"panic: test timed out after 1s\n"}
{"Action":"output","Package":"example.com/m/c","Output":"FAIL\texample.com/m/c\t1.0s\n"}
{"Action":"fail","Package":"example.com/m/c"}
`

func TestDigest(t *testing.T) {
	var out bytes.Buffer
	d := newDigest(&out)
	if err := d.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	d.summary(maxDigestLines)
	want := `ok  	example.com/m/a	0.01s
go: a line that is no event
    run_test.go:88: $ testbed up
        Standing up ...
    run_test.go:120: run output lacks visit 3/3
        and this
    run_test.go:300: fault 1 never fired
    --- FAIL: TestRun/kill (1.00s)
--- FAIL: TestRun (2.00s)
FAIL
FAIL	example.com/m/cmd/b	2.5s
panic: test timed out after 1s
FAIL	example.com/m/c	1.0s

FAILURES: 3 messages of the failing tests and packages (the first line of each, commands left out; the whole output is above)
  example.com/m/cmd/b TestRun: run_test.go:120: run output lacks visit 3/3
  example.com/m/cmd/b TestRun/kill: run_test.go:300: fault 1 never fired
  example.com/m/c: panic: test timed out after 1s
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	if !d.failed() {
		t.Error("failed() is false after failures")
	}
}

// The digest keeps to its bound and says how many errors it left out.
func TestDigestBound(t *testing.T) {
	var out bytes.Buffer
	d := newDigest(&out)
	for i := 0; i < 5; i++ {
		d.event(event{Action: "output", Package: "example.com/m/p", Test: "TestX", Output: "    x_test.go:1: " + strings.Repeat("long ", 100) + "\n"})
	}
	d.event(event{Action: "fail", Package: "example.com/m/p", Test: "TestX"})
	d.summary(3)
	got := out.String()
	if n := strings.Count(got, "  example.com/m/p TestX: x_test.go:1: "); n != 3 || !strings.Contains(got, "  ... and 2 more\n") || !strings.Contains(got, " ...\n") {
		t.Errorf("bounded digest:\n%s", got)
	}
}

func TestNothingFailed(t *testing.T) {
	var out bytes.Buffer
	d := newDigest(&out)
	d.read(strings.NewReader(`{"Action":"output","Package":"example.com/m/a","Output":"ok  \texample.com/m/a\t0.01s\n"}
{"Action":"pass","Package":"example.com/m/a"}
`))
	d.summary(maxDigestLines)
	if d.failed() || out.String() != "ok  \texample.com/m/a\t0.01s\n" {
		t.Errorf("a passing run printed %q", out.String())
	}
}
