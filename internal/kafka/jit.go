package kafka

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/client"
)

// CompilerThreads is the CPU time (user + system) of the HotSpot JIT
// compiler threads ("C1 CompilerThreadN", "C2 CompilerThreadN") of the
// JVMs in one container at one moment, by thread ID.
//
// Why CPU and not the JIT time the JVM reports (CompilationMXBean, the
// jvm_compilation_time_seconds_total that Prometheus scrapes): that is the
// compiler threads' elapsed time, waits for a core included, so on a
// machine whose cores are busy (the local testbed while a visit is
// produced) it stays high while the compiling itself has become small.
type CompilerThreads map[int]time.Duration

// clockTicks is the unit of utime and stime in /proc/<pid>/task/<tid>/stat:
// USER_HZ, 100 on Linux whatever the kernel's own tick (proc(5)).
const clockTicks = 100

// ReadCompilerThreads reads the compiler threads of every JVM in a
// running container from /proc, through the container's Docker Engine
// (api): it needs sh and cat in the container, as the broker image has.
func ReadCompilerThreads(ctx context.Context, api *client.Client, containerID string) (CompilerThreads, error) {
	// A thread that ends while cat reads makes cat complain and exit 1;
	// the others are still read.
	out, err := Exec(ctx, api, containerID, "sh", "-c", "cat /proc/[0-9]*/task/[0-9]*/stat 2>/dev/null; true")
	if err != nil {
		return nil, err
	}
	return ParseCompilerThreads(out)
}

// ParseCompilerThreads picks the compiler threads out of concatenated
// /proc/<pid>/task/<tid>/stat lines. A JVM with no compiler thread
// (an interpreter-only JVM, or no JVM at all) gives an error: the reading
// would say nothing.
func ParseCompilerThreads(stat string) (CompilerThreads, error) {
	threads := CompilerThreads{}
	for _, line := range strings.Split(stat, "\n") {
		open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
		if open < 0 || end < open {
			continue
		}
		// comm is at most 15 bytes: "C2 CompilerThread0" reads "C2 CompilerThre".
		if comm := line[open+1 : end]; !strings.HasPrefix(comm, "C1 CompilerThre") && !strings.HasPrefix(comm, "C2 CompilerThre") {
			continue
		}
		tid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
		if err != nil {
			return nil, fmt.Errorf("stat line %q: thread ID: %w", line, err)
		}
		// After the comm: state (field 3) ... utime (14), stime (15).
		fields := strings.Fields(line[end+1:])
		if len(fields) < 13 {
			return nil, fmt.Errorf("stat line %q: %d fields after the name, want at least 13", line, len(fields))
		}
		var ticks int64
		for _, f := range fields[11:13] {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("stat line %q: CPU ticks %q: %w", line, f, err)
			}
			ticks += n
		}
		threads[tid] = time.Duration(ticks) * time.Second / clockTicks
	}
	if len(threads) == 0 {
		return nil, fmt.Errorf("no JIT compiler thread (C1/C2 CompilerThread) in the container's /proc")
	}
	return threads, nil
}

// Since is the compiler threads' CPU time from an earlier reading to
// this one. A thread that started in between counts from zero; one that
// ended in between is not in this reading, and its CPU since the earlier
// one is not counted (the broker's JVM keeps its compiler threads:
// swarm/kafka.yml turns off UseDynamicNumberOfCompilerThreads).
func (after CompilerThreads) Since(before CompilerThreads) time.Duration {
	var d time.Duration
	for tid, cpu := range after {
		if prev, ok := before[tid]; ok && prev <= cpu {
			cpu -= prev
		}
		d += cpu
	}
	return d
}
