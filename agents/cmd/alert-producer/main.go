// Command alert-producer sends LSST-style alerts to Kafka on a visit
// schedule: visit k starts at T0 + k x interval for every producer, each
// producer sends its exact share of the visit with the chosen pacing, and
// publishes one result record per visit to the results topic.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/IBM/sarama"
	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/headers"
	"github.com/alert-testbed/testbed/agents/kafkaconf"
	"github.com/alert-testbed/testbed/agents/metrics"
	"github.com/alert-testbed/testbed/agents/pacing"
	"github.com/alert-testbed/testbed/agents/results"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	if err := app().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "alert-producer: %v\n", err)
		os.Exit(1)
	}
}

func app() *cli.App {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "topic", EnvVars: []string{"TOPIC"}, Value: "alerts", Usage: "topic the alerts go to"},
		&cli.StringFlag{Name: "results-topic", EnvVars: []string{"RESULTS_TOPIC"}, Value: "testbed-results", Usage: "topic for the per-visit result records (empty: none)"},
		&cli.StringFlag{Name: "run-id", EnvVars: []string{"RUN_ID"}, Required: true, Usage: "run id, carried in every alert's headers"},
		&cli.IntFlag{Name: "producer", EnvVars: []string{"PRODUCER"}, Value: 0, Usage: "index of this producer, 0 .. producers-1 (a swarm task can pass {{.Task.Slot}}-1 via PRODUCER_SLOT)"},
		&cli.IntFlag{Name: "producer-slot", EnvVars: []string{"PRODUCER_SLOT"}, Usage: "1-based swarm task slot; sets --producer to slot-1 when given"},
		&cli.IntFlag{Name: "producers", EnvVars: []string{"PRODUCERS"}, Value: 1, Usage: "number of producers sharing each visit"},
		&cli.IntFlag{Name: "alerts-per-visit", EnvVars: []string{"ALERTS_PER_VISIT"}, Value: 10000, Usage: "alerts per visit, over all producers"},
		&cli.IntFlag{Name: "visits", EnvVars: []string{"VISITS"}, Value: 1, Usage: "number of visits to send"},
		&cli.IntFlag{Name: "first-visit", EnvVars: []string{"FIRST_VISIT"}, Value: 0, Usage: "number of the first visit"},
		&cli.DurationFlag{Name: "interval", EnvVars: []string{"VISIT_INTERVAL"}, Usage: "time between visit starts (default 39s; 37s for ccd-bursts)"},
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
		&cli.StringFlag{Name: "replay", EnvVars: []string{"REPLAY"}, Usage: "send the alerts of this Avro object container file, cycling, instead of generated ones"},
		&cli.UintFlag{Name: "schema-id", EnvVars: []string{"SCHEMA_ID"}, Value: 1, Usage: "schema id in the Confluent wire-format header"},
		&cli.StringFlag{Name: "metrics-addr", EnvVars: []string{"METRICS_ADDR"}, Value: ":9100", Usage: "address of the Prometheus /metrics endpoint (empty: none)"},
	}
	flags = append(flags, kafkaconf.ClientFlags()...)
	flags = append(flags, kafkaconf.ProducerFlags()...)
	return &cli.App{
		Name:  "alert-producer",
		Usage: "send LSST-style Avro alerts to Kafka on a visit schedule and report each visit",
		Description: "Visit k starts at T0 + k x interval. Each of --producers producers sends its exact share\n" +
			"of --alerts-per-visit with the chosen pacing. Every alert is an Avro record in the Confluent\n" +
			"wire format with headers testbed.run, .visit, .producer, .seq, .intended_ns, .produced_ns.\n" +
			"Prints one line per visit (sent, acked, errors, bytes, producing time) and publishes the same\n" +
			"as a JSON result record to --results-topic. Exits non-zero if any alert could not be produced.",
		Flags:  flags,
		Action: run,
	}
}

// sent is attached to each record to account its ack.
type sent struct {
	visit int
	bytes int
}

type visitState struct {
	rec     results.ProducerVisit
	done    bool // every alert of the visit handed to the producer
	settled int  // acked + errors
}

type producer struct {
	mu      sync.Mutex
	visits  map[int]*visitState
	results sarama.SyncProducer
	topic   string
	m       *metrics.Metrics
	idx     string
	errors  int
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
	if err := pc.Validate(); err != nil {
		return err
	}
	if idx < 0 || idx >= pc.Producers {
		return fmt.Errorf("invalid --producer %d: use 0 to %d (--producers %d)", idx, pc.Producers-1, pc.Producers)
	}
	if c.Int("visits") < 1 {
		return fmt.Errorf("invalid --visits %d: use 1 or more", c.Int("visits"))
	}
	// The generator derives alert ids from (visit, producer, seq) and has
	// limits: check the largest id of the run now, not at visit 900.
	last := alert.ID{Visit: c.Int("first-visit") + c.Int("visits") - 1, Producer: idx, Seq: pacing.Share(pc.AlertsPerVisit, pc.Producers, 0) - 1}
	if err := last.Validate(); err != nil {
		return fmt.Errorf("the run does not fit the alert id scheme: %w", err)
	}
	t0, err := parseT0(c.String("t0"), pc.Interval, c.Duration("lead"))
	if err != nil {
		return err
	}

	codec, err := alert.NewCodec(uint32(c.Uint("schema-id")))
	if err != nil {
		return err
	}
	var next func(id alert.ID) (map[string]any, error)
	if path := c.String("replay"); path != "" {
		rp, err := alert.OpenReplay(path)
		if err != nil {
			return err
		}
		next = func(alert.ID) (map[string]any, error) { return rp.Next() }
	} else {
		opts := alert.DefaultOptions()
		if c.Int("alert-size") > 0 {
			opts = alert.SizeOptions(c.Int("alert-size"), c.Bool("stamps"))
		}
		opts.Stamps = c.Bool("stamps")
		// Producers must not send identical values: the seed is per producer.
		opts.Seed = c.Int64("seed")*1000003 + int64(idx)
		gen, err := alert.NewGenerator(opts)
		if err != nil {
			return err
		}
		next = func(id alert.ID) (map[string]any, error) { return gen.Alert(id), nil }
	}

	cfg := kafkaconf.Base(c, "producer")
	if err := kafkaconf.ApplyProducer(c, cfg); err != nil {
		return err
	}
	brokers := kafkaconf.Brokers(c)
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		return fmt.Errorf("connect to Kafka at %v: %w", brokers, err)
	}
	defer client.Close()
	for _, t := range []string{c.String("topic"), c.String("results-topic")} {
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
	p := &producer{visits: map[int]*visitState{}, topic: c.String("results-topic"), idx: strconv.Itoa(idx),
		m: metrics.New()}
	if p.topic != "" {
		if p.results, err = sarama.NewSyncProducerFromClient(client); err != nil {
			return err
		}
		defer p.results.Close()
	}
	if err := p.m.Serve(c.Context, c.String("metrics-addr")); err != nil {
		return fmt.Errorf("metrics endpoint %s: %w", c.String("metrics-addr"), err)
	}

	var acks sync.WaitGroup
	acks.Add(2)
	go func() {
		defer acks.Done()
		for msg := range async.Successes() {
			s := msg.Metadata.(sent)
			p.settle(s, nil)
		}
	}()
	go func() {
		defer acks.Done()
		for perr := range async.Errors() {
			s := perr.Msg.Metadata.(sent)
			p.settle(s, perr.Err)
		}
	}()

	run := c.String("run-id")
	topic := c.String("topic")
	log.Printf("producer %d of %d: run %s, %d visits of %d alerts from %s every %s, pacing %s, topic %s",
		idx, pc.Producers, run, c.Int("visits"), pc.AlertsPerVisit, t0.UTC().Format(time.RFC3339Nano), pc.Interval, model, topic)

	sendErr := func() error {
		for k := 0; k < c.Int("visits"); k++ {
			visit := c.Int("first-visit") + k
			start := pacing.VisitStart(t0, pc.Interval, k)
			plan, err := pacing.Plan(pc, visit, idx)
			if err != nil {
				return err
			}
			expected := 0
			for _, b := range plan {
				expected += b.Count
			}
			p.mu.Lock()
			st := &visitState{rec: results.ProducerVisit{Run: run, Visit: visit, Producer: idx, Expected: expected, IntendedStart: start}}
			p.visits[visit] = st
			p.mu.Unlock()
			p.m.Visit.WithLabelValues(run, "producer").Set(float64(visit))
			for _, b := range plan {
				intended := start.Add(b.Offset)
				if err := sleepUntil(c.Context, intended); err != nil {
					p.markDone(visit)
					return err
				}
				for i := 0; i < b.Count; i++ {
					seq := b.FirstSeq + i
					native, err := next(alert.ID{Visit: visit, Producer: idx, Seq: seq, CCD: b.CCD})
					if err != nil {
						p.markDone(visit)
						return fmt.Errorf("alert %d of visit %d: %w", seq, visit, err)
					}
					now := time.Now()
					val, err := codec.Append(nil, native)
					if err != nil {
						p.markDone(visit)
						return fmt.Errorf("serialize alert %d of visit %d: %w", seq, visit, err)
					}
					p.mu.Lock()
					if st.rec.Sent == 0 {
						st.rec.FirstSerialize = now
					}
					st.rec.Sent++
					p.mu.Unlock()
					meta := headers.Meta{Run: run, Visit: visit, Producer: idx, Seq: seq, Intended: intended, Produced: time.Now()}
					msg := &sarama.ProducerMessage{Topic: topic, Value: sarama.ByteEncoder(val), Headers: meta.Headers(), Metadata: sent{visit: visit, bytes: len(val)}}
					select {
					case async.Input() <- msg:
					case <-c.Context.Done():
						p.mu.Lock()
						st.rec.Sent--
						p.mu.Unlock()
						p.markDone(visit)
						return c.Context.Err()
					}
				}
			}
			p.markDone(visit)
		}
		return nil
	}()

	// Drain: every record handed over is acked or failed before close.
	async.AsyncClose()
	acks.Wait()
	p.reportOpen()
	if sendErr != nil && !errors.Is(sendErr, context.Canceled) {
		return sendErr
	}
	if p.errors > 0 {
		return fmt.Errorf("%d alerts could not be produced (see the ERROR lines above)", p.errors)
	}
	if sendErr != nil {
		return fmt.Errorf("interrupted: the visits reported above are partial")
	}
	return nil
}

// settle accounts one ack or failure.
func (p *producer) settle(s sent, err error) {
	now := time.Now()
	p.mu.Lock()
	st := p.visits[s.visit]
	st.settled++
	if err != nil {
		st.rec.Errors++
		p.errors++
		p.m.ProduceErrors.WithLabelValues(st.rec.Run, p.idx).Inc()
		if st.rec.Errors <= 5 {
			log.Printf("ERROR: visit %d: alert not produced: %v", s.visit, err)
		}
	} else {
		st.rec.Acked++
		st.rec.Bytes += int64(s.bytes)
		st.rec.LastAck = now
		p.m.AlertsProduced.WithLabelValues(st.rec.Run, p.idx).Inc()
		p.m.BytesProduced.WithLabelValues(st.rec.Run, p.idx).Add(float64(s.bytes))
	}
	complete := st.done && st.settled == st.rec.Sent
	p.mu.Unlock()
	if complete {
		p.report(s.visit)
	}
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
	producing := rec.LastAck.Sub(rec.IntendedStart)
	if rec.Acked == 0 {
		producing = 0
	}
	fmt.Printf("visit:%d, producer:%d, expected:%d, sent:%d, acked:%d, errors:%d, bytes:%d, producing:%.3fs\n",
		rec.Visit, rec.Producer, rec.Expected, rec.Sent, rec.Acked, rec.Errors, rec.Bytes, producing.Seconds())
	p.m.VisitDuration.WithLabelValues(rec.Run, "producer").Observe(producing.Seconds())
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
