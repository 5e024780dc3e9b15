package experiment

import (
	"fmt"
	"strings"
)

// Names derived from an experiment: the swarm services and Kafka groups of
// a run (internal/run uses these functions, so that what is validated here
// is what is created there).
//
// A run's swarm services are named ServiceName(run id, label), with the
// labels ConsumerLabel, FiltersLabel, EndUserLabel and ProducerLabel. Swarm
// service names are DNS labels: at most MaxServiceNameLen characters of
// a-z, A-Z, 0-9 and '-', not starting or ending with '-'. Run ids are
// RunIDLen characters (20260102-150405-a1b2), so a label may have at most
// MaxLabelLen characters.
const (
	// RunIDLen is the length of a run id: UTC date and time and 4 hex
	// digits, 20260102-150405-a1b2 (orchestrator.NewRunID).
	RunIDLen = 20
	// MaxServiceNameLen is the longest swarm service name (a DNS label).
	MaxServiceNameLen = 63
	// MaxLabelLen is the longest service label with a RunIDLen run id.
	MaxLabelLen = MaxServiceNameLen - len("run-") - RunIDLen - len("-")

	// ProducerLabel labels the producers' service.
	ProducerLabel = "producer"
)

// exampleRunID is a run id of RunIDLen characters, for messages.
const exampleRunID = "20261122-073256-9959"

// ServiceName is the swarm service of a run's agent: run-<run id>-<label>.
func ServiceName(runID, label string) string { return "run-" + runID + "-" + label }

// ConsumerLabel labels the service of consumer group group (a name of
// Experiment.Groups, copies expanded).
func ConsumerLabel(group string) string { return "consumer-" + group }

// FiltersLabel labels the service of filter group n (1-based).
func FiltersLabel(n int) string { return fmt.Sprintf("filters-%d", n) }

// EndUserLabel labels the service of the end users of the filter named
// filter: "enduser-" and DNSLabel of the filter's name.
func EndUserLabel(filter string) string { return "enduser-" + DNSLabel(filter) }

// DNSLabel maps a name (a filter's, which is a Kafka topic name and may
// hold '.', '_' and capitals) to a form valid in a DNS label: lowercased,
// every run of characters other than a-z and 0-9 made one '-', and no '-'
// at the start or end. It may be empty (a name of only '.', '_', '-').
func DNSLabel(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// checkLabel says what is wrong with the service that label names (""
// if nothing): too long with a RunIDLen run id. what is the part of the
// label that the file gives (for "shorten ... to at most N characters"),
// and its length.
func checkLabel(field, quoted, label string, part int) *Error {
	name := ServiceName(exampleRunID, label)
	if len(name) <= MaxServiceNameLen {
		return nil
	}
	over := len(name) - MaxServiceNameLen
	return errorf(field, "%s makes the swarm service name %q %d characters long: at most %d (shorten the name to at most %d characters)",
		quoted, name, len(name), MaxServiceNameLen, max(part-over, 0))
}

// kafkaCollides reports whether Kafka treats two topic names as
// colliding: they are the same once '.' is made '_' (metric names).
func kafkaCollides(a, b string) bool {
	return strings.ReplaceAll(a, ".", "_") == strings.ReplaceAll(b, ".", "_")
}

// checkTopicName says what is wrong with a Kafka topic name (nil if
// nothing); what says whose topic it is in messages ("" or " (the
// filter's output topic)").
func checkTopicName(field, name, what string) *Error {
	switch {
	case !topicRE.MatchString(name) || len(name) > maxTopicLen:
		return errorf(field, "%q is not a Kafka topic name%s: use letters, digits, '.', '_' and '-' (at most %d)", name, what, maxTopicLen)
	case name == "." || name == "..":
		return errorf(field, "%q is not a Kafka topic name%s: \".\" and \"..\" are not allowed", name, what)
	case strings.HasPrefix(name, "__"):
		return errorf(field, "%q is not allowed%s: topic names starting with \"__\" are Kafka's internal topics", name, what)
	}
	return nil
}

// validateNames checks the names derived from the run: every swarm
// service name fits a DNS label with a RunIDLen run id, and no two end
// users' services have the same name.
func (e Experiment) validateNames() *Error {
	for i, g := range e.Consumers {
		p := fmt.Sprintf("consumers[%d].name", i)
		// The longest expanded name: NAME, or NAME-<copies>.
		longest, suffix := g.Name, 0
		if g.Copies > 1 {
			longest = fmt.Sprintf("%s-%d", g.Name, g.Copies)
			suffix = len(longest) - len(g.Name)
		}
		quoted := fmt.Sprintf("%q", g.Name)
		if suffix > 0 {
			quoted = fmt.Sprintf("%q with %d copies (%s)", g.Name, g.Copies, longest)
		}
		if err := checkLabel(p, quoted, ConsumerLabel(longest), len(g.Name)); err != nil {
			return err
		}
	}
	if e.Filters.Groups == 0 || e.Filters.EndUsers == 0 {
		return nil
	}
	defs := e.FilterDefs()
	used := defs[:min(len(defs), e.Filters.Groups*e.Filters.FiltersPerGroup)]
	owner := map[string]int{} // service label -> filter index
	for i, d := range used {
		p := fmt.Sprintf("filters.expressions[%d].name", i)
		if len(e.Filters.Expressions) == 0 {
			p = "filters.groups" // the built-in set: its names are fine
		}
		label := DNSLabel(d.Name)
		if label == "" {
			return errorf(p, "%q has no letter or digit: its end users' swarm service would be named after nothing; use a name with letters or digits", d.Name)
		}
		if err := checkLabel(p, fmt.Sprintf("%q (end users' service enduser-%s)", d.Name, label), EndUserLabel(d.Name), len(label)); err != nil {
			return err
		}
		if j, dup := owner[label]; dup {
			return errorf(p, "%q and filters.expressions[%d].name %q both make the end users' swarm service %q (names are lowercased, other characters than a-z and 0-9 made '-'): rename one",
				d.Name, j, used[j].Name, ServiceName(exampleRunID, EndUserLabel(d.Name)))
		}
		owner[label] = i
	}
	return nil
}
