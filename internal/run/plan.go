package run

import (
	"fmt"
	"strconv"
	"time"

	"github.com/alert-testbed/testbed/internal/experiment"
)

// Plan is a run of a validated experiment on the swarm, made once by
// NewPlan and followed as it is: the run's topics, its consumer groups,
// the reading agents' services in the order DMTN-081 starts them (end
// users, filter groups, consumer groups), and the producers' service for
// the start time that is chosen once the readers have joined.
type Plan struct {
	Experiment experiment.Experiment
	Params     Params
	Topics     []Topic
	Groups     []Group
	Readers    []Agent
}

// NewPlan plans the run of e with p: an error when p's run id is not one,
// e asks what the swarm cannot do, or a derived name does not fit.
func NewPlan(e experiment.Experiment, p Params) (Plan, error) {
	if !runIDRE.MatchString(p.RunID) {
		return Plan{}, fmt.Errorf("run id %q: use 1 to 24 lower-case letters, digits and '-'", p.RunID)
	}
	if (e.Alert.Replay != "") != (p.Replay != nil) {
		return Plan{}, fmt.Errorf("%s: alert.replay %q: the plan's replay source is %v (ScanReplay makes it)", e.File, e.Alert.Replay, p.Replay)
	}
	readers, groups := readers(e, p)
	pl := Plan{Experiment: e, Params: p, Topics: Topics(e, p.ResultsTopic), Groups: groups, Readers: readers}
	if p.Replay != nil {
		// After the stream and results topics, which a stream's plan keeps.
		src := p.Replay.topic(int16(e.Topic.ReplicationFactor), strconv.Itoa(e.Topic.MinInsyncReplicas))
		pl.Topics = append(pl.Topics[:2], append([]Topic{src}, pl.Topics[2:]...)...)
	}
	// The experiment checked the names with a run id of
	// experiment.RunIDLen characters; a longer one could still overflow.
	var names []string
	for _, a := range readers {
		names = append(names, a.Spec.Name)
	}
	for _, n := range append(names, ServiceName(p.RunID, experiment.ProducerLabel)) {
		if len(n) > experiment.MaxServiceNameLen {
			return Plan{}, fmt.Errorf("swarm service name %q is %d characters long: at most %d (run id %q)", n, len(n), experiment.MaxServiceNameLen, p.RunID)
		}
	}
	return pl, nil
}

// NewStreamPlan plans e's stream without end (testbed stream): its
// producers alone, sending visit after visit until they are stopped, into
// the stream topic, with their records in the results topic; no reader,
// no filter topic. e is valid for a stream (experiment.ValidateStream).
func NewStreamPlan(e experiment.Experiment, p Params) (Plan, error) {
	if err := e.ValidateStream(); err != nil {
		return Plan{}, err
	}
	pl, err := NewPlan(e, p)
	if err != nil {
		return Plan{}, err
	}
	pl.Params.Endless = true
	keep := 2 // the stream and results topics, and the replay source
	if p.Replay != nil {
		keep = 3
	}
	pl.Topics, pl.Groups, pl.Readers = pl.Topics[:keep], nil, nil
	return pl, nil
}

// Producers is the producers' service, visit 1 starting at t0 for all.
func (pl Plan) Producers(t0 time.Time) Agent { return producers(pl.Experiment, pl.Params, t0) }
