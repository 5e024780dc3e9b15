// Package run turns an experiment into what runs on the swarm: the topics
// of the run and the agents' swarm services, in the order DMTN-081 starts
// them (end users, filters, consumers, producers).
package run

import (
	"regexp"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/alert-testbed/testbed/agents/pacing"
	"github.com/alert-testbed/testbed/internal/alertschema"
	"github.com/alert-testbed/testbed/internal/experiment"
)

// Agent roles, in start order.
const (
	RoleEndUser  = "end-user"
	RoleFilter   = "filter"
	RoleConsumer = "consumer"
	RoleProducer = "producer"
)

// Params are the run's settings that do not come from the experiment.
type Params struct {
	RunID        string // short id, [a-z0-9-]
	Image        string // the agents image as the nodes pull it
	Brokers      string // bootstrap inside the swarm, kafka-1:19092,...
	ResultsTopic string // where the agents publish their records
	Network      string // the testbed's overlay network
	Workers      int    // worker nodes; with none, agents run on managers
	// Schema is the alerts' schema, resolved (the testbed's own when its
	// JSON is empty): the agents get it in ALERT_SCHEMA.
	Schema alertschema.Schema
	// Endless makes the producers send visits until they are stopped
	// (NewStreamPlan), not the experiment's visits.
	Endless bool
	// Replay is the experiment's alert.replay file (ScanReplay), which the
	// run loads into its source topic; nil without one. Schema is then
	// the file's writer schema.
	Replay *Replay
}

// Agent is one swarm service of a run.
type Agent struct {
	Role string
	Spec swarm.ServiceSpec
}

// Label keys on every agent service.
const (
	LabelRun  = "testbed.run"
	LabelRole = "testbed.agent-role"
)

// MetricsAlias is the network alias every agent task has, so that
// Prometheus finds them all at tasks.agents.
const MetricsAlias = "agents"

var runIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,23}$`)

// ServiceName is the swarm service of a run's agent: run-<run id>-<label>,
// the labels experiment.ConsumerLabel, FiltersLabel, EndUserLabel and
// ProducerLabel. The experiment checks that these fit a DNS label (63
// characters) with a run id of experiment.RunIDLen characters.
func ServiceName(runID, label string) string { return experiment.ServiceName(runID, label) }

// agentEnv are the environment variables the agents of e share: common
// to all, producing (producers and filter groups, which write), reading
// (every group member).
func agentEnv(e experiment.Experiment, p Params) (common, producing, reading map[string]string) {
	common = map[string]string{
		"KAFKA_BROKERS": p.Brokers,
		"RUN_ID":        p.RunID,
		"RESULTS_TOPIC": p.ResultsTopic,
		"METRICS_ADDR":  ":9100",
		"SCHEMA_ID":     strconv.Itoa(e.Alert.SchemaID),
	}
	if p.Schema.JSON != "" && p.Schema.Name != alertschema.Testbed {
		common["ALERT_SCHEMA"] = p.Schema.JSON
	}
	producing = map[string]string{
		"KAFKA_ACKS":              e.Kafka.Acks,
		"KAFKA_COMPRESSION":       e.Kafka.Compression,
		"KAFKA_BATCH_BYTES":       strconv.Itoa(e.Kafka.BatchBytes),
		"KAFKA_LINGER":            e.Kafka.Linger.String(),
		"KAFKA_MAX_MESSAGE_BYTES": strconv.Itoa(e.Kafka.MaxMessageBytes),
		"KAFKA_BUFFER":            strconv.Itoa(e.Kafka.Buffer),
		"KAFKA_MAX_IN_FLIGHT":     strconv.Itoa(e.Kafka.MaxInFlight),
		"KAFKA_IDEMPOTENT":        strconv.FormatBool(e.Kafka.Idempotent),
		"KAFKA_RETRIES":           strconv.Itoa(e.Kafka.Retries),
		"KAFKA_RETRY_BACKOFF":     e.Kafka.RetryBackoff.String(),
		"KAFKA_DELIVERY_TIMEOUT":  e.Kafka.DeliveryTimeout.String(),
	}
	// Members read from the start of the run's topics: they join before
	// the producers start, and nothing is missed if one joins late.
	reading = map[string]string{"KAFKA_INITIAL_OFFSET": "oldest", "MEMBER": "{{.Task.Name}}"}
	return common, producing, reading
}

// readers returns the services that read (end users, filter groups,
// consumer groups, in DMTN-081's start order) and the consumer group of
// each, named once here.
func readers(e experiment.Experiment, p Params) ([]Agent, []Group) {
	common, producing, reading := agentEnv(e, p)
	var out []Agent
	var groups []Group
	add := func(role, name, program string, replicas int, env []map[string]string, args ...string) {
		out = append(out, Agent{Role: role, Spec: p.spec(role, name, program, replicas, env, args)})
	}

	defs := e.FilterDefs()
	if e.Filters.Groups > 0 && e.Filters.EndUsers > 0 {
		for g := 0; g < e.Filters.Groups; g++ {
			first, last := e.FilterRange(g)
			for _, f := range defs[first-1 : last] {
				// Each end user reads the whole filtered stream: a group
				// of its own per task, named after the task's slot.
				add(RoleEndUser, experiment.EndUserLabel(f.Name), "/bin/alert-consumer", e.Filters.EndUsers, []map[string]string{common, reading, {
					"TOPIC": f.Name, "GROUP": groupID(p.RunID, endUserLabel(f.Name, "{{.Task.Slot}}")), "MODE": "count",
				}})
				for slot := 1; slot <= e.Filters.EndUsers; slot++ {
					label := endUserLabel(f.Name, strconv.Itoa(slot))
					groups = append(groups, Group{Name: groupID(p.RunID, label), Label: label, Topic: f.Name, Members: 1})
				}
			}
		}
	}
	var filterGroups []Group
	for g := 0; g < e.Filters.Groups; g++ {
		first, last := e.FilterRange(g)
		label := experiment.FiltersLabel(g + 1)
		env := map[string]string{
			"TOPIC": e.Topic.Name, "GROUP": groupID(p.RunID, label),
			"FIRST_FILTER": strconv.Itoa(first), "LAST_FILTER": strconv.Itoa(last),
			"FILTER_CAP": strconv.Itoa(e.Filters.Cap), "BUILTIN_FILTERS": strconv.Itoa(len(defs)),
		}
		var args []string
		if len(e.Filters.Expressions) > 0 {
			for _, f := range e.Filters.Expressions {
				args = append(args, "--filter", f.Name+"="+f.Expr)
			}
		}
		add(RoleFilter, label, "/bin/alert-filter", 1, []map[string]string{common, producing, reading, env}, args...)
		filterGroups = append(filterGroups, Group{Name: groupID(p.RunID, label), Label: label, Topic: e.Topic.Name, Members: 1, Stream: true})
	}
	var consumerGroups []Group
	for _, cg := range e.Groups() {
		add(RoleConsumer, experiment.ConsumerLabel(cg.Name), "/bin/alert-consumer", cg.Members, []map[string]string{common, reading, {
			"TOPIC": e.Topic.Name, "GROUP": groupID(p.RunID, cg.Name), "MODE": cg.Mode, "PRINT_EVERY": strconv.Itoa(cg.PrintEvery),
		}})
		consumerGroups = append(consumerGroups, Group{Name: groupID(p.RunID, cg.Name), Label: cg.Name, Topic: e.Topic.Name, Members: cg.Members, Stream: true})
	}
	// The stream's groups first (consumer groups, then filter groups),
	// then the end users': the order of the summary's rows.
	return out, append(append(consumerGroups, filterGroups...), groups...)
}

// producers returns the producers' service, with their common start
// time t0 (visit 1 starts at t0).
func producers(e experiment.Experiment, p Params, t0 time.Time) Agent {
	common, producing, _ := agentEnv(e, p)
	pc := e.PacingConfig()
	visits := strconv.Itoa(e.Visits)
	if p.Endless {
		visits = "0" // alert-producer: without end
	}
	replay := map[string]string{}
	if p.Replay != nil {
		replay = p.Replay.producerEnv()
	}
	if len(pc.Slots) > 0 {
		// alert.replay_pacing observed: each visit's own start and alerts.
		replay["VISIT_SCHEDULE"] = pacing.FormatSlots(pc.Slots)
	}
	spec := map[string]string{
		"TOPIC": e.Topic.Name, "PRODUCER_SLOT": "{{.Task.Slot}}", "PRODUCERS": strconv.Itoa(e.Producers),
		"ALERTS_PER_VISIT": strconv.Itoa(e.AlertsPerVisit), "VISITS": visits,
		// Visits are numbered from 1 everywhere: in the alerts' headers,
		// the records, the agents' lines and the report.
		"FIRST_VISIT":    "1",
		"VISIT_INTERVAL": e.VisitInterval.String(), "T0": t0.UTC().Format(time.RFC3339Nano),
		"PACING": string(pc.Model), "BURSTS": strconv.Itoa(pc.Bursts), "BURST_MIN": strconv.Itoa(pc.BurstMin),
		"BURST_MAX": strconv.Itoa(pc.BurstMax), "BURST_MEAN": strconv.Itoa(pc.BurstMean),
		"BURST_SPREAD": pc.BurstSpread.String(), "RATE": strconv.FormatFloat(pc.Rate, 'g', -1, 64),
		"SEED": strconv.FormatInt(pc.Seed, 10), "STAMPS": strconv.FormatBool(e.Alert.Stamps),
		"ALERT_SIZE": strconv.Itoa(e.Alert.Size), "NULL_RATE": strconv.FormatFloat(e.Alert.NullRate, 'g', -1, 64),
		// The producers' own bound; the filters produce few records.
		"KAFKA_BUFFER_MEMORY": strconv.Itoa(e.Kafka.BufferMemory),
	}
	if len(pc.Slots) > 0 {
		delete(spec, "ALERTS_PER_VISIT") // the schedule gives each visit its alerts
	}
	return Agent{Role: RoleProducer, Spec: p.spec(RoleProducer, experiment.ProducerLabel, "/bin/alert-producer", e.Producers, []map[string]string{common, producing, replay, spec}, nil)}
}

// groupID is the Kafka group id of a run's group labelled label.
func groupID(runID, label string) string { return runID + "-" + label }

// endUserLabel labels the group of the end user in task slot slot (a
// number, or swarm's {{.Task.Slot}} in a service's spec) of filter.
func endUserLabel(filter, slot string) string { return "enduser-" + filter + "-" + slot }

// agentRestartDelay is how long swarm waits before it starts a failed
// agent's task again, and agentRestarts how many times it does, per slot
// (swarm's defaults: 5 s, no limit).
const (
	agentRestartDelay = time.Second
	agentRestarts     = 5
)

// spec builds one agent service: on workers, on the testbed network with
// the metrics alias, restarted on failure. An agent exits 0 when it is
// done or stopped (SIGINT, SIGTERM), and any other status when it fails, is
// killed or is asked to restart (SIGHUP; agents/lifecycle); swarm
// then starts a new task in its slot, as it does for the tasks of a
// drained node. The new task carries on: a member rejoins its group from
// the committed offsets, a producer resumes at the first visit it has no
// record of. agentRestarts bounds a crash loop.
func (p Params) spec(role, name, program string, replicas int, envs []map[string]string, args []string) swarm.ServiceSpec {
	merged := map[string]string{}
	for _, env := range envs {
		for k, v := range env {
			merged[k] = v
		}
	}
	var env []string
	for _, k := range sortedKeys(merged) {
		env = append(env, k+"="+merged[k])
	}
	constraint := "node.role==worker"
	if p.Workers == 0 {
		constraint = "node.role==manager"
	}
	n := uint64(replicas)
	delay, attempts := agentRestartDelay, uint64(agentRestarts)
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{
			Name:   ServiceName(p.RunID, name),
			Labels: map[string]string{LabelRun: p.RunID, LabelRole: role},
		},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image:   p.Image,
				Command: []string{program},
				Args:    args,
				Env:     env,
				Labels:  map[string]string{LabelRun: p.RunID, LabelRole: role},
			},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionOnFailure, Delay: &delay, MaxAttempts: &attempts},
			Placement:     &swarm.Placement{Constraints: []string{constraint}},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: p.Network, Aliases: []string{MetricsAlias}}},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
}
