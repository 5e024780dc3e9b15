// Package consume is the consuming half shared by the alert consumer and
// the filter: a consumer-group member that reads alerts, keeps exact
// per-visit accounting (a bitmap of sequence numbers per producer, the log
// offsets read, an HdrHistogram of end-to-end latency), prints DMTN-081's
// end-of-partition lines, and publishes its accounts to the results topic.
//
// Accounting survives a member's death: the member commits to Kafka only
// offsets whose alerts are in a result record already published. Every
// PublishEvery (1 s) while alerts arrive, and whenever the group
// rebalances, it publishes what it accounted since the last time (a
// partial record per visit: the fold adds a member's records up), then
// commits the offsets those records cover. A member killed between two
// publishes loses its unpublished accounts, but not their offsets: the
// next owner of its partitions reads them again, and the fold counts those
// as re-deliveries (the same offsets twice), not losses.
package consume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"golang.org/x/time/rate"

	"github.com/alert-testbed/testbed/agents/headers"
	"github.com/alert-testbed/testbed/agents/metrics"
	"github.com/alert-testbed/testbed/agents/results"
)

// Handler processes one alert after its accounting; a filter runs its
// filters here. It must not keep msg.
type Handler func(ctx context.Context, msg *sarama.ConsumerMessage, meta headers.Meta) error

// Member is one consumer-group member.
type Member struct {
	RunID        string // only alerts of this run are accounted ("" = any)
	Group        string
	Name         string // member name in result records
	Topics       []string
	ResultsTopic string        // "" = publish no records
	VisitIdle    time.Duration // a visit's record is published this long after its last alert
	PrintEnd     bool          // print the status:end line at each partition end
	Out          io.Writer     // status lines
	Metrics      *metrics.Metrics
	Handle       Handler
	// Limit, when set, bounds the alerts per second this member takes in
	// over all its partitions: a consumer slowed on purpose (--max-rate),
	// to see what falling behind looks like.
	Limit *rate.Limiter
	// StopAfter, when above 0, ends Run once this many alerts of the run
	// were received (deliveries, duplicates included).
	StopAfter int64
	received  atomic.Int64
	stop      context.CancelFunc

	mu sync.Mutex
	// visits are the visits' accounts since the member started, for the
	// per-visit log line (printed after VisitIdle without an alert).
	visits map[int]*results.ConsumerVisit
	// deltas are the accounts not published yet; marks the offsets to
	// commit once they are (per partition: the next offset to read).
	deltas  map[int]*results.ConsumerVisit
	marks   map[topicPartition]int64
	sess    sarama.ConsumerGroupSession // the current session, nil between sessions
	foreign int64                       // alerts of other runs or without testbed headers

	// publishMu makes one publish-then-commit at a time.
	publishMu sync.Mutex
	unsent    []*results.ConsumerVisit // records whose publishing failed, retried
	published int
	results   sarama.SyncProducer
}

type topicPartition struct {
	topic     string
	partition int32
}

// PublishEvery is how often a member publishes its accounts (and then
// commits their offsets) while alerts arrive.
const PublishEvery = time.Second

// Retries of a failing Consume: about a minute in all.
const (
	consumeRetries = 30
	consumeBackoff = 2 * time.Second
)

// Run joins the group and consumes until ctx ends, then publishes the
// records of the visits still open.
func (m *Member) Run(ctx context.Context, brokers []string, cfg *sarama.Config) error {
	ctx, m.stop = context.WithCancel(ctx)
	defer m.stop()
	m.visits = map[int]*results.ConsumerVisit{}
	m.deltas = map[int]*results.ConsumerVisit{}
	m.marks = map[topicPartition]int64{}
	// Offsets are committed by publish, once the accounts that cover them
	// are in the results topic: never by sarama on its own.
	ccfg := *cfg
	ccfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg = &ccfg
	// The brokers may not resolve yet on a node that has just joined the
	// overlay network: retry like a failed Consume below.
	var group sarama.ConsumerGroup
	var err error
	for attempt := 1; ; attempt++ {
		group, err = sarama.NewConsumerGroup(brokers, m.Group, cfg)
		if err == nil {
			break
		}
		if attempt >= consumeRetries || ctx.Err() != nil {
			return fmt.Errorf("join consumer group %s at %v (%d attempts): %w", m.Group, brokers, attempt, err)
		}
		log.Printf("join consumer group %s at %v (attempt %d of %d, retrying in %s): %v", m.Group, brokers, attempt, consumeRetries, consumeBackoff, err)
		select {
		case <-ctx.Done():
		case <-time.After(consumeBackoff):
		}
	}
	defer group.Close()
	if m.ResultsTopic != "" {
		pcfg := *cfg
		pcfg.Producer.RequiredAcks = sarama.WaitForAll
		pcfg.Producer.Return.Successes = true
		pcfg.Producer.Return.Errors = true
		// Ride out a broker's failover (a leader election takes seconds):
		// a record that still fails is kept and sent again (publish).
		pcfg.Producer.Retry.Max = 20
		pcfg.Producer.Retry.Backoff = 500 * time.Millisecond
		m.results, err = sarama.NewSyncProducer(brokers, &pcfg)
		if err != nil {
			return fmt.Errorf("results producer: %w", err)
		}
		defer m.results.Close()
	}
	go func() {
		var repeats errorRepeats
		for err := range group.Errors() {
			if line, ok := repeats.line(err.Error(), time.Now()); ok {
				log.Printf("consumer group %s: %s", m.Group, line)
			}
		}
	}()

	flushDone := make(chan struct{})
	fctx, stopFlush := context.WithCancel(context.Background())
	go func() {
		defer close(flushDone)
		t := time.NewTicker(PublishEvery)
		defer t.Stop()
		for {
			select {
			case <-fctx.Done():
				return
			case now := <-t.C:
				m.publish()
				m.printVisits(func(cv *results.ConsumerVisit) bool { return now.Sub(cv.LastReceive) >= m.VisitIdle })
			}
		}
	}()

	// A failed Consume (a topic just created and not yet in every broker's
	// metadata, a coordinator moving) is retried: a member that gave up at
	// once would leave its group empty for the whole run. Only a failure
	// that lasts consumeRetries attempts in a row ends the member.
	var runErr error
	failures := 0
	for ctx.Err() == nil {
		err := group.Consume(ctx, m.Topics, m)
		if err == nil {
			failures = 0
			continue
		}
		if errors.Is(err, sarama.ErrClosedConsumerGroup) || ctx.Err() != nil {
			break
		}
		failures++
		if failures >= consumeRetries {
			runErr = fmt.Errorf("consume %v in group %s: %d attempts failed, the last: %w", m.Topics, m.Group, failures, err)
			break
		}
		log.Printf("consume %v in group %s (attempt %d of %d, retrying in %s): %v", m.Topics, m.Group, failures, consumeRetries, consumeBackoff, err)
		select {
		case <-ctx.Done():
		case <-time.After(consumeBackoff):
		}
	}
	stopFlush()
	<-flushDone
	m.publish()
	m.printVisits(func(*results.ConsumerVisit) bool { return true })
	if n := len(m.unsent); n > 0 && runErr == nil {
		runErr = fmt.Errorf("%d result records could not be published (their alerts' offsets were not committed)", n)
	}
	return runErr
}

// Foreign is how many alerts were skipped because they belong to another
// run or carry no testbed headers.
func (m *Member) Foreign() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.foreign
}

// Setup is part of sarama.ConsumerGroupHandler: a new session (the group
// formed or rebalanced) starts with nothing to commit.
func (m *Member) Setup(sess sarama.ConsumerGroupSession) error {
	// When the member got its partitions: testbed bench times a drop
	// pass from here to the last record, as ConsumerPerformance's fetch
	// time runs from its assignment.
	log.Printf("member %s of group %s assigned %v at %s", m.Name, m.Group, sess.Claims(), time.Now().UTC().Format(time.RFC3339Nano))
	m.mu.Lock()
	m.sess = sess
	m.marks = map[topicPartition]int64{}
	m.mu.Unlock()
	return nil
}

// Cleanup is part of sarama.ConsumerGroupHandler: before the session ends
// (a rebalance, or the member stopping), publish what was accounted and
// commit its offsets, so that the partitions' next owners start exactly
// after what this member accounted for.
func (m *Member) Cleanup(sarama.ConsumerGroupSession) error {
	m.publish()
	m.mu.Lock()
	m.sess = nil
	m.marks = map[topicPartition]int64{}
	m.mu.Unlock()
	return nil
}

// ConsumeClaim reads one partition.
func (m *Member) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	sinceEnd := 0
	for {
		select {
		case <-sess.Context().Done():
			return nil
		case msg, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			if m.Limit != nil {
				if err := m.Limit.Wait(sess.Context()); err != nil {
					return nil // the session ended while waiting
				}
			}
			if err := m.consume(sess.Context(), msg); err != nil {
				return err
			}
			// Committed by the next publish, after the record that
			// accounts for it (consume put it in m.deltas).
			m.mu.Lock()
			m.marks[topicPartition{msg.Topic, msg.Partition}] = msg.Offset + 1
			m.mu.Unlock()
			sinceEnd++
			if m.Metrics != nil {
				m.Metrics.Lag.WithLabelValues(m.Group, msg.Topic, strconv.Itoa(int(msg.Partition))).Set(float64(claim.HighWaterMarkOffset() - msg.Offset - 1))
			}
			if m.PrintEnd && msg.Offset+1 >= claim.HighWaterMarkOffset() && sinceEnd > 0 {
				// DMTN-081's timing line, printed when the member has read
				// to the end of a partition.
				fmt.Fprintf(m.Out, "topic:%s, partition:%d, status:end, offset:%d, key:%s, time:%s\n",
					msg.Topic, msg.Partition, msg.Offset, msg.Key, strconv.FormatFloat(float64(time.Now().UnixNano())/1e9, 'f', 6, 64))
				sinceEnd = 0
			}
		}
	}
}

func (m *Member) consume(ctx context.Context, msg *sarama.ConsumerMessage) error {
	now := time.Now()
	meta, err := headers.Parse(msg.Headers)
	if err != nil || (m.RunID != "" && meta.Run != m.RunID) {
		m.mu.Lock()
		m.foreign++
		m.mu.Unlock()
		return nil
	}
	m.mu.Lock()
	cv, ok := m.visits[meta.Visit]
	if !ok {
		cv = results.NewConsumerVisit(meta.Run, meta.Visit, m.Group, m.Name, msg.Topic)
		m.visits[meta.Visit] = cv
	}
	dup := cv.Observe(meta.Producer, meta.Seq, meta.Intended, now)
	d, ok := m.deltas[meta.Visit]
	if !ok {
		d = results.NewConsumerVisit(meta.Run, meta.Visit, m.Group, m.Name, msg.Topic)
		m.deltas[meta.Visit] = d
	}
	d.ObserveAt(meta.Producer, meta.Seq, meta.Intended, now, msg.Partition, msg.Offset)
	m.mu.Unlock()
	if n := m.received.Add(1); m.StopAfter > 0 && n >= m.StopAfter && m.stop != nil {
		m.stop()
	}
	if mt := m.Metrics; mt != nil {
		mt.AlertsConsumed.WithLabelValues(meta.Run, m.Group, msg.Topic).Inc()
		mt.BytesConsumed.WithLabelValues(meta.Run, m.Group, msg.Topic).Add(float64(len(msg.Value)))
		mt.Latency.WithLabelValues(meta.Run, m.Group).Observe(now.Sub(meta.Intended).Seconds())
		mt.Visit.WithLabelValues(meta.Run, "consumer").Set(float64(meta.Visit))
		if dup {
			mt.Duplicates.WithLabelValues(meta.Run, m.Group).Inc()
		}
	}
	if m.Handle != nil {
		return m.Handle(ctx, msg, meta)
	}
	return nil
}

// printVisits prints the line of, and forgets, each visit for which done
// says so (its accounts since the member started).
func (m *Member) printVisits(done func(*results.ConsumerVisit) bool) {
	m.mu.Lock()
	var ready []*results.ConsumerVisit
	for v, cv := range m.visits {
		if done(cv) {
			ready = append(ready, cv)
			delete(m.visits, v)
		}
	}
	m.mu.Unlock()
	for _, cv := range ready {
		fmt.Fprintf(m.Out, "visit:%d, group:%s, member:%s, received:%d, duplicates:%d, first:%s, last:%s, p50:%s, p99:%s, max:%s\n",
			cv.Visit, m.Group, m.Name, cv.Received, cv.Duplicates,
			cv.FirstReceive.UTC().Format(time.RFC3339Nano), cv.LastReceive.UTC().Format(time.RFC3339Nano),
			cv.Latency.ValueAtQuantile(50), cv.Latency.ValueAtQuantile(99), cv.Latency.Max())
		if m.Metrics != nil {
			m.Metrics.VisitDuration.WithLabelValues(cv.Run, "consumer").Observe(cv.LastReceive.Sub(cv.FirstReceive).Seconds())
		}
	}
}

// publish sends the accounts made since the last publish to the results
// topic, one record per visit, and then, only if every record went out,
// commits the offsets they cover. A record that cannot be sent is kept and
// sent again next time; until it is, no offset is committed.
func (m *Member) publish() {
	m.publishMu.Lock()
	defer m.publishMu.Unlock()
	m.mu.Lock()
	records := m.unsent
	m.unsent = nil
	for v, d := range m.deltas {
		records = append(records, d)
		delete(m.deltas, v)
	}
	marks := make(map[topicPartition]int64, len(m.marks))
	for tp, off := range m.marks {
		marks[tp] = off
	}
	sess := m.sess
	m.mu.Unlock()

	var failed []*results.ConsumerVisit
	for _, cv := range records {
		if m.results == nil {
			continue
		}
		rec := results.Record{Kind: "consumer", Consumer: cv}
		b, err := rec.Encode()
		if err == nil {
			_, _, err = m.results.SendMessage(&sarama.ProducerMessage{Topic: m.ResultsTopic, Key: sarama.StringEncoder(cv.Run), Value: sarama.ByteEncoder(b)})
		}
		if err != nil {
			// The record is the only account of these alerts: say so
			// loudly, keep it, and commit nothing until it is out.
			log.Printf("ERROR: could not publish a result record of visit %d (group %s, member %s, %d alerts); retrying: %v", cv.Visit, m.Group, m.Name, cv.Received, err)
			failed = append(failed, cv)
			continue
		}
		m.mu.Lock()
		m.published++
		m.mu.Unlock()
	}
	if len(failed) > 0 {
		m.mu.Lock()
		m.unsent = append(m.unsent, failed...)
		m.mu.Unlock()
		return
	}
	if sess == nil || len(marks) == 0 {
		return
	}
	for tp, off := range marks {
		sess.MarkOffset(tp.topic, tp.partition, off, "")
	}
	sess.Commit()
}

// errorRepeatEvery is how often the same consumer error is logged again:
// a topic that does not exist yet (or any more) is reported for each
// partition every few seconds by sarama.
const errorRepeatEvery = time.Minute

// errorRepeats logs each distinct error at once, and again at most every
// errorRepeatEvery with how many times it came meanwhile.
type errorRepeats struct {
	last   map[string]time.Time
	hidden map[string]int
}

// line returns what to log for msg at now, and whether to log it.
func (r *errorRepeats) line(msg string, now time.Time) (string, bool) {
	if r.last == nil {
		r.last, r.hidden = map[string]time.Time{}, map[string]int{}
	}
	if t, ok := r.last[msg]; ok && now.Sub(t) < errorRepeatEvery {
		r.hidden[msg]++
		return "", false
	}
	line := msg
	if n := r.hidden[msg]; n > 0 {
		line = fmt.Sprintf("%s (%d more times since %s)", msg, n, r.last[msg].Format("15:04:05"))
	}
	r.last[msg], r.hidden[msg] = now, 0
	return line, true
}
