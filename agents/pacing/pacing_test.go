package pacing

import (
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"testing/quick"
	"time"
)

func TestDefaultsValid(t *testing.T) {
	for _, m := range Models {
		c := Defaults(m)
		if err := c.Validate(); err != nil {
			t.Errorf("Defaults(%s): %v", m, err)
		}
	}
	if got := Defaults(CCDBursts).Interval; got != 37*time.Second {
		t.Errorf("ccd-bursts interval %s, want 37s", got)
	}
	if got := Defaults(Visit).Interval; got != 39*time.Second {
		t.Errorf("visit interval %s, want 39s", got)
	}
	c := Defaults(CCDBursts)
	if c.AlertsPerVisit != 10000 || c.Bursts != 189 || c.BurstMin != 10 || c.BurstMax != 200 || c.BurstMean != 50 || c.BurstSpread != 3*time.Second || c.Producers != 1 {
		t.Errorf("ccd-bursts defaults %+v are not DMTN-149's", c)
	}
}

func TestValidateErrors(t *testing.T) {
	mod := func(m Model, f func(*Config)) Config {
		c := Defaults(m)
		f(&c)
		return c
	}
	cases := []struct {
		c    Config
		want string
	}{
		{mod("burst", func(c *Config) {}), `model: "burst" is not one of visit, ccd-bursts, rate`},
		{mod("", func(c *Config) {}), `model: "" is not one of visit, ccd-bursts, rate`},
		{mod(Visit, func(c *Config) { c.AlertsPerVisit = 0 }), "alerts_per_visit: must be at least 1, got 0"},
		{mod(Visit, func(c *Config) { c.Interval = 0 }), "interval: must be positive, got 0s"},
		{mod(Rate, func(c *Config) { c.Interval = -time.Second }), "interval: must be positive, got -1s"},
		{mod(Visit, func(c *Config) { c.Producers = 0 }), "producers: must be at least 1, got 0"},
		{mod(Visit, func(c *Config) { c.Bursts = 0 }), "bursts: must be at least 1 (the CCDs of a visit), got 0"},
		{mod(CCDBursts, func(c *Config) { c.BurstMin = 0 }), "burst_min: must be at least 1, got 0"},
		{mod(CCDBursts, func(c *Config) { c.BurstMax = 5 }), "burst_max: 5 is less than burst_min 10"},
		{mod(CCDBursts, func(c *Config) { c.BurstMean = 300 }), "burst_mean: 300 is outside burst_min..burst_max (10..200)"},
		{mod(CCDBursts, func(c *Config) { c.BurstMean = 9 }), "burst_mean: 9 is outside burst_min..burst_max (10..200)"},
		{mod(CCDBursts, func(c *Config) { c.BurstSpread = 40 * time.Second }), "burst_spread: must be between 0 and the interval 37s, got 40s"},
		{mod(CCDBursts, func(c *Config) { c.BurstSpread = -time.Second }), "burst_spread: must be between 0 and the interval 37s, got -1s"},
		{mod(CCDBursts, func(c *Config) { c.AlertsPerVisit = 1000 }),
			"alerts_per_visit: 1000 is impossible with 189 bursts of 10 to 200 alerts: must be between 1890 and 37800"},
		{mod(CCDBursts, func(c *Config) { c.AlertsPerVisit = 100000 }),
			"alerts_per_visit: 100000 is impossible with 189 bursts of 10 to 200 alerts: must be between 1890 and 37800"},
		{mod(CCDBursts, func(c *Config) { c.Producers = 200 }),
			"producers: 200 is more than the 189 bursts (CCDs) of a visit; a producer sends whole CCDs, so at most 189"},
		{mod(Rate, func(c *Config) { c.Rate = 0 }), "rate: must be a positive number of alerts/s, got 0"},
		{mod(Rate, func(c *Config) { c.Rate = -5 }), "rate: must be a positive number of alerts/s, got -5"},
		{mod(Rate, func(c *Config) { c.Rate = 100 }),
			"rate: 100 alerts/s takes 1m40s to send 10000 alerts, longer than the interval 39s: must be at least 256.42 alerts/s"},
	}
	for _, tc := range cases {
		err := tc.c.Validate()
		if err == nil {
			t.Errorf("%+v: no error, want %q", tc.c, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%+v:\n got %q\nwant %q", tc.c, err.Error(), tc.want)
		}
	}
	// Fields a model does not use are not checked.
	c := Defaults(Visit)
	c.Rate, c.BurstMin, c.BurstSpread = 0, 0, -1
	if err := c.Validate(); err != nil {
		t.Errorf("visit with unused bad fields: %v", err)
	}
	// Exactly fast enough is fine: 390 alerts at 10/s take the whole 39 s.
	c = Defaults(Rate)
	c.AlertsPerVisit, c.Rate = 390, 10
	if err := c.Validate(); err != nil {
		t.Errorf("rate exactly filling the interval: %v", err)
	}
}

func TestPlanArgumentErrors(t *testing.T) {
	c := Defaults(Visit)
	c.Producers = 2
	for _, tc := range []struct {
		visit, producer int
		want            string
	}{
		{0, 2, "producer: 2 is outside 0..1 (producers 2)"},
		{0, -1, "producer: -1 is outside 0..1 (producers 2)"},
		{-1, 0, "visit: must not be negative, got -1"},
	} {
		_, err := Plan(c, tc.visit, tc.producer)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Plan(visit %d, producer %d) = %v, want %q", tc.visit, tc.producer, err, tc.want)
		}
	}
	c.AlertsPerVisit = 0
	if _, err := Plan(c, 0, 0); err == nil {
		t.Error("Plan of an invalid config: no error")
	}
}

func TestShare(t *testing.T) {
	if got := []int{Share(10, 3, 0), Share(10, 3, 1), Share(10, 3, 2)}; !reflect.DeepEqual(got, []int{4, 3, 3}) {
		t.Errorf("Share(10, 3, .) = %v", got)
	}
	f := func(total uint16, producers uint8) bool {
		p := int(producers)%250 + 1
		sum, prev := 0, -1
		for i := 0; i < p; i++ {
			s := Share(int(total), p, i)
			if s < int(total)/p || s > int(total)/p+1 || (prev >= 0 && s > prev) {
				return false
			}
			if start := shareStart(int(total), p, i); start != sum {
				return false
			}
			sum, prev = sum+s, s
		}
		return sum == int(total)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}

func TestBurstSizesProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 3000; iter++ {
		n := 1 + r.IntN(300)
		lo := 1 + r.IntN(50)
		hi := lo + r.IntN(300)
		mean := lo + r.IntN(hi-lo+1)
		total := n*lo + r.IntN(n*(hi-lo)+1)
		if iter%10 == 0 { // the extremes
			total = []int{n * lo, n * hi}[iter/10%2]
		}
		sizes := burstSizes(newRNG(r.Int64(), r.IntN(1000)), n, total, lo, hi, mean)
		sum := 0
		for _, s := range sizes {
			if s < lo || s > hi {
				t.Fatalf("n=%d total=%d [%d,%d] mean %d: size %d out of bounds", n, total, lo, hi, mean, s)
			}
			sum += s
		}
		if sum != total || len(sizes) != n {
			t.Fatalf("n=%d total=%d [%d,%d] mean %d: %d sizes sum to %d", n, total, lo, hi, mean, len(sizes), sum)
		}
	}
}

// randomConfig is a valid random config of model m.
func randomConfig(r *rand.Rand, m Model) Config {
	c := Defaults(m)
	c.Seed = r.Int64()
	c.Bursts = 1 + r.IntN(250)
	switch m {
	case CCDBursts:
		c.BurstMin = 1 + r.IntN(30)
		c.BurstMax = c.BurstMin + r.IntN(200)
		c.BurstMean = c.BurstMin + r.IntN(c.BurstMax-c.BurstMin+1)
		c.AlertsPerVisit = c.Bursts*c.BurstMin + r.IntN(c.Bursts*(c.BurstMax-c.BurstMin)+1)
		c.Producers = 1 + r.IntN(c.Bursts)
		c.BurstSpread = time.Duration(r.Int64N(int64(5 * time.Second)))
	case Rate:
		c.AlertsPerVisit = 1 + r.IntN(5000)
		c.Producers = 1 + r.IntN(50)
		c.Rate = float64(c.AlertsPerVisit)/c.Interval.Seconds() + r.Float64()*1000
	default:
		c.AlertsPerVisit = 1 + r.IntN(20000)
		c.Producers = 1 + r.IntN(300)
	}
	return c
}

// TestSharesExact: over random configs of every model, the producers' plans
// sum exactly to AlertsPerVisit, each producer's sequence numbers are
// 0..n-1 without gaps or overlaps, offsets are sorted and in range, and the
// producers together send every alert of the visit exactly once.
func TestSharesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, m := range Models {
		for iter := 0; iter < 150; iter++ {
			c := randomConfig(r, m)
			if err := c.Validate(); err != nil {
				t.Fatalf("random config %+v: %v", c, err)
			}
			visit := r.IntN(100000)
			total := 0
			ccdCount := map[int]int{}  // alerts per CCD over all producers
			ccdOwner := map[int]int{}  // ccd-bursts: the producer of each CCD
			offsets := map[int64]int{} // rate: alerts at each offset
			for p := 0; p < c.Producers; p++ {
				plan, err := Plan(c, visit, p)
				if err != nil {
					t.Fatal(err)
				}
				seq := 0
				for i, b := range plan {
					if b.FirstSeq != seq || b.Count < 1 {
						t.Fatalf("%s %+v producer %d burst %d: %+v, want FirstSeq %d and Count >= 1", m, c, p, i, b, seq)
					}
					if i > 0 && b.Offset < plan[i-1].Offset {
						t.Fatalf("%s producer %d: offsets not sorted at burst %d", m, p, i)
					}
					if b.CCD < 0 || b.CCD >= c.Bursts {
						t.Fatalf("%s producer %d: CCD %d outside 0..%d", m, p, b.CCD, c.Bursts-1)
					}
					switch m {
					case Visit:
						if b.Offset != 0 {
							t.Fatalf("visit: offset %s", b.Offset)
						}
					case CCDBursts:
						if b.Offset < 0 || (c.BurstSpread > 0 && b.Offset >= c.BurstSpread) || (c.BurstSpread == 0 && b.Offset != 0) {
							t.Fatalf("ccd-bursts: offset %s outside [0, %s)", b.Offset, c.BurstSpread)
						}
						if b.Count < c.BurstMin || b.Count > c.BurstMax {
							t.Fatalf("ccd-bursts: burst of %d outside [%d, %d]", b.Count, c.BurstMin, c.BurstMax)
						}
						if b.CCD%c.Producers != p {
							t.Fatalf("ccd-bursts: producer %d got CCD %d (producers %d)", p, b.CCD, c.Producers)
						}
						if o, ok := ccdOwner[b.CCD]; ok {
							t.Fatalf("ccd-bursts: CCD %d sent by producers %d and %d", b.CCD, o, p)
						}
						ccdOwner[b.CCD] = p
					case Rate:
						if b.Offset < 0 || b.Offset >= c.Interval {
							t.Fatalf("rate: offset %s outside [0, %s)", b.Offset, c.Interval)
						}
						offsets[int64(b.Offset)] += b.Count
					}
					ccdCount[b.CCD] += b.Count
					seq += b.Count
				}
				if seq != Total(plan) || seq != Share(c.AlertsPerVisit, c.Producers, p) && m != CCDBursts {
					t.Fatalf("%s producer %d: %d alerts, Total %d, Share %d", m, p, seq, Total(plan), Share(c.AlertsPerVisit, c.Producers, p))
				}
				total += seq
			}
			if total != c.AlertsPerVisit {
				t.Fatalf("%s %+v: producers send %d alerts, want %d", m, c, total, c.AlertsPerVisit)
			}
			switch m {
			case CCDBursts:
				if len(ccdOwner) != c.Bursts {
					t.Fatalf("ccd-bursts: %d of %d CCDs sent", len(ccdOwner), c.Bursts)
				}
			case Visit, Rate:
				// Global index j is CCD j % Bursts.
				for ccd := 0; ccd < c.Bursts; ccd++ {
					want := Share(c.AlertsPerVisit, c.Bursts, ccd)
					if ccdCount[ccd] != want {
						t.Fatalf("%s %+v: CCD %d has %d alerts, want %d", m, c, ccd, ccdCount[ccd], want)
					}
				}
			}
			if m == Rate {
				// Every global index j exactly once, at j/Rate.
				for j := 0; j < c.AlertsPerVisit; j++ {
					off := int64(time.Duration(float64(j) * float64(time.Second) / c.Rate).Round(1))
					if offsets[off] == 0 {
						// rounding may differ by 1ns from the plan's math.Round
						if offsets[off-1] > 0 {
							off--
						} else if offsets[off+1] > 0 {
							off++
						} else {
							t.Fatalf("rate: no alert at %dns (j=%d)", off, j)
						}
					}
					offsets[off]--
				}
			}
		}
	}
}

func TestRatePlan(t *testing.T) {
	c := Defaults(Rate)
	c.AlertsPerVisit, c.Producers, c.Rate, c.Bursts = 10, 3, 100, 4
	plan, err := Plan(c, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []Burst{
		{Offset: 10 * time.Millisecond, CCD: 1, Count: 1, FirstSeq: 0},
		{Offset: 40 * time.Millisecond, CCD: 0, Count: 1, FirstSeq: 1},
		{Offset: 70 * time.Millisecond, CCD: 3, Count: 1, FirstSeq: 2},
	}
	if !reflect.DeepEqual(plan, want) {
		t.Errorf("rate plan of producer 1:\n got %+v\nwant %+v", plan, want)
	}
}

func TestVisitPlan(t *testing.T) {
	c := Defaults(Visit)
	c.AlertsPerVisit, c.Producers, c.Bursts = 10, 2, 3
	p0, _ := Plan(c, 7, 0) // global 0..4: CCDs 0,1,2,0,1
	p1, _ := Plan(c, 7, 1) // global 5..9: CCDs 2,0,1,2,0
	w0 := []Burst{{0, 0, 2, 0}, {0, 1, 2, 2}, {0, 2, 1, 4}}
	w1 := []Burst{{0, 2, 2, 0}, {0, 0, 2, 2}, {0, 1, 1, 4}}
	if !reflect.DeepEqual(p0, w0) || !reflect.DeepEqual(p1, w1) {
		t.Errorf("visit plans:\n got %+v %+v\nwant %+v %+v", p0, p1, w0, w1)
	}
}

func TestDeterminism(t *testing.T) {
	c := Defaults(CCDBursts)
	c.Producers = 4
	c.Seed = 42
	a, _ := Plan(c, 5, 2)
	b, _ := Plan(c, 5, 2)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed and visit: different plans")
	}
	other, _ := Plan(c, 6, 2)
	if reflect.DeepEqual(a, other) {
		t.Error("visits 5 and 6: same plan")
	}
	c2 := c
	c2.Seed = 43
	if s, _ := Plan(c2, 5, 2); reflect.DeepEqual(a, s) {
		t.Error("seeds 42 and 43: same plan")
	}
	// The whole-visit plan does not depend on the number of producers: one
	// producer's bursts are the union of four producers' bursts.
	c1 := c
	c1.Producers = 1
	whole, _ := Plan(c1, 5, 0)
	sizes := map[int]Burst{}
	for _, b := range whole {
		sizes[b.CCD] = b
	}
	for p := 0; p < 4; p++ {
		plan, _ := Plan(c, 5, p)
		for _, b := range plan {
			w := sizes[b.CCD]
			if w.Count != b.Count || w.Offset != b.Offset {
				t.Fatalf("CCD %d: %+v with 4 producers, %+v with 1", b.CCD, b, w)
			}
		}
	}
	// Pinned values: a change of the plan is a change of every archived run.
	if whole[0].CCD != pinnedFirstCCD || whole[0].Count != pinnedFirstCount || whole[0].Offset != pinnedFirstOffset {
		t.Errorf("first burst of visit 5, seed 42: CCD %d of %d alerts at %s; was CCD %d of %d at %s",
			whole[0].CCD, whole[0].Count, whole[0].Offset, pinnedFirstCCD, pinnedFirstCount, pinnedFirstOffset)
	}
}

// The first burst of visit 5 with seed 42 and the defaults; see TestDeterminism.
const (
	pinnedFirstCCD    = 102
	pinnedFirstCount  = 100
	pinnedFirstOffset = 5950292 * time.Nanosecond
)

// TestBurstShape: DMTN-149's bursts are 10 to 200 alerts centred on 50;
// the sizes of many visits use most of the range and have a median near
// 10000/189 (the correction scales the log-normal's median 50 up by 6%).
func TestBurstShape(t *testing.T) {
	c := Defaults(CCDBursts)
	var all []int
	for v := 0; v < 50; v++ {
		plan, err := Plan(c, v, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan) != 189 || Total(plan) != 10000 {
			t.Fatalf("visit %d: %d bursts of %d alerts", v, len(plan), Total(plan))
		}
		for _, b := range plan {
			all = append(all, b.Count)
		}
	}
	sort.Ints(all)
	median := all[len(all)/2]
	if median < 40 || median > 60 {
		t.Errorf("median burst %d, want about 50", median)
	}
	if all[0] > 15 || all[len(all)-1] < 150 {
		t.Errorf("bursts between %d and %d: the range 10..200 is barely used", all[0], all[len(all)-1])
	}
}

func TestVisitStart(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if got := VisitStart(t0, 39*time.Second, 3); !got.Equal(t0.Add(117 * time.Second)) {
		t.Errorf("VisitStart = %s", got)
	}
}

func TestAlignedT0(t *testing.T) {
	f := func(nowNs int64, ivMs uint32, leadMs uint32) bool {
		now := time.Unix(0, nowNs%(1<<61)) // 1896..2043
		interval := time.Duration(ivMs%600000+1) * time.Millisecond
		if ivMs%3 == 0 {
			interval += time.Duration(ivMs%997) * time.Nanosecond // odd intervals too
		}
		lead := time.Duration(leadMs%120000) * time.Millisecond
		t0 := AlignedT0(now, interval, lead)
		min := now.Add(lead)
		return t0.UnixNano()%int64(interval) == 0 &&
			!t0.Before(min) && t0.Before(min.Add(interval)) && t0.Location() == time.UTC
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
	// Exact multiples are kept; two producers started 5 s apart agree.
	now := time.Unix(390, 0)
	if got := AlignedT0(now, 39*time.Second, 0); !got.Equal(now) {
		t.Errorf("AlignedT0 on a multiple = %s", got)
	}
	a := AlignedT0(time.Unix(1_800_000_001, 0), 39*time.Second, 10*time.Second)
	b := AlignedT0(time.Unix(1_800_000_006, 0), 39*time.Second, 10*time.Second)
	if !a.Equal(b) || a.Unix()%39 != 0 {
		t.Errorf("AlignedT0: %s and %s", a, b)
	}
	if got := AlignedT0(now, 0, time.Second); !got.Equal(now.Add(time.Second)) {
		t.Errorf("AlignedT0 without interval = %s", got)
	}
}
