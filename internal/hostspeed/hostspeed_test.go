package hostspeed

import (
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
	"time"
)

// The block is the same in every build: readings taken by different
// versions of the testbed compare.
func TestBlockIsFixed(t *testing.T) {
	b := Block()
	sum := sha256.Sum256(b)
	if len(b) != blockSize || hex.EncodeToString(sum[:]) != blockSHA256 {
		t.Errorf("block: %d bytes, sha256 %x; want %d bytes, %s", len(b), sum, blockSize, blockSHA256)
	}
}

const blockSHA256 = "dd9e0f55ac939c5a26c6217cd63a9e0ba499ed580ba8b348091628d05e063912"

func TestMeasure(t *testing.T) {
	r, err := Measure(context.Background(), 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// Any machine that runs the testbed compresses at tens of MB/s or
	// more; 1 MB/s would be a timing or an accounting gone wrong.
	if r.Workload != Workload || r.MBPerSec < 1 || r.MBPerSec > 10_000 || r.Seconds < 0.2 || r.At.IsZero() {
		t.Errorf("reading %+v", r)
	}
}

// A context ended before the first pass is an error; one ended later
// stops the timing with what was measured.
func TestMeasureCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Measure(ctx, time.Second); err == nil {
		t.Error("Measure with an ended context: no error")
	}
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	r, err := Measure(ctx, time.Minute)
	if err != nil || r.MBPerSec <= 0 || time.Since(start) > 10*time.Second {
		t.Errorf("Measure stopped by its context: %+v, %v after %s", r, err, time.Since(start))
	}
}

// BenchmarkWorkload is the workload alone, in MB/s (go test -bench
// Workload ./internal/hostspeed).
func BenchmarkWorkload(b *testing.B) {
	block := Block()
	w, err := flate.NewWriter(io.Discard, flate.BestSpeed)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(block)))
	for b.Loop() {
		compress(w, block)
	}
}
