package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestCeilingShares(t *testing.T) {
	for _, c := range []struct {
		records, producers int
		want               []int
	}{{10000, 1, []int{10000}}, {10000, 4, []int{2500, 2500, 2500, 2500}}, {10, 4, []int{3, 3, 2, 2}}, {3, 4, []int{1, 1, 1, 0}}} {
		got := CeilingShares(c.records, c.producers)
		sum := 0
		for i, n := range got {
			sum += n
			if n != c.want[i] {
				t.Errorf("CeilingShares(%d, %d) = %v, want %v", c.records, c.producers, got, c.want)
				break
			}
		}
		if sum != c.records {
			t.Errorf("CeilingShares(%d, %d) sums to %d", c.records, c.producers, sum)
		}
	}
}

// The search doubles while a doubling gains at least 5 % over the best
// step before it, and stops at a failed step or at MaxCeilingProducers.
func TestNextCeilingStep(t *testing.T) {
	step := func(producers int, mbps float64) CeilingStep {
		return CeilingStep{Producers: producers, Bytes: int64(mbps * 1e6), Seconds: 1}
	}
	for _, c := range []struct {
		name  string
		steps []CeilingStep
		want  int
	}{
		{"start", nil, 1},
		{"after one", []CeilingStep{step(1, 50)}, 2},
		{"gained 20 %", []CeilingStep{step(1, 50), step(2, 60)}, 4},
		{"gained 4 %", []CeilingStep{step(1, 50), step(2, 60), step(4, 62.4)}, 0},
		{"fell", []CeilingStep{step(1, 50), step(2, 40)}, 0},
		{"failed", []CeilingStep{step(1, 50), {Producers: 2, Error: "exited 1"}}, 0},
		{"at the bound", []CeilingStep{step(1, 1), step(2, 2), step(4, 4), step(8, 8), step(16, 16)}, 0},
	} {
		if got := NextCeilingStep(c.steps); got != c.want {
			t.Errorf("%s: next %d, want %d", c.name, got, c.want)
		}
	}
}

// An instance's window ends at its shell's end line and starts its own
// elapsed time (records ÷ records/sec) before; a step spans its instances'
// earliest start to latest end.
func TestCeilingInstancesAndStep(t *testing.T) {
	out := producerPerfOut + "ended at 1796182700.500000000\n"
	in, err := ParseInstance(out, 136000)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Unix(1796182700, 500_000_000).UTC()
	if !in.End.Equal(end) || in.Records != 10000 || in.Bytes != 10000*136000 {
		t.Errorf("instance %+v", in)
	}
	if d := in.End.Sub(in.Start).Seconds(); d < 19.87 || d > 19.89 { // 10000 / 503.018109
		t.Errorf("instance sent for %.3f s, want 19.88", d)
	}
	if _, err := ParseInstance(producerPerfOut, 136000); err == nil || !strings.Contains(err.Error(), "ended at") {
		t.Errorf("an output without its end line: %v", err)
	}
	t0 := time.Unix(1796182700, 0)
	s := CombineInstances(CeilingStep{From: FromSwarm, Producers: 2, Instances: []Instance{
		{Try: Try{Records: 500, Bytes: 50e6}, Start: t0.Add(time.Second), End: t0.Add(3 * time.Second)},
		{Try: Try{Records: 500, Bytes: 50e6}, Start: t0, End: t0.Add(2 * time.Second)},
	}})
	if s.Records != 1000 || s.Bytes != 100e6 || s.Seconds != 3 || s.MBPerSec() != 100.0/3 {
		t.Errorf("step %+v (%.2f MB/s), want 1000 records, 100 MB in 3 s", s, s.MBPerSec())
	}
}

// A ceiling bench prints its steps and each place's best, from the
// archive alone; failed steps are listed.
func TestCeilingReport(t *testing.T) {
	step := func(from string, producers int, mb, secs float64) CeilingStep {
		return CeilingStep{From: from, Producers: producers, Records: int64(mb * 1e6 / 136000), Bytes: int64(mb * 1e6), Seconds: secs}
	}
	r := Result{ID: "bench-x", Config: Config{Records: 10000, RecordSize: 136000, From: []string{FromHost, FromSwarm}, Ceiling: true}, Ceiling: []CeilingStep{
		step(FromHost, 1, 1360, 20), step(FromHost, 2, 1360, 16), step(FromHost, 4, 1360, 16.5),
		step(FromSwarm, 1, 1360, 27.2), {From: FromSwarm, Producers: 2, Error: "instance 2 of 2: exited 1"},
	}}
	var b bytes.Buffer
	r.Print(&b)
	for _, want := range []string{"per step", "ceiling from host:  85.0 MB/s (2 producers)", "ceiling from swarm: 50.0 MB/s (1 producer)",
		"1 steps failed", "swarm, 2 producers: instance 2 of 2: exited 1"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "Project ÷ Kafka's tool") {
		t.Errorf("a ceiling report has a ratio table:\n%s", b.String())
	}
}
