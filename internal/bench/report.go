package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"
)

// PrintTry prints one try's line as it finishes.
func PrintTry(w io.Writer, t Try) {
	if t.Error != "" {
		fmt.Fprintf(w, "  round %d  %-5s  %-19s  FAILED: %s\n", t.Round, t.From, t.Client, t.Error)
		return
	}
	lat := ""
	if t.Kind == Produce {
		lat = fmt.Sprintf("  ack p50 %.0f ms, p99 %.0f ms", t.P50Ms, t.P99Ms)
	}
	cpu := ""
	if t.ClientCPU != nil {
		cpu = fmt.Sprintf("  client %.1f CPU-s", *t.ClientCPU)
	}
	jit := ""
	if t.BrokersJITCPU != nil {
		jit = fmt.Sprintf("  brokers' JIT %.1f CPU-s", *t.BrokersJITCPU)
	}
	fmt.Fprintf(w, "  round %d  %-5s  %-19s  %d records in %.2f s: %.0f records/s, %.1f MB/s%s%s%s\n",
		t.Round, t.From, t.Client, t.Records, t.Seconds, t.RecordsPerSec(), t.MBPerSec(), lat, cpu, jit)
}

// cpuCell is a try's ClientCPU for the table: "-" when not read.
func cpuCell(t Try) string {
	if t.ClientCPU == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", *t.ClientCPU)
}

// hostCell is a try's HostSpeed for the table: "-" when not measured.
func hostCell(t Try) string {
	if t.HostSpeed <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", t.HostSpeed)
}

// jitCell is a try's BrokersJITCPU for the table: "-" when not read.
func jitCell(t Try) string {
	if t.BrokersJITCPU == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", *t.BrokersJITCPU)
}

// Print writes the bench's tables: every try by round, then the ratios
// (project ÷ Kafka's tool, records/s) with their min, median and max. It
// is made from the Result alone, so that an archive's bench.json prints
// the same (Load, then Print).
func (r Result) Print(w io.Writer) {
	c := r.Config
	per := "try"
	if c.Ceiling {
		per = "step"
	}
	fmt.Fprintf(w, "Bench %s on testbed %q: %d records of %d bytes per %s, topic of %d partitions, RF %d, min ISR %d; acks all, 1 MiB batches, linger 5 ms, 5 in flight, not idempotent\n",
		r.ID, c.Testbed, c.Records, c.RecordSize, per, c.Partitions, c.ReplicationFactor, c.MinISR)
	fmt.Fprintf(w, "%s to %s (%s)\n\n", r.Started.UTC().Format(time.RFC3339), r.Ended.UTC().Format(time.RFC3339), r.Ended.Sub(r.Started).Round(time.Second))
	if c.Ceiling {
		r.printCeiling(w)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\tfrom\tclient\tfirst\trecords/s\tMB/s\tseconds\tack p50 ms\tack p99 ms\tclient CPU-s\tbrokers' JIT CPU-s\thost MB/s\t")
	for _, t := range r.Tries {
		first := ""
		if t.First {
			first = "yes"
		}
		if t.Error != "" {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\tfailed\t\t\t\t\t-\t%s\t%s\t\n", t.Round, t.From, t.Client, first, jitCell(t), hostCell(t))
			continue
		}
		p50, p99 := "", ""
		if t.Kind == Produce {
			p50, p99 = fmt.Sprintf("%.0f", t.P50Ms), fmt.Sprintf("%.0f", t.P99Ms)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.0f\t%.1f\t%.2f\t%s\t%s\t%s\t%s\t%s\t\n", t.Round, t.From, t.Client, first, t.RecordsPerSec(), t.MBPerSec(), t.Seconds, p50, p99, cpuCell(t), jitCell(t), hostCell(t))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nProject ÷ Kafka's tool, records/s:\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "from\tpair\tmin\tmedian\tmax\tper round")
	for _, rt := range r.Ratios() {
		pair := AlertProducer + " ÷ " + ProducerPerformance
		if rt.Kind == Consume {
			pair = AlertConsumer + " ÷ " + ConsumerPerformance
		}
		per := ""
		for i, v := range rt.Rounds {
			if i > 0 {
				per += " "
			}
			if math.IsNaN(v) {
				per += "-"
			} else {
				per += fmt.Sprintf("%.2f", v)
			}
		}
		if rt.Compared == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t%s\n", rt.From, pair, per)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%.2f\t%s\n", rt.From, pair, rt.Min, rt.Median, rt.Max, per)
	}
	tw.Flush()
	if f := r.Failed(); len(f) > 0 {
		fmt.Fprintf(w, "\n%d tries failed:\n", len(f))
		for _, t := range f {
			fmt.Fprintf(w, "  round %d, %s, %s: %s\n", t.Round, t.From, t.Client, t.Error)
		}
	}
}

// Write writes the bench archive into dir (made; an existing one is
// refused): bench.json (the Result) and report.txt (Print).
func (r Result) Write(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("bench archive %s: %w (a bench never overwrites another's)", dir, err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "report.txt"))
	if err != nil {
		return err
	}
	r.Print(f)
	return f.Close()
}

// Load reads a bench archive's bench.json.
func Load(dir string) (Result, error) {
	var r Result
	b, err := os.ReadFile(filepath.Join(dir, "bench.json"))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", filepath.Join(dir, "bench.json"), err)
	}
	return r, nil
}
