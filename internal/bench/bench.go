// Package bench holds what `testbed bench` measures and writes: the
// settings of a bench (one place for defaults and validation), the parsers
// of the four clients' outputs (the project's alert-producer and
// alert-consumer, Kafka's ProducerPerformance and ConsumerPerformance), the
// tries as data, and the summary made from them alone (ratios project ÷
// Kafka's tool, min / median / max over rounds). The orchestrator runs the
// clients (internal/orchestrator/bench.go).
package bench

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Where a client runs.
const (
	// FromHost runs a client in a container of this machine's Docker
	// Engine on the host network: it reaches the brokers through their
	// external listeners (MANAGER_ADDRESS:9094), as a user's own client
	// does.
	FromHost = "host"
	// FromSwarm runs a client as a one-task service on a worker node: it
	// reaches the brokers over the swarm's overlay network (kafka-N:19092),
	// as a run's agents do.
	FromSwarm = "swarm"
)

// The clients compared. Each pair gets the same records, topic settings
// and client settings.
const (
	AlertProducer       = "alert-producer"
	ProducerPerformance = "ProducerPerformance" // org.apache.kafka.tools.ProducerPerformance
	AlertConsumer       = "alert-consumer"      // --mode drop
	ConsumerPerformance = "ConsumerPerformance" // org.apache.kafka.tools.ConsumerPerformance
)

// Kinds of try.
const (
	Produce = "produce"
	Consume = "consume"
)

// Config is one `testbed bench`. The client settings are those of the
// testbed's producers (agents/kafkaconf's defaults): acks all, batches of
// 1 MiB, linger 5 ms, 5 requests in flight, not idempotent; Kafka's tools
// are given the same.
type Config struct {
	Testbed           string   `json:"testbed"`
	RecordSize        int      `json:"record_size"` // bytes of record value
	Records           int      `json:"records"`     // per try
	Partitions        int      `json:"partitions"`
	ReplicationFactor int      `json:"replication_factor"`
	MinISR            int      `json:"min_insync_replicas"`
	Rounds            int      `json:"rounds"`
	From              []string `json:"from"` // FromHost, FromSwarm
	// Ceiling makes the bench a search for the ceiling (ceiling.go)
	// instead of rounds of comparisons.
	Ceiling bool `json:"ceiling,omitempty"`
}

// Defaults: an LSST alert (DMTN-028's 136 KB) and visit (10,000 alerts),
// the testbed's stream topic settings (3 partitions, RF 3, min ISR 2), 5
// rounds, from both places.
const (
	DefaultRecordSize = 136_000
	DefaultRecords    = 10_000
	DefaultPartitions = 3
	DefaultRF         = 3
	DefaultRounds     = 5
)

// Limits of Config: records within a Kafka request (max.message.bytes
// 1,000,000 less the record's overhead, the testbed's topic setting and
// sarama's default) and at least the smallest alert the generator makes.
const (
	MinRecordSize = 400
	MaxRecordSize = 990_000
	MaxRecords    = 10_000_000
	MaxRounds     = 100
)

// Default fills what is zero: the defaults above, MinISR the testbed's rule
// (RF - 1, at least 1).
func (c *Config) Default() {
	if c.RecordSize == 0 {
		c.RecordSize = DefaultRecordSize
	}
	if c.Records == 0 {
		c.Records = DefaultRecords
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = DefaultRF
	}
	if c.MinISR == 0 {
		c.MinISR = max(1, c.ReplicationFactor-1)
	}
	if c.Rounds == 0 {
		c.Rounds = DefaultRounds
	}
	if len(c.From) == 0 {
		c.From = []string{FromHost, FromSwarm}
	}
}

// Validate checks c against the testbed it runs on (brokers: how many);
// errors name the flag.
func (c Config) Validate(brokers int) error {
	var errs []error
	if c.RecordSize < MinRecordSize || c.RecordSize > MaxRecordSize {
		errs = append(errs, fmt.Errorf("--record-size %d: use %d to %d bytes (a record must fit a Kafka request of 1,000,000 bytes)", c.RecordSize, MinRecordSize, MaxRecordSize))
	}
	if c.Records < 1 || c.Records > MaxRecords {
		errs = append(errs, fmt.Errorf("--records %d: use 1 to %d", c.Records, MaxRecords))
	}
	if c.Partitions < 1 || c.Partitions > 1000 {
		errs = append(errs, fmt.Errorf("--partitions %d: use 1 to 1000", c.Partitions))
	}
	if c.ReplicationFactor < 1 || c.ReplicationFactor > brokers {
		errs = append(errs, fmt.Errorf("--replication-factor %d: use 1 to %d (the testbed's brokers)", c.ReplicationFactor, brokers))
	}
	if c.Rounds < 1 || c.Rounds > MaxRounds {
		errs = append(errs, fmt.Errorf("--rounds %d: use 1 to %d", c.Rounds, MaxRounds))
	}
	if len(c.From) == 0 {
		errs = append(errs, errors.New("--from: use host, swarm or both"))
	}
	for _, f := range c.From {
		if f != FromHost && f != FromSwarm {
			errs = append(errs, fmt.Errorf("--from %q: use host, swarm or both", f))
		}
	}
	return errors.Join(errs...)
}

// ParseFrom reads --from: host, swarm or both.
func ParseFrom(s string) ([]string, error) {
	switch s {
	case FromHost, FromSwarm:
		return []string{s}, nil
	case "both", "":
		return []string{FromHost, FromSwarm}, nil
	}
	return nil, fmt.Errorf("--from %q: use host, swarm or both", s)
}

// Try is one client's pass over Records records: produced into a fresh
// topic, or consumed from the topic the round's alert-producer filled.
type Try struct {
	Round  int    `json:"round"` // 1-based
	From   string `json:"from"`
	Kind   string `json:"kind"` // Produce, Consume
	Client string `json:"client"`
	First  bool   `json:"first"` // went first of its pair in this round
	Topic  string `json:"topic"`

	Records int64 `json:"records"` // produced (acknowledged) or consumed
	Bytes   int64 `json:"bytes"`   // of record values
	// Seconds is the client's own measure of the pass: a producer's first
	// send to its last ack; a consumer's first record to its last, after
	// it joined its group (ConsumerPerformance's fetch time).
	Seconds float64 `json:"seconds"`
	// P50Ms and P99Ms are a producer's ack latency percentiles (send to
	// acknowledgement), in milliseconds; 0 for consumers.
	P50Ms float64 `json:"p50_ms,omitempty"`
	P99Ms float64 `json:"p99_ms,omitempty"`
	// BrokersJITCPU is the CPU time (seconds) the brokers' JIT compiler
	// threads used over the try, summed over the brokers
	// (kafka.CompilerThreads); nil when it could not be read. A try over
	// which the brokers compiled much ran against JVMs still warming
	// (README "Where an LSST visit's time goes").
	BrokersJITCPU *float64 `json:"brokers_jit_cpu_seconds,omitempty"`
	// ClientCPU is the CPU time (seconds, user + system) the client's
	// process used over its whole life, start-up and connecting included:
	// alert-producer's and alert-consumer's own getrusage at exit
	// (agents/lifecycle.CPULine), Kafka's tools' from the shell that ran
	// them (`times`). The clients share the host's cores with the brokers
	// (the local environment), so a client that needs more CPU for the
	// same records leaves less to Kafka. nil when it could not be read.
	ClientCPU *float64 `json:"client_cpu_seconds,omitempty"`
	// HostSpeed is the host's speed (hostspeed.Measure, MB/s on one core)
	// timed at the start of the try's round and place; 0 when not
	// measured (an aws testbed: the orchestrator's machine is not the
	// nodes'). A round whose ratio is off with a low figure ran on a
	// slower or busier host.
	HostSpeed float64 `json:"host_speed_mb_per_s,omitempty"`
	// Error says why the try has no figures (the client failed).
	Error string `json:"error,omitempty"`
	// Output is the tail of what the client printed, for a try that
	// failed or whose output did not parse.
	Output string `json:"output,omitempty"`
}

// RecordsPerSec is Records / Seconds (0 without figures).
func (t Try) RecordsPerSec() float64 {
	if t.Seconds <= 0 || t.Error != "" {
		return 0
	}
	return float64(t.Records) / t.Seconds
}

// MBPerSec is Bytes / Seconds in MB/s (1 MB = 10^6 bytes).
func (t Try) MBPerSec() float64 {
	if t.Seconds <= 0 || t.Error != "" {
		return 0
	}
	return float64(t.Bytes) / 1e6 / t.Seconds
}

// Result is a bench archive's bench.json.
type Result struct {
	ID      string    `json:"id"`
	Config  Config    `json:"config"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Images are the client images (agents, Kafka) by reference.
	Images map[string]string `json:"images"`
	Tries  []Try             `json:"tries,omitempty"`
	// Ceiling are the steps of a ceiling search (Config.Ceiling), in the
	// order they ran.
	Ceiling []CeilingStep `json:"ceiling,omitempty"`
}

// Pairs are the comparisons of a bench: the project's client and Kafka's
// tool of each kind.
var Pairs = []struct{ Kind, Project, Kafka string }{
	{Produce, AlertProducer, ProducerPerformance},
	{Consume, AlertConsumer, ConsumerPerformance},
}

// Ratio is project ÷ Kafka's tool in records/s over the rounds in which
// both have figures, for one place and kind.
type Ratio struct {
	From, Kind        string
	Rounds            []float64 // round order; NaN where a try failed
	Min, Median, Max  float64   // over the rounds with figures
	Compared, Missing int
}

// Ratios are the comparisons of r, in the order of r.Config.From and Pairs.
func (r Result) Ratios() []Ratio {
	var out []Ratio
	for _, from := range r.Config.From {
		for _, p := range Pairs {
			rt := Ratio{From: from, Kind: p.Kind}
			var ok []float64
			for round := 1; round <= r.Config.Rounds; round++ {
				a, b := r.find(round, from, p.Project), r.find(round, from, p.Kafka)
				v := math.NaN()
				if a != nil && b != nil && a.RecordsPerSec() > 0 && b.RecordsPerSec() > 0 {
					v = a.RecordsPerSec() / b.RecordsPerSec()
					ok = append(ok, v)
				} else {
					rt.Missing++
				}
				rt.Rounds = append(rt.Rounds, v)
			}
			rt.Compared = len(ok)
			if len(ok) > 0 {
				slices.Sort(ok)
				rt.Min, rt.Max, rt.Median = ok[0], ok[len(ok)-1], median(ok)
			}
			out = append(out, rt)
		}
	}
	return out
}

func (r Result) find(round int, from, client string) *Try {
	for i := range r.Tries {
		t := &r.Tries[i]
		if t.Round == round && t.From == from && t.Client == client {
			return t
		}
	}
	return nil
}

// median of sorted values.
func median(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Failed are the tries without figures.
func (r Result) Failed() []Try {
	var out []Try
	for _, t := range r.Tries {
		if t.Error != "" {
			out = append(out, t)
		}
	}
	return out
}

// FailedSteps are the ceiling steps without figures.
func (r Result) FailedSteps() []CeilingStep {
	var out []CeilingStep
	for _, s := range r.Ceiling {
		if s.Error != "" {
			out = append(out, s)
		}
	}
	return out
}
