// Package hostspeed times a fixed CPU workload on the machine that runs
// the local testbed, so that runs made at different hours on one machine
// can be told apart by how fast the machine was.
//
// Why: the local testbed's nodes share the host's cores, and the host's
// speed drifts. On 2026-12-06 the same five LSST visits took 17.75 s one
// evening and 22.98-28.11 s the next morning on warm brokers, while the
// testbed's own producers (which have nothing to compile) needed 20-37 %
// more CPU seconds for the same alerts, and BenchmarkDecode went from
// 230 to 241-290 µs on the idle machine (README "Where an LSST visit's
// time goes"). A figure taken with the run tells such a drift from a
// change of configuration.
package hostspeed

import (
	"compress/flate"
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"
)

// Workload says what is timed: the same bytes, compressed again and again
// by one goroutine. compress/flate at BestSpeed is pure Go, allocates
// nothing once set up, and works the core and its caches rather than
// one special instruction (as SHA-256 or CRC-32C would).
const Workload = "compress/flate BestSpeed of a fixed 4 MiB block, one goroutine, median of 10 slices"

// blockSize is the block compressed in each pass: larger than the L2 cache
// of the machines the project runs on, as alerts in flight are.
const blockSize = 4 << 20

// DefaultDuration is how long Measure times the workload: long enough
// for a few dozen passes, short beside a run's set-up.
const DefaultDuration = 2 * time.Second

// Reading is one timing of the workload.
type Reading struct {
	Workload string    `json:"workload"`
	MBPerSec float64   `json:"mb_per_s"` // 10^6 bytes of the block compressed a second
	Seconds  float64   `json:"seconds"`  // how long it was timed
	At       time.Time `json:"at"`       // when the timing ended
}

// timingSlices is how many parts the timing is cut into: the reading is their
// median, so that a blip (a scrape, a flush) in one of them moves it
// little.
const timingSlices = 10

// Measure compresses the block on one goroutine (locked to its OS thread)
// for d, cut into slices timed apart, or until ctx ends, and returns the
// median slice's rate. It needs no input and fails only when ctx ends
// before a single pass.
func Measure(ctx context.Context, d time.Duration) (Reading, error) {
	block := Block()
	w, err := flate.NewWriter(io.Discard, flate.BestSpeed)
	if err != nil {
		return Reading{}, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// One pass first, untimed: the writer's tables and the block into the
	// caches.
	compress(w, block)
	var rates []float64
	start := time.Now()
	for i := 1; i <= timingSlices && ctx.Err() == nil; i++ {
		sliceStart, bytes := time.Now(), 0
		// Each slice ends at its share of d, and has at least one pass.
		for bytes == 0 || time.Since(start) < d*time.Duration(i)/timingSlices {
			compress(w, block)
			bytes += len(block)
			if ctx.Err() != nil {
				break
			}
		}
		rates = append(rates, float64(bytes)/time.Since(sliceStart).Seconds()/1e6)
	}
	if len(rates) == 0 {
		return Reading{}, ctx.Err()
	}
	slices.Sort(rates)
	return Reading{Workload: Workload, MBPerSec: rates[len(rates)/2], Seconds: time.Since(start).Seconds(), At: time.Now().UTC()}, nil
}

func compress(w *flate.Writer, block []byte) {
	w.Reset(io.Discard)
	w.Write(block) // io.Discard does not fail
	w.Close()
}

// Block is the fixed block: the same bytes in every build and on every
// machine (a seeded PCG). It mixes what an alert holds: runs of
// pseudo-random bytes (image stamps, floats) and repeated text (field
// names, headers), so that compression finds matches and misses both.
func Block() []byte {
	r := rand.New(rand.NewPCG(2026, 12))
	words := []string{"diaSource", "psfFlux", "ra", "dec", "midpointMjdTai", "snr", "cutoutScience", "diaObject", "ssObject", "nDiaSources"}
	b := make([]byte, 0, blockSize)
	for len(b) < blockSize {
		if r.IntN(2) == 0 {
			n := 16 + r.IntN(240)
			for i := 0; i < n && len(b) < blockSize; i++ {
				b = append(b, byte(r.Uint32()))
			}
			continue
		}
		w := words[r.IntN(len(words))]
		b = append(b, w[:min(len(w), blockSize-len(b))]...)
	}
	return b
}
