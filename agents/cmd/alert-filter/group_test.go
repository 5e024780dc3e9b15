package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	dto "github.com/prometheus/client_model/go"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/filter"
	"github.com/alert-testbed/testbed/agents/headers"
	"github.com/alert-testbed/testbed/agents/metrics"
)

// The handler never fails on an alert's content: a filter over a nullable
// field, run on generated alerts some of which have it null, counts those
// alerts as errors of the filter (per visit, in the printed line and in
// the metric) and goes on.
func TestHandlerCountsFilterErrors(t *testing.T) {
	o := alert.DefaultOptions()
	o.Stamps = false
	gen, err := alert.NewGenerator(o)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := alert.NewCodec(1)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := filter.Compile([]filter.Def{
		{Name: "Nsrc", Expr: "diaObject.nDiaSources > 3"},
		{Name: "Bright", Expr: "diaSource.snr > 5"},
	}, alert.Plain(gen.Alert(alert.ID{})))
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan *sarama.ProducerMessage, 1000)
	g := newGroup("g", fs, codec, 1000, out)
	g.m = metrics.New()
	const n = 300
	nulls := 0
	for seq := 0; seq < n; seq++ {
		native := gen.Alert(alert.ID{Visit: 2, Seq: seq})
		if native["diaObject"] == nil {
			nulls++
		}
		val, err := codec.Append(nil, native)
		if err != nil {
			t.Fatal(err)
		}
		meta := headers.Meta{Run: "r", Visit: 2, Seq: seq, Intended: time.Now()}
		var hs []*sarama.RecordHeader
		for _, h := range meta.Headers() {
			hs = append(hs, &h)
		}
		msg := &sarama.ConsumerMessage{Topic: "alerts", Offset: int64(seq), Value: val, Headers: hs}
		if err := g.handle(context.Background(), msg, meta); err != nil {
			t.Fatalf("alert %d: the handler returned %v", seq, err)
		}
	}
	if nulls == 0 {
		t.Fatal("no alert without diaObject: the test tests nothing")
	}
	tl := g.tallies[2]
	if tl.errors[0] != nulls || tl.errors[1] != 0 {
		t.Errorf("errors per filter %v, want [%d 0]", tl.errors, nulls)
	}
	if tl.passed[0]+tl.errors[0] > n || tl.passed[0] == 0 || tl.forwarded[0] != tl.passed[0] {
		t.Errorf("Nsrc passed %d, forwarded %d", tl.passed[0], tl.forwarded[0])
	}
	var m dto.Metric
	if err := g.m.FilterErrors.WithLabelValues("r", "Nsrc").Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetCounter().GetValue(); got != float64(nulls) {
		t.Errorf("filter_errors_total{filter=Nsrc} = %v, want %d", got, nulls)
	}
	if len(out) != tl.forwarded[0]+tl.forwarded[1] {
		t.Errorf("%d forwarded records, tallies say %d", len(out), tl.forwarded[0]+tl.forwarded[1])
	}
	var buf bytes.Buffer
	g.print(&buf)
	want := fmt.Sprintf("visit:2, filter:Nsrc, passed:%d, forwarded:%d, errors:%d\n", tl.passed[0], tl.forwarded[0], nulls)
	if !strings.HasPrefix(buf.String(), want) {
		t.Errorf("printed %q, want first line %q", buf.String(), want)
	}
}
