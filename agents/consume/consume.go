// Package consume is the consuming half shared by the alert consumer and
// the filter: a consumer-group member that reads alerts, keeps exact
// per-visit accounting (a bitmap of sequence numbers per producer, an
// HdrHistogram of end-to-end latency), prints DMTN-081's end-of-partition
// lines, and publishes one result record per visit to the results topic.
package consume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"

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

	mu        sync.Mutex
	visits    map[int]*results.ConsumerVisit
	foreign   int64 // alerts of other runs or without testbed headers
	published int
	results   sarama.SyncProducer
}

// Retries of a failing Consume: about a minute in all.
const (
	consumeRetries = 30
	consumeBackoff = 2 * time.Second
)

// Run joins the group and consumes until ctx ends, then publishes the
// records of the visits still open.
func (m *Member) Run(ctx context.Context, brokers []string, cfg *sarama.Config) error {
	m.visits = map[int]*results.ConsumerVisit{}
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
		m.results, err = sarama.NewSyncProducer(brokers, &pcfg)
		if err != nil {
			return fmt.Errorf("results producer: %w", err)
		}
		defer m.results.Close()
	}
	go func() {
		for err := range group.Errors() {
			log.Printf("consumer group %s: %v", m.Group, err)
		}
	}()

	flushDone := make(chan struct{})
	fctx, stopFlush := context.WithCancel(context.Background())
	go func() {
		defer close(flushDone)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-fctx.Done():
				return
			case now := <-t.C:
				m.flush(func(cv *results.ConsumerVisit) bool { return now.Sub(cv.LastReceive) >= m.VisitIdle })
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
	m.flush(func(*results.ConsumerVisit) bool { return true })
	return runErr
}

// Foreign is how many alerts were skipped because they belong to another
// run or carry no testbed headers.
func (m *Member) Foreign() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.foreign
}

// Setup is part of sarama.ConsumerGroupHandler.
func (m *Member) Setup(sarama.ConsumerGroupSession) error { return nil }

// Cleanup is part of sarama.ConsumerGroupHandler.
func (m *Member) Cleanup(sarama.ConsumerGroupSession) error { return nil }

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
			if err := m.consume(sess.Context(), msg); err != nil {
				return err
			}
			sess.MarkMessage(msg, "")
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
	m.mu.Unlock()
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

// flush publishes and forgets the visits for which done says so.
func (m *Member) flush(done func(*results.ConsumerVisit) bool) {
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
		if m.results == nil {
			continue
		}
		rec := results.Record{Kind: "consumer", Consumer: cv}
		b, err := rec.Encode()
		if err == nil {
			_, _, err = m.results.SendMessage(&sarama.ProducerMessage{Topic: m.ResultsTopic, Key: sarama.StringEncoder(cv.Run), Value: sarama.ByteEncoder(b)})
		}
		if err != nil {
			// The record is the only account of these alerts: say so loudly.
			log.Printf("ERROR: could not publish the result record of visit %d (group %s, member %s, %d alerts): %v", cv.Visit, m.Group, m.Name, cv.Received, err)
			continue
		}
		m.mu.Lock()
		m.published++
		m.mu.Unlock()
	}
}
