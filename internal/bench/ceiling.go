package bench

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"text/tabwriter"
	"time"
)

// The ceiling is how many MB/s of record values this testbed's brokers
// take at the bench's topic settings (RF 3 by default) when Kafka's own
// producer is not the limit: ProducerPerformance run by 1, 2, 4, ...
// instances at once, each with its share of --records, until one more
// doubling gains less than CeilingGain. It is measured from each place
// (through the swarm's overlay network and through the brokers' external
// listeners), so that a run's producing rate can be set against what the
// machine gives at all.
const (
	// CeilingGain is the least gain of a doubling of producers that
	// counts as more throughput: 5 %, above the spread of repeated tries
	// on this machine (about ±3 % between rounds 2 to 5).
	CeilingGain = 1.05
	// MaxCeilingProducers bounds the search: 16 JVMs of 512 MiB heap.
	MaxCeilingProducers = 16
)

// CeilingStep is one step of the ceiling search from one place: Producers
// ProducerPerformance instances started together, each sending its share
// of the records into one topic.
type CeilingStep struct {
	From      string `json:"from"`
	Producers int    `json:"producers"`
	Topic     string `json:"topic"`
	Records   int64  `json:"records"` // acknowledged, all instances
	Bytes     int64  `json:"bytes"`   // of record values
	// Seconds is the window in which the step sent: from the first send of
	// the instance that started first to the last acknowledgement of the
	// one that ended last (Instance.Start, Instance.End).
	Seconds   float64    `json:"seconds"`
	Instances []Instance `json:"instances"`
	Error     string     `json:"error,omitempty"`
}

// Instance is one ProducerPerformance of a step: its own figures and when
// it sent.
type Instance struct {
	Try
	// Start is End less the instance's own elapsed time
	// (ProducerPerformance's first send to its last ack); End is the
	// clock when it printed its total, read by the shell it ran in.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// MBPerSec is the step's throughput: Bytes / Seconds in MB/s (10^6 bytes).
func (s CeilingStep) MBPerSec() float64 {
	if s.Seconds <= 0 || s.Error != "" {
		return 0
	}
	return float64(s.Bytes) / 1e6 / s.Seconds
}

// CeilingShares splits records among producers: the first records %
// producers instances get one more, so that the step sends records in
// all.
func CeilingShares(records, producers int) []int {
	out := make([]int, producers)
	for i := range out {
		out[i] = records / producers
		if i < records%producers {
			out[i]++
		}
	}
	return out
}

// NextCeilingStep says how many producers the search tries after steps
// (one place's, in order), or 0 when it is done: it starts at 1, doubles,
// and stops at MaxCeilingProducers, at a failed step, or when the last
// doubling gained less than CeilingGain over the best before it.
func NextCeilingStep(steps []CeilingStep) int {
	if len(steps) == 0 {
		return 1
	}
	last := steps[len(steps)-1]
	if last.Error != "" || last.Producers*2 > MaxCeilingProducers {
		return 0
	}
	best := 0.0
	for _, s := range steps[:len(steps)-1] {
		best = max(best, s.MBPerSec())
	}
	if len(steps) > 1 && last.MBPerSec() < best*CeilingGain {
		return 0
	}
	return last.Producers * 2
}

// CombineInstances makes a step of its instances' figures: records and
// bytes summed, the window from the earliest start to the latest end.
func CombineInstances(s CeilingStep) CeilingStep {
	s.Records, s.Bytes, s.Seconds = 0, 0, 0
	var first, last time.Time
	for _, in := range s.Instances {
		s.Records += in.Records
		s.Bytes += in.Bytes
		if first.IsZero() || in.Start.Before(first) {
			first = in.Start
		}
		if in.End.After(last) {
			last = in.End
		}
	}
	if len(s.Instances) > 0 {
		s.Seconds = last.Sub(first).Seconds()
	}
	return s
}

// instanceEnd is the line the shell prints after ProducerPerformance
// exits: "ended at <unix seconds with nanoseconds>" (date +%s.%N).
var instanceEnd = regexp.MustCompile(`(?m)^ended at ([0-9]+\.[0-9]+)$`)

// InstanceEndScript is the shell line that prints instanceEnd after the
// command in "$@" exits 0.
const InstanceEndScript = `"$@" && echo "ended at $(date +%s.%N)"`

// ParseInstance reads one ceiling instance's output: ProducerPerformance's
// total (ParseProducerPerformance) and the end line of InstanceEndScript.
func ParseInstance(out string, recordSize int) (Instance, error) {
	t, err := ParseProducerPerformance(out, recordSize)
	if err != nil {
		return Instance{}, err
	}
	m := instanceEnd.FindStringSubmatch(out)
	if m == nil {
		return Instance{}, fmt.Errorf("no line \"ended at <unix time>\" after ProducerPerformance's total")
	}
	sec, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return Instance{}, fmt.Errorf("end time %q: %w", m[1], err)
	}
	end := time.Unix(0, int64(sec*1e9)).UTC()
	return Instance{Try: t, End: end, Start: end.Add(-time.Duration(t.Seconds * float64(time.Second)))}, nil
}

// Ceiling is the best step of one place: its MB/s and how many producers
// gave it; ok is false when no step has figures.
func Ceiling(steps []CeilingStep, from string) (best CeilingStep, ok bool) {
	for _, s := range steps {
		if s.From == from && s.Error == "" && s.MBPerSec() > best.MBPerSec() {
			best, ok = s, true
		}
	}
	return best, ok
}

// PrintCeilingStep prints one step's line as it finishes.
func PrintCeilingStep(w io.Writer, s CeilingStep) {
	if s.Error != "" {
		fmt.Fprintf(w, "  ceiling  %-5s  %2d x ProducerPerformance  FAILED: %s\n", s.From, s.Producers, s.Error)
		return
	}
	fmt.Fprintf(w, "  ceiling  %-5s  %2d x ProducerPerformance  %d records in %.2f s: %.0f records/s, %.1f MB/s\n",
		s.From, s.Producers, s.Records, s.Seconds, float64(s.Records)/s.Seconds, s.MBPerSec())
}

// printCeiling writes the ceiling's steps and, per place, the best.
func (r Result) printCeiling(w io.Writer) {
	fmt.Fprintf(w, "Ceiling: Kafka's ProducerPerformance, 1, 2, 4, ... instances at once, each with its share of %d records, until a doubling gains less than %.0f %%:\n",
		r.Config.Records, (CeilingGain-1)*100)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "from\tproducers\trecords\tseconds\tMB/s\t")
	for _, s := range r.Ceiling {
		if s.Error != "" {
			fmt.Fprintf(tw, "%s\t%d\tfailed\t\t\t\n", s.From, s.Producers)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.1f\t\n", s.From, s.Producers, s.Records, s.Seconds, s.MBPerSec())
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, from := range r.Config.From {
		if best, ok := Ceiling(r.Ceiling, from); ok {
			plural := "s"
			if best.Producers == 1 {
				plural = ""
			}
			fmt.Fprintf(w, "ceiling from %-6s %.1f MB/s (%d producer%s)\n", from+":", best.MBPerSec(), best.Producers, plural)
		} else {
			fmt.Fprintf(w, "ceiling from %-6s no step has figures\n", from+":")
		}
	}
	if failed := r.FailedSteps(); len(failed) > 0 {
		fmt.Fprintf(w, "\n%d steps failed:\n", len(failed))
		for _, s := range failed {
			fmt.Fprintf(w, "  %s, %d producers: %s\n", s.From, s.Producers, s.Error)
		}
	}
}
