package experiment

import (
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/filter"
	"github.com/alert-testbed/testbed/agents/pacing"
	"github.com/alert-testbed/testbed/internal/alertschema"
	"github.com/alert-testbed/testbed/internal/steps"
)

var (
	nameRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	topicRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
)

// maxTopicLen is Kafka's limit on topic names.
const maxTopicLen = 249

// Validate reports the first problem of the run, as an *Error naming the
// file, the field and what is allowed. Parse and Load validate every run;
// Validate is for experiments made or changed in code.
func (e Experiment) Validate() error {
	if err := e.validate(); err != nil {
		err.File = e.File
		if len(e.Sweep) > 0 {
			err.Run = e.Name
		}
		return err
	}
	return nil
}

func (e Experiment) validate() *Error {
	name := e.Name
	if e.Base != "" {
		name = e.Base
	}
	if err := checkName("name", name, "a name for the runs"); err != nil {
		return err
	}
	if e.Visits < 1 {
		return errorf("visits", "must be at least 1, got %d", e.Visits)
	}
	pc := e.PacingConfig()
	if len(pc.Slots) > 0 {
		// The fields alone, in a visit that any sound setting can send:
		// whether each exposure can be sent in its time is
		// validateObserved's (alert.replay).
		pc = pc.Visit(0)
		pc.Interval = max(pc.Interval, e.Duration())
		if pc.Model == pacing.CCDBursts {
			pc.AlertsPerVisit = pc.Bursts * pc.BurstMean
		}
	}
	if err := pc.Validate(); err != nil {
		return pacingError(err)
	}
	if err := e.validateAlert(); err != nil {
		return err
	}
	if err := e.validateTopic(); err != nil {
		return err
	}
	if err := e.validateExternalConsumers(); err != nil {
		return err
	}
	if err := e.validateConsumers(); err != nil {
		return err
	}
	if err := e.validateFilters(); err != nil {
		return err
	}
	if err := e.validateKafka(); err != nil {
		return err
	}
	if err := e.validateNames(); err != nil {
		return err
	}
	if err := e.validateLimits(); err != nil {
		return err
	}
	if d := e.Expect.Duplicates; d != nil && *d < 0 {
		return errorf("expect.duplicates", "must be 0 (exactly once) or more, or left out (duplicates reported, not failing), got %d", *d)
	}
	return e.validateFaults()
}

func checkName(field, name, what string) *Error {
	switch {
	case name == "":
		return errorf(field, "required: %s, of lowercase letters, digits and '-' (at most %d characters)", what, MaxNameLen)
	case len(name) > MaxNameLen:
		return errorf(field, "%q is %d characters long: at most %d", name, len(name), MaxNameLen)
	case !nameRE.MatchString(name):
		return errorf(field, "%q is not allowed: use lowercase letters, digits and '-', not at the start or end", name)
	}
	return nil
}

// pacingFields maps agents/pacing's field names to the file's paths.
var pacingFields = map[string]string{
	"model":            "pacing.model",
	"alerts_per_visit": "alerts_per_visit",
	"interval":         "visit_interval",
	"producers":        "producers",
}

// pacingError re-prefixes an error of pacing.Config.Validate ("field:
// message") with the field's path in the file.
func pacingError(err error) *Error {
	field, msg, ok := strings.Cut(err.Error(), ": ")
	if !ok {
		return errorf("pacing", "%v", err)
	}
	path, known := pacingFields[field]
	if !known {
		path = "pacing." + field
	}
	return errorf(path, "%s", msg)
}

func (e Experiment) validateAlert() *Error {
	a := e.Alert
	if a.Size < 0 {
		return errorf("alert.size", "must be 0 (the default size) or a number of bytes, got %d", a.Size)
	}
	if a.SchemaID < 0 || a.SchemaID > math.MaxUint32 {
		return errorf("alert.schema_id", "must be between 0 and %d, got %d", uint32(math.MaxUint32), a.SchemaID)
	}
	if err := alertschema.Check(a.Schema); err != nil {
		return errorf("alert.schema", "%v", err)
	}
	if a.NullRate < 0 || a.NullRate > 1 || math.IsNaN(a.NullRate) {
		return errorf("alert.null_rate", "must be a share from 0 to 1, got %g", a.NullRate)
	}
	if strings.HasSuffix(a.Schema, ".avsc") {
		data, err := os.ReadFile(a.Schema)
		if err != nil {
			return errorf("alert.schema", "%v (a relative path is taken from the experiment file's folder)", err)
		}
		js, err := alertschema.Compact(string(data), nil)
		if err == nil {
			_, err = alert.NewSchemaGenerator(js, alert.DefaultOptions())
		}
		if err == nil {
			_, err = alert.NewCodecForSchema(0, js)
		}
		if err != nil {
			return errorf("alert.schema", "%s: %v (a self-contained Avro record schema is needed: every named type defined where it is first used)", a.Schema, err)
		}
	}
	if a.Replay == "" {
		if a.ReplayMode != "" {
			return errorf("alert.replay_mode", "has no effect without alert.replay: leave it out")
		}
		if a.ReplayPacing != "" {
			return errorf("alert.replay_pacing", "has no effect without alert.replay: leave it out")
		}
	}
	if a.ReplayPacing != ReplayPacingObserved {
		switch {
		case a.ReplayTimeField != "":
			return errorf("alert.replay_time_field", "has no effect without alert.replay_pacing %s: leave it out", ReplayPacingObserved)
		case a.ReplaySpeedup != 0:
			return errorf("alert.replay_speedup", "has no effect without alert.replay_pacing %s: leave it out", ReplayPacingObserved)
		case a.ReplayMaxGap != 0:
			return errorf("alert.replay_max_gap", "has no effect without alert.replay_pacing %s: leave it out", ReplayPacingObserved)
		}
	}
	if a.Replay == "" {
		return nil
	}
	if a.ReplayMode != alert.ReplayInfinite && a.ReplayMode != alert.ReplaySinglePass {
		return errorf("alert.replay_mode", "%q is not %s (the file over and over, each pass's alert ids and times shifted) or %s (the file once)",
			a.ReplayMode, alert.ReplayInfinite, alert.ReplaySinglePass)
	}
	if a.ReplayPacing != ReplayPacingExperiment && a.ReplayPacing != ReplayPacingObserved {
		return errorf("alert.replay_pacing", "%q is not %s (the experiment's pacing and visits) or %s (one visit per exposure, at the alerts' own observation times)",
			a.ReplayPacing, ReplayPacingExperiment, ReplayPacingObserved)
	}
	if a.ReplayPacing == ReplayPacingObserved && a.ReplayMode != alert.ReplaySinglePass {
		return errorf("alert.replay_pacing", "%s paces a single pass of the file (its times happened once): set alert.replay_mode %s, or use replay_pacing %s",
			ReplayPacingObserved, alert.ReplaySinglePass, ReplayPacingExperiment)
	}
	if a.ReplayPacing == ReplayPacingObserved {
		if !(a.ReplaySpeedup > 0) || math.IsInf(a.ReplaySpeedup, 0) {
			return errorf("alert.replay_speedup", "must be a positive number (2: exposures twice as close as observed), got %g", a.ReplaySpeedup)
		}
		if a.ReplayMaxGap < 0 {
			return errorf("alert.replay_max_gap", "must be 0s (no gap shortened) or more, got %s", a.ReplayMaxGap)
		}
	}
	if a.Schema != alertschema.Testbed {
		return errorf("alert.schema", "has no effect with alert.replay (replayed alerts keep their file's schema): leave it out")
	}
	if a.Size != 0 {
		return errorf("alert.size", "has no effect with alert.replay (replayed alerts keep their size): leave it out")
	}
	st, err := os.Stat(a.Replay)
	switch {
	case os.IsNotExist(err):
		return errorf("alert.replay", "%s does not exist (a relative path is taken from the experiment file's folder)", a.Replay)
	case err != nil:
		return errorf("alert.replay", "%v", err)
	case st.IsDir():
		return errorf("alert.replay", "%s is a folder, not an Avro object container file", a.Replay)
	}
	f, err := os.Open(a.Replay)
	if err != nil {
		return errorf("alert.replay", "%v", err)
	}
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	f.Close()
	if err != nil || string(magic) != "Obj\x01" {
		return errorf("alert.replay", "%s is not an Avro object container file (it does not begin with Obj 1)", a.Replay)
	}
	n, err := alert.CountOCF(a.Replay)
	if err != nil {
		return errorf("alert.replay", "%v", err)
	}
	if n == 0 {
		return errorf("alert.replay", "%s holds no alerts", a.Replay)
	}
	if a.ReplayMode != alert.ReplaySinglePass {
		return nil
	}
	if a.ReplayPacing == ReplayPacingObserved {
		return e.validateObserved()
	}
	visits := alert.SinglePassVisits(n, e.AlertsPerVisit)
	if e.Visits != visits {
		return errorf("visits", "%d, but a single pass (alert.replay_mode) of the %d alerts of %s at alerts_per_visit %d is %d visits: leave visits out, or use alert.replay_mode %s",
			e.Visits, n, a.Replay, e.AlertsPerVisit, visits, alert.ReplayInfinite)
	}
	last := e.PacingConfig()
	last.AlertsPerVisit = n - (visits-1)*e.AlertsPerVisit
	if err := last.Validate(); err != nil {
		return errorf("alert.replay_mode", "the last visit of the single pass has the file's last %d alerts, which pacing %s cannot send (%v): choose alerts_per_visit so that it divides %d",
			last.AlertsPerVisit, e.Pacing.Model, err, n)
	}
	return nil
}

func (e Experiment) validateTopic() *Error {
	t := e.Topic
	if err := checkTopicName("topic.name", t.Name, ""); err != nil {
		return err
	}
	if t.Partitions < 1 {
		return errorf("topic.partitions", "must be at least 1, got %d", t.Partitions)
	}
	if t.ReplicationFactor < 1 || t.ReplicationFactor > Brokers {
		return errorf("topic.replication_factor", "%d is not between 1 and %d (the testbed's Kafka brokers)", t.ReplicationFactor, Brokers)
	}
	if t.MinInsyncReplicas < 1 || t.MinInsyncReplicas > t.ReplicationFactor {
		return errorf("topic.min_insync_replicas", "%d is not between 1 and topic.replication_factor %d", t.MinInsyncReplicas, t.ReplicationFactor)
	}
	if t.Retention < e.VisitInterval {
		return errorf("topic.retention", "%s is shorter than visit_interval %s: alerts could be deleted before they are read", t.Retention, e.VisitInterval)
	}
	return nil
}

// kafkaGroupRE is what Kafka accepts as a group id that every client and
// tool can name: ASCII letters, digits, '.', '_' and '-' (Kafka's rule for
// topic names; group ids themselves are less restricted, but a name of
// these characters works everywhere), 1 to 249 characters.
var kafkaGroupRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

func (e Experiment) validateExternalConsumers() *Error {
	seen := map[string]bool{}
	for i, g := range e.ExternalConsumers {
		p := fmt.Sprintf("external_consumers[%d]", i)
		if !kafkaGroupRE.MatchString(g) {
			return errorf(p, "%q is not a Kafka consumer group id this run can follow: use 1 to 249 ASCII letters, digits, '.', '_' and '-' (the group.id your consumer joins with)", g)
		}
		if seen[g] {
			return errorf(p, "%q is listed twice", g)
		}
		seen[g] = true
	}
	return nil
}

func (e Experiment) validateConsumers() *Error {
	owner := map[string]string{} // group name -> where it was defined
	for i, g := range e.Consumers {
		p := fmt.Sprintf("consumers[%d]", i)
		if err := checkName(p+".name", g.Name, "the group's name"); err != nil {
			return err
		}
		if g.Copies < 1 {
			return errorf(p+".copies", "must be at least 1, got %d", g.Copies)
		}
		one := e
		one.Consumers = []ConsumerGroup{g}
		for j, x := range one.Groups() {
			where := p
			if g.Copies > 1 {
				where = fmt.Sprintf("copy %d of %s", j+1, p)
			}
			if prev, dup := owner[x.Name]; dup {
				return errorf(p+".name", "%q is already the name of %s: group names must be unique", x.Name, prev)
			}
			owner[x.Name] = where
		}
		if g.Members < 1 {
			return errorf(p+".members", "must be at least 1, got %d", g.Members)
		}
		if g.Members > e.Topic.Partitions {
			return errorf(p+".members", "%d members but topic.partitions is %d: members beyond the partition count would sit idle (each partition goes to one member of a group); use at most %s or more partitions",
				g.Members, e.Topic.Partitions, steps.Count(e.Topic.Partitions, "member"))
		}
		if !slices.Contains(Modes, g.Mode) {
			return errorf(p+".mode", "%q is not one of %s", g.Mode, strings.Join(Modes, ", "))
		}
		if g.Mode == ModePrintEvery && g.PrintEvery < 1 {
			return errorf(p+".print_every", "must be at least 1, got %d", g.PrintEvery)
		}
	}
	if len(e.Consumers) == 0 && e.Filters.Groups == 0 {
		return errorf("consumers", "no consumer groups and no filter groups (filters.groups): nothing would read the alerts")
	}
	return nil
}

func (e Experiment) validateFilters() *Error {
	f := e.Filters
	if f.Groups < 0 {
		return errorf("filters.groups", "must be 0 (no mini-broker) or more, got %d", f.Groups)
	}
	seen := map[string]int{}
	for i, d := range f.Expressions {
		p := fmt.Sprintf("filters.expressions[%d]", i)
		if d.Name == "" {
			return errorf(p+".name", "required: the filter's name, also its output topic (e.g. Filter001)")
		}
		if err := checkTopicName(p+".name", d.Name, " (the filter's output topic)"); err != nil {
			return err
		}
		if j, dup := seen[d.Name]; dup {
			return errorf(p+".name", "%q is already the name of filters.expressions[%d]", d.Name, j)
		}
		for j, o := range f.Expressions[:i] {
			if kafkaCollides(d.Name, o.Name) {
				return errorf(p+".name", "%q collides with filters.expressions[%d].name %q: Kafka treats '.' and '_' in topic names as the same; rename one", d.Name, j, o.Name)
			}
		}
		seen[d.Name] = i
		if strings.TrimSpace(d.Expr) == "" {
			return errorf(p+".expr", "required: a boolean expression over the alert's fields, e.g. diaSource.snr > 5")
		}
		if _, err := filter.Compile([]filter.Def{d}, sampleAlert()); err != nil {
			return errorf(p+".expr", "%v", err)
		}
	}
	if f.Groups == 0 {
		if f.EndUsers != 0 {
			return errorf("filters.end_users", "end users read the filters' output topics, but filters.groups is 0")
		}
		return nil
	}
	if f.FiltersPerGroup < 1 {
		return errorf("filters.filters_per_group", "must be at least 1, got %d", f.FiltersPerGroup)
	}
	if f.Cap < 1 {
		return errorf("filters.cap", "must be at least 1 alert per filter per visit, got %d", f.Cap)
	}
	defs := e.FilterDefs()
	if need := f.Groups * f.FiltersPerGroup; need > len(defs) {
		have := fmt.Sprintf("the built-in DMTN-081 set has %d", len(defs))
		if len(f.Expressions) > 0 {
			have = fmt.Sprintf("filters.expressions has %d", len(defs))
		}
		return errorf("filters.groups", "%d groups x %d filters_per_group = %d filters, but %s: use fewer groups or filters per group, or list more filters.expressions",
			f.Groups, f.FiltersPerGroup, need, have)
	}
	if f.EndUsers < 0 {
		return errorf("filters.end_users", "must be true, false or a number of end users per filter, at least 0, got %d", f.EndUsers)
	}
	for _, d := range defs[:f.Groups*f.FiltersPerGroup] {
		if d.Name == e.Topic.Name {
			return errorf("topic.name", "%q is also the output topic of a filter: give the alert topic another name", d.Name)
		}
		if kafkaCollides(d.Name, e.Topic.Name) {
			return errorf("topic.name", "%q collides with the filter topic %q: Kafka treats '.' and '_' in topic names as the same; give the alert topic another name", e.Topic.Name, d.Name)
		}
	}
	return nil
}

func (e Experiment) validateKafka() *Error {
	k := e.Kafka
	if !slices.Contains(AcksValues, k.Acks) {
		return errorf("kafka.acks", "%q is not one of %s", k.Acks, strings.Join(AcksValues, ", "))
	}
	if !slices.Contains(Compressions, k.Compression) {
		return errorf("kafka.compression", "%q is not one of %s", k.Compression, strings.Join(Compressions, ", "))
	}
	if k.BatchBytes < 0 {
		return errorf("kafka.batch_bytes", "must not be negative, got %d", k.BatchBytes)
	}
	if k.Linger < 0 {
		return errorf("kafka.linger", "must not be negative, got %s", k.Linger)
	}
	if k.MaxMessageBytes < 1 || k.MaxMessageBytes > BrokerMaxMessageBytes {
		return errorf("kafka.max_message_bytes", "%d is not between 1 and the brokers' message.max.bytes, %d", k.MaxMessageBytes, BrokerMaxMessageBytes)
	}
	if k.Buffer < 0 {
		return errorf("kafka.buffer", "must not be negative, got %d", k.Buffer)
	}
	if k.BufferMemory < 0 {
		return errorf("kafka.buffer_memory", "must not be negative, got %d: give the bytes of alerts a producer hands to its client before it waits for acks, 0 for no bound (default %d, Kafka's buffer.memory)", k.BufferMemory, DefaultBufferMemory)
	}
	if k.MaxInFlight < 1 {
		return errorf("kafka.max_in_flight", "must be at least 1, got %d", k.MaxInFlight)
	}
	if k.Idempotent && (k.Acks != "all" || k.MaxInFlight != 1) {
		return errorf("kafka.idempotent", "needs acks all and max_in_flight 1, got acks %s and max_in_flight %d", k.Acks, k.MaxInFlight)
	}
	if k.Retries < 0 {
		return errorf("kafka.retries", "must be 0 (no retries) or more, got %d", k.Retries)
	}
	if k.RetryBackoff <= 0 {
		return errorf("kafka.retry_backoff", "must be more than 0s, got %s", k.RetryBackoff)
	}
	if least := k.Linger + RequestTimeout; k.DeliveryTimeout < least {
		return errorf("kafka.delivery_timeout", "%s is less than kafka.linger %s + the request timeout %s: Kafka requires delivery.timeout.ms >= linger.ms + request.timeout.ms; use at least %s",
			k.DeliveryTimeout, k.Linger, RequestTimeout, least)
	}
	return e.checkRecordSize()
}

func (e Experiment) validateLimits() *Error {
	l := e.Limits
	if l.RunTimeout < e.Duration() {
		return errorf("limits.run_timeout", "%s is shorter than the run: %s = %s", l.RunTimeout, e.durationWhy(), e.Duration())
	}
	if l.MaxLag < 0 {
		return errorf("limits.max_lag", "must be 0 (no limit) or a number of alerts, got %d", l.MaxLag)
	}
	if l.VisitDeadline < 0 {
		return errorf("limits.visit_deadline", "must be 0 (none) or a duration after the visit's start, got %s", l.VisitDeadline)
	}
	return nil
}

// sampleAlert is a generated alert in the form filters see: what
// alert-filter compiles its filters against.
var sampleAlert = sync.OnceValue(func() map[string]any {
	g, err := alert.NewGenerator(alert.DefaultOptions())
	if err != nil {
		panic(err) // the default options are valid (agents/alert tests)
	}
	return alert.Plain(g.Alert(alert.ID{}))
})

// validateObserved checks a single pass paced by the alerts' own
// observation times: the file's times were read, visits is their
// exposures, and the pacing model can send each exposure before the next.
func (e Experiment) validateObserved() *Error {
	a := e.Alert
	if e.observedErr != nil {
		field := "alert.replay"
		if a.ReplayTimeField != "" || strings.Contains(e.observedErr.Error(), "observation-time") {
			field = "alert.replay_time_field"
		}
		return errorf(field, "%v", e.observedErr)
	}
	if len(e.Slots) == 0 {
		return errorf("alert.replay", "%s: no observation times were read", a.Replay)
	}
	if e.Visits != len(e.Slots) {
		return errorf("visits", "%d, but %s holds %d exposures (distinct %s), each one visit with replay_pacing %s: leave visits out",
			e.Visits, a.Replay, len(e.Slots), a.ReplayTimeField, ReplayPacingObserved)
	}
	if err := e.PacingConfig().Validate(); err != nil {
		return errorf("pacing.model", "%s cannot send the file's exposures at their times: %v; use pacing model %s (each exposure at its time), or a smaller alert.replay_speedup (exposures further apart)",
			e.Pacing.Model, err, pacing.Visit)
	}
	return nil
}
