package workspace

import (
	"maps"
	"time"
)

// WarmUp is the last warm-up of a testbed's brokers (`testbed run` and
// `testbed bench` make one when the brokers' JVMs are new): which broker
// containers it warmed. A broker whose container is another one now (a
// restart by swarm, a fault, an `up` that redeployed it) has a new JVM
// that has not compiled Kafka's hot code yet.
type WarmUp struct {
	// Brokers maps each broker's swarm service (kafka_kafka-N) to the
	// container ID of its task that the warm-up warmed.
	Brokers map[string]string `json:"brokers"`
	At      time.Time         `json:"at"`     // when its last round ended
	Rounds  int               `json:"rounds"` // rounds made on these containers
	// Settled says the last round's compiler threads used little CPU
	// (orchestrator.WarmUpSettledCPU): the JVMs are warm, and no later
	// warm-up goes on with more rounds.
	Settled bool `json:"settled,omitempty"`
	// AlertsPerRound is how many alerts each broker led a round
	// (`--warm-up-alerts`); 0 in files written before it was recorded,
	// whose rounds had orchestrator.DefaultWarmUpAlerts.
	AlertsPerRound int `json:"alerts_per_round,omitempty"`
}

// Covers says whether the warm-up warmed exactly these broker
// containers (service -> container ID).
func (w WarmUp) Covers(brokers map[string]string) bool {
	return len(brokers) > 0 && maps.Equal(w.Brokers, brokers)
}

// LoadWarmUp returns the last warm-up of testbed name's brokers; ok is
// false when there was none. It goes with the testbed: `testbed down`
// removes it.
func (w Workspace) LoadWarmUp(name string) (wu WarmUp, ok bool, err error) {
	ok, err = w.load(name, "warm-up.json", &wu)
	return wu, ok, err
}

// SaveWarmUp records a warm-up of testbed name's brokers.
func (w Workspace) SaveWarmUp(name string, wu WarmUp) error {
	return w.save(name, "warm-up.json", wu)
}
