package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/urfave/cli/v2"

	"github.com/alert-testbed/testbed/agents/alert"
	"github.com/alert-testbed/testbed/agents/pacing"
)

// The replay modes (--replay-mode): alert.ReplaySinglePass and
// alert.ReplayInfinite.
const (
	SinglePass = alert.ReplaySinglePass
	Infinite   = alert.ReplayInfinite
)

// replaySource gives the records of the replayed file, as the file holds
// them.
type replaySource interface {
	// Records returns records from .. from+n-1 of the file, in order.
	Records(from, n int) ([][]byte, error)
}

// fileSource reads the file itself (alert-producer --replay on a host).
type fileSource struct{ rp *alert.Replay }

func (s fileSource) Records(from, n int) ([][]byte, error) {
	out := make([][]byte, 0, n)
	for i := from; i < from+n; i++ {
		rec, err := s.rp.Record(i)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// topicSource reads the run's source topic (--replay-topic), into which
// the orchestrator loaded the file once, record i at offset i of its one
// partition: the producers on the swarm read no files.
type topicSource struct {
	consumer sarama.Consumer
	topic    string
	timeout  time.Duration // to fetch one range
}

func (s topicSource) Records(from, n int) ([][]byte, error) {
	pc, err := s.consumer.ConsumePartition(s.topic, 0, int64(from))
	if err != nil {
		return nil, fmt.Errorf("replay source topic %s at offset %d: %w", s.topic, from, err)
	}
	defer pc.Close()
	out := make([][]byte, 0, n)
	deadline := time.NewTimer(s.timeout)
	defer deadline.Stop()
	for len(out) < n {
		select {
		case m := <-pc.Messages():
			if want := int64(from + len(out)); m.Offset != want {
				return nil, fmt.Errorf("replay source topic %s: offset %d where %d was due (the topic must hold the file's records from offset 0, none deleted)", s.topic, m.Offset, want)
			}
			out = append(out, m.Value)
		case err := <-pc.Errors():
			return nil, fmt.Errorf("replay source topic %s: %w", s.topic, err)
		case <-deadline.C:
			return nil, fmt.Errorf("replay source topic %s: %d of records %d..%d read in %s", s.topic, len(out), from, from+n-1, s.timeout)
		}
	}
	return out, nil
}

// replayer maps a producer's alerts onto the file's records: the alerts of
// a run, visit after visit and within a visit producer after producer in
// the order of their seq, are records 0, 1, 2, ... of the file, over and
// over in infinite mode. Pass p (alerts p*records .. (p+1)*records-1) is
// shifted by p (alert.Shifter).
type replayer struct {
	src     replaySource
	records int // in the file
	mode    string
	shifter *alert.Shifter
	// sched, with --schedule, gives each visit its alerts (a single pass
	// paced by the file's observation times).
	sched *pacing.Schedule
}

// visitAlerts is how many alerts visit k (0-based, from the run's first)
// has: alertsPerVisit, and in a single pass the rest of the file in the
// last visit, none after it.
func (r *replayer) visitAlerts(k, alertsPerVisit int) int {
	if r.sched != nil {
		return r.sched.Alerts(k)
	}
	if r.mode != SinglePass {
		return alertsPerVisit
	}
	return max(0, min(alertsPerVisit, r.records-k*alertsPerVisit))
}

// singlePassVisits is how many visits a single pass of the file fills.
func (r *replayer) singlePassVisits(alertsPerVisit int) int {
	return alert.SinglePassVisits(r.records, alertsPerVisit)
}

// before is the run-wide index of visit k's first alert: the alerts of the
// visits before it.
func (r *replayer) before(k, alertsPerVisit int) int {
	if r.sched != nil {
		return r.sched.Before(k)
	}
	return k * alertsPerVisit // a single pass's short visit is its last
}

// firstIndex is the run-wide index of producer's first alert of a visit
// whose first alert is visitFirst: the other producers' shares of it
// before producer's (pacing.Plan of pc, the visit's configuration, the
// same for every producer).
func firstIndex(pc pacing.Config, visitFirst, visit, producer int) (int, error) {
	first := visitFirst
	for j := 0; j < producer; j++ {
		plan, err := pacing.Plan(pc, visit, j)
		if err != nil {
			return 0, err
		}
		first += pacing.Total(plan)
	}
	return first, nil
}

// bodies returns the Avro bodies of run-wide alerts first .. first+n-1,
// read from the source in ranges of the file and shifted by their pass.
func (r *replayer) bodies(first, n int) ([][]byte, error) {
	out := make([][]byte, 0, n)
	for i := first; i < first+n; {
		pass, at := i/r.records, i%r.records
		take := min(first+n-i, r.records-at)
		recs, err := r.src.Records(at, take)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			b, err := r.shifter.Apply(rec, pass)
			if err != nil {
				return nil, fmt.Errorf("record %d, pass %d: %w", at, pass+1, err)
			}
			out = append(out, b)
		}
		i += take
	}
	return out, nil
}

// replayFetchTimeout bounds the reading of one visit's records from the
// source topic.
const replayFetchTimeout = 2 * time.Minute

// replayFlags checks the replay flags and returns the replayer: from the
// file (--replay, scanned here: its records, schema and pass shift) or
// from the source topic (--replay-topic: those given by the flags, schema
// the --schema one; its src is set once the Kafka client is up).
func replayFlags(c *cli.Context, schema string) (*replayer, error) {
	mode := c.String("replay-mode")
	if mode != SinglePass && mode != Infinite {
		return nil, fmt.Errorf("invalid --replay-mode %q: use %s or %s", mode, Infinite, SinglePass)
	}
	r := &replayer{mode: mode}
	var shift alert.Shift
	switch path, topic := c.String("replay"), c.String("replay-topic"); {
	case path != "" && topic != "":
		return nil, fmt.Errorf("--replay and --replay-topic: give one (a file on this host, or the topic testbed run loaded it into)")
	case path != "":
		info, err := alert.ScanOCF(path)
		if err != nil {
			return nil, err
		}
		rp, err := alert.OpenReplay(path)
		if err != nil {
			return nil, err
		}
		r.src, r.records, shift, schema = fileSource{rp}, info.Records, info.Shift, info.Schema
	default:
		if r.records = c.Int("replay-records"); r.records < 1 {
			return nil, fmt.Errorf("invalid --replay-records %d: --replay-topic needs the file's count of records (1 or more)", r.records)
		}
		if c.String("schema") == "testbed" {
			return nil, fmt.Errorf("--replay-topic needs --schema: the file's writer schema (its JSON), to shift the passes after the first")
		}
		if js := c.String("replay-shift"); js != "" {
			dec := json.NewDecoder(strings.NewReader(js))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&shift); err != nil {
				return nil, fmt.Errorf("invalid --replay-shift %s: %v (want {\"id_strides\": {NAME: N, ...}, \"days\": D})", js, err)
			}
		}
		for name, n := range shift.IDStrides {
			if n < 1 {
				return nil, fmt.Errorf("invalid --replay-shift: id_strides.%s is %d, use 1 or more", name, n)
			}
		}
		if shift.Days < 0 || math.IsNaN(shift.Days) || math.IsInf(shift.Days, 0) {
			return nil, fmt.Errorf("invalid --replay-shift: days is %g, use 0 or more", shift.Days)
		}
	}
	sh, err := alert.NewShifter(schema, shift)
	if err != nil {
		return nil, err
	}
	r.shifter = sh
	return r, nil
}
