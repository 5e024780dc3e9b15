package experiment

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/filter"
	"github.com/alert-testbed/testbed/agents/pacing"
	"github.com/alert-testbed/testbed/internal/alertschema"
)

// The file types are the experiment file as written: a nil pointer is a
// field left out (or written as null), which applyDefaults fills in. Their
// yaml tags are the schema that the strict decoder and the walker in
// parse.go check a file against; a scalar field tagged sweep:"-" cannot be
// swept.

type fileExperiment struct {
	Name           *string             `yaml:"name" sweep:"-"`
	Description    *string             `yaml:"description" sweep:"-"`
	Needs          *string             `yaml:"needs" sweep:"-"`
	Visits         *int                `yaml:"visits"`
	VisitInterval  *duration           `yaml:"visit_interval"`
	AlertsPerVisit *int                `yaml:"alerts_per_visit"`
	Producers      *int                `yaml:"producers"`
	Alert          fileAlert           `yaml:"alert"`
	Pacing         filePacing          `yaml:"pacing"`
	Topic          fileTopic           `yaml:"topic"`
	Consumers      []fileConsumerGroup `yaml:"consumers"` // nil: left out; empty: none
	// ExternalConsumers are Kafka consumer groups the run follows without
	// starting them.
	ExternalConsumers []string    `yaml:"external_consumers" sweep:"-"`
	Filters           fileFilters `yaml:"filters"`
	Kafka             fileKafka   `yaml:"kafka"`
	Limits            fileLimits  `yaml:"limits"`
	Faults            []fileFault `yaml:"faults"`
	Expect            fileExpect  `yaml:"expect"`
}

type fileFault struct {
	Action   *string         `yaml:"action" sweep:"-"`
	Target   fileFaultTarget `yaml:"target"`
	At       fileFaultTime   `yaml:"at"`
	Duration *duration       `yaml:"duration"`
	Netem    *fileNetem      `yaml:"netem"`
}

type fileFaultTarget struct {
	Broker      *int    `yaml:"broker"`
	Consumer    *string `yaml:"consumer" sweep:"-"`
	Member      *int    `yaml:"member"`
	FilterGroup *int    `yaml:"filter-group"`
	Producer    *int    `yaml:"producer"`
	Worker      *int    `yaml:"worker"`
}

type fileFaultTime struct {
	Visit *int      `yaml:"visit"`
	After *duration `yaml:"after"`
}

type fileNetem struct {
	Delay  *duration `yaml:"delay"`
	Jitter *duration `yaml:"jitter"`
	Loss   *float64  `yaml:"loss"`
}

type fileExpect struct {
	Duplicates *int `yaml:"duplicates"`
}

type fileAlert struct {
	Stamps     *bool   `yaml:"stamps"`
	Size       *int    `yaml:"size"`
	Replay     *string `yaml:"replay"`
	ReplayMode *string `yaml:"replay_mode"`
	// The single pass's pacing by observation time.
	ReplayPacing    *string   `yaml:"replay_pacing"`
	ReplayTimeField *string   `yaml:"replay_time_field"`
	ReplaySpeedup   *float64  `yaml:"replay_speedup"`
	ReplayMaxGap    *duration `yaml:"replay_max_gap"`
	Schema          *string   `yaml:"schema"`
	SchemaID        *int      `yaml:"schema_id"`
	NullRate        *float64  `yaml:"null_rate"`
}

type filePacing struct {
	Model       *string   `yaml:"model"`
	Bursts      *int      `yaml:"bursts"`
	BurstMin    *int      `yaml:"burst_min"`
	BurstMax    *int      `yaml:"burst_max"`
	BurstMean   *int      `yaml:"burst_mean"`
	BurstSpread *duration `yaml:"burst_spread"`
	Rate        *float64  `yaml:"rate"`
	Seed        *int64    `yaml:"seed"`
}

type fileTopic struct {
	Name              *string   `yaml:"name" sweep:"-"`
	Partitions        *int      `yaml:"partitions"`
	ReplicationFactor *int      `yaml:"replication_factor"`
	MinInsyncReplicas *int      `yaml:"min_insync_replicas"`
	Retention         *duration `yaml:"retention"`
}

type fileConsumerGroup struct {
	Name       *string `yaml:"name" sweep:"-"`
	Members    *int    `yaml:"members"`
	Mode       *string `yaml:"mode"`
	PrintEvery *int    `yaml:"print_every"`
	Copies     *int    `yaml:"copies"`
}

type fileFilters struct {
	Groups          *int         `yaml:"groups"`
	FiltersPerGroup *int         `yaml:"filters_per_group"`
	Cap             *int         `yaml:"cap"`
	Expressions     []fileFilter `yaml:"expressions"`
	EndUsers        *endUsers    `yaml:"end_users"`
}

type fileFilter struct {
	Name *string `yaml:"name" sweep:"-"`
	Expr *string `yaml:"expr" sweep:"-"`
}

type fileKafka struct {
	Acks            *string   `yaml:"acks"`
	Compression     *string   `yaml:"compression"`
	BatchBytes      *int      `yaml:"batch_bytes"`
	Linger          *duration `yaml:"linger"`
	MaxMessageBytes *int      `yaml:"max_message_bytes"`
	Buffer          *int      `yaml:"buffer"`
	BufferMemory    *int      `yaml:"buffer_memory"`
	MaxInFlight     *int      `yaml:"max_in_flight"`
	Idempotent      *bool     `yaml:"idempotent"`
	Retries         *int      `yaml:"retries"`
	RetryBackoff    *duration `yaml:"retry_backoff"`
	DeliveryTimeout *duration `yaml:"delivery_timeout"`
}

type fileLimits struct {
	RunTimeout    *duration `yaml:"run_timeout"`
	MaxLag        *int      `yaml:"max_lag"`
	VisitDeadline *duration `yaml:"visit_deadline"`
}

// duration is a Go duration string with a unit: 39s, 1m30s, 500ms. A bare
// number is an error rather than nanoseconds.
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if v, err := time.ParseDuration(n.Value); err == nil {
			*d = duration(v)
			return nil
		}
	}
	return fmt.Errorf("%s is not a duration: write a number with a unit, e.g. 39s, 1m30s, 500ms", show(n))
}

// endUsers is true (1 per filter), false (0) or a count per filter.
type endUsers int

func (e *endUsers) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				*e = 0
				if b {
					*e = 1
				}
				return nil
			}
		case "!!int":
			var i int
			if err := n.Decode(&i); err == nil {
				*e = endUsers(i)
				return nil
			}
		}
	}
	return fmt.Errorf("%s is not true, false or a number of end users per filter", show(n))
}

// replayMode is alert.replay_mode: infinite by default with a replay file,
// empty without one.
func replayMode(a fileAlert) string {
	if a.Replay == nil {
		return str(a.ReplayMode, "")
	}
	return str(a.ReplayMode, alert.ReplayInfinite)
}

// replayPacing is alert.replay_pacing: experiment by default with a
// replay file, empty without one.
func replayPacing(a fileAlert) string {
	if a.Replay == nil {
		return str(a.ReplayPacing, "")
	}
	return str(a.ReplayPacing, ReplayPacingExperiment)
}

// observedDefault is def with observed pacing, the zero value otherwise
// (the field is then left out of the archived experiment).
func observedDefault[T any](a fileAlert, def T) T {
	if a.Replay != nil && a.ReplayPacing != nil && *a.ReplayPacing == ReplayPacingObserved {
		return def
	}
	var zero T
	return zero
}

// Defaults returns the experiment of a file that gives only a name (left
// empty here): DMTN-028's defaults. See applyDefaults.
func Defaults() Experiment {
	return applyDefaults(fileExperiment{})
}

// DefaultConsumers are DMTN-028's two consumers: consumer1 counts every
// alert and prints every 100th, consumer2 drops them (and prints the
// status:end lines that time the visits).
func DefaultConsumers() []ConsumerGroup {
	return []ConsumerGroup{
		{Name: "consumer1", Members: DefaultMembers, Mode: ModePrintEvery, PrintEvery: DefaultPrintEvery, Copies: 1},
		{Name: "consumer2", Members: DefaultMembers, Mode: ModeDrop, PrintEvery: DefaultPrintEvery, Copies: 1},
	}
}

// applyDefaults turns a file as written into an Experiment: the one place
// where defaults are applied. Most defaults are constants; a few depend on
// other fields of the same run:
//   - visit_interval: 39 s, or 37 s with pacing ccd-bursts (pacing.Defaults)
//   - pacing.bursts ... seed: pacing.Defaults of the model
//   - topic.min_insync_replicas: 2, or the replication factor if smaller
//   - consumers: DMTN-028's two consumers if the field is left out; an
//     empty list is no consumers
//   - limits.run_timeout: visits x visit_interval + DefaultRunSlack
//
// It does not validate; values out of range stay as they are.
func applyDefaults(f fileExperiment) Experiment {
	model := pacing.Model(str(f.Pacing.Model, string(pacing.Visit)))
	pd := pacing.Defaults(model) // its interval: 39 s, 37 s for ccd-bursts

	e := Experiment{
		Name:           str(f.Name, ""),
		Description:    str(f.Description, ""),
		Needs:          str(f.Needs, ""),
		Visits:         num(f.Visits, DefaultVisits),
		VisitInterval:  dur(f.VisitInterval, pd.Interval),
		AlertsPerVisit: num(f.AlertsPerVisit, DefaultAlertsPerVisit),
		Producers:      num(f.Producers, DefaultProducers),
		Alert: Alert{
			Stamps:     boolean(f.Alert.Stamps, DefaultStamps),
			Size:       num(f.Alert.Size, 0),
			Replay:     str(f.Alert.Replay, ""),
			ReplayMode: replayMode(f.Alert),
			// The pacing by observation time: its settings get their
			// defaults with observed pacing only.
			ReplayPacing:    replayPacing(f.Alert),
			ReplayTimeField: str(f.Alert.ReplayTimeField, ""),
			ReplaySpeedup:   num(f.Alert.ReplaySpeedup, observedDefault(f.Alert, DefaultReplaySpeedup)),
			ReplayMaxGap:    dur(f.Alert.ReplayMaxGap, observedDefault(f.Alert, DefaultReplayMaxGap)),
			Schema:          str(f.Alert.Schema, alertschema.Testbed),
			SchemaID:        num(f.Alert.SchemaID, alertschema.ConventionID(str(f.Alert.Schema, alertschema.Testbed), DefaultSchemaID)),
			NullRate:        num(f.Alert.NullRate, DefaultNullRate),
		},
		Pacing: Pacing{
			Model:       model,
			Bursts:      num(f.Pacing.Bursts, pd.Bursts),
			BurstMin:    num(f.Pacing.BurstMin, pd.BurstMin),
			BurstMax:    num(f.Pacing.BurstMax, pd.BurstMax),
			BurstMean:   num(f.Pacing.BurstMean, pd.BurstMean),
			BurstSpread: dur(f.Pacing.BurstSpread, pd.BurstSpread),
			Rate:        num(f.Pacing.Rate, pd.Rate),
			Seed:        num(f.Pacing.Seed, pd.Seed),
		},
		Topic: Topic{
			Name:              str(f.Topic.Name, DefaultTopic),
			Partitions:        num(f.Topic.Partitions, DefaultPartitions),
			ReplicationFactor: num(f.Topic.ReplicationFactor, DefaultReplicationFactor),
			Retention:         dur(f.Topic.Retention, DefaultRetention),
		},
		Filters: Filters{
			Groups:          num(f.Filters.Groups, 0),
			FiltersPerGroup: num(f.Filters.FiltersPerGroup, DefaultFiltersPerGroup),
			Cap:             num(f.Filters.Cap, DefaultFilterCap),
			EndUsers:        int(num(f.Filters.EndUsers, 0)),
		},
		Kafka: Kafka{
			Acks:            str(f.Kafka.Acks, DefaultAcks),
			Compression:     str(f.Kafka.Compression, DefaultCompression),
			BatchBytes:      num(f.Kafka.BatchBytes, DefaultBatchBytes),
			Linger:          dur(f.Kafka.Linger, DefaultLinger),
			MaxMessageBytes: num(f.Kafka.MaxMessageBytes, DefaultMaxMessageBytes),
			Buffer:          num(f.Kafka.Buffer, DefaultBuffer),
			BufferMemory:    num(f.Kafka.BufferMemory, DefaultBufferMemory),
			MaxInFlight:     num(f.Kafka.MaxInFlight, DefaultMaxInFlight),
			Idempotent:      boolean(f.Kafka.Idempotent, false),
			Retries:         num(f.Kafka.Retries, DefaultRetries),
			RetryBackoff:    dur(f.Kafka.RetryBackoff, DefaultRetryBackoff),
			DeliveryTimeout: dur(f.Kafka.DeliveryTimeout, DefaultDeliveryTimeout),
		},
		Limits: Limits{
			MaxLag:        num(f.Limits.MaxLag, 0),
			VisitDeadline: dur(f.Limits.VisitDeadline, 0),
		},
	}
	e.Topic.MinInsyncReplicas = num(f.Topic.MinInsyncReplicas, min(DefaultMinInsyncReplicas, max(e.Topic.ReplicationFactor, 1)))
	e.Limits.RunTimeout = dur(f.Limits.RunTimeout, e.Duration()+DefaultRunSlack)

	e.ExternalConsumers = append([]string(nil), f.ExternalConsumers...)
	if f.Consumers == nil {
		e.Consumers = DefaultConsumers()
	} else {
		e.Consumers = make([]ConsumerGroup, len(f.Consumers))
		for i, g := range f.Consumers {
			e.Consumers[i] = ConsumerGroup{
				Name:       str(g.Name, ""),
				Members:    num(g.Members, DefaultMembers),
				Mode:       str(g.Mode, DefaultMode),
				PrintEvery: num(g.PrintEvery, DefaultPrintEvery),
				Copies:     num(g.Copies, DefaultCopies),
			}
		}
	}
	for _, x := range f.Filters.Expressions {
		e.Filters.Expressions = append(e.Filters.Expressions, filter.Def{Name: str(x.Name, ""), Expr: str(x.Expr, "")})
	}
	if f.Expect.Duplicates != nil {
		d := *f.Expect.Duplicates
		e.Expect.Duplicates = &d
	}
	for _, x := range f.Faults {
		t := x.Target
		fault := Fault{
			Action: str(x.Action, ""),
			Target: FaultTarget{Broker: num(t.Broker, 0), Consumer: str(t.Consumer, ""), Member: num(t.Member, 0),
				FilterGroup: num(t.FilterGroup, 0), Producer: num(t.Producer, 0), Worker: num(t.Worker, 0)},
			At:       FaultTime{Visit: num(x.At.Visit, 0), After: dur(x.At.After, 0)},
			Duration: dur(x.Duration, 0),
		}
		if n := x.Netem; n != nil {
			fault.Netem = &Netem{Delay: dur(n.Delay, 0), Jitter: dur(n.Jitter, 0), Loss: num(n.Loss, 0)}
		}
		e.Faults = append(e.Faults, fault)
	}
	return e
}

func num[T ~int | ~int64 | ~float64](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func str(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func boolean(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func dur(p *duration, def time.Duration) time.Duration {
	if p == nil {
		return def
	}
	return time.Duration(*p)
}
