package experiment

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alert-testbed/testbed/agents/alert"
)

const topFields = "name, description, needs, visits, visit_interval, alerts_per_visit, producers, alert, pacing, topic, consumers, filters, kafka, limits, faults, expect"

// badFiles are experiment files that must not load, each with the exact
// error (after "bad.yaml: ").
var badFiles = []struct {
	name string
	yaml string
	want string
}{
	// Decoding: unknown fields, types, structure.
	{"unknown field", "name: x\nvisit: 3\n",
		"visit: unknown field; did you mean visits? (allowed: " + topFields + ")"},
	{"unknown field, nothing close", "name: x\nbrokers: 3\n",
		"brokers: unknown field (allowed: " + topFields + ")"},
	{"misspelt nested field", "name: x\nalert:\n  stmaps: false\n",
		"alert.stmaps: unknown field; did you mean stamps? (allowed: stamps, size, replay, schema_id)"},
	{"misspelt field in a list entry", "name: x\nconsumers:\n  - {name: c, moed: drop}\n",
		"consumers[0].moed: unknown field; did you mean mode? (allowed: name, members, mode, print_every, copies)"},
	{"unknown field brought in by a merge", "name: x\nconsumers:\n  - &c {name: a, mode: drop}\n  - {<<: *c, name: b, membres: 2}\n",
		"consumers[1].membres: unknown field; did you mean members? (allowed: name, members, mode, print_every, copies)"},
	{"field given twice", "name: x\nvisits: 3\nvisits: 4\n",
		"visits: given twice (lines 2 and 3)"},
	{"wrong type: string for integer", "name: x\nvisits: ten\n",
		`visits: "ten" is not an integer`},
	{"wrong type: fraction for integer", "name: x\nproducers: 1.5\n",
		"producers: 1.5 is not an integer"},
	{"wrong type: yes for boolean", "name: x\nalert: {stamps: yes}\n",
		`alert.stamps: "yes" is not true or false`},
	{"wrong type: mapping for integer", "name: x\nvisits: {n: 1}\n",
		"visits: want an integer, got a mapping"},
	{"wrong type: value for mapping", "name: x\nalert: true\n",
		"alert: want a mapping of stamps, size, replay, schema_id, got true"},
	{"wrong type: value for list", "name: x\nconsumers: c1\n",
		`consumers: want a list of mappings of name, members, mode, print_every, copies, got "c1"`},
	{"wrong type: end users", "name: x\nfilters: {groups: 1, end_users: many}\n",
		`filters.end_users: "many" is not true, false or a number of end users per filter`},
	{"duration without unit", "name: x\nvisit_interval: 39\n",
		"visit_interval: 39 is not a duration: write a number with a unit, e.g. 39s, 1m30s, 500ms"},
	{"duration in words", "name: x\ntopic: {retention: 1 day}\n",
		`topic.retention: "1 day" is not a duration: write a number with a unit, e.g. 39s, 1m30s, 500ms`},

	// Sweeps.
	{"sweep on a mapping", "name: x\nalert: [{stamps: true}, {stamps: false}]\n",
		"alert: a list here would be a sweep, but only single-value fields can be swept and alert is a mapping (of stamps, size, replay, schema_id): put the list on one of its fields"},
	{"sweep of a list field's entries", "name: x\nconsumers: [[{name: a}], [{name: b}]]\n",
		"consumers[0]: a list here would be a sweep, but only single-value fields can be swept and consumers[0] is a mapping (of name, members, mode, print_every, copies): put the list on one of its fields"},
	{"sweep on a name", "name: x\ntopic: {name: [a, b]}\n",
		"topic.name: a list here would be a sweep, but topic.name cannot be swept: give one value"},
	{"empty sweep", "name: x\nproducers: []\n",
		"producers: empty list: a sweep needs at least one value"},
	{"sweep value of the wrong type", "name: x\nproducers: [1, ten]\n",
		`producers[1]: "ten" is not an integer`},
	{"sweep of lists", "name: x\nproducers: [[1, 2]]\n",
		"producers[0]: a sweep's values must be single values (an integer), got a list"},
	{"sweep value repeated", "name: x\nproducers: [1, 10, 1]\n",
		"producers[2]: 1 is given twice in the sweep (also producers[0]): give distinct values"},
	{"too many runs", "name: x\nproducers: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\nvisits: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nalerts_per_visit: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n",
		"producers: the sweeps make more than 1000 runs; split the file"},
	{"one run of a sweep invalid", "name: x\ntopic: {partitions: [1, 4]}\nconsumers: [{name: c, members: 4}]\n",
		"consumers[0].members: 4 members but topic.partitions is 1: members beyond the partition count would sit idle (each partition goes to one member of a group); use at most 1 member or more partitions (in sweep run x-partitions-1)"},

	// The whole file.
	{"empty file", "", "empty file: want a mapping of experiment fields, at least a name"},
	{"only a comment", "# nothing\n", "empty file: want a mapping of experiment fields, at least a name"},
	{"a list at the top", "- name: x\n", "want a mapping of experiment fields (" + topFields + "), got a list"},
	{"two documents", "name: x\n---\nname: y\n", "more than one YAML document: one experiment per file"},
	{"YAML syntax", "name: x\n  visits: 3\n", "yaml: line 2: mapping values are not allowed in this context"},

	// Name.
	{"no name", "visits: 3\n", "name: required: a name for the runs, of lowercase letters, digits and '-' (at most 40 characters)"},
	{"empty name", "name: \"\"\n", "name: required: a name for the runs, of lowercase letters, digits and '-' (at most 40 characters)"},
	{"bad name characters", "name: Scaling_1\n", `name: "Scaling_1" is not allowed: use lowercase letters, digits and '-', not at the start or end`},
	{"name starting with a dash", "name: -x\n", `name: "-x" is not allowed: use lowercase letters, digits and '-', not at the start or end`},
	{"name too long", "name: " + strings.Repeat("a", 41) + "\n", `name: "` + strings.Repeat("a", 41) + `" is 41 characters long: at most 40`},

	// Visits and pacing (agents/pacing's checks, re-prefixed).
	{"negative visits", "name: x\nvisits: -1\n", "visits: must be at least 1, got -1"},
	{"zero producers", "name: x\nproducers: 0\n", "producers: must be at least 1, got 0"},
	{"zero interval", "name: x\nvisit_interval: 0s\n", "visit_interval: must be positive, got 0s"},
	{"unknown pacing model", "name: x\npacing: {model: poisson}\n", `pacing.model: "poisson" is not one of visit, ccd-bursts, rate`},
	{"impossible ccd-bursts total", "name: x\nalerts_per_visit: 100000\npacing: {model: ccd-bursts}\n",
		"alerts_per_visit: 100000 is impossible with 189 bursts of 10 to 200 alerts: must be between 1890 and 37800"},
	{"ccd-bursts burst_max below burst_min", "name: x\npacing: {model: ccd-bursts, burst_max: 5}\n",
		"pacing.burst_max: 5 is less than burst_min 10"},
	{"ccd-bursts more producers than CCDs", "name: x\nproducers: 200\npacing: {model: ccd-bursts}\n",
		"producers: 200 is more than the 189 bursts (CCDs) of a visit; a producer sends whole CCDs, so at most 189"},
	{"rate too slow for the interval", "name: x\npacing: {model: rate, rate: 100}\n",
		"pacing.rate: 100 alerts/s takes 1m40s to send 10000 alerts, longer than the interval 39s: must be at least 256.42 alerts/s"},

	// Alert.
	{"negative alert size", "name: x\nalert: {size: -1}\n", "alert.size: must be 0 (the default size) or a number of bytes, got -1"},
	{"schema id out of range", "name: x\nalert: {schema_id: 4294967296}\n", "alert.schema_id: must be between 0 and 4294967295, got 4294967296"},
	{"alert larger than a Kafka message", "name: x\nalert: {size: 1000001}\n",
		"alert.size: 1000001 bytes (a generated alert up to 1001001 bytes) plus 155 bytes of headers and 96 bytes of record overhead (as the Kafka client counts them) is 1001252 bytes, more than kafka.max_message_bytes 1000000: use alert.size at most 998749 or raise kafka.max_message_bytes"},

	// Topic.
	{"bad topic name", "name: x\ntopic: {name: my topic}\n", `topic.name: "my topic" is not a Kafka topic name: use letters, digits, '.', '_' and '-' (at most 249)`},
	{"zero partitions", "name: x\ntopic: {partitions: 0}\n", "topic.partitions: must be at least 1, got 0"},
	{"replication factor 4", "name: x\ntopic: {replication_factor: 4}\n", "topic.replication_factor: 4 is not between 1 and 3 (the testbed's Kafka brokers)"},
	{"min.insync above replication", "name: x\ntopic: {replication_factor: 2, min_insync_replicas: 3}\n",
		"topic.min_insync_replicas: 3 is not between 1 and topic.replication_factor 2"},
	{"retention shorter than a visit", "name: x\ntopic: {retention: 30s}\n",
		"topic.retention: 30s is shorter than visit_interval 39s: alerts could be deleted before they are read"},

	// Consumers.
	{"duplicate consumer group names", "name: x\nconsumers:\n  - {name: c1}\n  - {name: c1, mode: drop}\n",
		`consumers[1].name: "c1" is already the name of consumers[0]: group names must be unique`},
	{"group name taken by a copy", "name: x\nconsumers:\n  - {name: print, copies: 2}\n  - {name: print-2}\n",
		`consumers[1].name: "print-2" is already the name of copy 2 of consumers[0]: group names must be unique`},
	{"consumer group without a name", "name: x\nconsumers: [{mode: drop}]\n",
		"consumers[0].name: required: the group's name, of lowercase letters, digits and '-' (at most 40 characters)"},
	{"members beyond the partitions", "name: x\ntopic: {partitions: 2}\nconsumers: [{name: c, members: 3}]\n",
		"consumers[0].members: 3 members but topic.partitions is 2: members beyond the partition count would sit idle (each partition goes to one member of a group); use at most 2 members or more partitions"},
	{"unknown consumer mode", "name: x\nconsumers:\n  - {name: c1}\n  - {name: c2, mode: fast}\n",
		`consumers[1].mode: "fast" is not one of count, print-every, drop`},
	{"print every 0", "name: x\nconsumers: [{name: c, mode: print-every, print_every: 0}]\n",
		"consumers[0].print_every: must be at least 1, got 0"},
	{"zero copies", "name: x\nconsumers: [{name: c, copies: 0}]\n", "consumers[0].copies: must be at least 1, got 0"},
	{"nobody reads", "name: x\nconsumers: []\n",
		"consumers: no consumer groups and no filter groups (filters.groups): nothing would read the alerts"},

	// Filters.
	{"more filters than the built-in set", "name: x\nfilters: {groups: 6}\n",
		"filters.groups: 6 groups x 20 filters_per_group = 120 filters, but the built-in DMTN-081 set has 100: use fewer groups or filters per group, or list more filters.expressions"},
	{"more filters than expressions", "name: x\nfilters:\n  groups: 2\n  filters_per_group: 2\n  expressions:\n    - {name: F1, expr: diaSource.snr > 5}\n    - {name: F2, expr: diaSource.snr > 6}\n    - {name: F3, expr: diaSource.snr > 7}\n",
		"filters.groups: 2 groups x 2 filters_per_group = 4 filters, but filters.expressions has 3: use fewer groups or filters per group, or list more filters.expressions"},
	{"negative filter groups", "name: x\nfilters: {groups: -1}\n", "filters.groups: must be 0 (no mini-broker) or more, got -1"},
	{"filter cap 0", "name: x\nfilters: {groups: 1, cap: 0}\n", "filters.cap: must be at least 1 alert per filter per visit, got 0"},
	{"end users without filters", "name: x\nfilters: {end_users: true}\n",
		"filters.end_users: end users read the filters' output topics, but filters.groups is 0"},
	{"duplicate filter names", "name: x\nfilters:\n  groups: 1\n  filters_per_group: 1\n  expressions:\n    - {name: F1, expr: diaSource.snr > 5}\n    - {name: F1, expr: diaSource.snr > 6}\n",
		`filters.expressions[1].name: "F1" is already the name of filters.expressions[0]`},
	{"filter without expression", "name: x\nfilters:\n  groups: 1\n  filters_per_group: 1\n  expressions: [{name: F1}]\n",
		"filters.expressions[0].expr: required: a boolean expression over the alert's fields, e.g. diaSource.snr > 5"},
	{"filter expression on a misspelt field", "name: x\nfilters:\n  groups: 1\n  filters_per_group: 2\n  expressions:\n    - {name: F1, expr: diaSource.snr > 5}\n    - {name: F2, expr: diaSorce.snr > 5}\n",
		"filters.expressions[1].expr: filter F2 (\"diaSorce.snr > 5\"): unknown name diaSorce (1:1)\n | diaSorce.snr > 5\n | ^"},
	{"alert topic named like a filter", "name: x\ntopic: {name: Filter001}\nfilters: {groups: 1}\n",
		`topic.name: "Filter001" is also the output topic of a filter: give the alert topic another name`},

	// Kafka.
	{"max_message_bytes too large", "name: x\nkafka: {max_message_bytes: 2000000}\n",
		"kafka.max_message_bytes: 2000000 is not between 1 and the brokers' message.max.bytes, 1048588"},
	{"max_message_bytes below an alert", "name: x\nkafka: {max_message_bytes: 100000}\n",
		"kafka.max_message_bytes: 100000 is too small: a default alert with stamps (up to 136100 bytes) plus 155 bytes of headers and 96 bytes of record overhead (as the Kafka client counts them) is 136351 bytes: use at least 136351"},
	{"unknown acks", "name: x\nkafka: {acks: 2}\n", `kafka.acks: "2" is not one of all, 1, 0`},
	{"unknown compression", "name: x\nkafka: {compression: brotli}\n", `kafka.compression: "brotli" is not one of none, gzip, snappy, lz4, zstd`},
	{"idempotent with 5 in flight", "name: x\nkafka: {idempotent: true}\n",
		"kafka.idempotent: needs acks all and max_in_flight 1, got acks all and max_in_flight 5"},
	{"negative linger", "name: x\nkafka: {linger: -1ms}\n", "kafka.linger: must not be negative, got -1ms"},

	// Limits.
	{"run timeout shorter than the run", "name: x\nlimits: {run_timeout: 5m}\n",
		"limits.run_timeout: 5m0s is shorter than the run: 10 visits x 39s = 6m30s"},
	{"negative max lag", "name: x\nlimits: {max_lag: -1}\n", "limits.max_lag: must be 0 (no limit) or a number of alerts, got -1"},
	{"negative visit deadline", "name: x\nlimits: {visit_deadline: -1s}\n",
		"limits.visit_deadline: must be 0 (none) or a duration after the visit's start, got -1s"},
}

func TestBadFiles(t *testing.T) {
	if len(badFiles) < 25 {
		t.Fatalf("only %d bad files", len(badFiles))
	}
	for _, c := range badFiles {
		t.Run(c.name, func(t *testing.T) {
			runs, err := Parse([]byte(c.yaml), "bad.yaml")
			if err == nil {
				t.Fatalf("loaded %d runs, want error %q", len(runs), c.want)
			}
			if got, want := err.Error(), "bad.yaml: "+c.want; got != want {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error is a %T, not an *Error", err)
			} else if e.File != "bad.yaml" {
				t.Errorf("Error.File = %q", e.File)
			}
		})
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReplay(t *testing.T) {
	dir := t.TempDir()
	exp := filepath.Join(dir, "exp.yaml")

	// Missing: the path is resolved against the experiment file's folder.
	writeFile(t, exp, []byte("name: x\nalert: {replay: data/alerts.avro}\n"))
	_, err := Load(exp)
	want := exp + ": alert.replay: " + filepath.Join(dir, "data", "alerts.avro") + " does not exist (a relative path is taken from the experiment file's folder)"
	if err == nil || err.Error() != want {
		t.Errorf("missing replay file: error\n got: %v\nwant: %s", err, want)
	}

	// A folder.
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, exp, []byte("name: x\nalert: {replay: data}\n"))
	_, err = Load(exp)
	want = exp + ": alert.replay: " + filepath.Join(dir, "data") + " is a folder, not an Avro object container file"
	if err == nil || err.Error() != want {
		t.Errorf("replay folder: error\n got: %v\nwant: %s", err, want)
	}

	// Not Avro.
	avro := filepath.Join(dir, "data", "alerts.avro")
	writeFile(t, avro, []byte("alertId,ra,dec\n1,2,3\n"))
	writeFile(t, exp, []byte("name: x\nalert: {replay: data/alerts.avro}\n"))
	_, err = Load(exp)
	want = exp + ": alert.replay: " + avro + " is not an Avro object container file (it does not begin with Obj 1)"
	if err == nil || err.Error() != want {
		t.Errorf("replay file not Avro: error\n got: %v\nwant: %s", err, want)
	}

	// A real one, with two generated alerts.
	g, err := alert.NewGenerator(alert.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(avro)
	if err != nil {
		t.Fatal(err)
	}
	if err := alert.WriteOCF(f, []map[string]any{g.Alert(alert.ID{}), g.Alert(alert.ID{Seq: 1})}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	runs, err := Load(exp)
	if err != nil {
		t.Fatalf("replay of an Avro file: %v", err)
	}
	if runs[0].Alert.Replay != avro {
		t.Errorf("Alert.Replay = %q, want the absolute path %q", runs[0].Alert.Replay, avro)
	}

	// A size has no effect on replayed alerts.
	writeFile(t, exp, []byte("name: x\nalert: {replay: data/alerts.avro, size: 5000}\n"))
	_, err = Load(exp)
	want = exp + ": alert.size: has no effect with alert.replay (replayed alerts keep their size): leave it out"
	if err == nil || err.Error() != want {
		t.Errorf("size with replay: error\n got: %v\nwant: %s", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want a not-exist error", err)
	}
}

// Validate works on experiments made in code, with the same messages.
func TestValidateInCode(t *testing.T) {
	e := Defaults()
	e.Name = "in-code"
	if err := e.Validate(); err != nil {
		t.Fatalf("defaults with a name: %v", err)
	}
	e.Consumers[1].Mode = "fast"
	want := `consumers[1].mode: "fast" is not one of count, print-every, drop`
	if err := e.Validate(); err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	e.File = "experiments/x.yaml"
	if err := e.Validate(); err == nil || err.Error() != "experiments/x.yaml: "+want {
		t.Errorf("error %v, want it prefixed with the file", err)
	}
	if s := e.String(); !strings.HasPrefix(s, "in-code (experiments/x.yaml)\n") {
		t.Errorf("summary of an invalid experiment:\n%s", s)
	}
}
