// Command alert-filter is one group of the DMTN-081 mini-broker: a member
// of its own consumer group that reads the full alert stream, runs filters
// M..N on every alert, and forwards at most --cap passing alerts per filter
// per visit to one topic per filter (Filter001, ...), where end-user
// consumers (alert-consumer --topic Filter001) read them.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/IBM/sarama"
	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/consume"
	"github.com/alert-testbed/testbed/agents/filter"
	"github.com/alert-testbed/testbed/agents/headers"
	"github.com/alert-testbed/testbed/agents/kafkaconf"
	"github.com/alert-testbed/testbed/agents/lifecycle"
	"github.com/alert-testbed/testbed/agents/metrics"
)

func main() {
	ctx, sigs, stop := lifecycle.Notify()
	defer stop()
	signals = sigs
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	err := app().RunContext(ctx, os.Args)
	stop()
	sigs.Exit("alert-filter", err)
}

// signals is what ended the program: SIGTERM (exit 0), SIGHUP (a restart:
// exit lifecycle.RestartExitCode), none.
var signals = &lifecycle.Signals{}

func app() *cli.App {
	flags := consume.Flags("the full alert stream",
		"consumer group of this filter group (each filter group reads its own copy of the stream)")
	flags = append(flags,
		&cli.StringFlag{Name: "filters", EnvVars: []string{"FILTERS"}, Usage: "YAML file with a list of {name, expr} filters (default: the built-in set of --builtin)"},
		&cli.StringSliceFlag{Name: "filter", Usage: "a filter as NAME=EXPR, e.g. 'Filter001=diaSource.snr > 5' (repeatable; replaces --filters)"},
		&cli.IntFlag{Name: "builtin", EnvVars: []string{"BUILTIN_FILTERS"}, Value: 100, Usage: "size of the built-in DMTN-081-style set (magnitude cuts Filter001..) used without --filters or --filter"},
		&cli.IntFlag{Name: "first", EnvVars: []string{"FIRST_FILTER"}, Value: 1, Usage: "first filter of this group (1-based)"},
		&cli.IntFlag{Name: "last", EnvVars: []string{"LAST_FILTER"}, Usage: "last filter of this group (default: the last defined)"},
		&cli.IntFlag{Name: "cap", EnvVars: []string{"FILTER_CAP"}, Value: 20, Usage: "at most this many alerts per filter per visit are forwarded"},
	)
	flags = append(flags, kafkaconf.ClientFlags()...)
	flags = append(flags, kafkaconf.ConsumerFlags()...)
	flags = append(flags, kafkaconf.ProducerFlags()...)
	return &cli.App{
		Name:  "alert-filter",
		Usage: "run filters M..N on the alert stream and forward at most C alerts per filter per visit",
		Description: "Filters are expressions over the alert's fields (expr-lang/expr), e.g.\n" +
			"  diaSource.snr > 5 && diaSource.psfFlux > 3.6e-5\n" +
			"with mag(flux_nJy) for AB magnitudes. Each filter writes to the topic named after it.\n" +
			"Prints per visit and filter the passing and forwarded counts, the consumer's visit lines and\n" +
			"DMTN-081's status:end lines; publishes the consumer's per-visit result records.",
		Flags:  flags,
		Action: run,
	}
}

func run(c *cli.Context) error {
	var defs []filter.Def
	var err error
	switch {
	case len(c.StringSlice("filter")) > 0:
		for _, f := range c.StringSlice("filter") {
			name, ex, ok := strings.Cut(f, "=")
			if !ok {
				return fmt.Errorf("invalid --filter %q: use NAME=EXPR", f)
			}
			defs = append(defs, filter.Def{Name: strings.TrimSpace(name), Expr: ex})
		}
	case c.String("filters") != "":
		if defs, err = filter.Load(c.String("filters")); err != nil {
			return err
		}
	default:
		if n := c.Int("builtin"); n < 1 {
			return fmt.Errorf("invalid --builtin %d: use 1 or more", n)
		}
		defs = filter.DMTN081(c.Int("builtin"))
	}
	last := c.Int("last")
	if last == 0 {
		last = len(defs)
	}
	if defs, err = filter.Select(defs, c.Int("first"), last); err != nil {
		return err
	}
	if c.Int("cap") < 1 {
		return fmt.Errorf("invalid --cap %d: use 1 or more", c.Int("cap"))
	}
	codec, err := alert.LoadCodec(c.String("schema"), uint32(c.Uint("schema-id")))
	if err != nil {
		return err
	}
	// Compile against an alert generated for the schema, so that
	// misspelt fields fail now.
	gen, err := alert.NewMaker(codec.Schema(), alert.DefaultOptions())
	if err != nil {
		return err
	}
	filters, err := filter.Compile(defs, alert.Plain(gen.Alert(alert.ID{})))
	if err != nil {
		return err
	}

	cfg := kafkaconf.Base(c, "filter")
	if err := kafkaconf.ApplyConsumer(c, cfg); err != nil {
		return err
	}
	if err := kafkaconf.ApplyProducer(c, cfg); err != nil {
		return err
	}
	brokers := kafkaconf.Brokers(c)
	out, err := sarama.NewAsyncProducer(brokers, cfg)
	if err != nil {
		return fmt.Errorf("connect to Kafka at %v: %w", brokers, err)
	}
	var outErrors atomic.Int64
	var drained sync.WaitGroup
	drained.Add(2)
	go func() {
		defer drained.Done()
		for range out.Successes() {
		}
	}()
	go func() {
		defer drained.Done()
		for e := range out.Errors() {
			if outErrors.Add(1) <= 5 {
				log.Printf("ERROR: forwarding to %s: %v", e.Msg.Topic, e.Err)
			}
		}
	}()

	g := newGroup(c.String("group"), filters, codec, c.Int("cap"), out.Input())
	var member *consume.Member
	member, err = consume.FromFlags(c, true, g.handle)
	if err != nil {
		return err
	}
	g.m = member.Metrics
	ctx, cancel := consume.Context(c)
	defer cancel()
	log.Printf("filter group %s: filters %s..%s, cap %d per filter per visit", g.name, filters[0].Name, filters[len(filters)-1].Name, c.Int("cap"))
	runErr := member.Run(ctx, brokers, cfg)
	out.AsyncClose()
	drained.Wait()
	g.print(os.Stdout)
	if runErr != nil {
		return runErr
	}
	if n := outErrors.Load(); n > 0 {
		return fmt.Errorf("%d filtered alerts could not be forwarded", n)
	}
	return nil
}

// group is the work of a filter group on each alert: run its filters,
// count per visit and filter, forward within the cap.
type group struct {
	name    string
	filters []*filter.Filter
	codec   *alert.Codec
	m       *metrics.Metrics // nil: no metrics
	out     chan<- *sarama.ProducerMessage

	mu      sync.Mutex
	caps    *filter.Caps
	tallies map[int]*tally
}

// tally counts per filter, for one visit, the alerts that passed, those
// forwarded (within the cap) and those the filter's expression failed on
// (which do not pass).
type tally struct{ passed, forwarded, errors []int }

func newGroup(name string, filters []*filter.Filter, codec *alert.Codec, cap int, out chan<- *sarama.ProducerMessage) *group {
	return &group{name: name, filters: filters, codec: codec, out: out, caps: filter.NewCaps(len(filters), cap), tallies: map[int]*tally{}}
}

// tally returns the tally of visit; g.mu is held.
func (g *group) tally(visit int) *tally {
	t := g.tallies[visit]
	if t == nil {
		n := len(g.filters)
		t = &tally{passed: make([]int, n), forwarded: make([]int, n), errors: make([]int, n)}
		g.tallies[visit] = t
		g.caps.Forget(visit - 16) // late alerts of old visits are rare; memory stays bounded
	}
	return t
}

// handle runs the filters on one alert. It returns no error for anything
// in the alert: an undecodable alert is counted and skipped, an alert a
// filter fails on (a null field) does not pass that filter and is counted
// as its error; a failed handler would end the group session and make the
// member re-read the same alert for ever.
func (g *group) handle(ctx context.Context, msg *sarama.ConsumerMessage, meta headers.Meta) error {
	native, err := g.codec.Decode(msg.Value)
	if err != nil {
		if g.m != nil {
			g.m.DecodeErrors.WithLabelValues(meta.Run, g.name).Inc()
		}
		log.Printf("ERROR: %s/%d@%d: %v", msg.Topic, msg.Partition, msg.Offset, err)
		return nil
	}
	plain := alert.Plain(native)
	for i, f := range g.filters {
		pass, first, err := f.Test(plain)
		if err != nil {
			if g.m != nil {
				g.m.FilterErrors.WithLabelValues(meta.Run, f.Name).Inc()
			}
			if first {
				log.Printf("WARNING: filter %s failed on alert %v (%s/%d@%d), which does not pass it; further failures of this filter are only counted: %v",
					f.Name, plain["alertId"], msg.Topic, msg.Partition, msg.Offset, err)
			}
			g.mu.Lock()
			g.tally(meta.Visit).errors[i]++
			g.mu.Unlock()
			continue
		}
		if !pass {
			continue
		}
		g.mu.Lock()
		within := g.caps.Take(meta.Visit, i)
		t := g.tally(meta.Visit)
		t.passed[i]++
		if within {
			t.forwarded[i]++
		}
		g.mu.Unlock()
		if !within {
			if g.m != nil {
				g.m.FilterCapped.WithLabelValues(meta.Run, f.Name).Inc()
			}
			continue
		}
		hs := make([]sarama.RecordHeader, 0, len(msg.Headers)+1)
		for _, h := range msg.Headers {
			hs = append(hs, *h)
		}
		hs = append(hs, sarama.RecordHeader{Key: []byte(headers.Filter), Value: []byte(f.Name)})
		select {
		case g.out <- &sarama.ProducerMessage{Topic: f.Name, Key: sarama.ByteEncoder(msg.Key), Value: sarama.ByteEncoder(msg.Value), Headers: hs}:
		case <-ctx.Done():
			return nil
		}
		if g.m != nil {
			g.m.AlertsFiltered.WithLabelValues(meta.Run, f.Name).Inc()
		}
	}
	return nil
}

// print writes one line per visit and filter, visits in order, and logs
// the filters that failed on some alerts.
func (g *group) print(w io.Writer) {
	g.mu.Lock()
	defer g.mu.Unlock()
	visits := make([]int, 0, len(g.tallies))
	for v := range g.tallies {
		visits = append(visits, v)
	}
	sort.Ints(visits)
	for _, v := range visits {
		t := g.tallies[v]
		for i, f := range g.filters {
			fmt.Fprintf(w, "visit:%d, filter:%s, passed:%d, forwarded:%d, errors:%d\n", v, f.Name, t.passed[i], t.forwarded[i], t.errors[i])
		}
	}
	for _, f := range g.filters {
		if n := f.Errors(); n > 0 {
			log.Printf("WARNING: filter %s (%q) failed on %d alerts, which did not pass it (see its first failure above)", f.Name, f.Expr, n)
		}
	}
}
