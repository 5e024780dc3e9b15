package outcome

import (
	"fmt"
	"sort"
	"time"

	"github.com/alert-testbed/testbed/agents/results"
	"github.com/alert-testbed/testbed/internal/run"
)

// Collector gathers a run's result records as they come off the results
// topic and folds them: stream groups against the producers' records, end
// users against what their filter topics hold.
type Collector struct {
	RunID       string
	StreamTopic string

	Raw       [][]byte // every record as read, in order (records.jsonl)
	Producers []results.ProducerVisit
	Stream    []results.ConsumerVisit // records of members reading the stream
	EndUsers  []results.ConsumerVisit // records of members reading a filter topic
	Foreign   int                     // records of another run
	Bad       []string                // records that did not decode, with why
}

// Add takes one record of the results topic.
func (c *Collector) Add(data []byte) {
	c.Raw = append(c.Raw, append([]byte(nil), data...))
	r, err := results.DecodeRecord(data)
	if err != nil {
		c.Bad = append(c.Bad, err.Error())
		return
	}
	switch {
	case r.Producer != nil && r.Producer.Run != c.RunID, r.Consumer != nil && r.Consumer.Run != c.RunID:
		c.Foreign++
	case r.Producer != nil:
		c.Producers = append(c.Producers, *r.Producer)
	case r.Consumer.Topic == c.StreamTopic:
		c.Stream = append(c.Stream, *r.Consumer)
	default:
		c.EndUsers = append(c.EndUsers, *r.Consumer)
	}
}

// Fold folds the stream groups' records (results.Fold), with a row for
// every (visit, group) of the run, visits numbered 1 to visits as the
// producers number them (FIRST_VISIT 1), including groups that have not
// reported a visit yet.
func (c *Collector) Fold(visits int, groups []run.Group) ([]VisitGroup, error) {
	var names []string
	for _, g := range groups {
		if g.Stream {
			names = append(names, g.Name)
		}
	}
	rows, err := fold(c.Producers, c.Stream, names)
	if err != nil {
		return nil, err
	}
	// Rows fold cannot know about: the visits of which there is no record
	// at all (none was sent, none received).
	have := map[int]bool{}
	for _, r := range rows {
		have[r.Visit] = true
	}
	for v := 1; v <= visits; v++ {
		if have[v] {
			continue
		}
		for _, name := range names {
			rows = append(rows, VisitGroup{Visit: v, Group: name, Latency: results.NewHistogram()})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Visit != rows[j].Visit {
			return rows[i].Visit < rows[j].Visit
		}
		return rows[i].Group < rows[j].Group
	})
	return rows, nil
}

// EndUser is the account of one end user: what its filter topic holds
// against what it received.
type EndUser struct {
	Group    string `json:"group"`
	Topic    string `json:"topic"`
	InTopic  int64  `json:"in_topic"` // records the filter forwarded
	Received int    `json:"received"`
	Unique   int    `json:"unique"`
	Lost     int64  `json:"lost"`
	// NotReceived: forwarded alerts the end user could still have read
	// when the run stopped (its lag then); not lost.
	NotReceived int64 `json:"not_received"`
	Dup         int   `json:"duplicated"` // Received - Unique
	// Redelivered: records of the filter topic read more than once (after
	// a rebalance); FilterDuplicates: alerts the filter wrote to its topic
	// more than once (it read them twice from the stream). Both are part
	// of Dup.
	Redelivered      int64 `json:"redelivered"`
	FilterDuplicates int64 `json:"filter_duplicates"`
	// LatencyP50/P99/Max: from the alert's intended send time to the end
	// user's receipt, through the filter.
	LatencyP50 time.Duration `json:"latency_p50_ns"`
	LatencyP99 time.Duration `json:"latency_p99_ns"`
	LatencyMax time.Duration `json:"latency_max_ns"`
}

// FoldEndUsers accounts each end-user group against the number of records
// in its filter topic (topicCount), which holds only this run's alerts
// because the run created it: what it did not read of them is lost (or,
// see MarkEndUsersNotReceived, not received yet).
func (c *Collector) FoldEndUsers(groups []run.Group, topicCount func(topic string) (int64, error)) ([]EndUser, error) {
	var out []EndUser
	for _, g := range groups {
		if g.Stream {
			continue
		}
		n, err := topicCount(g.Topic)
		if err != nil {
			return nil, err
		}
		eu := EndUser{Group: g.Name, Topic: g.Topic, InTopic: n}
		union := map[[2]int]*results.Bitmap{} // (visit, producer) -> seqs
		offsets := map[int32][]results.OffsetRange{}
		haveOffsets := false
		h := results.NewHistogram()
		for _, r := range c.EndUsers {
			if r.Group != g.Name {
				continue
			}
			eu.Received += r.Received
			h.Merge(r.Latency)
			for part, rs := range r.Offsets {
				offsets[part] = append(offsets[part], rs...)
				haveOffsets = true
			}
			for p, b := range r.Seqs {
				k := [2]int{r.Visit, p}
				if union[k] == nil {
					union[k] = &results.Bitmap{}
				}
				union[k].Or(b)
			}
		}
		for _, b := range union {
			eu.Unique += b.Count()
		}
		eu.Dup = eu.Received - eu.Unique
		eu.Lost = n - int64(eu.Unique)
		if haveOffsets {
			// The topic's records are what the end user should read, and
			// a filter that read an alert twice may have written it twice:
			// count records read (distinct offsets), not distinct alerts.
			var distinct, total int64
			for _, rs := range offsets {
				distinct += UnionLen(rs)
				for _, r := range rs {
					total += r.Len()
				}
			}
			eu.Lost = n - distinct
			eu.Redelivered = total - distinct
			eu.FilterDuplicates = max(distinct-int64(eu.Unique), 0)
		}
		eu.LatencyP50, eu.LatencyP99, eu.LatencyMax = h.ValueAtQuantile(50), h.ValueAtQuantile(99), h.Max()
		out = append(out, eu)
	}
	return out, nil
}

// MarkEndUsersNotReceived moves an end user's missing alerts from Lost to
// NotReceived, as many as its lag when the run ended (lagAtEnd, by Kafka
// group), as MarkNotReceived does for the stream groups.
func MarkEndUsersNotReceived(eus []EndUser, lagAtEnd map[string]int64) {
	for i := range eus {
		n := min(eus[i].Lost, lagAtEnd[eus[i].Group])
		if n > 0 {
			eus[i].Lost -= n
			eus[i].NotReceived += n
		}
	}
}

// String is a one-line account of the end user.
func (e EndUser) String() string {
	s := fmt.Sprintf("%s: %d of %d forwarded alerts received, %d lost, %d duplicated", e.Group, e.Unique, e.InTopic, e.Lost, e.Dup)
	if e.NotReceived > 0 {
		s += fmt.Sprintf(", %d not received when the run stopped", e.NotReceived)
	}
	return s
}
