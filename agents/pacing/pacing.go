// Package pacing decides when each alert producer sends how many alerts.
//
// Visit k starts for every producer at T0 + k*Interval, T0 being a wall-clock
// instant all producers agree on (AlignedT0: the original testbed's alignment
// on multiples of the interval). Within a visit a pacing Model spreads the
// visit's AlertsPerVisit alerts over time:
//
//   - Visit: the whole visit at once, at the visit start, as fast as possible
//     (DMTN-028's experiments).
//   - CCDBursts: DMTN-149's realistic rate: one burst per CCD (189 by default)
//     of 10 to 200 alerts centred on 50, the bursts starting within 3 s of the
//     visit start, visits every 37 s.
//   - Rate: a constant rate, alert j of the visit at j/Rate after the start.
//
// A plan is deterministic in (Seed, visit): every producer computes the same
// whole-visit plan and takes its own share, so the shares of all producers sum
// exactly to AlertsPerVisit and never overlap, without any coordination.
// Within (visit, producer) the alerts carry sequence numbers 0..n-1, burst
// after burst: a Burst's alerts are FirstSeq .. FirstSeq+Count-1.
//
// CCDs: in every model the visit's alerts belong to CCDs 0..Bursts-1. In
// ccd-bursts a burst is one CCD and producer p sends CCDs p, p+P, p+2P, ...
// (per-CCD pipeline parallelism). In visit and rate the alert with
// visit-global index j belongs to CCD j % Bursts, so that ccdVisitIds are
// plausible; in visit the producers' shares are consecutive blocks of global
// indices, in rate producer p sends the global indices j with j % P == p.
package pacing

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// Model names a pacing model.
type Model string

// The pacing models.
const (
	Visit     Model = "visit"      // the whole visit at the visit start
	CCDBursts Model = "ccd-bursts" // DMTN-149: one burst per CCD within BurstSpread
	Rate      Model = "rate"       // constant alerts/s
)

// Models lists the known models, in the order error messages name them.
var Models = []Model{Visit, CCDBursts, Rate}

// Defaults of DMTN-028 (10,000 alerts every 39 s) and DMTN-149 (189 bursts of
// 10-200 alerts centred on 50, over 3 s, every 37 s).
const (
	DefaultAlertsPerVisit = 10000
	DefaultInterval       = 39 * time.Second
	DefaultBurstInterval  = 37 * time.Second
	DefaultBursts         = 189
	DefaultBurstMin       = 10
	DefaultBurstMax       = 200
	DefaultBurstMean      = 50
	DefaultBurstSpread    = 3 * time.Second
	// DefaultRate is DMTN-028's measured serialization rate of one
	// producer, about 300 alerts/s: 10,000 alerts take 33 s of a 39 s visit.
	DefaultRate = 300.0
)

// Config is the pacing of an experiment. The field names in validation
// errors are the yaml/json names.
type Config struct {
	Model          Model         `yaml:"model" json:"model"`
	AlertsPerVisit int           `yaml:"alerts_per_visit" json:"alerts_per_visit"`
	Interval       time.Duration `yaml:"interval" json:"interval"`   // between visit starts
	Producers      int           `yaml:"producers" json:"producers"` // producers sharing each visit
	// Bursts is the number of CCDs of a visit: one burst each in
	// ccd-bursts; in visit and rate only the CCD labels of the alerts.
	Bursts      int           `yaml:"bursts" json:"bursts"`
	BurstMin    int           `yaml:"burst_min" json:"burst_min"`       // ccd-bursts: fewest alerts in a burst
	BurstMax    int           `yaml:"burst_max" json:"burst_max"`       // ccd-bursts: most alerts in a burst
	BurstMean   int           `yaml:"burst_mean" json:"burst_mean"`     // ccd-bursts: typical (median) burst size
	BurstSpread time.Duration `yaml:"burst_spread" json:"burst_spread"` // ccd-bursts: bursts start in [0, BurstSpread)
	Rate        float64       `yaml:"rate" json:"rate"`                 // rate: alerts/s of the whole visit (all producers)
	Seed        int64         `yaml:"seed" json:"seed"`                 // ccd-bursts: seed of the burst sizes and offsets
	// Slots, when set, are the visits' own starts and sizes (Schedule):
	// AlertsPerVisit is then unused and Interval is the last visit's
	// length. Visit returns the configuration of one visit.
	Slots []Slot `yaml:"-" json:"slots,omitempty"`
}

// Visit is the configuration of visit k (from 0) alone: its alerts and
// its length (up to the next visit's start) as AlertsPerVisit and
// Interval, without Slots, for Plan.
func (c Config) Visit(k int) Config {
	s := c.Schedule()
	v := c
	v.AlertsPerVisit, v.Interval, v.Slots = s.Alerts(k), s.Length(k), nil
	return v
}

// Defaults returns the default configuration of model: 10,000 alerts per
// visit, one producer, visits every 39 s (37 s for ccd-bursts), DMTN-149's
// burst numbers and DefaultRate. The model itself is not checked here; see
// Validate.
func Defaults(model Model) Config {
	c := Config{
		Model:          model,
		AlertsPerVisit: DefaultAlertsPerVisit,
		Interval:       DefaultInterval,
		Producers:      1,
		Bursts:         DefaultBursts,
		BurstMin:       DefaultBurstMin,
		BurstMax:       DefaultBurstMax,
		BurstMean:      DefaultBurstMean,
		BurstSpread:    DefaultBurstSpread,
		Rate:           DefaultRate,
		Seed:           1,
	}
	if model == CCDBursts {
		c.Interval = DefaultBurstInterval
	}
	return c
}

func modelNames() string {
	s := make([]string, len(Models))
	for i, m := range Models {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

// Validate reports the first problem of c, naming the field and what is
// allowed. Fields that the model does not use are not checked.
func (c Config) Validate() error {
	if len(c.Slots) > 0 {
		if err := ValidateSlots(c.Slots); err != nil {
			return err
		}
		for k := range c.Slots {
			v := c.Visit(k)
			if k > 0 && v.AlertsPerVisit == c.Slots[k-1].Alerts && v.Interval == c.Visit(k-1).Interval {
				continue // checked already
			}
			if err := v.Validate(); err != nil {
				return fmt.Errorf("visit %d of the schedule (%d alerts, %s to the next): %w", k+1, v.AlertsPerVisit, v.Interval, err)
			}
		}
		return nil
	}
	switch c.Model {
	case Visit, CCDBursts, Rate:
	default:
		return fmt.Errorf("model: %q is not one of %s", c.Model, modelNames())
	}
	if c.AlertsPerVisit < 1 {
		return fmt.Errorf("alerts_per_visit: must be at least 1, got %d", c.AlertsPerVisit)
	}
	if c.Interval <= 0 {
		return fmt.Errorf("interval: must be positive, got %s", c.Interval)
	}
	if c.Producers < 1 {
		return fmt.Errorf("producers: must be at least 1, got %d", c.Producers)
	}
	if c.Bursts < 1 {
		return fmt.Errorf("bursts: must be at least 1 (the CCDs of a visit), got %d", c.Bursts)
	}
	switch c.Model {
	case CCDBursts:
		if c.BurstMin < 1 {
			return fmt.Errorf("burst_min: must be at least 1, got %d", c.BurstMin)
		}
		if c.BurstMax < c.BurstMin {
			return fmt.Errorf("burst_max: %d is less than burst_min %d", c.BurstMax, c.BurstMin)
		}
		if c.BurstMean < c.BurstMin || c.BurstMean > c.BurstMax {
			return fmt.Errorf("burst_mean: %d is outside burst_min..burst_max (%d..%d)", c.BurstMean, c.BurstMin, c.BurstMax)
		}
		if c.BurstSpread < 0 || c.BurstSpread > c.Interval {
			return fmt.Errorf("burst_spread: must be between 0 and the interval %s, got %s", c.Interval, c.BurstSpread)
		}
		lo, hi := c.Bursts*c.BurstMin, c.Bursts*c.BurstMax
		if c.AlertsPerVisit < lo || c.AlertsPerVisit > hi {
			return fmt.Errorf("alerts_per_visit: %d is impossible with %d bursts of %d to %d alerts: must be between %d and %d",
				c.AlertsPerVisit, c.Bursts, c.BurstMin, c.BurstMax, lo, hi)
		}
		if c.Producers > c.Bursts {
			return fmt.Errorf("producers: %d is more than the %d bursts (CCDs) of a visit; a producer sends whole CCDs, so at most %d",
				c.Producers, c.Bursts, c.Bursts)
		}
	case Rate:
		if !(c.Rate > 0) || math.IsInf(c.Rate, 1) {
			return fmt.Errorf("rate: must be a positive number of alerts/s, got %g", c.Rate)
		}
		need := float64(c.AlertsPerVisit) / c.Interval.Seconds()
		if c.Rate < need {
			took := time.Duration(float64(c.AlertsPerVisit) / c.Rate * float64(time.Second)).Round(time.Millisecond)
			return fmt.Errorf("rate: %g alerts/s takes %s to send %d alerts, longer than the interval %s: must be at least %.2f alerts/s",
				c.Rate, took, c.AlertsPerVisit, c.Interval, math.Ceil(need*100)/100)
		}
	}
	return nil
}

// Burst is Count alerts that a producer sends from visit start + Offset on,
// with sequence numbers FirstSeq .. FirstSeq+Count-1, all from one CCD.
type Burst struct {
	Offset   time.Duration
	CCD      int
	Count    int
	FirstSeq int
}

// Total is the number of alerts of a plan.
func Total(plan []Burst) int {
	n := 0
	for _, b := range plan {
		n += b.Count
	}
	return n
}

// Share is producer index's share of total alerts split over producers: the
// first total%producers producers get one more. The shares sum to total.
func Share(total, producers, index int) int {
	if producers < 1 || index < 0 || index >= producers {
		return 0
	}
	n := total / producers
	if index < total%producers {
		n++
	}
	return n
}

// shareStart is the first global index of producer index's consecutive
// block when total alerts are split by Share.
func shareStart(total, producers, index int) int {
	return index*(total/producers) + min(index, total%producers)
}

// Plan is producer's part of visit: its bursts in send order (by offset),
// with sequence numbers 0..n-1 assigned burst after burst. The plans of
// producers 0..Producers-1 of one visit sum exactly to AlertsPerVisit. With
// more producers than alerts (visit, rate) a producer's plan can be empty.
func Plan(c Config, visit, producer int) ([]Burst, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if visit < 0 {
		return nil, fmt.Errorf("visit: must not be negative, got %d", visit)
	}
	if producer < 0 || producer >= c.Producers {
		return nil, fmt.Errorf("producer: %d is outside 0..%d (producers %d)", producer, c.Producers-1, c.Producers)
	}
	switch c.Model {
	case CCDBursts:
		return planBursts(c, visit, producer), nil
	case Rate:
		return planRate(c, producer), nil
	default:
		return planVisit(c, producer), nil
	}
}

// planVisit: producer's consecutive block of global indices [s, s+n), all at
// offset 0, grouped by CCD (global index j is CCD j % Bursts) in order of
// first appearance.
func planVisit(c Config, producer int) []Burst {
	n := Share(c.AlertsPerVisit, c.Producers, producer)
	s := shareStart(c.AlertsPerVisit, c.Producers, producer)
	nccd := c.Bursts
	plan := make([]Burst, 0, min(n, nccd))
	seq := 0
	for i := 0; i < min(n, nccd); i++ {
		count := (n - i + nccd - 1) / nccd // k in [0, n) with k ≡ i (mod nccd)
		plan = append(plan, Burst{Offset: 0, CCD: (s + i) % nccd, Count: count, FirstSeq: seq})
		seq += count
	}
	return plan
}

// planRate: global alert j at j/Rate; producer p sends j = p, p+P, ...
func planRate(c Config, producer int) []Burst {
	n := Share(c.AlertsPerVisit, c.Producers, producer)
	plan := make([]Burst, 0, n)
	for seq := 0; seq < n; seq++ {
		j := producer + seq*c.Producers
		off := time.Duration(math.Round(float64(j) * float64(time.Second) / c.Rate))
		if k := len(plan) - 1; k >= 0 && plan[k].Offset == off && plan[k].CCD == j%c.Bursts {
			plan[k].Count++ // only at rates beyond 1e9/s
			continue
		}
		plan = append(plan, Burst{Offset: off, CCD: j % c.Bursts, Count: 1, FirstSeq: seq})
	}
	return plan
}

// visitBurst is one burst of the whole-visit plan.
type visitBurst struct {
	ccd    int
	count  int
	offset time.Duration
}

// planBursts takes producer's CCDs out of the whole-visit plan.
func planBursts(c Config, visit, producer int) []Burst {
	all := visitBursts(c, visit)
	var plan []Burst
	seq := 0
	for _, b := range all {
		if b.ccd%c.Producers != producer {
			continue
		}
		plan = append(plan, Burst{Offset: b.offset, CCD: b.ccd, Count: b.count, FirstSeq: seq})
		seq += b.count
	}
	return plan
}

// visitBursts is the whole visit's ccd-bursts plan, sorted by offset then
// CCD. The random draws depend on (Seed, visit) only and happen in a fixed
// order: all sizes, then all offsets.
func visitBursts(c Config, visit int) []visitBurst {
	r := newRNG(c.Seed, visit)
	sizes := burstSizes(r, c.Bursts, c.AlertsPerVisit, c.BurstMin, c.BurstMax, c.BurstMean)
	bs := make([]visitBurst, c.Bursts)
	for i := range bs {
		bs[i] = visitBurst{ccd: i, count: sizes[i]}
		if c.BurstSpread > 0 {
			bs[i].offset = time.Duration(r.Uint64() % uint64(c.BurstSpread))
		}
	}
	sort.Slice(bs, func(i, j int) bool {
		if bs[i].offset != bs[j].offset {
			return bs[i].offset < bs[j].offset
		}
		return bs[i].ccd < bs[j].ccd
	})
	return bs
}

// rng is PCG (math/rand/v2's algorithm, fixed by its specification) with our
// own transforms to floats and normals, so that plans do not change with the
// Go release that built the producers.
type rng struct{ pcg *rand.PCG }

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func newRNG(seed int64, visit int) *rng {
	return &rng{rand.NewPCG(splitmix64(uint64(seed)), splitmix64(uint64(visit)^0x5bd1e9955bd1e995))}
}

func (r *rng) Uint64() uint64 { return r.pcg.Uint64() }

// float64 is uniform in [0, 1).
func (r *rng) float64() float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// normal is a standard normal deviate (Box-Muller).
func (r *rng) normal() float64 {
	u1 := 1 - r.float64() // (0, 1]
	u2 := r.float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// burstSizes draws n burst sizes from a log-normal distribution with median
// mean whose ±2σ range spans [lo, hi] (σ = ln(hi/lo)/4: 0.75 for 10..200),
// clipped to [lo, hi], then corrects them to sum exactly to total while each
// stays within [lo, hi]: first by scaling the sizes that can still move
// (which keeps the shape), then by ±1 steps over the bursts in a random order.
// total must be within [n*lo, n*hi].
func burstSizes(r *rng, n, total, lo, hi, mean int) []int {
	sigma := math.Log(float64(hi)/float64(lo)) / 4
	mu := math.Log(float64(mean))
	s := make([]int, n)
	sum := 0
	for i := range s {
		v := int(math.Round(math.Exp(mu + sigma*r.normal())))
		s[i] = min(max(v, lo), hi)
		sum += s[i]
	}
	// Proportional correction of the sizes that can still move.
	for round := 0; round < 8 && sum != total; round++ {
		diff := total - sum
		free := 0
		for _, v := range s {
			if (diff > 0 && v < hi) || (diff < 0 && v > lo) {
				free += v
			}
		}
		scale := float64(free+diff) / float64(free)
		sum = 0
		for i, v := range s {
			switch {
			case diff > 0 && v < hi:
				s[i] = min(hi, int(math.Floor(float64(v)*scale))) // never overshoots
			case diff < 0 && v > lo:
				s[i] = max(lo, int(math.Ceil(float64(v)*scale))) // never undershoots
			}
			sum += s[i]
		}
	}
	// The remainder one alert at a time, cycling over a random order.
	if sum != total {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		for i := n - 1; i > 0; i-- {
			j := int(r.Uint64() % uint64(i+1))
			order[i], order[j] = order[j], order[i]
		}
		for k := 0; sum != total; k = (k + 1) % n {
			i := order[k]
			if sum < total && s[i] < hi {
				s[i]++
				sum++
			} else if sum > total && s[i] > lo {
				s[i]--
				sum--
			}
		}
	}
	return s
}

// VisitStart is the start of visit k (counted from 0 at t0): t0 + k*interval.
func VisitStart(t0 time.Time, interval time.Duration, visit int) time.Time {
	return t0.Add(time.Duration(visit) * interval)
}

// AlignedT0 is the first multiple of interval since the Unix epoch that is
// at least lead after now, so that producers started at different moments
// agree on T0 (all of them whose now+lead fall within the same interval). The result is in UTC. An
// interval <= 0 means no alignment: now + lead.
func AlignedT0(now time.Time, interval, lead time.Duration) time.Time {
	target := now.Add(lead)
	if interval <= 0 {
		return target.UTC()
	}
	// UnixNano is exact for the years 1678 to 2262.
	t, iv := target.UnixNano(), int64(interval)
	k := t / iv // truncated: already the ceiling when t < 0
	if k*iv < t {
		k++
	}
	return time.Unix(0, k*iv).UTC()
}
