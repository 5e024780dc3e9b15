// Command alert-filter is one group of the DMTN-081 mini-broker: a member
// of its own consumer group that reads the full alert stream, runs filters
// M..N on every alert, and forwards at most --cap passing alerts per filter
// per visit to one topic per filter (Filter001, ...), where end-user
// consumers (alert-consumer --topic Filter001) read them.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/IBM/sarama"
	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/consume"
	"github.com/alert-testbed/testbed/agents/filter"
	"github.com/alert-testbed/testbed/agents/headers"
	"github.com/alert-testbed/testbed/agents/kafkaconf"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	if err := app().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "alert-filter: %v\n", err)
		os.Exit(1)
	}
}

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
	// Compile against a generated alert so misspelt fields fail now.
	gen, err := alert.NewGenerator(alert.DefaultOptions())
	if err != nil {
		return err
	}
	filters, err := filter.Compile(defs, alert.Plain(gen.Alert(alert.ID{})))
	if err != nil {
		return err
	}
	codec, err := alert.NewCodec(uint32(c.Uint("schema-id")))
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

	caps := filter.NewCaps(len(filters), c.Int("cap"))
	var capsMu sync.Mutex
	type tally struct{ passed, forwarded []int }
	tallies := map[int]*tally{}
	group := c.String("group")

	var member *consume.Member
	member, err = consume.FromFlags(c, true,
		func(ctx context.Context, msg *sarama.ConsumerMessage, meta headers.Meta) error {
			m := member.Metrics
			native, err := codec.Decode(msg.Value)
			if err != nil {
				m.DecodeErrors.WithLabelValues(meta.Run, group).Inc()
				log.Printf("ERROR: %s/%d@%d: %v", msg.Topic, msg.Partition, msg.Offset, err)
				return nil
			}
			plain := alert.Plain(native)
			for i, f := range filters {
				ok, err := f.Match(plain)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				capsMu.Lock()
				within := caps.Take(meta.Visit, i)
				t := tallies[meta.Visit]
				if t == nil {
					t = &tally{passed: make([]int, len(filters)), forwarded: make([]int, len(filters))}
					tallies[meta.Visit] = t
					caps.Forget(meta.Visit - 16) // late alerts of old visits are rare; memory stays bounded
				}
				t.passed[i]++
				if within {
					t.forwarded[i]++
				}
				capsMu.Unlock()
				if !within {
					m.FilterCapped.WithLabelValues(meta.Run, f.Name).Inc()
					continue
				}
				hs := make([]sarama.RecordHeader, 0, len(msg.Headers)+1)
				for _, h := range msg.Headers {
					hs = append(hs, *h)
				}
				hs = append(hs, sarama.RecordHeader{Key: []byte(headers.Filter), Value: []byte(f.Name)})
				select {
				case out.Input() <- &sarama.ProducerMessage{Topic: f.Name, Key: sarama.ByteEncoder(msg.Key), Value: sarama.ByteEncoder(msg.Value), Headers: hs}:
				case <-ctx.Done():
					return nil
				}
				m.AlertsFiltered.WithLabelValues(meta.Run, f.Name).Inc()
			}
			return nil
		})
	if err != nil {
		return err
	}
	ctx, cancel := consume.Context(c)
	defer cancel()
	log.Printf("filter group %s: filters %s..%s, cap %d per filter per visit", group, filters[0].Name, filters[len(filters)-1].Name, c.Int("cap"))
	runErr := member.Run(ctx, brokers, cfg)
	out.AsyncClose()
	drained.Wait()
	for v, t := range tallies {
		for i, f := range filters {
			fmt.Printf("visit:%d, filter:%s, passed:%d, forwarded:%d\n", v, f.Name, t.passed[i], t.forwarded[i])
		}
	}
	if runErr != nil {
		return runErr
	}
	if n := outErrors.Load(); n > 0 {
		return fmt.Errorf("%d filtered alerts could not be forwarded", n)
	}
	return nil
}
