// Command alert-producer sends LSST-style alerts to Kafka on a visit
// schedule: visit k starts at T0 + k x interval for every producer, each
// producer sends its exact share of the visit with the chosen pacing, and
// publishes one result record per visit to the results topic.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/headers"
	"github.com/alert-testbed/testbed/agents/kafkaconf"
	"github.com/alert-testbed/testbed/agents/lifecycle"
	"github.com/alert-testbed/testbed/agents/metrics"
	"github.com/alert-testbed/testbed/agents/pacing"
	"github.com/alert-testbed/testbed/agents/results"
)

func main() {
	ctx, sigs, stop := lifecycle.Notify()
	defer stop()
	signals = sigs
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	err := app().RunContext(ctx, os.Args)
	stop()
	sigs.Exit("alert-producer", err)
}

// signals is what ended the program: SIGTERM (exit 0), SIGHUP (a restart:
// exit lifecycle.RestartExitCode), none.
var signals = &lifecycle.Signals{}

func app() *cli.App {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "topic", EnvVars: []string{"TOPIC"}, Value: "alerts", Usage: "topic the alerts go to"},
		&cli.StringFlag{Name: "results-topic", EnvVars: []string{"RESULTS_TOPIC"}, Value: "testbed-results", Usage: "topic for the per-visit result records (empty: none)"},
		&cli.StringFlag{Name: "run-id", EnvVars: []string{"RUN_ID"}, Required: true, Usage: "run id, carried in every alert's headers"},
		&cli.IntFlag{Name: "producer", EnvVars: []string{"PRODUCER"}, Value: 0, Usage: "index of this producer, 0 .. producers-1 (a swarm task can pass {{.Task.Slot}}-1 via PRODUCER_SLOT)"},
		&cli.IntFlag{Name: "producer-slot", EnvVars: []string{"PRODUCER_SLOT"}, Usage: "1-based swarm task slot; sets --producer to slot-1 when given"},
		&cli.IntFlag{Name: "producers", EnvVars: []string{"PRODUCERS"}, Value: 1, Usage: "number of producers sharing each visit"},
		&cli.IntFlag{Name: "alerts-per-visit", EnvVars: []string{"ALERTS_PER_VISIT"}, Value: 10000, Usage: "alerts per visit, over all producers"},
		&cli.IntFlag{Name: "visits", EnvVars: []string{"VISITS"}, Value: 1, Usage: "number of visits to send; 0: without end, until stopped (testbed stream)"},
		&cli.IntFlag{Name: "first-visit", EnvVars: []string{"FIRST_VISIT"}, Value: 0, Usage: "number of the first visit"},
		&cli.DurationFlag{Name: "interval", EnvVars: []string{"VISIT_INTERVAL"}, Usage: "time between visit starts (default 39s; 37s for ccd-bursts)"},
		&cli.StringFlag{Name: "schedule", EnvVars: []string{"VISIT_SCHEDULE"}, Usage: "each visit's own alerts and start in ms after T0, ALERTS@OFFSET_MS comma-separated (40@0,38@34560): replaces --alerts-per-visit and --visits, and --interval is then the last visit's length (testbed run passes a replay's exposures: alert.replay_pacing observed)"},
		&cli.StringFlag{Name: "t0", EnvVars: []string{"T0"}, Value: "auto", Usage: "start of the first visit: RFC 3339 time, Unix seconds, or auto (the next multiple of the interval at least --lead from now, which producers started apart agree on)"},
		&cli.DurationFlag{Name: "lead", EnvVars: []string{"LEAD"}, Value: 3 * time.Second, Usage: "with --t0 auto: least time from start to the first visit"},
		&cli.StringFlag{Name: "pacing", EnvVars: []string{"PACING"}, Value: "visit", Usage: "visit (whole visit at once), ccd-bursts (DMTN-149) or rate (constant alerts/s)"},
		&cli.IntFlag{Name: "bursts", EnvVars: []string{"BURSTS"}, Value: 189, Usage: "ccd-bursts: bursts (CCDs) per visit"},
		&cli.IntFlag{Name: "burst-min", EnvVars: []string{"BURST_MIN"}, Value: 10, Usage: "ccd-bursts: fewest alerts in a burst"},
		&cli.IntFlag{Name: "burst-max", EnvVars: []string{"BURST_MAX"}, Value: 200, Usage: "ccd-bursts: most alerts in a burst"},
		&cli.IntFlag{Name: "burst-mean", EnvVars: []string{"BURST_MEAN"}, Value: 50, Usage: "ccd-bursts: typical alerts in a burst"},
		&cli.DurationFlag{Name: "burst-spread", EnvVars: []string{"BURST_SPREAD"}, Value: 3 * time.Second, Usage: "ccd-bursts: bursts start within this time of the visit start"},
		&cli.Float64Flag{Name: "rate", EnvVars: []string{"RATE"}, Value: 500, Usage: "rate: alerts per second over all producers"},
		&cli.Int64Flag{Name: "seed", EnvVars: []string{"SEED"}, Value: 1, Usage: "seed of the alert values and of the pacing"},
		&cli.BoolFlag{Name: "stamps", EnvVars: []string{"STAMPS"}, Value: true, Usage: "include the three FITS cutouts"},
		&cli.IntFlag{Name: "alert-size", EnvVars: []string{"ALERT_SIZE"}, Usage: "target size of an alert in bytes (0: about 136 KB with stamps, a few KB without)"},
		&cli.StringFlag{Name: "replay", EnvVars: []string{"REPLAY"}, Usage: "send the records of this Avro object container file as they are (its schema, its bytes; any codec) instead of generated alerts, framed with --schema-id"},
		&cli.StringFlag{Name: "replay-topic", EnvVars: []string{"REPLAY_TOPIC"}, Usage: "replay the file loaded into this topic (one partition, record i at offset i; testbed run loads it), written with --schema; needs --replay-records"},
		&cli.IntFlag{Name: "replay-records", EnvVars: []string{"REPLAY_RECORDS"}, Usage: "with --replay-topic: the file's records"},
		&cli.StringFlag{Name: "replay-mode", EnvVars: []string{"REPLAY_MODE"}, Value: Infinite, Usage: "infinite (the file over and over, each pass's alert ids and times shifted) or single-pass (the file once: its records fill the visits, the last with what is left)"},
		&cli.StringFlag{Name: "replay-shift", EnvVars: []string{"REPLAY_SHIFT"}, Usage: `with --replay-topic: what each pass after the first adds, as JSON: {"id_strides": {"candid": 52695}, "days": 2} (testbed run computes it from the file: alert.Shift)`},
		&cli.UintFlag{Name: "schema-id", EnvVars: []string{"SCHEMA_ID"}, Value: 1, Usage: "schema id in the Confluent wire-format header"},
		&cli.StringFlag{Name: "schema", EnvVars: []string{"ALERT_SCHEMA"}, Value: "testbed", Usage: "the Avro schema of the generated alerts: testbed (the project's own), the path of a self-contained .avsc file, or the schema's JSON text (any record schema: fields are filled by name and type)"},
		&cli.Float64Flag{Name: "null-rate", EnvVars: []string{"NULL_RATE"}, Value: alert.DefaultOptions().NullRate, Usage: "with another --schema than testbed: the share of alerts in which a nullable field without a rule of its own is null, 0 to 1"},
		&cli.IntFlag{Name: "buffer-memory", EnvVars: []string{"KAFKA_BUFFER_MEMORY"}, Value: kafkaconf.DefaultBufferMemory,
			Usage: "bytes of alerts handed to the Kafka client and not yet acknowledged before the next waits (Kafka's buffer.memory; 0: no bound, a visit's alerts all at once)"},
		&cli.StringFlag{Name: "metrics-addr", EnvVars: []string{"METRICS_ADDR"}, Value: ":9100", Usage: "address of the Prometheus /metrics endpoint (empty: none)"},
	}
	flags = append(flags, kafkaconf.ClientFlags()...)
	flags = append(flags, kafkaconf.ProducerFlags()...)
	return &cli.App{
		Name:  "alert-producer",
		Usage: "send LSST-style Avro alerts to Kafka on a visit schedule and report each visit",
		Description: "Visit k starts at T0 + k x interval (or as --schedule says). Each of --producers producers sends\n" +
			"its exact share of --alerts-per-visit with the chosen pacing. Every alert is an Avro record in the Confluent\n" +
			"wire format with headers testbed.run, .visit, .producer, .seq, .intended_ns, .produced_ns.\n" +
			"Prints one line per visit (sent, acked, errors, bytes, producing time) and publishes the same\n" +
			"as a JSON result record to --results-topic. Exits non-zero if any alert could not be produced.",
		Flags:  flags,
		Action: run,
	}
}

// sent is attached to each record to account its ack.
type sent struct {
	id    uint64
	visit int
	seq   int
	bytes int
	at    time.Time // handed to the client: the start of its ack latency
}

// sentKey is what the producer keeps of a record until it is settled.
type sentKey struct{ visit, seq, bytes int }

type visitState struct {
	rec     results.ProducerVisit
	done    bool // every alert of the visit handed to the producer
	settled int  // acked + errors
	// ack is the visit's ack latency: from the hand-over to the client to
	// the broker's acknowledgement, as Kafka's ProducerPerformance measures
	// its latency (send to callback); printed on the visit line.
	ack results.Histogram
}

// handed is a record handed to the client, in hand-over order, for the
// delivery timeout.
type handed struct {
	id uint64
	at time.Time
}

// producer keeps the per-visit accounts: Sent counts the records handed
// to the client, and each is settled exactly once, as acked or as an
// error (sarama's error, or no ack within the delivery timeout), so that
// Acked + Errors = Sent when a visit is reported.
type producer struct {
	mu      sync.Mutex
	visits  map[int]*visitState
	pending map[uint64]sentKey // record id -> its visit and seq, until settled
	queue   []handed           // hand-over order; settled ids are skipped
	nextID  uint64
	timeout time.Duration // delivery timeout (0: none)
	expired int           // records counted as errors at the delivery timeout
	late    int           // acks or errors of records already counted at the delivery timeout
	errors  int
	// held is the bytes of the records handed to the client and not yet
	// settled, at most bufferMemory (0: no bound) but for one record:
	// send waits for room, as Kafka's producer blocks on buffer.memory.
	// room is signalled when records settle.
	held         int
	bufferMemory int
	room         chan struct{}
	results      sarama.SyncProducer
	topic        string
	m            *metrics.Metrics
	idx          string
	out          io.Writer // the visit lines
	drained      chan struct{}
}

// maxLoggedErrors is how many failed alerts a visit logs; the rest are
// counted in one line when the visit is reported.
const maxLoggedErrors = 5

// newProducer makes the accounts of producer idx; bufferMemory bounds the
// bytes of records the client holds (--buffer-memory; 0: no bound).
func newProducer(m *metrics.Metrics, idx int, resultsTopic string, deliveryTimeout time.Duration, bufferMemory int) *producer {
	return &producer{visits: map[int]*visitState{}, pending: map[uint64]sentKey{}, timeout: deliveryTimeout,
		bufferMemory: bufferMemory, room: make(chan struct{}, 1),
		topic: resultsTopic, idx: strconv.Itoa(idx), m: m, out: os.Stdout, drained: make(chan struct{})}
}

// waitForRoom blocks until a record of n bytes may be handed to the
// client: the held bytes leave room for it, or none are held (a record
// larger than the bound goes alone). It fails when ctx ends.
func (p *producer) waitForRoom(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		ok := p.bufferMemory <= 0 || p.held == 0 || p.held+n <= p.bufferMemory
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-p.room:
		case <-time.After(100 * time.Millisecond): // a missed signal costs this much
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// releaseLocked gives back the bytes of a settled record (p.mu held).
func (p *producer) releaseLocked(n int) {
	p.held -= n
	select {
	case p.room <- struct{}{}:
	default:
	}
}

// start settles the acks and errors of async, and the records whose ack
// has not come within the delivery timeout, until finish.
func (p *producer) start(async sarama.AsyncProducer) {
	var acks sync.WaitGroup
	acks.Add(2)
	go func() {
		defer acks.Done()
		for msg := range async.Successes() {
			p.settle(msg.Metadata.(sent), nil)
		}
	}()
	go func() {
		defer acks.Done()
		for perr := range async.Errors() {
			p.settle(perr.Msg.Metadata.(sent), perr.Err)
		}
	}()
	go func() {
		acks.Wait()
		close(p.drained)
	}()
	if p.timeout <= 0 {
		return
	}
	go func() {
		t := time.NewTicker(min(p.timeout/10, time.Second))
		defer t.Stop()
		for {
			select {
			case <-p.drained:
				return
			case now := <-t.C:
				p.expire(now)
			}
		}
	}()
}

// finish closes async and waits until every record handed over is
// settled: by the client, or at the delivery timeout (then the client,
// which may still be retrying those, is not waited for).
//
// The client is closed only once nothing is pending (or ctx ends: the
// producer was told to stop): closing it earlier fails the records it is
// still retrying ("in process of shutting down"), such as those waiting
// for a partitioned broker's partitions to get a new leader, although the
// delivery timeout has not passed.
func (p *producer) finish(ctx context.Context, async sarama.AsyncProducer) {
	wait := time.NewTicker(100 * time.Millisecond)
	for pending := true; pending; {
		p.mu.Lock()
		pending = len(p.pending) > 0
		p.mu.Unlock()
		if !pending {
			break
		}
		select {
		case <-ctx.Done():
			pending = false
		case <-wait.C:
		}
	}
	wait.Stop()
	async.AsyncClose()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.drained:
			return
		case <-t.C:
			p.mu.Lock()
			gaveUp := len(p.pending) == 0 && p.expired > 0
			p.mu.Unlock()
			if gaveUp {
				log.Printf("not waiting for the Kafka client: the alerts it still holds were counted as errors at the delivery timeout")
				return
			}
		}
	}
}

// beginVisit opens the account of a visit.
func (p *producer) beginVisit(rec results.ProducerVisit) *visitState {
	st := &visitState{rec: rec}
	p.mu.Lock()
	p.visits[rec.Visit] = st
	p.mu.Unlock()
	return st
}

// send hands one serialized alert of visit st to the client: it counts as
// sent once the client has it.
func (p *producer) send(ctx context.Context, in chan<- *sarama.ProducerMessage, st *visitState, seq int, msg *sarama.ProducerMessage, serialized time.Time) error {
	size := msg.Value.Length()
	if err := p.waitForRoom(ctx, size); err != nil {
		return err
	}
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	visit := st.rec.Visit
	msg.Metadata = sent{id: id, visit: visit, seq: seq, bytes: size, at: time.Now()}
	if st.rec.Sent == 0 {
		st.rec.FirstSerialize = serialized
	}
	st.rec.Sent++
	p.pending[id] = sentKey{visit, seq, size} // before the hand-over: the ack may come at once
	p.held += size
	p.mu.Unlock()
	select {
	case in <- msg:
		p.mu.Lock()
		if _, ok := p.pending[id]; ok {
			p.queue = append(p.queue, handed{id: id, at: time.Now()})
		}
		p.mu.Unlock()
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		st.rec.Sent--
		delete(p.pending, id)
		p.releaseLocked(size)
		p.mu.Unlock()
		return ctx.Err()
	}
}

// settle accounts one ack or failure from the client.
func (p *producer) settle(s sent, err error) {
	p.mu.Lock()
	if _, ok := p.pending[s.id]; !ok {
		// Already counted as an error at the delivery timeout: the counts
		// stay as reported. An ack here means the alert did reach Kafka
		// (consumers will count it; at-least-once).
		p.late++
		if p.late <= maxLoggedErrors {
			what := "acknowledged"
			if err != nil {
				what = "failed: " + err.Error()
			}
			log.Printf("alert of visit %d counted as an error at the delivery timeout %s was later %s", s.visit, p.timeout, what)
		}
		p.mu.Unlock()
		return
	}
	delete(p.pending, s.id)
	p.releaseLocked(s.bytes)
	now := time.Now()
	if st := p.visits[s.visit]; st != nil && err == nil && !s.at.IsZero() {
		st.ack.Record(now.Sub(s.at))
	}
	complete := p.settleLocked(s.visit, s.seq, s.bytes, err, now)
	p.mu.Unlock()
	if complete {
		p.report(s.visit)
	}
}

// settleLocked counts one settled record (visit, seq) and reports whether
// the visit is complete. A failed record's seq goes into the visit's Failed
// bitmap: the fold counts it as not sent, not as lost.
func (p *producer) settleLocked(visit, seq, bytes int, err error, now time.Time) bool {
	st := p.visits[visit]
	if st == nil {
		return false // cannot happen: a visit is reported once all its records are settled
	}
	st.settled++
	if err != nil {
		st.rec.Errors++
		if seq >= 0 {
			if st.rec.Failed == nil {
				st.rec.Failed = &results.Bitmap{}
			}
			st.rec.Failed.Set(seq)
		}
		p.errors++
		if p.m != nil {
			p.m.ProduceErrors.WithLabelValues(st.rec.Run, p.idx).Inc()
		}
		if st.rec.Errors <= maxLoggedErrors {
			log.Printf("ERROR: visit %d: alert not produced: %v", visit, err)
		}
	} else {
		st.rec.Acked++
		st.rec.Bytes += int64(bytes)
		if st.rec.MinBytes == 0 || bytes < st.rec.MinBytes {
			st.rec.MinBytes = bytes
		}
		st.rec.MaxBytes = max(st.rec.MaxBytes, bytes)
		st.rec.LastAck = now
		if p.m != nil {
			p.m.AlertsProduced.WithLabelValues(st.rec.Run, p.idx).Inc()
			p.m.BytesProduced.WithLabelValues(st.rec.Run, p.idx).Add(float64(bytes))
		}
	}
	return st.done && st.settled == st.rec.Sent
}

// expire counts as errors the records handed over more than the delivery
// timeout before now and not yet settled.
func (p *producer) expire(now time.Time) {
	var complete []int
	p.mu.Lock()
	for len(p.queue) > 0 && now.Sub(p.queue[0].at) >= p.timeout {
		h := p.queue[0]
		p.queue = p.queue[1:]
		k, ok := p.pending[h.id]
		if !ok {
			continue // settled by the client
		}
		delete(p.pending, h.id)
		p.releaseLocked(k.bytes)
		p.expired++
		err := fmt.Errorf("no acknowledgement within the delivery timeout of %s (--delivery-timeout)", p.timeout)
		if p.settleLocked(k.visit, k.seq, 0, err, now) {
			complete = append(complete, k.visit)
		}
	}
	p.mu.Unlock()
	for _, v := range complete {
		p.report(v)
	}
}

func run(c *cli.Context) error {
	idx := c.Int("producer")
	if c.IsSet("producer-slot") {
		idx = c.Int("producer-slot") - 1
	}
	model := pacing.Model(c.String("pacing"))
	pc := pacing.Defaults(model)
	pc.AlertsPerVisit = c.Int("alerts-per-visit")
	pc.Producers = c.Int("producers")
	if c.IsSet("interval") {
		pc.Interval = c.Duration("interval")
	}
	pc.Bursts, pc.BurstMin, pc.BurstMax, pc.BurstMean = c.Int("bursts"), c.Int("burst-min"), c.Int("burst-max"), c.Int("burst-mean")
	pc.BurstSpread = c.Duration("burst-spread")
	pc.Rate = c.Float64("rate")
	pc.Seed = c.Int64("seed")
	if s := c.String("schedule"); s != "" {
		if c.IsSet("alerts-per-visit") {
			return fmt.Errorf("--schedule and --alerts-per-visit: give one (the schedule gives each visit its alerts)")
		}
		slots, err := pacing.ParseSlots(s)
		if err != nil {
			return fmt.Errorf("invalid --schedule: %w", err)
		}
		if c.IsSet("visits") && c.Int("visits") != len(slots) {
			return fmt.Errorf("invalid --visits %d: --schedule has %d visits; leave --visits out", c.Int("visits"), len(slots))
		}
		pc.Slots = slots
	}
	if err := pc.Validate(); err != nil {
		return pacingFlagError(err)
	}
	sched := pc.Schedule()
	if idx < 0 || idx >= pc.Producers {
		return fmt.Errorf("invalid --producer %d: use 0 to %d (--producers %d)", idx, pc.Producers-1, pc.Producers)
	}
	if c.Int("visits") < 0 {
		return fmt.Errorf("invalid --visits %d: use 1 or more, or 0 for a stream without end", c.Int("visits"))
	}
	if v := c.Int("first-visit"); v < 0 || v > alert.MaxVisit {
		return fmt.Errorf("invalid --first-visit %d: use 0 to %d", v, alert.MaxVisit)
	}
	if r := c.Float64("null-rate"); r < 0 || r > 1 || r != r {
		return fmt.Errorf("invalid --null-rate %g: use a share from 0 to 1", r)
	}
	if c.Int("alert-size") < 0 {
		return fmt.Errorf("invalid --alert-size %d: use 0 (the default size) or more bytes", c.Int("alert-size"))
	}
	if c.Duration("lead") < 0 {
		return fmt.Errorf("invalid --lead %s: use 0 or more", c.Duration("lead"))
	}
	if c.Int("buffer-memory") < 0 {
		return fmt.Errorf("invalid --buffer-memory %d: use 0 (no bound) or more bytes (Kafka's default is %d)", c.Int("buffer-memory"), kafkaconf.DefaultBufferMemory)
	}
	// The generator derives alert ids from (visit, producer, seq) and has
	// limits: check the largest id of the run now, not at visit 900.
	// Without end, the stream stops at the id scheme's last visit (MaxVisit:
	// 1,233 years of 39 s visits).
	visits := c.Int("visits")
	largest := pc.AlertsPerVisit
	if len(pc.Slots) > 0 {
		visits, largest = len(pc.Slots), 0
		for _, s := range pc.Slots {
			largest = max(largest, s.Alerts)
		}
	}
	if visits == 0 {
		visits = alert.MaxVisit - c.Int("first-visit") + 1
	}
	last := alert.ID{Visit: c.Int("first-visit") + visits - 1, Producer: idx, Seq: pacing.Share(largest, pc.Producers, 0) - 1}
	if err := last.Validate(); err != nil {
		return fmt.Errorf("the run does not fit the alert id scheme: %w", err)
	}
	t0, err := parseT0(c.String("t0"), pc.Interval, c.Duration("lead"))
	if err != nil {
		return err
	}

	codec, err := alert.LoadCodec(c.String("schema"), uint32(c.Uint("schema-id")))
	if err != nil {
		return err
	}
	var gen alert.Maker
	var rep *replayer
	if c.String("replay") != "" || c.String("replay-topic") != "" {
		if rep, err = replayFlags(c, codec.Schema()); err != nil {
			return err
		}
		if len(pc.Slots) > 0 {
			if rep.mode != SinglePass || sched.Before(len(pc.Slots)) != rep.records {
				return fmt.Errorf("--schedule with a replay: the schedule's %d alerts must be one pass of the %d records (--replay-mode %s)", sched.Before(len(pc.Slots)), rep.records, SinglePass)
			}
			rep.sched = &sched
		} else if rep.mode == SinglePass {
			n := rep.singlePassVisits(pc.AlertsPerVisit)
			switch {
			case c.Int("visits") == 0 && c.IsSet("visits"):
				return fmt.Errorf("invalid --visits 0 with --replay-mode %s: a single pass ends with the file (%d visits); use --replay-mode %s for a stream without end", SinglePass, n, Infinite)
			case c.IsSet("visits") && c.Int("visits") != n:
				return fmt.Errorf("invalid --visits %d: a single pass of %d records at %d alerts per visit is %d visits; leave --visits out", c.Int("visits"), rep.records, pc.AlertsPerVisit, n)
			}
			visits = n
			last := pc
			last.AlertsPerVisit = rep.visitAlerts(n-1, pc.AlertsPerVisit)
			if err := last.Validate(); err != nil {
				return fmt.Errorf("the last visit of the single pass (%d alerts) cannot be paced: %w", last.AlertsPerVisit, err)
			}
		}
	} else {
		opts := alert.DefaultOptions()
		if c.Int("alert-size") > 0 {
			opts = alert.SizeOptions(c.Int("alert-size"), c.Bool("stamps"))
		}
		opts.Stamps = c.Bool("stamps")
		opts.NullRate = c.Float64("null-rate")
		// Producers must not send identical values: the seed is per producer.
		opts.Seed = c.Int64("seed")*1000003 + int64(idx)
		if gen, err = alert.NewMaker(codec.Schema(), opts); err != nil {
			return err
		}
	}

	cfg := kafkaconf.Base(c, "producer")
	cfg.Consumer.Return.Errors = true // the replay source's
	if err := kafkaconf.ApplyProducer(c, cfg); err != nil {
		return err
	}
	brokers := kafkaconf.Brokers(c)
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		return fmt.Errorf("connect to Kafka at %v: %w", brokers, err)
	}
	defer client.Close()
	for _, t := range []string{c.String("topic"), c.String("results-topic"), c.String("replay-topic")} {
		if t == "" {
			continue
		}
		if _, err := client.Partitions(t); err != nil {
			return fmt.Errorf("topic %s: %w (the brokers create no topic on demand: create it first; testbed run does)", t, err)
		}
	}
	async, err := sarama.NewAsyncProducerFromClient(client)
	if err != nil {
		return err
	}
	if t := c.String("replay-topic"); t != "" {
		consumer, err := sarama.NewConsumerFromClient(client)
		if err != nil {
			return err
		}
		defer consumer.Close()
		rep.src = topicSource{consumer: consumer, topic: t, timeout: replayFetchTimeout}
	}
	p := newProducer(metrics.New(), idx, c.String("results-topic"), kafkaconf.DeliveryTimeout(c), c.Int("buffer-memory"))
	if p.topic != "" {
		if p.results, err = sarama.NewSyncProducerFromClient(client); err != nil {
			return err
		}
		defer p.results.Close()
	}
	if err := p.m.Serve(c.Context, c.String("metrics-addr")); err != nil {
		return fmt.Errorf("metrics endpoint %s: %w", c.String("metrics-addr"), err)
	}
	p.start(async)

	run := c.String("run-id")
	// A task that replaces an earlier one of this slot (a restart, a
	// crash, a drained node) resumes: the visits that have a record were
	// begun, and reported, by an earlier task.
	recorded := map[int]bool{}
	if p.topic != "" {
		if recorded, err = recordedVisits(client, p.topic, run, idx); err != nil {
			return err
		}
	}
	topic := c.String("topic")
	howMany := strconv.Itoa(visits)
	if c.Int("visits") == 0 {
		howMany = "endless"
	}
	if len(pc.Slots) > 0 {
		log.Printf("producer %d of %d: run %s, %d visits of %d alerts in all from %s, the last at +%s (--schedule), pacing %s, topic %s",
			idx, pc.Producers, run, visits, sched.Before(visits), t0.UTC().Format(time.RFC3339Nano), sched.Start(visits-1), model, topic)
	} else {
		log.Printf("producer %d of %d: run %s, %s visits of %d alerts from %s every %s, pacing %s, topic %s",
			idx, pc.Producers, run, howMany, pc.AlertsPerVisit, t0.UTC().Format(time.RFC3339Nano), pc.Interval, model, topic)
	}

	lastLen := 0 // the last alert's size, to allocate the next one once
	sendErr := func() error {
		for k := 0; k < visits; k++ {
			visit := c.Int("first-visit") + k
			if recorded[visit] {
				log.Printf("visit %d: skipped, an earlier task of producer %d reported it", visit, idx)
				continue
			}
			start := t0.Add(sched.Start(k))
			vc := pc.Visit(k)
			var bodies [][]byte
			if rep != nil {
				vc.AlertsPerVisit = rep.visitAlerts(k, pc.AlertsPerVisit)
			}
			plan, err := pacing.Plan(vc, visit, idx)
			if err != nil {
				return err
			}
			expected := pacing.Total(plan)
			if rep != nil {
				// Read before the visit is due, as DMTN-149's simulator
				// has its alerts in memory when it plays them.
				first, err := firstIndex(vc, rep.before(k, pc.AlertsPerVisit), visit, idx)
				if err == nil {
					bodies, err = rep.bodies(first, expected)
				}
				if err != nil {
					return fmt.Errorf("visit %d: replay: %w", visit, err)
				}
			}
			st := p.beginVisit(results.ProducerVisit{Run: run, Visit: visit, Producer: idx, Expected: expected, IntendedStart: start})
			p.m.Visit.WithLabelValues(run, "producer").Set(float64(visit))
			for _, b := range plan {
				intended := start.Add(b.Offset)
				if err := sleepUntil(c.Context, intended); err != nil {
					p.markDone(visit)
					return err
				}
				for i := 0; i < b.Count; i++ {
					seq := b.FirstSeq + i
					now := time.Now()
					var val []byte
					if rep != nil {
						val = alert.Frame(make([]byte, 0, alert.HeaderSize+len(bodies[seq])), codec.SchemaID(), bodies[seq])
						bodies[seq] = nil // sent: the client holds the framed copy
					} else if ap, ok := gen.(alert.Appender); ok {
						val = ap.AppendAlert(alert.Frame(make([]byte, 0, lastLen), codec.SchemaID(), nil), alert.ID{Visit: visit, Producer: idx, Seq: seq, CCD: b.CCD})
						lastLen = len(val) + len(val)/16 // room for the next, a little larger
					} else if val, err = codec.Append(nil, gen.Alert(alert.ID{Visit: visit, Producer: idx, Seq: seq, CCD: b.CCD})); err != nil {
						p.markDone(visit)
						return fmt.Errorf("serialize alert %d of visit %d: %w", seq, visit, err)
					}
					meta := headers.Meta{Run: run, Visit: visit, Producer: idx, Seq: seq, Intended: intended, Produced: time.Now()}
					msg := &sarama.ProducerMessage{Topic: topic, Value: sarama.ByteEncoder(val), Headers: meta.Headers()}
					if err := p.send(c.Context, async.Input(), st, seq, msg, now); err != nil {
						p.markDone(visit)
						return err
					}
				}
			}
			p.markDone(visit)
		}
		return nil
	}()

	// Drain: every record handed over is acked or failed (or counted as an
	// error at the delivery timeout) before the visits are reported.
	p.finish(c.Context, async)
	p.reportOpen()
	if sendErr != nil && !errors.Is(sendErr, context.Canceled) {
		return sendErr
	}
	p.mu.Lock()
	failed, late := p.errors, p.late
	p.mu.Unlock()
	if late > 0 {
		log.Printf("%d alerts counted as errors at the delivery timeout were settled by the client later (an ack means the alert reached Kafka after all)", late)
	}
	if failed > 0 {
		return fmt.Errorf("%d alerts could not be produced (see the ERROR lines above)", failed)
	}
	if sendErr != nil && !signals.HandingOver() {
		return fmt.Errorf("interrupted: the visits reported above are partial")
	}
	return nil
}

// markDone says every alert of the visit has been handed to the producer.
func (p *producer) markDone(visit int) {
	p.mu.Lock()
	st := p.visits[visit]
	st.done = true
	complete := st.settled == st.rec.Sent
	p.mu.Unlock()
	if complete {
		p.report(visit)
	}
}

// report prints and publishes a finished visit once.
func (p *producer) report(visit int) {
	p.mu.Lock()
	st, ok := p.visits[visit]
	if !ok {
		p.mu.Unlock()
		return
	}
	delete(p.visits, visit)
	rec := st.rec
	p.mu.Unlock()
	if signals.HandingOver() && rec.Acked < rec.Expected {
		// A visit cut short by SIGTERM or SIGHUP (a drained node, a
		// restart) gets no record: the next task of this slot finds no
		// record of it and sends it again from its first alert (what this
		// task got acknowledged shows as producer duplicates), so that
		// each (visit, producer) has one record. (It can still have two: a
		// stopped task that finishes a visit within its stop grace reports
		// it, and its replacement may have begun the same visit already;
		// the fold keeps one as the producer's account, outcome.VisitGroup.)
		// Cut short means not every
		// alert acknowledged: those the client still retried when it
		// closed (a broker partitioned, say) fail with the close.
		// agents/lifecycle.
		log.Printf("visit %d cut short after %d of %d alerts acknowledged by a stop that hands over: not reported; the next task of producer %d sends it again", rec.Visit, rec.Acked, rec.Expected, rec.Producer)
		return
	}
	producing := rec.LastAck.Sub(rec.IntendedStart)
	if rec.Acked == 0 {
		producing = 0
	}
	if rec.Errors > maxLoggedErrors {
		log.Printf("ERROR: visit %d: %d alerts not produced in all (the first %d errors are logged above)", rec.Visit, rec.Errors, maxLoggedErrors)
	}
	fmt.Fprintf(p.out, "visit:%d, producer:%d, expected:%d, sent:%d, acked:%d, errors:%d, bytes:%d, producing:%.3fs, ack_p50:%.1fms, ack_p99:%.1fms\n",
		rec.Visit, rec.Producer, rec.Expected, rec.Sent, rec.Acked, rec.Errors, rec.Bytes, producing.Seconds(),
		ms(st.ack.ValueAtQuantile(50)), ms(st.ack.ValueAtQuantile(99)))
	if p.m != nil {
		p.m.VisitDuration.WithLabelValues(rec.Run, "producer").Observe(producing.Seconds())
	}
	if p.results == nil {
		return
	}
	b, err := results.Record{Kind: "producer", Producer: &rec}.Encode()
	if err == nil {
		_, _, err = p.results.SendMessage(&sarama.ProducerMessage{Topic: p.topic, Key: sarama.StringEncoder(rec.Run), Value: sarama.ByteEncoder(b)})
	}
	if err != nil {
		log.Printf("ERROR: could not publish the result record of visit %d: %v", visit, err)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// reportOpen reports visits cut short (interrupt).
func (p *producer) reportOpen() {
	p.mu.Lock()
	var open []int
	for v := range p.visits {
		open = append(open, v)
	}
	p.mu.Unlock()
	for _, v := range open {
		p.report(v)
	}
}

// pacingFlags maps the fields pacing.Config.Validate names (those of the
// experiment file) to the producer's flags.
var pacingFlags = map[string]string{
	"model": "pacing", "alerts_per_visit": "alerts-per-visit", "interval": "interval", "producers": "producers",
	"bursts": "bursts", "burst_min": "burst-min", "burst_max": "burst-max", "burst_mean": "burst-mean",
	"burst_spread": "burst-spread", "rate": "rate",
}

// pacingFlagError names the flag in an error of pacing.Config.Validate.
func pacingFlagError(err error) error {
	field, msg, ok := strings.Cut(err.Error(), ": ")
	if flag, known := pacingFlags[field]; ok && known {
		return fmt.Errorf("invalid --%s: %s", flag, msg)
	}
	return err
}

func parseT0(s string, interval, lead time.Duration) (time.Time, error) {
	switch {
	case s == "auto" || s == "":
		return pacing.AlignedT0(time.Now(), interval, lead), nil
	case strings.ContainsAny(s, "T:-"):
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("invalid --t0 %q: use RFC 3339 (2026-11-22T10:00:00Z), Unix seconds or auto", s)
		}
		return t, nil
	default:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("invalid --t0 %q: use RFC 3339 (2026-11-22T10:00:00Z), Unix seconds or auto", s)
		}
		return time.Unix(0, int64(f*1e9)), nil
	}
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// recordedVisits reads the results topic from its start to its end and
// returns the visits of which producer idx of the run published a record.
func recordedVisits(client sarama.Client, topic, run string, idx int) (map[int]bool, error) {
	out := map[int]bool{}
	parts, err := client.Partitions(topic)
	if err != nil {
		return nil, fmt.Errorf("read %s for this producer's earlier records: %w", topic, err)
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	for _, part := range parts {
		oldest, err := client.GetOffset(topic, part, sarama.OffsetOldest)
		if err != nil {
			return nil, fmt.Errorf("read %s for this producer's earlier records: %w", topic, err)
		}
		end, err := client.GetOffset(topic, part, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("read %s for this producer's earlier records: %w", topic, err)
		}
		if end <= oldest {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, part, oldest)
		if err != nil {
			return nil, fmt.Errorf("read %s for this producer's earlier records: %w", topic, err)
		}
		timeout := time.After(time.Minute)
		for next := oldest; next < end; {
			select {
			case msg := <-pc.Messages():
				next = msg.Offset + 1
				rec, err := results.DecodeRecord(msg.Value)
				if err != nil || rec.Producer == nil {
					continue // not a producer record, or not one of this run's
				}
				if rec.Producer.Run == run && rec.Producer.Producer == idx {
					out[rec.Producer.Visit] = true
				}
			case cerr := <-pc.Errors():
				pc.Close()
				return nil, fmt.Errorf("read %s for this producer's earlier records: %w", topic, cerr)
			case <-timeout:
				pc.Close()
				return nil, fmt.Errorf("read %s for this producer's earlier records: offset %d of %d after 1m", topic, next, end)
			}
		}
		pc.Close()
	}
	return out, nil
}
