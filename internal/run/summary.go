package run

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alert-testbed/testbed/agents/results"
)

// Summary is a run's result in DMTN-028's form: per consumer group, the
// visits' producing, transit and total times as mean +/- stddev and
// min - max, run-wide latency percentiles, and exact alert counts.
type Summary struct {
	RunID      string         `json:"run_id"`
	Experiment string         `json:"experiment"`
	Visits     int            `json:"visits"` // visits of the experiment
	Producing  results.Stats  `json:"producing"`
	Groups     []GroupSummary `json:"groups"`
	EndUsers   []EndUser      `json:"end_users,omitempty"`
	// Problems lists what makes the run fail: lost, duplicated or stray
	// alerts, incomplete visits, a group past max_lag, a missed visit
	// deadline, an interruption. Empty for a good run.
	Problems []string `json:"problems"`
}

// GroupSummary is one stream group over the run's visits.
type GroupSummary struct {
	Group      string        `json:"group"` // the experiment's name: consumer1, filters-1
	Kafka      string        `json:"kafka_group"`
	Transit    results.Stats `json:"transit"`
	Total      results.Stats `json:"total"`
	LatencyP50 time.Duration `json:"latency_p50_ns"`
	LatencyP99 time.Duration `json:"latency_p99_ns"`
	LatencyMax time.Duration `json:"latency_max_ns"`
	Expected   int           `json:"expected"`
	Received   int           `json:"received"`
	Lost       int           `json:"lost"`
	Duplicated int           `json:"duplicated"`
	Stray      int           `json:"stray"`
	Complete   int           `json:"complete_visits"`
	MaxLag     int64         `json:"max_lag"` // most alerts behind at any lag check
}

// Summarize summarizes the folded rows of a run. maxLag holds the largest
// lag seen per Kafka group; problems found while running are added to the
// summary's.
func Summarize(runID, experiment string, visits int, groups []Group, rows []results.VisitGroup, endUsers []EndUser, maxLag map[string]int64, problems []string) Summary {
	s := Summary{RunID: runID, Experiment: experiment, Visits: visits, EndUsers: endUsers, Problems: append([]string{}, problems...)}
	label := map[string]string{}
	for _, g := range groups {
		label[g.Name] = g.Label
	}
	producing := map[int]time.Duration{}
	byGroup := map[string][]results.VisitGroup{}
	for _, r := range rows {
		// Producing times of visits the producers finished: an
		// interrupted visit's would be a fraction.
		if r.Producers > 0 && r.Acked == r.Expected {
			producing[r.Visit] = r.ProducingTime
		}
		byGroup[r.Group] = append(byGroup[r.Group], r)
	}
	var pt []time.Duration
	for v := 0; v < visits; v++ {
		if d, ok := producing[v]; ok {
			pt = append(pt, d)
		}
	}
	s.Producing = results.Summarize(pt)
	names := make([]string, 0, len(byGroup))
	for g := range byGroup {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		gs := GroupSummary{Group: label[g], Kafka: g, MaxLag: maxLag[g]}
		if gs.Group == "" {
			gs.Group = g
		}
		var transit, total []time.Duration
		h := results.NewHistogram()
		for _, r := range byGroup[g] {
			gs.Expected += r.Expected
			gs.Received += r.Received
			gs.Lost += r.Lost
			gs.Duplicated += r.Duplicated
			gs.Stray += r.Stray
			if r.Latency != nil {
				h.Merge(r.Latency)
			}
			if r.Complete {
				gs.Complete++
				transit = append(transit, r.TransitTime)
				total = append(total, r.TotalTime)
			}
			if r.Producers > 0 && r.Sent == 0 && r.Received == 0 {
				// Planned but never sent (an interrupted run): not lost.
				s.Problems = append(s.Problems, fmt.Sprintf("visit %d, %s: none of its %d alerts was sent", r.Visit, gs.Group, r.Expected))
			} else if ps := r.Problems(); len(ps) > 0 {
				s.Problems = append(s.Problems, fmt.Sprintf("visit %d, %s: %s", r.Visit, gs.Group, strings.Join(ps, ", ")))
			}
		}
		gs.Transit, gs.Total = results.Summarize(transit), results.Summarize(total)
		gs.LatencyP50, gs.LatencyP99, gs.LatencyMax = h.ValueAtQuantile(50), h.ValueAtQuantile(99), h.Max()
		s.Groups = append(s.Groups, gs)
	}
	for _, g := range groups {
		if g.Stream && len(byGroup[g.Name]) == 0 {
			s.Problems = append(s.Problems, fmt.Sprintf("%s: no records at all", g.Label))
		}
	}
	if len(pt) < visits {
		s.Problems = append(s.Problems, fmt.Sprintf("%d of %d visits fully produced", len(pt), visits))
	}
	for _, eu := range endUsers {
		if eu.Lost != 0 || eu.Dup != 0 {
			s.Problems = append(s.Problems, eu.String())
		}
	}
	return s
}

// OK says whether the run had no problem.
func (s Summary) OK() bool { return len(s.Problems) == 0 }

// Timing is one row of the timings table.
type Timing struct {
	Name string
	results.Stats
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
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  group\texpected\treceived\tlost\tduplicated\tcomplete visits\tmax lag\tlatency p50\tp99\tmax\t\n")
	for _, g := range s.Groups {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d/%d\t%d\t%s\t%s\t%s\t\n", g.Group, g.Expected, g.Received, g.Lost, g.Duplicated,
			g.Complete, s.Visits, g.MaxLag, secs(g.LatencyP50), secs(g.LatencyP99), secs(g.LatencyMax))
	}
	tw.Flush()
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
	if s.OK() {
		fmt.Fprintf(w, "  no alert lost or duplicated\n")
		return
	}
	fmt.Fprintf(w, "  PROBLEMS (%d):\n", len(s.Problems))
	for i, p := range s.Problems {
		if i == 20 {
			fmt.Fprintf(w, "    ... and %d more (summary.json)\n", len(s.Problems)-20)
			break
		}
		fmt.Fprintf(w, "    %s\n", p)
	}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }
