// Package metrics holds the Prometheus metrics the agents expose
// (client_golang) for the live dashboards, and serves them.
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics of one agent process. Label values: run is the run id, role is
// producer / consumer / filter, group the consumer group.
type Metrics struct {
	Registry *prometheus.Registry

	AlertsProduced *prometheus.CounterVec   // run, producer
	BytesProduced  *prometheus.CounterVec   // run, producer
	ProduceErrors  *prometheus.CounterVec   // run, producer
	AlertsConsumed *prometheus.CounterVec   // run, group, topic
	BytesConsumed  *prometheus.CounterVec   // run, group, topic
	Duplicates     *prometheus.CounterVec   // run, group
	AlertsFiltered *prometheus.CounterVec   // run, filter: passed and sent on
	FilterCapped   *prometheus.CounterVec   // run, filter: passed but over the cap
	FilterErrors   *prometheus.CounterVec   // run, filter: the expression failed (a null field): not passed
	DecodeErrors   *prometheus.CounterVec   // run, group
	VisitDuration  *prometheus.HistogramVec // run, role: producing time or a member's consuming span
	Latency        *prometheus.HistogramVec // run, group: intended send to receipt
	Visit          *prometheus.GaugeVec     // run, role: the visit being worked on
	Lag            *prometheus.GaugeVec     // group, topic, partition: high watermark - next offset
}

// New registers the agents' metrics and the Go and process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "testbed", Name: name, Help: help}, labels)
		r.MustRegister(c)
		return c
	}
	m := &Metrics{
		Registry:       r,
		AlertsProduced: f("alerts_produced_total", "Alerts acknowledged by Kafka.", "run", "producer"),
		BytesProduced:  f("bytes_produced_total", "Bytes of acknowledged alerts (framed Avro values).", "run", "producer"),
		ProduceErrors:  f("produce_errors_total", "Alerts that could not be produced.", "run", "producer"),
		AlertsConsumed: f("alerts_consumed_total", "Alerts consumed.", "run", "group", "topic"),
		BytesConsumed:  f("bytes_consumed_total", "Bytes of consumed alert values.", "run", "group", "topic"),
		Duplicates:     f("alerts_duplicated_total", "Alerts this member received more than once.", "run", "group"),
		AlertsFiltered: f("alerts_filtered_total", "Alerts that passed a filter and were forwarded.", "run", "filter"),
		FilterCapped:   f("alerts_filter_capped_total", "Alerts that passed a filter after it reached its per-visit cap.", "run", "filter"),
		FilterErrors:   f("filter_errors_total", "Alerts a filter's expression failed on (e.g. a null field), counted as not passing.", "run", "filter"),
		DecodeErrors:   f("decode_errors_total", "Alerts whose Avro body or headers could not be decoded.", "run", "group"),
		VisitDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "testbed", Name: "visit_duration_seconds",
			Help:    "Producers: intended visit start to last ack. Consumers: first to last alert of the visit.",
			Buckets: prometheus.ExponentialBuckets(0.05, 1.6, 16)}, []string{"run", "role"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "testbed", Name: "e2e_latency_seconds",
			Help:    "End-to-end latency: intended send time to receipt by the consumer.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18)}, []string{"run", "group"}),
		Visit: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "testbed", Name: "visit",
			Help: "The visit the agent is working on."}, []string{"run", "role"}),
	}
	m.Lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "testbed", Name: "consumer_lag",
		Help: "Records between the member's position and the partition's high watermark."}, []string{"group", "topic", "partition"})
	r.MustRegister(m.VisitDuration, m.Latency, m.Visit, m.Lag)
	return m
}

// Serve serves /metrics on addr until ctx ends. An empty addr serves
// nothing. It returns once the listener is bound, so a bad address fails
// the agent at start.
func (m *Metrics) Serve(ctx context.Context, addr string) error {
	if addr == "" {
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the agent goes on without metrics; its results still flow
		}
	}()
	return nil
}
