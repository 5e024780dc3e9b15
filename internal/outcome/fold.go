package outcome

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/alert-testbed/testbed/agents/results"
)

// VisitGroup is the fold's account of one visit as seen by one consumer
// group.
//
// Counting, over the group's members' records of the visit (several records
// of one member are added up like records of different members):
//
//   - Unique: distinct (producer, seq) delivered with seq < that producer's
//     Expected: the popcount, per producer, of the union of the members'
//     bitmaps below Expected.
//   - NotSent: alerts of the producers' plan that they could not deliver
//     (their Failed seqs, or their Errors where a record has no Failed
//     bitmap) and that no member received: never written, so not lost.
//   - Lost = Expected - Unique - NotSent: acknowledged (or unaccounted)
//     alerts no member of the group received. The caller may still call
//     some of them not received yet (a run stopped early with the group
//     behind): see MarkNotReceived.
//   - Stray: distinct deliveries that no producer record accounts for: seq >=
//     its producer's Expected, or a producer without a record for the visit,
//     plus every Invalid delivery (corrupt headers). Strays are neither lost
//     nor unique: they do not make up for a lost alert.
//   - Duplicated = Received - Unique - Stray: every delivery beyond the first
//     of the same alert, whether the same member got it twice or two members
//     got it (a rebalance). An alert delivered three times counts 2. It is
//     split by cause, with the records' offsets:
//   - Redelivered: deliveries of a log offset the group had already read
//     (Kafka's at-least-once: a member died or a partition moved before the
//     offset was committed, and the next owner read it again); the sum over
//     partitions of the records' offset-range lengths minus their union.
//   - ProducerDuplicates = Duplicated - Redelivered: the same alert written
//     to the log more than once (a producer retry without idempotence).
//
// Timings, DMTN-028's definitions, over the visit's producers and the group's
// members (a duration is 0 when one of its ends is unknown, i.e. zero):
//
//   - ProducingTime = LastAck - IntendedStart ("producer serialization and
//     send to Kafka"; it includes the pacing model's spread).
//   - TransitTime = LastReceive - LastAck ("transit time to receipt by
//     consumer"; slightly negative when the last alert reached the group
//     before its acknowledgement reached the producer).
//   - TotalTime = LastReceive - IntendedStart.
//
// A producer may have several records of a visit: a task stopped for a
// drain or a restart that still finished the visit and reported it after
// its replacement had begun the same visit (the replacement resumes at the
// visits it finds no record of when it starts: agents/cmd/alert-producer),
// so both tasks wrote the visit's alerts. The row's producer counts and
// times (Sent to LastAck) are then of one record per producer, its account
// record: the one with the most alerts acknowledged, then the first to
// finish. The other records' acknowledged alerts are Resent, and the
// groups count their second delivery among the ProducerDuplicates. An
// alert is not sent only when no record of its producer delivered it.
type VisitGroup struct {
	Visit     int    `json:"visit"`
	Group     string `json:"group"`
	Producers int    `json:"producers"` // producers that reported the visit
	Members   int    `json:"members"`   // distinct members of the group that reported the visit

	Expected int `json:"expected"` // sum of the producers' Expected
	Sent     int `json:"sent"`
	Acked    int `json:"acked"`
	Errors   int `json:"errors"` // the producers' failed sends
	// Resent counts the alerts acknowledged in the producers' records
	// beyond their account records: the visit written again by a second
	// task of the same producer (see above).
	Resent int `json:"resent,omitempty"`
	// Bytes, MinBytes and MaxBytes are the producers' acknowledged alerts'
	// bytes (framed record values): their sum, smallest and largest.
	Bytes    int64 `json:"bytes"`
	MinBytes int   `json:"min_bytes,omitempty"`
	MaxBytes int   `json:"max_bytes,omitempty"`
	Received int   `json:"received"` // deliveries to the group's members
	Unique   int   `json:"unique"`
	Lost     int   `json:"lost"`
	NotSent  int   `json:"not_sent"` // planned, not delivered by the producer (its errors), and not received
	// NotReceived is the part of the missing alerts that the group could
	// still have read when the run stopped (it was that far behind): not
	// lost. The fold leaves it 0; the orchestrator moves alerts from Lost
	// to NotReceived with the group's lag at the run's end.
	NotReceived int `json:"not_received"`
	Duplicated  int `json:"duplicated"`
	// Redelivered and ProducerDuplicates split Duplicated by cause.
	Redelivered        int `json:"redelivered"`
	ProducerDuplicates int `json:"producer_duplicates"`
	Stray              int `json:"stray"`
	// LostSeqs lists, per producer, the first (up to 100) lost seqs.
	LostSeqs map[int][]int `json:"lost_seqs,omitempty"`

	IntendedStart  time.Time `json:"intended_start"`  // earliest of the producers'
	FirstSerialize time.Time `json:"first_serialize"` // earliest of the producers'
	LastAck        time.Time `json:"last_ack"`        // latest of the producers'
	FirstReceive   time.Time `json:"first_receive"`   // earliest of the members'
	LastReceive    time.Time `json:"last_receive"`    // latest of the members'

	ProducingTime time.Duration `json:"producing_time_ns"`
	TransitTime   time.Duration `json:"transit_time_ns"`
	TotalTime     time.Duration `json:"total_time_ns"`

	LatencyP50 time.Duration `json:"latency_p50_ns"`
	LatencyP99 time.Duration `json:"latency_p99_ns"`
	LatencyMax time.Duration `json:"latency_max_ns"`
	// Latency is the union of the members' histograms, to merge into
	// run-wide percentiles.
	Latency *results.Histogram `json:"latency"`

	// Complete: there are producer records for the visit and no alert of
	// theirs is lost.
	Complete bool `json:"complete"`
}

// ProducersFinished says the row's visit was produced to its end: its
// producers reported and acknowledged every alert. Only such a visit has
// a whole producing time (an interrupted visit's would be a fraction).
func (g VisitGroup) ProducersFinished() bool { return g.Producers > 0 && g.Acked == g.Expected }

// Problems describes, one phrase each, what is wrong with the visit for the
// group: lost, duplicated and stray alerts, producer errors, missing
// records. Empty when all is well.
func (g VisitGroup) Problems() []string {
	var p []string
	if g.Producers == 0 {
		p = append(p, "no producer record")
	}
	if g.Members == 0 {
		p = append(p, "no member record")
	}
	if g.Lost > 0 {
		p = append(p, fmt.Sprintf("%d of %d alerts lost", g.Lost, g.Expected))
	}
	if g.NotReceived > 0 {
		p = append(p, fmt.Sprintf("%d not received when the run stopped", g.NotReceived))
	}
	if g.NotSent > 0 {
		p = append(p, fmt.Sprintf("%d not sent (producer errors, or the producers stopped)", g.NotSent))
	}
	if g.Stray > 0 {
		p = append(p, fmt.Sprintf("%d stray (no producer expected them)", g.Stray))
	}
	if g.Acked < g.Expected {
		p = append(p, fmt.Sprintf("%d of %d acknowledged", g.Acked, g.Expected))
	}
	if g.Errors > 0 {
		p = append(p, fmt.Sprintf("%d send errors", g.Errors))
	}
	return p
}

// maxLostSeqs bounds VisitGroup.LostSeqs per producer.
const maxLostSeqs = 100

type producerKey struct{ visit, producer int }

// visitProducers aggregates the producer records of one visit.
type visitProducers struct {
	// records holds each producer's distinct records, its account record
	// first (accountFirst).
	records                        map[int][]*results.ProducerVisit
	sumExpected, sent, acked, errs int
	resent                         int
	bytes                          int64
	minBytes, maxBytes             int
	intendedStart, firstSerialize  time.Time
	lastAck                        time.Time
}

func newVisitProducers() *visitProducers {
	return &visitProducers{records: map[int][]*results.ProducerVisit{}}
}

// add takes a producer's records of the visit (at least one, all with the
// same Expected) into the visit's account.
func (vp *visitProducers) add(recs []*results.ProducerVisit) {
	accountFirst(recs)
	p := recs[0]
	vp.records[p.Producer] = recs
	for _, other := range recs[1:] {
		vp.resent += other.Acked
	}
	vp.sumExpected += p.Expected
	vp.sent += p.Sent
	vp.acked += p.Acked
	vp.errs += p.Errors
	vp.bytes += p.Bytes
	if p.MinBytes > 0 && (vp.minBytes == 0 || p.MinBytes < vp.minBytes) {
		vp.minBytes = p.MinBytes
	}
	vp.maxBytes = max(vp.maxBytes, p.MaxBytes)
	vp.intendedStart = earliest(vp.intendedStart, p.IntendedStart)
	vp.firstSerialize = earliest(vp.firstSerialize, p.FirstSerialize)
	vp.lastAck = latest(vp.lastAck, p.LastAck)
}

// accountFirst moves the account record of one producer's records of a
// visit to the front: the most alerts acknowledged, then the earliest last
// ack (the task that finished first: the visit's producing time), then
// the order they were read in.
func accountFirst(recs []*results.ProducerVisit) {
	slices.SortStableFunc(recs, func(a, b *results.ProducerVisit) int {
		if a.Acked != b.Acked {
			return b.Acked - a.Acked
		}
		return a.LastAck.Compare(b.LastAck)
	})
}

// unsent says no record of a producer delivered its alert seq: each either
// never handed it to its client (a producer hands a visit's seqs over in
// order, agents/pacing's plan, so those are seqs Sent and up) or could not
// deliver it (its Failed seqs).
func unsent(recs []*results.ProducerVisit, seq int) bool {
	for _, r := range recs {
		if seq < r.Sent && !r.Failed.Has(seq) {
			return false
		}
	}
	return true
}

// unknownFailures counts the failed sends whose seqs the records do not
// give (a record without its Failed bitmap, from an older agent).
func unknownFailures(recs []*results.ProducerVisit) int {
	n := 0
	for _, r := range recs {
		if r.Failed == nil {
			n += r.Errors
		}
	}
	return n
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func span(from, to time.Time) time.Duration {
	if from.IsZero() || to.IsZero() {
		return 0
	}
	return to.Sub(from)
}

// Fold accounts every (visit, consumer group) of one run: one VisitGroup for
// each visit of any record and each group of any consumer record, so a group
// that received nothing of a visit still appears, with Lost = Expected.
// Sorted by visit, then group. See VisitGroup for the definitions.
//
// Records re-delivered by the results topic (byte-for-byte identical after
// encoding) count once; different records of one (visit, producer) are the
// visit sent by two tasks of the producer (see VisitGroup). It is an error
// when the records are of more than one run, when a record fails its
// Validate, and when two records of one (visit, producer) plan different
// numbers of alerts.
func Fold(producers []results.ProducerVisit, consumers []results.ConsumerVisit) ([]VisitGroup, error) {
	return fold(producers, consumers, nil)
}

// fold is Fold with rows also for the groups named, which may have sent
// no record at all: each of the visits' alerts they miss is lost or, when
// its producer could not deliver it, not sent.
func fold(producers []results.ProducerVisit, consumers []results.ConsumerVisit, groupNames []string) ([]VisitGroup, error) {
	run, haveRun := "", false
	checkRun := func(r string) error {
		if !haveRun {
			run, haveRun = r, true
		} else if r != run {
			return fmt.Errorf("fold: records of runs %q and %q; fold one run at a time", run, r)
		}
		return nil
	}

	byProducer := map[producerKey][]*results.ProducerVisit{}
	var keys []producerKey // in the order first read
	seenProducer := recordSet{}
	for i := range producers {
		p := &producers[i]
		if err := checkRun(p.Run); err != nil {
			return nil, err
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("fold: %w", err)
		}
		if repeat, err := seenProducer.repeat(p); err != nil {
			return nil, err
		} else if repeat {
			continue
		}
		k := producerKey{p.Visit, p.Producer}
		switch prev := byProducer[k]; {
		case prev == nil:
			keys = append(keys, k)
		case prev[0].Expected != p.Expected:
			return nil, fmt.Errorf("fold: two producer records of visit %d, producer %d plan different visits (%d and %d alerts); records of one run plan each visit once", p.Visit, p.Producer, prev[0].Expected, p.Expected)
		}
		byProducer[k] = append(byProducer[k], p)
	}
	visits := map[int]*visitProducers{}
	for _, k := range keys {
		vp := visits[k.visit]
		if vp == nil {
			vp = newVisitProducers()
			visits[k.visit] = vp
		}
		vp.add(byProducer[k])
	}

	type visitGroup struct {
		visit int
		group string
	}
	members := map[visitGroup][]*results.ConsumerVisit{}
	groupSet := map[string]bool{}
	for _, g := range groupNames {
		groupSet[g] = true
	}
	seenConsumer := recordSet{}
	for i := range consumers {
		c := &consumers[i]
		if err := checkRun(c.Run); err != nil {
			return nil, err
		}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("fold: %w", err)
		}
		if repeat, err := seenConsumer.repeat(c); err != nil {
			return nil, err
		} else if repeat {
			continue
		}
		k := visitGroup{c.Visit, c.Group}
		members[k] = append(members[k], c)
		groupSet[c.Group] = true
		if visits[c.Visit] == nil {
			visits[c.Visit] = newVisitProducers()
		}
	}

	visitList := make([]int, 0, len(visits))
	for v := range visits {
		visitList = append(visitList, v)
	}
	sort.Ints(visitList)
	groups := make([]string, 0, len(groupSet))
	for g := range groupSet {
		groups = append(groups, g)
	}
	sort.Strings(groups)

	out := make([]VisitGroup, 0, len(visitList)*len(groups))
	for _, v := range visitList {
		vp := visits[v]
		for _, g := range groups {
			row, err := foldOne(v, g, vp, members[visitGroup{v, g}])
			if err != nil {
				return nil, err
			}
			out = append(out, row)
		}
	}
	return out, nil
}

// recordSet remembers records by the digest of their encoding, to count a
// record the results topic delivered again (byte-for-byte identical) once.
type recordSet map[[sha256.Size]byte]bool

// repeat says whether rec was seen before, and remembers it.
func (s recordSet) repeat(rec any) (bool, error) {
	enc, err := json.Marshal(rec)
	if err != nil {
		return false, fmt.Errorf("fold: %w", err)
	}
	sum := sha256.Sum256(enc)
	if s[sum] {
		return true, nil
	}
	s[sum] = true
	return false, nil
}

// foldOne accounts one (visit, group).
func foldOne(visit int, group string, vp *visitProducers, recs []*results.ConsumerVisit) (VisitGroup, error) {
	row := VisitGroup{
		Visit: visit, Group: group, Producers: len(vp.records),
		Expected: vp.sumExpected, Sent: vp.sent, Acked: vp.acked, Errors: vp.errs, Resent: vp.resent,
		Bytes: vp.bytes, MinBytes: vp.minBytes, MaxBytes: vp.maxBytes,
		IntendedStart: vp.intendedStart, FirstSerialize: vp.firstSerialize, LastAck: vp.lastAck,
		Latency: results.NewHistogram(),
	}
	union := map[int]*results.Bitmap{}
	memberSet := map[string]bool{}
	var offsets map[int32][]results.OffsetRange // every record's ranges, per partition
	for _, c := range recs {
		for part, rs := range c.Offsets {
			if offsets == nil {
				offsets = map[int32][]results.OffsetRange{}
			}
			offsets[part] = append(offsets[part], rs...)
		}
		memberSet[c.Member] = true
		row.Received += c.Received
		row.Stray += c.Invalid
		row.FirstReceive = earliest(row.FirstReceive, c.FirstReceive)
		row.LastReceive = latest(row.LastReceive, c.LastReceive)
		row.Latency.Merge(c.Latency)
		for p, b := range c.Seqs {
			u := union[p]
			if u == nil {
				u = &results.Bitmap{}
				union[p] = u
			}
			u.Or(b)
		}
	}
	row.Members = len(memberSet)

	for p, u := range union {
		recs, ok := vp.records[p]
		if !ok {
			row.Stray += u.Count()
			continue
		}
		below := u.CountBelow(recs[0].Expected)
		row.Unique += below
		row.Stray += u.Count() - below
	}
	// Lost seqs of every producer with a record, including those of which
	// the group got nothing.
	prods := make([]int, 0, len(vp.records))
	for p := range vp.records {
		prods = append(prods, p)
	}
	slices.Sort(prods)
	for _, p := range prods {
		recs, u := vp.records[p], union[p]
		exp := recs[0].Expected
		missing := exp - u.CountBelow(exp)
		if missing == 0 {
			continue
		}
		// Missing alerts the producer never wrote are not sent, not lost;
		// failed sends without their seqs count as not sent, as many as
		// are missing.
		notSent := 0
		for s := 0; s < exp; s++ {
			if !u.Has(s) && unsent(recs, s) {
				notSent++
			}
		}
		notSent = min(notSent+unknownFailures(recs), missing)
		row.NotSent += notSent
		if missing == notSent {
			continue
		}
		var lost []int
		for s := 0; s < exp && len(lost) < maxLostSeqs; s++ {
			if !u.Has(s) && !unsent(recs, s) {
				lost = append(lost, s)
			}
		}
		if row.LostSeqs == nil {
			row.LostSeqs = map[int][]int{}
		}
		row.LostSeqs[p] = lost
	}

	row.Lost = row.Expected - row.Unique - row.NotSent
	row.Duplicated = row.Received - row.Unique - row.Stray
	if row.Duplicated < 0 { // impossible for records that pass Validate
		return VisitGroup{}, fmt.Errorf("fold: visit %d, group %q: %d deliveries but %d distinct alerts", visit, group, row.Received, row.Unique+row.Stray)
	}
	for _, rs := range offsets {
		row.Redelivered += int(overlap(rs))
	}
	// Offsets are of valid deliveries only, so their overlaps are a part of
	// Duplicated; a record without offsets (an older agent) hides its
	// re-deliveries among the producer duplicates.
	row.Redelivered = min(row.Redelivered, row.Duplicated)
	row.ProducerDuplicates = row.Duplicated - row.Redelivered
	row.ProducingTime = span(row.IntendedStart, row.LastAck)
	row.TransitTime = span(row.LastAck, row.LastReceive)
	row.TotalTime = span(row.IntendedStart, row.LastReceive)
	row.LatencyP50 = row.Latency.ValueAtQuantile(50)
	row.LatencyP99 = row.Latency.ValueAtQuantile(99)
	row.LatencyMax = row.Latency.Max()
	row.Complete = row.Producers > 0 && row.Lost == 0 && row.NotSent == 0
	return row, nil
}

// overlap is the number of offsets covered more than once by the ranges:
// the sum of their lengths minus the length of their union.
func overlap(rs []results.OffsetRange) int64 {
	var total int64
	for _, r := range rs {
		total += r.Len()
	}
	return total - UnionLen(rs)
}

// UnionLen is the number of distinct offsets the ranges cover.
func UnionLen(rs []results.OffsetRange) int64 {
	if len(rs) == 0 {
		return 0
	}
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b results.OffsetRange) int {
		if a[0] != b[0] {
			return int(a[0] - b[0])
		}
		return int(a[1] - b[1])
	})
	var union int64
	curStart, curEnd := sorted[0][0], sorted[0][1]
	for _, r := range sorted[1:] {
		if r[0] > curEnd+1 {
			union += curEnd - curStart + 1
			curStart, curEnd = r[0], r[1]
			continue
		}
		curEnd = max(curEnd, r[1])
	}
	union += curEnd - curStart + 1
	return union
}
