package kafka

import (
	"strings"
	"testing"
	"time"
)

// Lines as a broker container's /proc gives them (a JVM of 2026-12-06 on
// the local testbed), with a thread whose name has a space and a ')' to
// show the name is cut at the last ')'.
const brokerStat = `7 (C2 CompilerThre) S 1 1 1 0 -1 4194368 21586 48505 0 0 1145 54 238 33 20 0 121 0 2406532 5050109952 163155 18446744073709551615 1 1 0 0 0 0 4 0 16800975 1 0 0 -1 0 0 0 0 0 0 1 1 1 1 1 1 1 0
8 (C1 CompilerThre) S 1 1 1 0 -1 4194368 9044 48505 0 0 309 28 238 33 20 0 121 0 2406533 5050109952 163155 18446744073709551615 1 1 0 0 0 0 4 0 16800975 1 0 0 -1 0 0 0 0 0 0 1 1 1 1 1 1 1 0
9 (data-plane-kafka-) S 1 1 1 0 -1 4194368 9044 48505 0 0 5000 700 238 33 20 0 121 0 2406533 5050109952 163155 18446744073709551615 1 1 0 0 0 0 4 0 16800975 1 0 0 -1 0 0 0 0 0 0 1 1 1 1 1 1 1 0
10 (odd) name)) S 1 1 1 0 -1 4194368 9044 48505 0 0 900 900 238 33 20 0 121 0 2406533 5050109952 163155 18446744073709551615 1 1 0 0 0 0 4 0 16800975 1 0 0 -1 0 0 0 0 0 0 1 1 1 1 1 1 1 0
`

func TestParseCompilerThreads(t *testing.T) {
	got, err := ParseCompilerThreads(brokerStat)
	if err != nil {
		t.Fatal(err)
	}
	want := CompilerThreads{7: 11990 * time.Millisecond, 8: 3370 * time.Millisecond}
	if len(got) != len(want) || got[7] != want[7] || got[8] != want[8] {
		t.Errorf("ParseCompilerThreads = %v, want %v (utime + stime of the C1/C2 threads only, in 1/100 s)", got, want)
	}
	if _, err := ParseCompilerThreads("9 (data-plane-kafka-) S 1 1 1 0 -1 4194368 9044 48505 0 0 5000 700 238\n"); err == nil || !strings.Contains(err.Error(), "no JIT compiler thread") {
		t.Errorf("a container without compiler threads: err %v, want one saying there is none", err)
	}
	if _, err := ParseCompilerThreads("7 (C2 CompilerThre) S 1 1 1 0 -1\n"); err == nil || !strings.Contains(err.Error(), "fields after the name") {
		t.Errorf("a cut stat line: err %v, want one naming the missing fields", err)
	}
	if _, err := ParseCompilerThreads("7 (C2 CompilerThre) S 1 1 1 0 -1 4194368 21586 48505 0 0 x 54 238\n"); err == nil || !strings.Contains(err.Error(), `CPU ticks "x"`) {
		t.Errorf("a stat line with a bad utime: err %v, want one naming it", err)
	}
}

func TestCompilerThreadsSince(t *testing.T) {
	before := CompilerThreads{7: 10 * time.Second, 8: 3 * time.Second, 11: time.Second}
	after := CompilerThreads{
		7:  12 * time.Second, // 2 s more
		8:  3 * time.Second,  // idle
		12: time.Second,      // started in between: all of it counts
		// 11 ended in between: its CPU since before is not known
	}
	if got := after.Since(before); got != 3*time.Second {
		t.Errorf("Since = %v, want 3s", got)
	}
	// A thread ID used again by a new thread (less CPU than the old one
	// had) counts from zero.
	if got := (CompilerThreads{7: 4 * time.Second}).Since(before); got != 4*time.Second {
		t.Errorf("Since with a reused thread ID = %v, want 4s", got)
	}
}
