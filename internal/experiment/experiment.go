// Package experiment reads experiment files: what one `testbed run` does.
//
// An experiment file is YAML, decoded strictly: an unknown or misspelt field
// is an error, and so is a value of the wrong type. Every field but name has
// a default (DMTN-028's: 10,000 alerts every 39 s, stamps on, one producer,
// two consumers; Kafka as the agents default it; a topic replicated 3 times
// with min.insync.replicas 2); the defaults are applied in one place,
// applyDefaults, and Defaults returns them. Every error names the file, the
// field by its YAML path and what is allowed, in the manner of Prometheus'
// config package:
//
//	experiments/x.yaml: consumers[1].mode: "fast" is not one of count, print-every, drop
//
// experiments/reference.yaml in the repository is the complete schema as a
// commented file, every field at its default.
//
// # Sweeps
//
// A field that takes a single value (a scalar: a number, a duration, true or
// false, a string) may instead hold a list of values: a sweep. A file with
// sweeps stands for one run per combination of the swept values (the
// cartesian product), for example
//
//	producers: [1, 10]
//	alert: {stamps: [true, false]}
//
// gives four runs. The runs come in a fixed order: the swept fields are
// taken in the order they appear in the file, the first one varying slowest
// (nested loops, the first field outermost): producers 1 with stamps true,
// 1 false, 10 true, 10 false. Each run is named after the file's name, then
// for every swept field its label and value: scaling-producers-1-stamps-true,
// and so on. The label is the field's own key with '_' made '-' (stamps,
// alerts-per-visit); when two swept fields have the same key (two consumer
// groups both sweeping members), their whole paths instead
// (consumers-0-members). Values are lowercased, every run of characters
// other than a-z and 0-9 made one '-' (1.5s gives 1-5s). MaxNameLen limits
// the name in the file, not the longer run names.
//
// Rules:
//   - Only scalar fields can be swept, wherever they are, also inside list
//     entries (consumers[0].members: [1, 10]). A list on a mapping (alert,
//     pacing, ...) or in place of a list entry (consumers: [[...], [...]]) is
//     an error.
//   - These scalars cannot be swept, since they name things rather than set
//     them: name, description, needs, topic.name, consumers[].name,
//     filters.expressions[].name and .expr, faults[].action and
//     faults[].target.consumer. The other scalars of a fault can
//     (faults[0].at.visit: [2, 5]).
//   - A sweep needs at least one value; its values must be single values of
//     the field's type, and distinct.
//   - The list-valued fields (consumers, filters.expressions) cannot be
//     swept as a whole. To sweep the number of consumer groups, sweep a
//     group's copies field: {name: print, copies: [1, 3, 5, 10]} stands for
//     1, 3, 5 or 10 identical groups print-1, print-2, ...
//   - A YAML anchor on a list and aliases of it make one sweep: the fields
//     that share the list take the same value in each run (a zip, not a
//     product), e.g. topic.partitions: &p [1, 10] and consumers[0].members: *p.
//     The run is labelled after the first of them in the file.
//   - At most MaxRuns runs per file.
//
// Every expanded run gets its defaults and is validated on its own; an error
// in one run names it: "... (in sweep run scaling-producers-10-stamps-false)".
//
// # Use
//
// Load (a path) and Parse (contents) return a file's runs, defaults applied
// and validated. They are Decode (strict decoding; File.Sweeps says what is
// swept and File.Runs how many runs that makes), File.Expand (the runs,
// defaults applied) and Experiment.Validate of every run. Most of an
// Experiment's fields are agent flags (each field's comment names its
// flag); PacingConfig gives the producers' agents/pacing.Config, Groups
// the consumer groups with copies expanded, FilterDefs and FilterRange the
// filters of each filter group, FaultStart when each fault starts,
// MaxRecordSize the largest record the run sends, and String a summary to
// print. ServiceName and the label functions (names.go) are the names of a
// run's swarm services, which Validate checks fit a DNS label.
package experiment

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/filter"
	"github.com/alert-testbed/testbed/agents/kafkaconf"
	"github.com/alert-testbed/testbed/agents/pacing"
	"github.com/alert-testbed/testbed/internal/steps"
	"github.com/alert-testbed/testbed/internal/topology"
)

// Defaults of the fields of an experiment file. The alert, pacing and Kafka
// defaults are those of the agents (agents/pacing, agents/kafkaconf,
// alert-consumer, alert-filter), so that a field left out of the file and a
// flag left off the command line mean the same.
const (
	// DefaultVisits keeps a default run short (6.5 minutes at 39 s per
	// visit); DMTN-028's first benchmark ran 1,000 visits (11 hours).
	DefaultVisits         = 10
	DefaultAlertsPerVisit = pacing.DefaultAlertsPerVisit // 10,000: LSST's nAlertVisitAvg
	DefaultInterval       = pacing.DefaultInterval       // 39 s between visits
	DefaultBurstInterval  = pacing.DefaultBurstInterval  // 37 s with pacing ccd-bursts (DMTN-149)
	DefaultProducers      = 1
	DefaultStamps         = true
	DefaultSchemaID       = 1
	// The values of alert.replay_pacing; a single pass is paced by the
	// experiment unless it says observed.
	ReplayPacingExperiment = "experiment"
	ReplayPacingObserved   = "observed"
	// DefaultReplaySpeedup plays exposures as far apart as they were
	// observed; DefaultReplayMaxGap shortens longer gaps (a night's
	// weather, the day between nights) so that a file of several nights
	// plays in one sitting. Rubin's and ZTF's exposures are about 40 s
	// apart within a night, with slews and filter changes of a few
	// minutes at most.
	DefaultReplaySpeedup = 1.0
	DefaultReplayMaxGap  = 5 * time.Minute
	// DefaultNullRate is the share of alerts in which a nullable field of
	// another schema than testbed is null (agents/alert.DefaultOptions).
	DefaultNullRate = 0.05

	DefaultTopic             = "alerts"
	DefaultPartitions        = 1 // DMTN-028: "All tests above use a single partition"
	DefaultReplicationFactor = 3
	DefaultMinInsyncReplicas = 2 // or the replication factor, if that is smaller
	// DefaultRetention bounds the disk a run uses (10,000 alerts of 136 KB
	// are 1.36 GB per visit and replica) while leaving a lagging consumer
	// an hour to catch up.
	DefaultRetention = time.Hour

	DefaultMembers    = 1
	DefaultMode       = ModeCount
	DefaultPrintEvery = 100 // DMTN-028's consumer1 printed every 100th alert
	DefaultCopies     = 1

	DefaultFiltersPerGroup = 20 // DMTN-081: five groups of 20 filters
	DefaultFilterCap       = 20 // DMTN-081: numBrokerAlerts = 20 alerts per filter per visit
	// BuiltinFilters is the size of the built-in DMTN-081 filter set
	// (filter.DMTN081, alert-filter --builtin): numBrokerUsers = 100.
	BuiltinFilters = 100

	DefaultAcks            = "all"
	DefaultCompression     = "none"
	DefaultBatchBytes      = 1 << 20
	DefaultLinger          = 5 * time.Millisecond
	DefaultMaxMessageBytes = 1_000_000
	DefaultBuffer          = 1024
	DefaultBufferMemory    = kafkaconf.DefaultBufferMemory // 32 MiB, Kafka's buffer.memory
	DefaultMaxInFlight     = 5
	// Kafka's own producer defaults: retries (2147483647),
	// retry.backoff.ms (100) and delivery.timeout.ms (120000).
	DefaultRetries         = kafkaconf.DefaultRetries         // 2147483647
	DefaultRetryBackoff    = kafkaconf.DefaultRetryBackoff    // 100 ms
	DefaultDeliveryTimeout = kafkaconf.DefaultDeliveryTimeout // 120 s
	// RequestTimeout is Kafka's request.timeout.ms default (30 s), which
	// the agents use: Kafka requires delivery.timeout.ms >= linger.ms +
	// request.timeout.ms.
	RequestTimeout = kafkaconf.RequestTimeout

	// DefaultRunSlack is added to visits x visit_interval for the default
	// run_timeout: room to start the agents and to drain the last visit.
	DefaultRunSlack = 10 * time.Minute
)

// Limits of the fields.
const (
	MaxNameLen = 40
	// Brokers is the number of Kafka brokers of every testbed: the upper
	// bound of topic.replication_factor.
	Brokers = topology.BrokerCount
	// BrokerMaxMessageBytes is the brokers' message.max.bytes (Kafka's
	// default, 1 MiB + 12), the upper bound of kafka.max_message_bytes.
	BrokerMaxMessageBytes = 1048588
	// MaxRuns is the most runs one file may expand to.
	MaxRuns = 1000
)

// Consumer modes (alert-consumer --mode).
const (
	ModeCount      = "count"       // decode and count every alert
	ModePrintEvery = "print-every" // also print every Nth alert: DMTN-028's consumer1
	ModeDrop       = "drop"        // do not decode: DMTN-028's consumer2
)

// Modes lists the consumer modes in the order error messages name them.
var Modes = []string{ModeCount, ModePrintEvery, ModeDrop}

// Kafka settings allowed in the kafka section, in the order error messages
// name them.
var (
	AcksValues   = []string{"all", "1", "0"}
	Compressions = []string{"none", "gzip", "snappy", "lz4", "zstd"}
)

// Experiment is one run: an experiment file with its defaults applied, or
// one run of a file with sweeps. The yaml names are those of the file, and
// yaml.Marshal of an Experiment gives a file that loads back to it (see
// MarshalYAML). Each field's comment names the agent flag it becomes.
type Experiment struct {
	// Name of the run: the file's name, plus the sweep suffix for a run
	// of a sweep (see Base).
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// Needs says, in free text, what the run needs that a small testbed
	// may lack ("aws: 10 producers x 136 KB need more than 2 cores");
	// `testbed run` and --check print it.
	Needs string `yaml:"needs,omitempty"`

	Visits         int           `yaml:"visits"`           // producer --visits
	VisitInterval  time.Duration `yaml:"visit_interval"`   // producer --interval
	AlertsPerVisit int           `yaml:"alerts_per_visit"` // producer --alerts-per-visit: over all producers
	Producers      int           `yaml:"producers"`        // producer --producers: replicas of the producer service

	Alert     Alert           `yaml:"alert"`
	Pacing    Pacing          `yaml:"pacing"`
	Topic     Topic           `yaml:"topic"`
	Consumers []ConsumerGroup `yaml:"consumers"`
	// ExternalConsumers are Kafka consumer groups that the run does not
	// start (a community broker's consumer, pointed at the stream topic
	// from the host): the run waits for each to have a member before visit
	// 1, follows their lag from their committed offsets, and says per visit
	// whether each caught up, and in the end whether it keeps up.
	ExternalConsumers []string `yaml:"external_consumers,omitempty"`
	Filters           Filters  `yaml:"filters"`
	Kafka             Kafka    `yaml:"kafka"`
	Limits            Limits   `yaml:"limits"`
	// Faults are what the run breaks, and when (see Fault).
	Faults []Fault `yaml:"faults,omitempty"`
	Expect Expect  `yaml:"expect"`

	// File is the experiment file, as given to Load or Parse.
	File string `yaml:"-"`
	// Base is the name in the file; Name is Base plus the sweep suffix.
	Base string `yaml:"-"`
	// Sweep holds the swept fields' values of this run, in file order;
	// empty for a file without sweeps.
	Sweep []Setting `yaml:"-"`
	// Slots are the visits of a single pass paced by the alerts' own
	// observation times (alert.replay_pacing observed): one per exposure of
	// the replay file, Observed its exposures. Without them visits are
	// uniform: every VisitInterval, AlertsPerVisit each.
	Slots    []pacing.Slot   `yaml:"-"`
	Observed *alert.Observed `yaml:"-"`
	// observedErr is why the observation times could not be read
	// (Validate names it).
	observedErr error
}

// Setting is one swept field's value in a run.
type Setting struct {
	Field string `json:"field"` // YAML path, e.g. alert.stamps
	Value string `json:"value"` // as written in the file, e.g. false
}

func (s Setting) String() string { return s.Field + "=" + s.Value }

// Alert is what the producers send.
type Alert struct {
	Stamps bool `yaml:"stamps"` // producer --stamps: the three FITS cutouts
	// Size is the target size of an alert in bytes (producer
	// --alert-size); 0: the generator's default, about 136 KB with stamps
	// and 6 KB without.
	Size int `yaml:"size"`
	// Replay is an Avro object container file whose alerts are sent
	// instead of generated ones (producer --replay), made absolute; a
	// relative path in the file is relative to the experiment file.
	Replay string `yaml:"replay,omitempty"`
	// ReplayMode is how the file is replayed: infinite (the default: over
	// and over until the last visit, each pass's ids and times shifted) or
	// single-pass (once; visits then default to what the file fills).
	ReplayMode string `yaml:"replay_mode,omitempty"`
	// ReplayPacing is, in a single pass, what times the alerts: the
	// experiment's pacing (experiment, the default) or the alerts' own
	// observation times (observed: one visit per exposure, at its time
	// after the first exposure's; Experiment.Slots).
	ReplayPacing string `yaml:"replay_pacing,omitempty"`
	// ReplayTimeField is, with observed pacing, the field that holds an
	// alert's observation time: a dotted path of record fields, in days
	// (MJD, JD) or a timestamp; by default the first of
	// alert.TimeFields the file's schema has (Rubin's
	// diaSource.midpointMjdTai, ZTF's candidate.jd).
	ReplayTimeField string `yaml:"replay_time_field,omitempty"`
	// ReplaySpeedup divides the time between exposures (observed pacing;
	// default 1: as the sky went).
	ReplaySpeedup float64 `yaml:"replay_speedup,omitempty"`
	// ReplayMaxGap shortens every longer gap between exposures to itself
	// (observed pacing; default DefaultReplayMaxGap; 0: none shortened),
	// so that a file of several nights plays in one sitting.
	ReplayMaxGap time.Duration `yaml:"replay_max_gap,omitempty"`
	// Schema is the Avro schema of the generated alerts
	// (internal/alertschema): testbed (the project's own), rubin (Rubin's
	// newest published schema), rubin-MAJOR.MINOR, or an .avsc file (made
	// absolute; a relative path is taken from the experiment file's folder).
	Schema string `yaml:"schema"`
	// SchemaID is the Confluent schema id of every agent (--schema-id);
	// by default the schema's convention: Rubin's MAJOR*100+MINOR, 1 for
	// the others; with alert.replay, the file's writer schema's.
	SchemaID int `yaml:"schema_id"`
	// NullRate is, with another schema than testbed, the share of alerts in
	// which a nullable field without a rule of its own is null (producer
	// --null-rate).
	NullRate float64 `yaml:"null_rate"`
}

// Pacing is when the producers send a visit's alerts: agents/pacing's
// model and its parameters (producer --pacing, --bursts, ...). The visit
// count, interval, alerts per visit and producers are top-level fields.
type Pacing struct {
	Model       pacing.Model  `yaml:"model"`        // visit, ccd-bursts or rate
	Bursts      int           `yaml:"bursts"`       // CCDs per visit; one burst each in ccd-bursts
	BurstMin    int           `yaml:"burst_min"`    // ccd-bursts: fewest alerts in a burst
	BurstMax    int           `yaml:"burst_max"`    // ccd-bursts: most alerts in a burst
	BurstMean   int           `yaml:"burst_mean"`   // ccd-bursts: typical alerts in a burst
	BurstSpread time.Duration `yaml:"burst_spread"` // ccd-bursts: bursts start within this of the visit start
	Rate        float64       `yaml:"rate"`         // rate: alerts/s over all producers
	Seed        int64         `yaml:"seed"`         // burst sizes and offsets, and alert values
}

// Topic is the alert topic the orchestrator creates for the run.
type Topic struct {
	Name              string        `yaml:"name"`
	Partitions        int           `yaml:"partitions"`
	ReplicationFactor int           `yaml:"replication_factor"`
	MinInsyncReplicas int           `yaml:"min_insync_replicas"`
	Retention         time.Duration `yaml:"retention"` // retention.ms
}

// ConsumerGroup is one consumer group reading the whole alert stream (or
// Copies identical groups).
type ConsumerGroup struct {
	Name       string `yaml:"name"`        // consumer --group (with Copies > 1: NAME-1 ... NAME-N)
	Members    int    `yaml:"members"`     // members sharing the partitions: replicas of the service
	Mode       string `yaml:"mode"`        // consumer --mode: count, print-every or drop
	PrintEvery int    `yaml:"print_every"` // consumer --print-every, with mode print-every
	Copies     int    `yaml:"copies"`      // identical groups; Experiment.Groups expands them
}

// Filters is the DMTN-081 mini-broker: Groups filter groups, each reading
// its own copy of the stream and running FiltersPerGroup filters, each
// filter forwarding at most Cap alerts per visit to its own topic, read by
// EndUsers end-user consumers per filter.
type Filters struct {
	Groups          int `yaml:"groups"`            // 0: no mini-broker
	FiltersPerGroup int `yaml:"filters_per_group"` // filter --first/--last ranges
	Cap             int `yaml:"cap"`               // filter --cap
	// Expressions are the filters (filter --filter NAME=EXPR); empty: the
	// built-in DMTN-081 set of BuiltinFilters magnitude cuts.
	Expressions []filter.Def `yaml:"expressions,omitempty"`
	// EndUsers is the number of end-user consumers per filter (in the
	// file: true for 1, false for 0, or a number).
	EndUsers int `yaml:"end_users"`
}

// Kafka is the producer tuning of the producers and filters (the agents'
// --acks, --compression, ... flags).
type Kafka struct {
	Acks            string        `yaml:"acks"`              // all, 1 or 0
	Compression     string        `yaml:"compression"`       // none, gzip, snappy, lz4, zstd
	BatchBytes      int           `yaml:"batch_bytes"`       // --batch-bytes
	Linger          time.Duration `yaml:"linger"`            // --linger
	MaxMessageBytes int           `yaml:"max_message_bytes"` // --max-message-bytes
	Buffer          int           `yaml:"buffer"`            // --buffer
	BufferMemory    int           `yaml:"buffer_memory"`     // alert-producer's --buffer-memory, bytes
	MaxInFlight     int           `yaml:"max_in_flight"`     // --max-in-flight
	Idempotent      bool          `yaml:"idempotent"`        // --idempotent
	Retries         int           `yaml:"retries"`           // --retries: send retries per record
	RetryBackoff    time.Duration `yaml:"retry_backoff"`     // --retry-backoff: wait before a retry
	// DeliveryTimeout bounds the time from a send to its success or
	// failure, retries included (--delivery-timeout); at least linger +
	// RequestTimeout, as Kafka requires.
	DeliveryTimeout time.Duration `yaml:"delivery_timeout"`
}

// Expect is what the run must show to pass, beyond the limits.
type Expect struct {
	// Duplicates: a run that sees more duplicated alerts than this fails
	// (0: exactly once); nil: duplicates are reported, not failing.
	Duplicates *int `yaml:"duplicates,omitempty"`
}

// Limits end a run early, as failed.
type Limits struct {
	// RunTimeout is the most the whole run may take; default visits x
	// visit_interval + DefaultRunSlack.
	RunTimeout time.Duration `yaml:"run_timeout"`
	// MaxLag: a group more than this many alerts behind fails the run;
	// 0: no limit.
	MaxLag int `yaml:"max_lag"`
	// VisitDeadline: each group must have all of a visit's alerts this
	// long after the visit's start; 0: no deadline.
	VisitDeadline time.Duration `yaml:"visit_deadline"`
}

// MarshalYAML writes the experiment in the file schema with every default
// filled in (but alerts_per_visit with observed replay pacing). A run of a sweep is written under its file's name (Base), so
// that the result loads back (the expanded name can exceed MaxNameLen),
// with the run's name and sweep values in a comment.
func (e Experiment) MarshalYAML() (any, error) {
	type plain Experiment // no methods: no recursion
	p := plain(e)
	if e.Base != "" {
		p.Name = e.Base
	}
	var n yaml.Node
	if err := n.Encode(p); err != nil {
		return nil, err
	}
	if len(e.Slots) > 0 && n.Kind == yaml.MappingNode {
		// Observed pacing: each visit has its exposure's alerts, and a
		// file that sets alerts_per_visit is refused.
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "alerts_per_visit" {
				n.Content = append(n.Content[:i], n.Content[i+2:]...)
				break
			}
		}
	}
	if len(e.Sweep) > 0 {
		s := make([]string, len(e.Sweep))
		for i, v := range e.Sweep {
			s[i] = v.String()
		}
		n.HeadComment = fmt.Sprintf("run %s of a sweep: %s", e.Name, strings.Join(s, " "))
	}
	return &n, nil
}

// PacingConfig is the run's pacing for agents/pacing (and the producer's
// pacing flags).
func (e Experiment) PacingConfig() pacing.Config {
	return pacing.Config{
		Model:          e.Pacing.Model,
		AlertsPerVisit: e.AlertsPerVisit,
		Interval:       e.VisitInterval,
		Producers:      e.Producers,
		Bursts:         e.Pacing.Bursts,
		BurstMin:       e.Pacing.BurstMin,
		BurstMax:       e.Pacing.BurstMax,
		BurstMean:      e.Pacing.BurstMean,
		BurstSpread:    e.Pacing.BurstSpread,
		Rate:           e.Pacing.Rate,
		Seed:           e.Pacing.Seed,
		Slots:          e.Slots,
	}
}

// Schedule is when the run's visits start and how many alerts each has
// (pacing.Schedule): uniform, or the replay file's exposures.
func (e Experiment) Schedule() pacing.Schedule { return e.PacingConfig().Schedule() }

// VisitStart is when visit v (from 1) starts, after T0; VisitStart(Visits
// + 1) is the run's end (Duration).
func (e Experiment) VisitStart(v int) time.Duration { return e.Schedule().Start(v - 1) }

// TotalAlerts is the alerts of all the run's visits.
func (e Experiment) TotalAlerts() int { return e.Schedule().Before(e.Visits) }

// Groups returns the consumer groups with their copies expanded: a group
// with Copies N > 1 becomes N groups NAME-1 ... NAME-N, each with Copies 1.
func (e Experiment) Groups() []ConsumerGroup {
	var out []ConsumerGroup
	for _, g := range e.Consumers {
		if g.Copies <= 1 {
			g.Copies = 1
			out = append(out, g)
			continue
		}
		for i := 1; i <= g.Copies; i++ {
			c := g
			c.Name, c.Copies = fmt.Sprintf("%s-%d", g.Name, i), 1
			out = append(out, c)
		}
	}
	return out
}

// FilterDefs returns the filters available to the filter groups: the
// file's expressions, or the built-in DMTN-081 set.
func (e Experiment) FilterDefs() []filter.Def {
	if len(e.Filters.Expressions) > 0 {
		return e.Filters.Expressions
	}
	return filter.DMTN081(BuiltinFilters)
}

// FilterRange returns the filters of filter group g (0-based) as
// alert-filter's --first and --last (1-based, inclusive): group 0 runs
// 1..FiltersPerGroup, group 1 the next FiltersPerGroup, and so on.
func (e Experiment) FilterRange(g int) (first, last int) {
	n := e.Filters.FiltersPerGroup
	return g*n + 1, (g + 1) * n
}

// Duration is the time from the first visit's start to the last visit's
// end: Visits x VisitInterval, or with Slots the last exposure's start +
// VisitInterval.
func (e Experiment) Duration() time.Duration {
	return e.Schedule().Start(e.Visits)
}

// durationWhy says how Duration comes about, for error messages.
func (e Experiment) durationWhy() string {
	if len(e.Slots) > 0 {
		return fmt.Sprintf("the last of %d exposures at T0 + %s, + visit_interval %s", e.Visits, e.VisitStart(e.Visits), e.VisitInterval)
	}
	return fmt.Sprintf("%d visits x %s", e.Visits, e.VisitInterval)
}

// String summarizes the run in a few lines, for printing before a run.
func (e Experiment) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", e.Name)
	var about []string
	if e.File != "" {
		about = append(about, e.File)
	}
	if len(e.Sweep) > 0 {
		s := make([]string, len(e.Sweep))
		for i, v := range e.Sweep {
			s[i] = v.String()
		}
		about = append(about, "sweep "+strings.Join(s, " "))
	}
	if len(about) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(about, "; "))
	}
	b.WriteString("\n")
	if e.Description != "" {
		fmt.Fprintf(&b, "  %s\n", strings.Join(strings.Fields(e.Description), " "))
	}
	if e.Needs != "" {
		fmt.Fprintf(&b, "  needs:     %s\n", strings.Join(strings.Fields(e.Needs), " "))
	}
	if o := e.Observed; len(e.Slots) > 0 && o != nil {
		lo, hi := e.Slots[0].Alerts, e.Slots[0].Alerts
		for _, s := range e.Slots {
			lo, hi = min(lo, s.Alerts), max(hi, s.Alerts)
		}
		fmt.Fprintf(&b, "  visits:    %d exposures of %d-%d alerts (%d in all) at their observed times (%s), %s\n",
			e.Visits, lo, hi, e.TotalAlerts(), o.Field, steps.Count(e.Producers, "producer"))
		speed := "as observed"
		if e.Alert.ReplaySpeedup != 1 {
			speed = fmt.Sprintf("%g times as fast as observed", e.Alert.ReplaySpeedup)
		}
		gaps := "no gap shortened"
		if _, n := o.Slots(e.Alert.ReplaySpeedup, e.Alert.ReplayMaxGap); n > 0 {
			gaps = fmt.Sprintf("%s shortened to %s", steps.Count(n, "gap"), e.Alert.ReplayMaxGap)
		}
		fmt.Fprintf(&b, "             %s, %s: the last at T0 + %s, then %s to the end (%s)\n",
			speed, gaps, e.VisitStart(e.Visits), e.VisitInterval, e.Duration())
	} else {
		fmt.Fprintf(&b, "  visits:    %d every %s (%s), %d alerts each (%d in all), %s\n",
			e.Visits, e.VisitInterval, e.Duration(), e.AlertsPerVisit, e.TotalAlerts(), steps.Count(e.Producers, "producer"))
	}
	switch e.Pacing.Model {
	case pacing.CCDBursts:
		fmt.Fprintf(&b, "  pacing:    ccd-bursts: %d bursts of %d-%d alerts (typically %d) within %s, seed %d\n",
			e.Pacing.Bursts, e.Pacing.BurstMin, e.Pacing.BurstMax, e.Pacing.BurstMean, e.Pacing.BurstSpread, e.Pacing.Seed)
	case pacing.Rate:
		fmt.Fprintf(&b, "  pacing:    rate: %g alerts/s\n", e.Pacing.Rate)
	default:
		fmt.Fprintf(&b, "  pacing:    %s: the whole visit at its start\n", e.Pacing.Model)
	}
	switch {
	case e.Alert.Replay != "":
		mode := e.Alert.ReplayMode
		if e.Alert.ReplayMode == alert.ReplaySinglePass {
			mode += ", " + e.Alert.ReplayPacing + " pacing"
		}
		fmt.Fprintf(&b, "  alerts:    replayed from %s (%s), schema id %d\n", e.Alert.Replay, mode, e.Alert.SchemaID)
	default:
		size := "default size"
		if e.Alert.Size > 0 {
			size = fmt.Sprintf("about %d bytes", e.Alert.Size)
		}
		fmt.Fprintf(&b, "  alerts:    generated, schema %s, stamps %s, %s, schema id %d\n", e.Alert.Schema, onOff(e.Alert.Stamps), size, e.Alert.SchemaID)
	}
	fmt.Fprintf(&b, "  topic:     %s: %s, replication factor %d, min.insync.replicas %d, retention %s\n",
		e.Topic.Name, steps.Count(e.Topic.Partitions, "partition"), e.Topic.ReplicationFactor, e.Topic.MinInsyncReplicas, e.Topic.Retention)
	var gs []string
	for _, g := range e.Consumers {
		mode := g.Mode
		if g.Mode == ModePrintEvery {
			mode = fmt.Sprintf("print-every %d", g.PrintEvery)
		}
		s := fmt.Sprintf("%s (%s, %s)", g.Name, steps.Count(g.Members, "member"), mode)
		if g.Copies > 1 {
			s = fmt.Sprintf("%d x %s", g.Copies, s)
		}
		gs = append(gs, s)
	}
	if len(gs) == 0 {
		gs = []string{"none"}
	}
	fmt.Fprintf(&b, "  consumers: %s\n", strings.Join(gs, ", "))
	if len(e.ExternalConsumers) > 0 {
		fmt.Fprintf(&b, "  external:  %s (not started by the run: followed from their committed offsets on %s)\n", strings.Join(e.ExternalConsumers, ", "), e.Topic.Name)
	}
	if e.Filters.Groups > 0 {
		set := "the built-in DMTN-081 set"
		if len(e.Filters.Expressions) > 0 {
			set = fmt.Sprintf("%d expressions", len(e.Filters.Expressions))
		}
		fmt.Fprintf(&b, "  filters:   %d groups x %d filters (of %s), at most %d alerts per filter per visit, %s per filter\n",
			e.Filters.Groups, e.Filters.FiltersPerGroup, set, e.Filters.Cap, steps.Count(e.Filters.EndUsers, "end user"))
	}
	k := e.Kafka
	fmt.Fprintf(&b, "  kafka:     acks %s, compression %s, batch %d bytes, linger %s, max message %d bytes, buffer %d, buffer memory %d bytes, %d in flight, idempotent %t, %d retries %s apart, delivery timeout %s\n",
		k.Acks, k.Compression, k.BatchBytes, k.Linger, k.MaxMessageBytes, k.Buffer, k.BufferMemory, k.MaxInFlight, k.Idempotent, k.Retries, k.RetryBackoff, k.DeliveryTimeout)
	lag, deadline := "none", "none"
	if e.Limits.MaxLag > 0 {
		lag = fmt.Sprintf("%d alerts", e.Limits.MaxLag)
	}
	if e.Limits.VisitDeadline > 0 {
		deadline = e.Limits.VisitDeadline.String()
	}
	fmt.Fprintf(&b, "  limits:    run timeout %s, max lag %s, visit deadline %s\n", e.Limits.RunTimeout, lag, deadline)
	if e.Expect.Duplicates != nil {
		fmt.Fprintf(&b, "  expect:    at most %d duplicated alerts, or the run fails\n", *e.Expect.Duplicates)
	}
	for i, f := range e.Faults {
		fmt.Fprintf(&b, "  fault %d:   %s\n", i+1, e.faultLine(f))
	}
	return b.String()
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// SetVisits changes the number of visits, and the run timeout with it when
// it was the default (visits x visit_interval + DefaultRunSlack).
func (e *Experiment) SetVisits(n int) error {
	if e.Limits.RunTimeout == e.Duration()+DefaultRunSlack {
		defer func() { e.Limits.RunTimeout = e.Duration() + DefaultRunSlack }()
	}
	old := e.Visits
	e.Visits = n
	if err := e.Validate(); err != nil {
		e.Visits = old
		return err
	}
	return nil
}
