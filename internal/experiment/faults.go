package experiment

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alert-testbed/testbed/agents/pacing"
)

// Fault actions: what a fault does to its target.
const (
	FaultKill        = "kill"         // stop the target's container (SIGKILL); it stays down
	FaultRestart     = "restart"      // restart the target's container
	FaultPause       = "pause"        // freeze the target's container for the duration
	FaultPartition   = "partition"    // cut the target off the network for the duration
	FaultSlowNetwork = "slow-network" // delay/lose the target's packets (netem) for the duration
	FaultDrain       = "drain"        // drain a worker node: its tasks move elsewhere
)

// FaultActions lists the actions in the order error messages name them.
var FaultActions = []string{FaultKill, FaultRestart, FaultPause, FaultPartition, FaultSlowNetwork, FaultDrain}

// Fault is one thing a run breaks: an action on a target, at a time of the
// run, for a duration.
//
//	faults:
//	  - action: pause
//	    target: {consumer: counting, member: 1}
//	    at: {visit: 2, after: 1s}
//	    duration: 20s
type Fault struct {
	Action string      `yaml:"action"`
	Target FaultTarget `yaml:"target"`
	At     FaultTime   `yaml:"at"`
	// Duration is how long the fault lasts: required for pause, partition
	// and slow-network; optional for drain (0: drained until the run
	// ends); not allowed for kill and restart, which are instants.
	Duration time.Duration `yaml:"duration,omitempty"`
	// Netem is the slow-network's impairment; only with slow-network.
	Netem *Netem `yaml:"netem,omitempty"`
}

// FaultTarget is what a fault acts on: exactly one of a Kafka broker, a
// member of a consumer group, a filter group, a producer, or a worker node.
type FaultTarget struct {
	Broker      int    `yaml:"broker,omitempty"`       // 1..Brokers
	Consumer    string `yaml:"consumer,omitempty"`     // a group of Experiment.Groups, with Member
	Member      int    `yaml:"member,omitempty"`       // 1..the group's members
	FilterGroup int    `yaml:"filter-group,omitempty"` // 1..filters.groups
	Producer    int    `yaml:"producer,omitempty"`     // 1..producers
	Worker      int    `yaml:"worker,omitempty"`       // >= 1; the testbed's worker count is checked when the run starts
}

// FaultTime is when a fault starts: After into visit Visit (1-based).
type FaultTime struct {
	Visit int           `yaml:"visit"`
	After time.Duration `yaml:"after"`
}

// Netem is a slow-network fault's impairment (tc netem).
type Netem struct {
	Delay  time.Duration `yaml:"delay"`
	Jitter time.Duration `yaml:"jitter"`
	Loss   float64       `yaml:"loss"` // percent of packets lost, 0..100
}

// String names the target: "broker 2", "consumer counting member 1",
// "filter group 1", "producer 3", "worker 4".
func (t FaultTarget) String() string {
	var s []string
	if t.Broker != 0 {
		s = append(s, fmt.Sprintf("broker %d", t.Broker))
	}
	if t.Consumer != "" || t.Member != 0 {
		c := "consumer " + t.Consumer
		if t.Member != 0 {
			c += fmt.Sprintf(" member %d", t.Member)
		}
		s = append(s, strings.TrimSpace(c))
	}
	if t.FilterGroup != 0 {
		s = append(s, fmt.Sprintf("filter group %d", t.FilterGroup))
	}
	if t.Producer != 0 {
		s = append(s, fmt.Sprintf("producer %d", t.Producer))
	}
	if t.Worker != 0 {
		s = append(s, fmt.Sprintf("worker %d", t.Worker))
	}
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, " and ")
}

// kinds lists the target kinds given, as their field names.
func (t FaultTarget) kinds() []string {
	var k []string
	if t.Broker != 0 {
		k = append(k, "broker")
	}
	if t.Consumer != "" {
		k = append(k, "consumer")
	}
	if t.FilterGroup != 0 {
		k = append(k, "filter-group")
	}
	if t.Producer != 0 {
		k = append(k, "producer")
	}
	if t.Worker != 0 {
		k = append(k, "worker")
	}
	return k
}

// Start is the fault's start as an offset from T0 (the first visit's
// start): its visit's start in the schedule s + after.
func (f Fault) Start(s pacing.Schedule) time.Duration {
	return s.Start(f.At.Visit-1) + f.At.After
}

// FaultStart is the start of fault i of the run, from T0.
func (e Experiment) FaultStart(i int) time.Duration {
	return e.Faults[i].Start(e.Schedule())
}

// faultLine describes a fault in one line, for String.
func (e Experiment) faultLine(f Fault) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s at visit %d + %s (T0 + %s)", f.Action, f.Target, f.At.Visit, f.At.After, f.Start(e.Schedule()))
	switch {
	case f.Duration > 0:
		fmt.Fprintf(&b, " for %s", f.Duration)
	case f.Action == FaultDrain:
		b.WriteString(" until the run ends")
	}
	if n := f.Netem; n != nil {
		fmt.Fprintf(&b, ", netem delay %s jitter %s loss %g%%", n.Delay, n.Jitter, n.Loss)
	}
	return b.String()
}

func (e Experiment) validateFaults() *Error {
	for i, f := range e.Faults {
		if err := e.validateFault(fmt.Sprintf("faults[%d]", i), f); err != nil {
			return err
		}
	}
	return nil
}

func (e Experiment) validateFault(p string, f Fault) *Error {
	if f.Action == "" {
		return errorf(p+".action", "required: one of %s", strings.Join(FaultActions, ", "))
	}
	if !slices.Contains(FaultActions, f.Action) {
		return errorf(p+".action", "%q is not one of %s", f.Action, strings.Join(FaultActions, ", "))
	}
	if err := e.validateTarget(p+".target", f); err != nil {
		return err
	}

	// When.
	if f.At.Visit < 1 || f.At.Visit > e.Visits {
		return errorf(p+".at.visit", "%d is not a visit of the run: use 1 to %d (visits)", f.At.Visit, e.Visits)
	}
	if length := e.Schedule().Length(f.At.Visit - 1); f.At.After < 0 || f.At.After >= length {
		if len(e.Slots) > 0 {
			return errorf(p+".at.after", "%s is not within visit %d: use 0s or more, less than its %s to the next exposure's start (alert.replay_pacing observed)", f.At.After, f.At.Visit, length)
		}
		return errorf(p+".at.after", "%s is not within the visit: use 0s or more, less than visit_interval %s", f.At.After, e.VisitInterval)
	}

	// For how long.
	switch f.Action {
	case FaultKill, FaultRestart:
		if f.Duration != 0 {
			return errorf(p+".duration", "%s is an instant: leave duration out", f.Action)
		}
	case FaultPause, FaultPartition, FaultSlowNetwork:
		if f.Duration <= 0 {
			return errorf(p+".duration", "required with %s: how long the fault lasts, more than 0s, got %s", f.Action, f.Duration)
		}
	case FaultDrain:
		if f.Duration < 0 {
			return errorf(p+".duration", "must be more than 0s, or left out to drain until the run ends, got %s", f.Duration)
		}
	}
	start, end := f.Start(e.Schedule()), e.Duration()
	if f.Duration > 0 && start+f.Duration > end {
		return errorf(p+".duration", "the fault would end at T0 + %s (it starts at T0 + %s and lasts %s), after the run's end at T0 + %s (%s): shorten it to at most %s",
			start+f.Duration, start, f.Duration, end, e.durationWhy(), end-start)
	}

	// Netem.
	n := f.Netem
	if f.Action != FaultSlowNetwork {
		if n != nil {
			return errorf(p+".netem", "only with action slow-network, not %s: leave it out", f.Action)
		}
		return nil
	}
	switch {
	case n == nil:
		return errorf(p+".netem", "required with slow-network: {delay: 200ms, jitter: 50ms, loss: 1.5}")
	case n.Delay < 0:
		return errorf(p+".netem.delay", "must not be negative, got %s", n.Delay)
	case n.Jitter < 0:
		return errorf(p+".netem.jitter", "must not be negative, got %s", n.Jitter)
	case n.Jitter > n.Delay:
		return errorf(p+".netem.jitter", "%s is more than netem.delay %s: the jitter varies the delay, so at most the delay", n.Jitter, n.Delay)
	case n.Loss < 0 || n.Loss > 100:
		return errorf(p+".netem.loss", "%g is not a percentage: use 0 to 100", n.Loss)
	case n.Delay == 0 && n.Loss == 0:
		return errorf(p+".netem", "delay 0s and loss 0 slow nothing: give a delay, a loss or both")
	}
	return nil
}

func (e Experiment) validateTarget(p string, f Fault) *Error {
	t := f.Target
	kinds := t.kinds()
	switch {
	case len(kinds) == 0 && t.Member != 0:
		return errorf(p+".member", "only with consumer: name the group too (consumer: NAME, member: %d)", t.Member)
	case len(kinds) == 0:
		return errorf(p, "required: one of broker: N, consumer: NAME with member: M, filter-group: N, producer: N, worker: N")
	case len(kinds) > 1:
		return errorf(p, "%s: give one target, not %s", t, strings.Join(kinds, " and "))
	}
	if t.Member != 0 && t.Consumer == "" {
		return errorf(p+".member", "only with consumer, not %s", kinds[0])
	}
	switch {
	case t.Broker != 0:
		if t.Broker < 1 || t.Broker > Brokers {
			return errorf(p+".broker", "%d is not a broker: use 1 to %d (the testbed's Kafka brokers)", t.Broker, Brokers)
		}
	case t.Consumer != "":
		var group *ConsumerGroup
		var names []string
		for _, g := range e.Groups() {
			names = append(names, g.Name)
			if g.Name == t.Consumer {
				group = &g
			}
		}
		if group == nil {
			have := "there are none"
			if len(names) > 0 {
				have = "the groups are " + strings.Join(names, ", ")
			}
			return errorf(p+".consumer", "%q is not a consumer group of the run (%s; a group with copies is NAME-1, NAME-2, ...)", t.Consumer, have)
		}
		if t.Member == 0 {
			return errorf(p+".member", "required with consumer: which member of %s, 1 to %d", t.Consumer, group.Members)
		}
		if t.Member < 1 || t.Member > group.Members {
			return errorf(p+".member", "%d is not a member of consumer group %s (it has %d: 1 to %d)", t.Member, t.Consumer, group.Members, group.Members)
		}
	case t.FilterGroup != 0:
		if t.FilterGroup < 1 || t.FilterGroup > e.Filters.Groups {
			if e.Filters.Groups == 0 {
				return errorf(p+".filter-group", "%d: the run has no filter groups (filters.groups is 0)", t.FilterGroup)
			}
			return errorf(p+".filter-group", "%d is not a filter group: use 1 to %d (filters.groups)", t.FilterGroup, e.Filters.Groups)
		}
	case t.Producer != 0:
		if t.Producer < 1 || t.Producer > e.Producers {
			return errorf(p+".producer", "%d is not a producer: use 1 to %d (producers)", t.Producer, e.Producers)
		}
	case t.Worker != 0:
		if t.Worker < 1 {
			return errorf(p+".worker", "must be at least 1, got %d", t.Worker)
		}
	}
	switch {
	case f.Action == FaultDrain && t.Worker == 0:
		return errorf(p, "drain acts on a worker node, not on %s: use worker: N, or kill, pause or partition for a task", t)
	case t.Worker != 0 && (f.Action == FaultKill || f.Action == FaultRestart || f.Action == FaultPause):
		return errorf(p, "%s acts on a task's container, not on a node (worker %d): use drain or partition for a node", f.Action, t.Worker)
	}
	return nil
}
