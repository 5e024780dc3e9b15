package experiment

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"gopkg.in/yaml.v3"

	"github.com/alert-testbed/testbed/agents/headers"
)

const withFaults = `name: faulty
visits: 4
visit_interval: 20s
producers: 3
needs: "aws: 10 producers x 136 KB need more than 2 cores"
topic: {partitions: 3}
consumers:
  - {name: counting, members: 3}
  - {name: print, copies: 2, mode: drop}
filters: {groups: 1, filters_per_group: 2}
kafka: {retries: 5, retry_backoff: 200ms, delivery_timeout: 45s}
faults:
  - action: kill
    target: {broker: 2}
    at: {visit: 2, after: 1s}
  - action: pause
    target: {consumer: counting, member: 3}
    at: {visit: 3}
    duration: 20s
  - action: slow-network
    target: {filter-group: 1}
    at: {visit: 1, after: 500ms}
    duration: 10s
    netem: {delay: 200ms, jitter: 50ms, loss: 1.5}
  - action: drain
    target: {worker: 4}
    at: {visit: 4, after: 19s}
  - action: partition
    target: {producer: 3}
    at: {visit: 4}
    duration: 20s
  - action: restart
    target: {consumer: print-2, member: 1}
    at: {visit: 1}
expect: {duplicates: 0}
`

func TestFaults(t *testing.T) {
	e := parseOne(t, withFaults)
	if len(e.Faults) != 6 {
		t.Fatalf("%d faults", len(e.Faults))
	}
	want := Fault{Action: FaultSlowNetwork, Target: FaultTarget{FilterGroup: 1}, At: FaultTime{Visit: 1, After: 500 * time.Millisecond},
		Duration: 10 * time.Second, Netem: &Netem{Delay: 200 * time.Millisecond, Jitter: 50 * time.Millisecond, Loss: 1.5}}
	if !reflect.DeepEqual(e.Faults[2], want) {
		t.Errorf("fault 2: %+v, want %+v", e.Faults[2], want)
	}
	for i, w := range []time.Duration{21 * time.Second, 40 * time.Second, 500 * time.Millisecond, 79 * time.Second, 60 * time.Second, 0} {
		if got := e.FaultStart(i); got != w {
			t.Errorf("FaultStart(%d) = %s, want %s", i, got, w)
		}
		if got := e.Faults[i].Start(e.Schedule()); got != w {
			t.Errorf("Faults[%d].Start = %s, want %s", i, got, w)
		}
	}
	var targets []string
	for _, f := range e.Faults {
		targets = append(targets, f.Target.String())
	}
	if got, want := strings.Join(targets, ", "), "broker 2, consumer counting member 3, filter group 1, worker 4, producer 3, consumer print-2 member 1"; got != want {
		t.Errorf("targets %q, want %q", got, want)
	}
	if e.Expect.Duplicates == nil || *e.Expect.Duplicates != 0 {
		t.Errorf("expect.duplicates %v", e.Expect.Duplicates)
	}
	if e.Kafka.Retries != 5 || e.Kafka.RetryBackoff != 200*time.Millisecond || e.Kafka.DeliveryTimeout != 45*time.Second {
		t.Errorf("kafka %+v", e.Kafka)
	}
	s := e.String()
	for _, line := range []string{
		"  needs:     aws: 10 producers x 136 KB need more than 2 cores\n",
		"  fault 1:   kill broker 2 at visit 2 + 1s (T0 + 21s)\n",
		"  fault 2:   pause consumer counting member 3 at visit 3 + 0s (T0 + 40s) for 20s\n",
		"  fault 3:   slow-network filter group 1 at visit 1 + 500ms (T0 + 500ms) for 10s, netem delay 200ms jitter 50ms loss 1.5%\n",
		"  fault 4:   drain worker 4 at visit 4 + 19s (T0 + 1m19s) until the run ends\n",
		"  expect:    at most 0 duplicated alerts, or the run fails\n",
		"5 retries 200ms apart, delivery timeout 45s\n",
	} {
		if !strings.Contains(s, line) {
			t.Errorf("summary lacks %q:\n%s", line, s)
		}
	}

	// MarshalYAML round-trips faults, expect and needs.
	data, err := yaml.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data, "test.yaml")
	if err != nil {
		t.Fatalf("marshalled run does not load: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(back[0], e) {
		t.Errorf("round trip\n got %+v\nwant %+v\n%s", back[0], e, data)
	}
}

// Scalars inside faults may be swept, action and target.consumer not.
func TestFaultSweep(t *testing.T) {
	runs, err := Parse([]byte("name: s\nvisits: 3\nfaults:\n  - {action: kill, target: {broker: [1, 2]}, at: {visit: 2, after: [0s, 5s]}}\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Name)
	}
	if got, want := strings.Join(names, " "), "s-broker-1-after-0s s-broker-1-after-5s s-broker-2-after-0s s-broker-2-after-5s"; got != want {
		t.Errorf("runs %s, want %s", got, want)
	}
	if f := runs[3].Faults[0]; f.Target.Broker != 2 || f.At.After != 5*time.Second {
		t.Errorf("last run's fault %+v", f)
	}
}

func TestDNSLabel(t *testing.T) {
	for in, want := range map[string]string{
		"Filter001": "filter001", "My.Filter": "my-filter", "a_b": "a-b", "__x__y--z..": "x-y-z", "_-_": "", "ok-1": "ok-1",
	} {
		if got := DNSLabel(in); got != want {
			t.Errorf("DNSLabel(%q) = %q, want %q", in, got, want)
		}
	}
	if got := ServiceName(exampleRunID, EndUserLabel("My.Filter")); got != "run-20261122-073256-9959-enduser-my-filter" {
		t.Errorf("service name %q", got)
	}
	if len(exampleRunID) != RunIDLen || MaxLabelLen != 38 {
		t.Errorf("run id length %d, label length %d", len(exampleRunID), MaxLabelLen)
	}
}

// MaxRecordSize is what the Kafka client (sarama) counts for the largest
// record the producers and filters send.
func TestMaxRecordSizeIsTheClientsCount(t *testing.T) {
	e := parseOne(t, "name: x\nvisits: 100\nproducers: 12\nalerts_per_visit: 20000\nalert: {size: 50000}\n"+
		"filters:\n  groups: 1\n  filters_per_group: 1\n  expressions: [{name: long-filter-name, expr: diaSource.snr > 5}]\n")
	r := e.MaxRecordSize()
	m := headers.Meta{Run: exampleRunID, Visit: 100, Producer: 11, Seq: 19999,
		Intended: time.Unix(0, math.MaxInt64), Produced: time.Unix(0, math.MaxInt64)}
	hs := append(m.Headers(), sarama.RecordHeader{Key: []byte(headers.Filter), Value: []byte("long-filter-name")})
	msg := &sarama.ProducerMessage{Value: sarama.ByteEncoder(make([]byte, r.Alert)), Headers: hs}
	if got := msg.ByteSize(2); got != r.Total {
		t.Errorf("sarama counts %d bytes, MaxRecordSize %d (%+v)", got, r.Total, r)
	}
	if r.Alert != 50000+GeneratedSlack {
		t.Errorf("alert bound %d", r.Alert)
	}
}
