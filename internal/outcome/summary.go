package outcome

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alert-testbed/testbed/agents/pacing"
	"github.com/alert-testbed/testbed/agents/results"
	"github.com/alert-testbed/testbed/internal/run"
	"github.com/alert-testbed/testbed/internal/steps"
	"github.com/alert-testbed/testbed/internal/workspace"
)

// Summary is a run's result in DMTN-028's form: per consumer group, the
// visits' producing, transit and total times as mean +/- stddev and
// min - max, run-wide latency percentiles, and exact alert counts.
type Summary struct {
	RunID      string `json:"run_id"`
	Experiment string `json:"experiment"`
	Visits     int    `json:"visits"` // visits of the experiment, numbered 1 to Visits
	Producing  Stats  `json:"producing"`
	// ProducingMBPerSec is the mean over the visits the producers finished
	// of each visit's bytes (framed record values) ÷ its producing time,
	// in MB/s (10^6 bytes); 0 without such a visit.
	ProducingMBPerSec float64 `json:"producing_mb_per_sec,omitempty"`
	// Ceiling is the testbed's ceiling at the run's topic settings, from
	// the swarm, when `testbed bench --ceiling` measured one.
	Ceiling *workspace.CeilingFigure `json:"ceiling,omitempty"`
	// ProducingCPU is how busy the busiest node's CPUs were while the
	// visits were produced; nil when not measured (no visit finished, or
	// Prometheus did not answer).
	ProducingCPU *ProducingCPU  `json:"producing_cpu,omitempty"`
	Alerts       AlertSizes     `json:"alerts"`
	Groups       []GroupSummary `json:"groups"`
	EndUsers     []EndUser      `json:"end_users,omitempty"`
	// External are the consumer groups the run followed without starting
	// them (the experiment's external_consumers), with their verdicts.
	External []ExternalGroup `json:"external_consumers,omitempty"`
	// Stopped says why and when the run ended before its last visit was
	// accounted; nil for a run that went to its end.
	Stopped *Stopped `json:"stopped,omitempty"`
	// Problems lists what makes the run fail: lost alerts, alerts not sent
	// or not received when the run stopped, incomplete visits, a limit
	// passed, an interruption, more duplicates than expect.duplicates
	// allows. Empty for a good run.
	Problems []string `json:"problems"`
	// Notes lists what the run saw that does not fail it: re-deliveries
	// (at-least-once), producer duplicates, agents that vanished, faults.
	Notes []string `json:"notes,omitempty"`
}

// AlertSizes are the sizes of the alerts the producers had acknowledged,
// framed (the record values Kafka stores), over the run's visits.
type AlertSizes struct {
	Acked int   `json:"acked"`
	Bytes int64 `json:"bytes"`
	// MinBytes and MaxBytes are 0 in archives made before producers
	// recorded them.
	MinBytes int `json:"min_bytes,omitempty"`
	MaxBytes int `json:"max_bytes,omitempty"`
}

// Mean is the mean alert size in bytes (0 without alerts).
func (a AlertSizes) Mean() float64 {
	if a.Acked == 0 {
		return 0
	}
	return float64(a.Bytes) / float64(a.Acked)
}

// String says how many alerts of what size: "30000 alerts of 142175 bytes
// on average (139012 - 145310)".
func (a AlertSizes) String() string {
	s := fmt.Sprintf("%d alerts of %.0f bytes on average", a.Acked, a.Mean())
	if a.MaxBytes > 0 {
		s += fmt.Sprintf(" (%d - %d)", a.MinBytes, a.MaxBytes)
	}
	return s
}

// RateLine says how fast the run produced and, with a ceiling, how far
// that is from it: "producing rate: 16.1 MB/s a visit on average (its
// bytes ÷ its producing time), 37 % of this testbed's ceiling of 43.0
// MB/s (...)". Empty without a finished visit.
func (s Summary) RateLine() string {
	if s.ProducingMBPerSec <= 0 {
		return ""
	}
	line := fmt.Sprintf("producing rate: %.1f MB/s a visit on average (its bytes ÷ its producing time)", s.ProducingMBPerSec)
	if c := s.Ceiling; c != nil && c.MBPerSec > 0 {
		line += fmt.Sprintf(", %.0f %% of this testbed's ceiling of %.1f MB/s (Kafka's ProducerPerformance from the swarm, %s, RF %d: %s)",
			100*s.ProducingMBPerSec/c.MBPerSec, c.MBPerSec, steps.Count(c.Partitions, "partition"), c.ReplicationFactor, c.Bench)
	}
	return line
}

// ProducingCPU is the CPU use of the busiest node over the visits'
// producing times (each visit from when it was due to its last ack), as
// node-exporter counts it (monitoring.NodeCPUBusy): it says whether a
// visit's time was the machine's limit rather than Kafka's or the
// testbed's clients'.
type ProducingCPU struct {
	Node  string `json:"node"`  // the busiest node over the visits
	Cores int    `json:"cores"` // its CPUs
	// Busy is 0 to 1: the mean of the node's busy ratio over the visits,
	// weighted by their producing times.
	Busy float64 `json:"busy"`
	// Shared: the nodes share one host's CPUs (the local environment), so
	// Busy is the host's.
	Shared bool `json:"shared,omitempty"`
}

// CPUBound is the busy ratio from which a run counts as limited by its
// CPUs: the threshold of the NodeCPUHigh alert (swarm/prometheus/rules.yml).
const CPUBound = 0.9

// CPULine says how busy the CPUs were while the visits were produced:
// "CPU while producing: 97 % of the host's 2 cores busy (node-exporter;
// the local nodes share them): the visits were CPU-bound, shorter visits
// need more cores". Empty when not measured.
func (s Summary) CPULine() string {
	c := s.ProducingCPU
	if c == nil || c.Cores == 0 {
		return ""
	}
	line := fmt.Sprintf("CPU while producing: %.0f %% of ", 100*c.Busy)
	if c.Shared {
		line += fmt.Sprintf("the host's %s busy (node-exporter; the local nodes share them)", steps.Count(c.Cores, "core"))
	} else {
		line += fmt.Sprintf("%s's %s busy, the busiest node (node-exporter)", c.Node, steps.Count(c.Cores, "core"))
	}
	if c.Busy >= CPUBound {
		return line + ": the visits were CPU-bound, shorter visits need more cores"
	}
	return line + ": the CPUs were not the limit"
}

// Stopped is why and when a run stopped early.
type Stopped struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// GroupSummary is one stream group over the run's visits.
type GroupSummary struct {
	Group       string        `json:"group"` // the experiment's name: consumer1, filters-1
	Kafka       string        `json:"kafka_group"`
	Transit     Stats         `json:"transit"`
	Total       Stats         `json:"total"`
	LatencyP50  time.Duration `json:"latency_p50_ns"`
	LatencyP99  time.Duration `json:"latency_p99_ns"`
	LatencyMax  time.Duration `json:"latency_max_ns"`
	Expected    int           `json:"expected"`
	Received    int           `json:"received"`
	Lost        int           `json:"lost"`
	NotReceived int           `json:"not_received"` // could still have been read when the run stopped
	NotSent     int           `json:"not_sent"`     // the producers could not deliver them
	Duplicated  int           `json:"duplicated"`
	// Redelivered and ProducerDuplicates split Duplicated by cause.
	Redelivered        int   `json:"redelivered"`
	ProducerDuplicates int   `json:"producer_duplicates"`
	Stray              int   `json:"stray"`
	Complete           int   `json:"complete_visits"`
	MaxLag             int64 `json:"max_lag"` // most alerts behind at any lag check
	// LagPerVisit is the group's lag at the end of each visit (when the next
	// is due), visit 1 first, as far as the run got.
	LagPerVisit []int64 `json:"lag_per_visit,omitempty"`
	// FellBehind: the run stopped with the group still behind (its lag
	// above 0), or a limit named it.
	FellBehind bool `json:"fell_behind"`
}

// Facts are what Summarize summarizes: the folded rows and what the
// orchestrator saw while the run went.
type Facts struct {
	RunID, Experiment string
	Visits            int
	Groups            []run.Group
	Rows              []VisitGroup // with NotReceived marked (MarkNotReceived)
	EndUsers          []EndUser
	MaxLag            map[string]int64   // per Kafka group
	LagPerVisit       map[string][]int64 // per Kafka group, visit 1 first
	// Behind lists the Kafka groups that fell behind: still behind when
	// the run stopped, or named by a limit.
	Behind  map[string]bool
	Stopped *Stopped
	// External are the external_consumers' Kafka groups, in the
	// experiment's order, and ExternalLag their lag checks; T0 is when
	// visit 1 was due, End when the lag checks stopped; Schedule the
	// experiment's (when each visit starts, with how many alerts).
	External    []string
	ExternalLag map[string][]LagSample
	T0, End     time.Time
	Schedule    pacing.Schedule
	Expect      *int                     // expect.duplicates: the most duplicates a passing run may have; nil: any
	Ceiling     *workspace.CeilingFigure // the testbed's from the swarm at the run's topic settings; nil: none measured
	CPU         *ProducingCPU            // the busiest node's CPU while producing; nil: not measured
	Problems    []string                 // found while running (a limit, an interruption, ...)
	Notes       []string                 // found while running (faults, vanished agents)
}

// Summarize summarizes a run.
func Summarize(f Facts) Summary {
	s := Summary{RunID: f.RunID, Experiment: f.Experiment, Visits: f.Visits, EndUsers: f.EndUsers, Stopped: f.Stopped,
		Problems: append([]string{}, f.Problems...), Notes: append([]string{}, f.Notes...)}
	if len(f.External) > 0 {
		windows := visitWindows(f)
		for _, g := range f.External {
			s.External = append(s.External, JudgeExternal(g, f.ExternalLag[g], windows, f.Schedule))
		}
	}
	label := map[string]string{}
	for _, g := range f.Groups {
		label[g.Name] = g.Label
	}
	producing := map[int]time.Duration{}
	byGroup := map[string][]VisitGroup{}
	sized := map[int]bool{}    // a visit's producers are in each group's row
	rates := map[int]float64{} // MB/s of each visit the producers finished
	for _, r := range f.Rows {
		if !sized[r.Visit] && r.Producers > 0 {
			sized[r.Visit] = true
			s.Alerts.Acked += r.Acked
			s.Alerts.Bytes += r.Bytes
			if r.MinBytes > 0 && (s.Alerts.MinBytes == 0 || r.MinBytes < s.Alerts.MinBytes) {
				s.Alerts.MinBytes = r.MinBytes
			}
			s.Alerts.MaxBytes = max(s.Alerts.MaxBytes, r.MaxBytes)
		}
		if r.ProducersFinished() {
			producing[r.Visit] = r.ProducingTime
			if r.ProducingTime > 0 {
				rates[r.Visit] = float64(r.Bytes) / 1e6 / r.ProducingTime.Seconds()
			}
		}
		byGroup[r.Group] = append(byGroup[r.Group], r)
	}
	var pt []time.Duration
	var mbps []float64
	for v := 1; v <= f.Visits; v++ {
		if d, ok := producing[v]; ok {
			pt = append(pt, d)
		}
		if r, ok := rates[v]; ok {
			mbps = append(mbps, r)
		}
	}
	s.Producing = StatsOf(pt)
	// In visit order: the same rows give the same mean to the last bit.
	for _, r := range mbps {
		s.ProducingMBPerSec += r / float64(len(mbps))
	}
	s.Ceiling = f.Ceiling
	s.ProducingCPU = f.CPU
	names := make([]string, 0, len(byGroup))
	for g := range byGroup {
		names = append(names, g)
	}
	sort.Strings(names)
	duplicated := 0
	for _, g := range names {
		gs := GroupSummary{Group: label[g], Kafka: g, MaxLag: f.MaxLag[g], LagPerVisit: f.LagPerVisit[g], FellBehind: f.Behind[g]}
		if gs.Group == "" {
			gs.Group = g
		}
		var transit, total []time.Duration
		h := results.NewHistogram()
		for _, r := range byGroup[g] {
			gs.Expected += r.Expected
			gs.Received += r.Received
			gs.Lost += r.Lost
			gs.NotReceived += r.NotReceived
			gs.NotSent += r.NotSent
			gs.Duplicated += r.Duplicated
			gs.Redelivered += r.Redelivered
			gs.ProducerDuplicates += r.ProducerDuplicates
			gs.Stray += r.Stray
			if r.Latency != nil {
				h.Merge(r.Latency)
			}
			if r.Complete {
				gs.Complete++
				transit = append(transit, r.TransitTime)
				total = append(total, r.TotalTime)
			}
			if r.Producers > 0 && r.Sent == 0 && r.Received == 0 && r.Errors == 0 {
				// Planned but never sent (the run stopped first): not lost.
				s.Problems = append(s.Problems, fmt.Sprintf("visit %d, %s: none of its %d alerts was sent", r.Visit, gs.Group, r.Expected))
			} else if ps := r.Problems(); len(ps) > 0 {
				s.Problems = append(s.Problems, fmt.Sprintf("visit %d, %s: %s", r.Visit, gs.Group, strings.Join(ps, ", ")))
			}
			if r.Duplicated > 0 {
				s.Notes = append(s.Notes, fmt.Sprintf("visit %d, %s: %s", r.Visit, gs.Group, duplicates(r)))
			}
		}
		duplicated += gs.Duplicated
		gs.Transit, gs.Total = StatsOf(transit), StatsOf(total)
		gs.LatencyP50, gs.LatencyP99, gs.LatencyMax = h.ValueAtQuantile(50), h.ValueAtQuantile(99), h.Max()
		if gs.FellBehind {
			s.Problems = append(s.Problems, fmt.Sprintf("%s FELL BEHIND: lag at the end of each visit %s", gs.Group, lags(gs.LagPerVisit)))
		}
		s.Groups = append(s.Groups, gs)
	}
	for _, g := range f.Groups {
		if g.Stream && len(byGroup[g.Name]) == 0 {
			s.Problems = append(s.Problems, fmt.Sprintf("%s: no records at all", g.Label))
		}
	}
	if len(pt) < f.Visits {
		s.Problems = append(s.Problems, fmt.Sprintf("%d of %d visits fully produced", len(pt), f.Visits))
	}
	for _, eu := range f.EndUsers {
		if eu.Lost != 0 || eu.NotReceived != 0 {
			s.Problems = append(s.Problems, eu.String())
		}
		duplicated += eu.Dup
	}
	if f.Expect != nil && duplicated > *f.Expect {
		s.Problems = append(s.Problems, fmt.Sprintf("%d duplicated alerts, more than expect.duplicates %d", duplicated, *f.Expect))
	}
	return s
}

// duplicates describes a row's duplicated deliveries by cause.
func duplicates(r VisitGroup) string {
	var why []string
	if r.Redelivered > 0 {
		why = append(why, fmt.Sprintf("%d re-delivered (read again after a rebalance: at-least-once)", r.Redelivered))
	}
	if r.ProducerDuplicates > 0 {
		cause := "retries without idempotence, or a visit cut short sent again by its producer's next task"
		if r.Resent > 0 {
			cause = fmt.Sprintf("a stopped task and its replacement both sent the visit: %d alerts acknowledged twice", r.Resent)
		}
		why = append(why, fmt.Sprintf("%d written twice by a producer (%s)", r.ProducerDuplicates, cause))
	}
	return fmt.Sprintf("%d duplicated: %s", r.Duplicated, strings.Join(why, ", "))
}

// lags lists lag values, or says there are none.
func lags(l []int64) string {
	if len(l) == 0 {
		return "(none measured)"
	}
	s := make([]string, len(l))
	for i, v := range l {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}

// MarkNotReceived moves missing alerts from Lost to NotReceived: for each
// group, as many as its lag when the run ended (what it had not yet read,
// and could have), taken from its latest visits first, since a group reads
// each partition in order and what it has not read is the end of the log.
// What the group had read past, or what never came though it read
// everything, stays lost.
func MarkNotReceived(rows []VisitGroup, lagAtEnd map[string]int64) {
	left := map[string]int64{}
	for g, l := range lagAtEnd {
		left[g] = l
	}
	for i := len(rows) - 1; i >= 0; i-- {
		r := &rows[i]
		n := min(int64(r.Lost), left[r.Group])
		if n <= 0 {
			continue
		}
		r.Lost -= int(n)
		r.NotReceived += int(n)
		left[r.Group] -= n
	}
}

// OK says whether the run had no problem.
func (s Summary) OK() bool { return len(s.Problems) == 0 }

// Timing is one row of the timings table.
type Timing struct {
	Name string
	Stats
}

// Timings are the rows of DMTN-028's timings table: producing, then each
// group's transit and total times.
func (s Summary) Timings() []Timing {
	out := []Timing{{"producer serialization and send to Kafka", s.Producing}}
	for _, g := range s.Groups {
		out = append(out, Timing{"transit time to receipt by " + g.Group, g.Transit}, Timing{"total time to receipt by " + g.Group, g.Total})
	}
	return out
}

// Print writes the summary tables.
func (s Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "SUMMARY %s (run %s), %d visits\n", s.Experiment, s.RunID, s.Visits)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  \tmean +/- stddev\tmin - max\tvisits\n")
	for _, r := range s.Timings() {
		if r.N == 0 {
			fmt.Fprintf(tw, "  %s\t-\t-\t0\n", r.Name)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%.2f +/- %.2f s\t%.2f - %.2f s\t%d\n", r.Name, r.Mean.Seconds(), r.Stddev.Seconds(), r.Min.Seconds(), r.Max.Seconds(), r.N)
	}
	tw.Flush()
	if s.Alerts.Acked > 0 {
		fmt.Fprintf(w, "  produced: %s\n", s.Alerts)
	}
	for _, l := range []string{s.RateLine(), s.CPULine()} {
		if l != "" {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  group\texpected\treceived\tlost\tnot received\tnot sent\tre-delivered\tproducer dup.\tcomplete visits\tmax lag\tlatency p50\tp99\tmax\t\n")
	for _, g := range s.Groups {
		name := g.Group
		if g.FellBehind {
			name += " (FELL BEHIND)"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d/%d\t%d\t%s\t%s\t%s\t\n", name, g.Expected, g.Received, g.Lost, g.NotReceived, g.NotSent,
			g.Redelivered, g.ProducerDuplicates, g.Complete, s.Visits, g.MaxLag, secs(g.LatencyP50), secs(g.LatencyP99), secs(g.LatencyMax))
	}
	tw.Flush()
	if s.Stopped != nil {
		fmt.Fprintf(w, "  the run stopped early at %s: %s\n", s.Stopped.At.Format("15:04:05"), s.Stopped.Reason)
	}
	if len(s.EndUsers) > 0 {
		var lost int64
		var dup, recv int
		var forwarded int64
		for _, eu := range s.EndUsers {
			lost += eu.Lost
			dup += eu.Dup
			recv += eu.Unique
			forwarded += eu.InTopic
		}
		fmt.Fprintf(w, "  end users: %d, %d of %d forwarded alerts received, %d lost, %d duplicated\n", len(s.EndUsers), recv, forwarded, lost, dup)
	}
	printExternal(w, s.External)
	printList(w, "NOTES", s.Notes)
	if s.OK() {
		fmt.Fprintf(w, "  no alert lost\n")
		return
	}
	printList(w, "PROBLEMS", s.Problems)
}

// printList prints a titled list, its first 20 items (summary.json has
// them all).
func printList(w io.Writer, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "  %s (%d):\n", title, len(items))
	for i, it := range items {
		if i == 20 {
			fmt.Fprintf(w, "    ... and %d more (summary.json)\n", len(items)-20)
			break
		}
		fmt.Fprintf(w, "    %s\n", it)
	}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }

// visitWindows are the visits' windows for judging external groups: each
// visit's last acknowledgement (the latest over the rows of the visit), and
// when the next visit was due (T0 + its start in the schedule; the end of the lag
// checks for the last visit), and the records written through it
// (Through: the acknowledged alerts, Resent included). A visit whose
// producing ran past the next one's due time gets OverrunGrace after its
// last acknowledgement.
func visitWindows(f Facts) []VisitWindow {
	last := map[int]time.Time{}
	acked := map[int]int{}
	for _, r := range f.Rows {
		if r.LastAck.After(last[r.Visit]) {
			last[r.Visit] = r.LastAck
		}
		// Every acknowledged write is a record of the log, a visit's
		// second writing by a producer's replacement task too.
		acked[r.Visit] = max(acked[r.Visit], r.Acked+r.Resent)
	}
	out := make([]VisitWindow, 0, f.Visits)
	var through int64
	for v := 1; v <= f.Visits; v++ {
		w := NewVisitWindow(v, last[v], f.T0.Add(f.Schedule.Start(v)))
		if w.Next.After(f.End) {
			w.Next = f.End // the lag checks stopped first
		}
		through += int64(acked[v])
		w.Through = through // the run's topic is its own, from offset 0
		out = append(out, w)
	}
	return out
}

// LagCheck is how often the orchestrator checks the groups' lag, which
// bounds how exactly a visit's catching up is timed.
const LagCheck = time.Second
