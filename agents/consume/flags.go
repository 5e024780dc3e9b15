package consume

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/time/rate"

	"github.com/alert-testbed/testbed/agents/metrics"
)

// Flags are the flags of every consumer-group member (alert-consumer and
// alert-filter). topicUsage and groupUsage describe --topic and --group in
// the program's own terms.
func Flags(topicUsage, groupUsage string) []cli.Flag {
	host, _ := os.Hostname()
	return []cli.Flag{
		&cli.StringFlag{Name: "topic", EnvVars: []string{"TOPIC"}, Value: "alerts", Usage: topicUsage},
		&cli.StringFlag{Name: "group", EnvVars: []string{"GROUP"}, Required: true, Usage: groupUsage},
		&cli.StringFlag{Name: "member", EnvVars: []string{"MEMBER"}, Value: fmt.Sprintf("%s-%d", host, os.Getpid()), Usage: "this member's name in result records"},
		&cli.StringFlag{Name: "run-id", EnvVars: []string{"RUN_ID"}, Usage: "account only the alerts of this run (empty: every alert with testbed headers)"},
		&cli.StringFlag{Name: "results-topic", EnvVars: []string{"RESULTS_TOPIC"}, Value: "testbed-results", Usage: "topic for the per-visit result records (empty: none)"},
		&cli.DurationFlag{Name: "visit-idle", EnvVars: []string{"VISIT_IDLE"}, Value: 5 * time.Second, Usage: "publish a visit's record after this long without an alert of it"},
		&cli.DurationFlag{Name: "duration", EnvVars: []string{"DURATION"}, Usage: "stop after this long (0: run until interrupted)"},
		&cli.Int64Flag{Name: "stop-after", EnvVars: []string{"STOP_AFTER"}, Usage: "stop once this many alerts of the run were received (0: no limit; testbed bench reads a topic's records so)"},
		&cli.UintFlag{Name: "schema-id", EnvVars: []string{"SCHEMA_ID"}, Value: 1, Usage: "expected schema id in the wire-format header"},
		&cli.StringFlag{Name: "schema", EnvVars: []string{"ALERT_SCHEMA"}, Value: "testbed", Usage: "the alerts' Avro schema: testbed (the project's own), the path of a self-contained .avsc file, or the schema's JSON text"},
		&cli.Float64Flag{Name: "max-rate", EnvVars: []string{"MAX_RATE"}, Usage: "take in at most this many alerts per second over all of this member's partitions (0: as fast as it can): a consumer slowed on purpose"},
		&cli.StringFlag{Name: "metrics-addr", EnvVars: []string{"METRICS_ADDR"}, Value: ":9100", Usage: "address of the Prometheus /metrics endpoint (empty: none)"},
		&cli.IntFlag{Name: "gc-percent", EnvVars: []string{"GC_PERCENT"}, Value: DefaultGCPercent, Usage: "Go's GC target percentage (GOGC), unless GOGC itself is set: decoding allocates a lot on a small live heap"},
	}
}

// DefaultGCPercent is a member's Go GC target (GOGC). Decoding an alert
// allocates about 330 KB into goavro's maps (agents/alert BenchmarkDecode;
// about 160 KB into the testbed schema's generated types, mostly the
// cutouts' copies: agents/alert/packet BenchmarkDecode) while a member's
// live heap is a few tens of MB, so at Go's default of
// 100 the collector runs every few dozen alerts. Measured on the 3+10
// local testbed (2026-12-05, experiments/lsst-visit.yaml, the services'
// CPU in metrics/totals.json, two runs each): 400 cut consumer1's CPU
// (print-every, decodes every alert) from 34-35 to 26-28 CPU-s a run and
// consumer2's (drop) from 16 to 11-12, for memory peaks of 78-97 MB
// instead of 88 and 27-38 MB instead of 18; BenchmarkDecode/stamps goes
// from 230 to 177 us an alert. The producers keep Go's default: when they
// held a visit's encoded alerts, 400 took their memory from 2.5 to 6.9 GB;
// since --buffer-memory (32 MiB a producer) it has not been measured again.
const DefaultGCPercent = 400

// setGCPercent applies --gc-percent unless GOGC is set (the runtime
// already follows it).
func setGCPercent(c *cli.Context) error {
	p := c.Int("gc-percent")
	if p < 1 {
		return fmt.Errorf("invalid --gc-percent %d: use 1 or more (Go's default is 100; GOGC=off turns the collector off)", p)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(p)
	}
	return nil
}

// FromFlags makes the member the flags describe, serving its metrics.
func FromFlags(c *cli.Context, printEnd bool, handle Handler) (*Member, error) {
	var limit *rate.Limiter
	switch r := c.Float64("max-rate"); {
	case r < 0 || math.IsNaN(r) || math.IsInf(r, 0):
		return nil, fmt.Errorf("invalid --max-rate %v: use alerts per second, more than 0, or 0 for no limit", r)
	case r > 0:
		limit = rate.NewLimiter(rate.Limit(r), 1)
	}
	if n := c.Int64("stop-after"); n < 0 {
		return nil, fmt.Errorf("invalid --stop-after %d: use a number of alerts, or 0 for no limit", n)
	}
	if err := setGCPercent(c); err != nil {
		return nil, err
	}
	m := metrics.New()
	if err := m.Serve(c.Context, c.String("metrics-addr")); err != nil {
		return nil, fmt.Errorf("metrics endpoint %s: %w", c.String("metrics-addr"), err)
	}
	return &Member{
		RunID: c.String("run-id"), Group: c.String("group"), Name: c.String("member"),
		Topics: strings.Split(c.String("topic"), ","), ResultsTopic: c.String("results-topic"),
		VisitIdle: c.Duration("visit-idle"), PrintEnd: printEnd, Out: os.Stdout, Metrics: m, Handle: handle,
		Limit: limit, StopAfter: c.Int64("stop-after"),
	}, nil
}

// Context bounds ctx by the --duration flag, if given.
func Context(c *cli.Context) (context.Context, context.CancelFunc) {
	if d := c.Duration("duration"); d > 0 {
		return context.WithTimeout(c.Context, d)
	}
	return context.WithCancel(c.Context)
}
