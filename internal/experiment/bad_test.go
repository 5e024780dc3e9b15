package experiment

import (
	"errors"
	"github.com/alert-testbed/testbed/agents/pacing"
	"gopkg.in/yaml.v3"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alert-testbed/testbed/agents/alert"
)

const topFields = "name, description, needs, visits, visit_interval, alerts_per_visit, producers, alert, pacing, topic, consumers, external_consumers, filters, kafka, limits, faults, expect"

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
		"alert.stmaps: unknown field; did you mean stamps? (allowed: stamps, size, replay, replay_mode, replay_pacing, replay_time_field, replay_speedup, replay_max_gap, schema, schema_id, null_rate)"},
	{"misspelt field in a list entry", "name: x\nconsumers:\n  - {name: c, moed: drop}\n",
		"consumers[0].moed: unknown field; did you mean mode? (allowed: name, members, mode, print_every, copies)"},
	{"unknown field brought in by a merge", "name: x\nconsumers:\n  - &c {name: a, mode: drop}\n  - {<<: *c, name: b, membres: 2}\n",
		"consumers[1].membres: unknown field; did you mean members? (allowed: name, members, mode, print_every, copies)"},
	{"external consumer with a space", "name: x\nexternal_consumers: [\"my group\"]\n",
		`external_consumers[0]: "my group" is not a Kafka consumer group id this run can follow: use 1 to 249 ASCII letters, digits, '.', '_' and '-' (the group.id your consumer joins with)`},
	{"external consumer empty", "name: x\nexternal_consumers: [ok, \"\"]\n",
		`external_consumers[1]: "" is not a Kafka consumer group id this run can follow: use 1 to 249 ASCII letters, digits, '.', '_' and '-' (the group.id your consumer joins with)`},
	{"external consumer listed twice", "name: x\nexternal_consumers: [broker-a, broker-a]\n",
		`external_consumers[1]: "broker-a" is listed twice`},
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
		"alert: want a mapping of stamps, size, replay, replay_mode, replay_pacing, replay_time_field, replay_speedup, replay_max_gap, schema, schema_id, null_rate, got true"},
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
		"alert: a list here would be a sweep, but only single-value fields can be swept and alert is a mapping (of stamps, size, replay, replay_mode, replay_pacing, replay_time_field, replay_speedup, replay_max_gap, schema, schema_id, null_rate): put the list on one of its fields"},
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
	{"a list as second document", "name: x\n---\n- name: y\n", "document 2: want a mapping of experiment fields (" + topFields + "), got a list"},
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
	{"unknown schema", "name: x\nalert: {schema: ztf}\n", `alert.schema: "ztf" is not an alert schema: use testbed (the project's own), rubin (Rubin's newest), rubin-MAJOR.MINOR (e.g. rubin-7.4; lsst-alert-packet 30.2026.2700 carries 3.0 to 11.1) or the path of an .avsc file`},
	{"rubin version misspelt", "name: x\nalert: {schema: rubin-v11}\n", `alert.schema: "rubin-v11" is not an alert schema: use testbed (the project's own), rubin (Rubin's newest), rubin-MAJOR.MINOR (e.g. rubin-7.4; lsst-alert-packet 30.2026.2700 carries 3.0 to 11.1) or the path of an .avsc file`},
	{"null rate above 1", "name: x\nalert: {schema: rubin, null_rate: 1.5}\n", "alert.null_rate: must be a share from 0 to 1, got 1.5"},
	{"null rate negative", "name: x\nalert: {null_rate: -0.1}\n", "alert.null_rate: must be a share from 0 to 1, got -0.1"},
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
	{"negative buffer_memory", "name: x\nkafka: {buffer_memory: -1}\n", "kafka.buffer_memory: must not be negative, got -1: give the bytes of alerts a producer hands to its client before it waits for acks, 0 for no bound (default 33554432, Kafka's buffer.memory)"},

	// Kafka: retries, backoff, delivery timeout.
	{"negative retries", "name: x\nkafka: {retries: -1}\n", "kafka.retries: must be 0 (no retries) or more, got -1"},
	{"zero retry backoff", "name: x\nkafka: {retry_backoff: 0s}\n", "kafka.retry_backoff: must be more than 0s, got 0s"},
	{"delivery timeout below linger + request timeout", "name: x\nkafka: {linger: 1s, delivery_timeout: 30s}\n",
		"kafka.delivery_timeout: 30s is less than kafka.linger 1s + the request timeout 30s: Kafka requires delivery.timeout.ms >= linger.ms + request.timeout.ms; use at least 31s"},
	{"retries not a number", "name: x\nkafka: {retries: many}\n", `kafka.retries: "many" is not an integer`},

	// Record size: the alert, its headers and the client's record overhead.
	{"alert size equal to max_message_bytes", "name: x\nalert: {size: 1000000}\n",
		"alert.size: 1000000 bytes (a generated alert up to 1001000 bytes) plus 155 bytes of headers and 96 bytes of record overhead (as the Kafka client counts them) is 1001251 bytes, more than kafka.max_message_bytes 1000000: use alert.size at most 998749 or raise kafka.max_message_bytes"},
	{"alert size over by the headers only", "name: x\nalert: {size: 998750}\n",
		"alert.size: 998750 bytes (a generated alert up to 999750 bytes) plus 155 bytes of headers and 96 bytes of record overhead (as the Kafka client counts them) is 1000001 bytes, more than kafka.max_message_bytes 1000000: use alert.size at most 998749 or raise kafka.max_message_bytes"},
	{"filters' header counted", "name: x\nalert: {size: 998749}\nfilters:\n  groups: 1\n  filters_per_group: 1\n  expressions: [{name: a-long-filter-name, expr: diaSource.snr > 5}]\n",
		"alert.size: 998749 bytes (a generated alert up to 999749 bytes) plus 187 bytes of headers and 106 bytes of record overhead (as the Kafka client counts them) is 1000042 bytes, more than kafka.max_message_bytes 1000000: use alert.size at most 998707 or raise kafka.max_message_bytes"},
	{"no alert size fits", "name: x\nalert: {size: 20000}\nkafka: {max_message_bytes: 10000}\n",
		"alert.size: 20000 bytes (a generated alert up to 21000 bytes) plus 155 bytes of headers and 96 bytes of record overhead (as the Kafka client counts them) is 21251 bytes, more than kafka.max_message_bytes 10000: no alert.size fits; raise kafka.max_message_bytes"},
	{"max_message_bytes below a default alert without stamps", "name: x\nalert: {stamps: false}\nkafka: {max_message_bytes: 6000}\n",
		"kafka.max_message_bytes: 6000 is too small: a default alert without stamps (up to 6500 bytes) plus 155 bytes of headers and 96 bytes of record overhead (as the Kafka client counts them) is 6751 bytes: use at least 6751"},

	// Expect and needs.
	{"negative duplicates", "name: x\nexpect: {duplicates: -1}\n",
		"expect.duplicates: must be 0 (exactly once) or more, or left out (duplicates reported, not failing), got -1"},
	{"unknown expect field", "name: x\nexpect: {lost: 0}\n", "expect.lost: unknown field (allowed: duplicates)"},
	{"needs swept", "name: x\nneeds: [a, b]\n", "needs: a list here would be a sweep, but needs cannot be swept: give one value"},
	{"needs a mapping", "name: x\nneeds: {cores: 8}\n", "needs: want a single value, got a mapping"},

	// Derived names: swarm service names, Kafka topic names.
	{"group name makes a too long service name", "name: x\nconsumers: [{name: " + strings.Repeat("g", 30) + "}]\n",
		`consumers[0].name: "` + strings.Repeat("g", 30) + `" makes the swarm service name "run-20261122-073256-9959-consumer-` + strings.Repeat("g", 30) + `" 64 characters long: at most 63 (shorten the name to at most 29 characters)`},
	{"copies make a too long service name", "name: x\nconsumers: [{name: " + strings.Repeat("g", 27) + ", copies: 10}]\n",
		`consumers[0].name: "` + strings.Repeat("g", 27) + `" with 10 copies (` + strings.Repeat("g", 27) + `-10) makes the swarm service name "run-20261122-073256-9959-consumer-` + strings.Repeat("g", 27) + `-10" 64 characters long: at most 63 (shorten the name to at most 26 characters)`},
	{"filter name makes a too long service name", "name: x\nfilters:\n  groups: 1\n  filters_per_group: 1\n  end_users: 1\n  expressions: [{name: " + strings.Repeat("F", 31) + ", expr: diaSource.snr > 5}]\n",
		`filters.expressions[0].name: "` + strings.Repeat("F", 31) + `" (end users' service enduser-` + strings.Repeat("f", 31) + `) makes the swarm service name "run-20261122-073256-9959-enduser-` + strings.Repeat("f", 31) + `" 64 characters long: at most 63 (shorten the name to at most 30 characters)`},
	{"two filters make one service", "name: x\nfilters:\n  groups: 1\n  filters_per_group: 2\n  end_users: 1\n  expressions: [{name: My-Filter, expr: diaSource.snr > 5}, {name: my-filter, expr: diaSource.snr > 6}]\n",
		`filters.expressions[1].name: "my-filter" and filters.expressions[0].name "My-Filter" both make the end users' swarm service "run-20261122-073256-9959-enduser-my-filter" (names are lowercased, other characters than a-z and 0-9 made '-'): rename one`},
	{"filter name without letters", "name: x\nfilters:\n  groups: 1\n  filters_per_group: 1\n  end_users: 1\n  expressions: [{name: _-_, expr: diaSource.snr > 5}]\n",
		`filters.expressions[0].name: "_-_" has no letter or digit: its end users' swarm service would be named after nothing; use a name with letters or digits`},
	{"filter topics collide in Kafka", "name: x\nfilters:\n  groups: 1\n  filters_per_group: 2\n  expressions: [{name: a.b, expr: diaSource.snr > 5}, {name: a_b, expr: diaSource.snr > 6}]\n",
		`filters.expressions[1].name: "a_b" collides with filters.expressions[0].name "a.b": Kafka treats '.' and '_' in topic names as the same; rename one`},
	{"alert topic collides with a filter topic", "name: x\ntopic: {name: my_alerts}\nfilters:\n  groups: 1\n  filters_per_group: 1\n  expressions: [{name: my.alerts, expr: diaSource.snr > 5}]\n",
		`topic.name: "my_alerts" collides with the filter topic "my.alerts": Kafka treats '.' and '_' in topic names as the same; give the alert topic another name`},
	{"topic name dot", "name: x\ntopic: {name: .}\n", `topic.name: "." is not a Kafka topic name: "." and ".." are not allowed`},
	{"topic name dot dot", "name: x\ntopic: {name: ..}\n", `topic.name: ".." is not a Kafka topic name: "." and ".." are not allowed`},
	{"internal topic name", "name: x\ntopic: {name: __consumer_offsets}\n", `topic.name: "__consumer_offsets" is not allowed: topic names starting with "__" are Kafka's internal topics`},
	{"filter named like an internal topic", "name: x\nfilters:\n  groups: 1\n  filters_per_group: 1\n  expressions: [{name: __f, expr: diaSource.snr > 5}]\n",
		`filters.expressions[0].name: "__f" is not allowed (the filter's output topic): topic names starting with "__" are Kafka's internal topics`},

	// Faults.
	{"fault without action", "name: x\nfaults: [{target: {broker: 1}, at: {visit: 1}}]\n",
		"faults[0].action: required: one of kill, restart, pause, partition, slow-network, drain"},
	{"unknown fault action", "name: x\nfaults: [{action: reboot, target: {broker: 1}, at: {visit: 1}}]\n",
		`faults[0].action: "reboot" is not one of kill, restart, pause, partition, slow-network, drain`},
	{"fault action swept", "name: x\nfaults: [{action: [kill, restart], target: {broker: 1}, at: {visit: 1}}]\n",
		"faults[0].action: a list here would be a sweep, but faults[0].action cannot be swept: give one value"},
	{"fault target consumer swept", "name: x\nfaults: [{action: kill, target: {consumer: [consumer1, consumer2], member: 1}, at: {visit: 1}}]\n",
		"faults[0].target.consumer: a list here would be a sweep, but faults[0].target.consumer cannot be swept: give one value"},
	{"misspelt fault field", "name: x\nfaults: [{action: kill, taget: {broker: 1}}]\n",
		"faults[0].taget: unknown field; did you mean target? (allowed: action, target, at, duration, netem)"},
	{"unknown target kind", "name: x\nfaults: [{action: kill, target: {node: 1}}]\n",
		"faults[0].target.node: unknown field (allowed: broker, consumer, member, filter-group, producer, worker)"},
	{"fault without target", "name: x\nfaults: [{action: kill, at: {visit: 1}}]\n",
		"faults[0].target: required: one of broker: N, consumer: NAME with member: M, filter-group: N, producer: N, worker: N"},
	{"fault with two targets", "name: x\nfaults: [{action: kill, target: {broker: 1, producer: 1}, at: {visit: 1}}]\n",
		"faults[0].target: broker 1 and producer 1: give one target, not broker and producer"},
	{"member without consumer", "name: x\nfaults: [{action: kill, target: {member: 1}, at: {visit: 1}}]\n",
		"faults[0].target.member: only with consumer: name the group too (consumer: NAME, member: 1)"},
	{"member with a broker", "name: x\nfaults: [{action: kill, target: {broker: 1, member: 1}, at: {visit: 1}}]\n",
		"faults[0].target.member: only with consumer, not broker"},
	{"consumer without member", "name: x\nfaults: [{action: kill, target: {consumer: consumer1}, at: {visit: 1}}]\n",
		"faults[0].target.member: required with consumer: which member of consumer1, 1 to 1"},
	{"unknown consumer group", "name: x\nconsumers: [{name: print, copies: 2}]\nfaults: [{action: kill, target: {consumer: print, member: 1}, at: {visit: 1}}]\n",
		`faults[0].target.consumer: "print" is not a consumer group of the run (the groups are print-1, print-2; a group with copies is NAME-1, NAME-2, ...)`},
	{"member beyond the group", "name: x\ntopic: {partitions: 3}\nconsumers: [{name: counting, members: 3}]\nfaults:\n  - {action: kill, target: {broker: 1}, at: {visit: 1}}\n  - {action: kill, target: {consumer: counting, member: 4}, at: {visit: 1}}\n",
		"faults[1].target.member: 4 is not a member of consumer group counting (it has 3: 1 to 3)"},
	{"broker 4", "name: x\nfaults: [{action: kill, target: {broker: 4}, at: {visit: 1}}]\n",
		"faults[0].target.broker: 4 is not a broker: use 1 to 3 (the testbed's Kafka brokers)"},
	{"filter group without filters", "name: x\nfaults: [{action: kill, target: {filter-group: 1}, at: {visit: 1}}]\n",
		"faults[0].target.filter-group: 1: the run has no filter groups (filters.groups is 0)"},
	{"filter group beyond the groups", "name: x\nfilters: {groups: 2}\nfaults: [{action: kill, target: {filter-group: 3}, at: {visit: 1}}]\n",
		"faults[0].target.filter-group: 3 is not a filter group: use 1 to 2 (filters.groups)"},
	{"producer beyond the producers", "name: x\nproducers: 2\nfaults: [{action: kill, target: {producer: 3}, at: {visit: 1}}]\n",
		"faults[0].target.producer: 3 is not a producer: use 1 to 2 (producers)"},
	{"negative worker", "name: x\nfaults: [{action: drain, target: {worker: -1}, at: {visit: 1}}]\n",
		"faults[0].target.worker: must be at least 1, got -1"},
	{"drain of a broker", "name: x\nfaults: [{action: drain, target: {broker: 1}, at: {visit: 1}}]\n",
		"faults[0].target: drain acts on a worker node, not on broker 1: use worker: N, or kill, pause or partition for a task"},
	{"kill of a worker", "name: x\nfaults: [{action: kill, target: {worker: 2}, at: {visit: 1}}]\n",
		"faults[0].target: kill acts on a task's container, not on a node (worker 2): use drain or partition for a node"},
	{"pause of a worker", "name: x\nfaults: [{action: pause, target: {worker: 2}, at: {visit: 1}, duration: 5s}]\n",
		"faults[0].target: pause acts on a task's container, not on a node (worker 2): use drain or partition for a node"},
	{"visit 0", "name: x\nfaults: [{action: kill, target: {broker: 1}}]\n",
		"faults[0].at.visit: 0 is not a visit of the run: use 1 to 10 (visits)"},
	{"visit beyond the run", "name: x\nvisits: 3\nfaults: [{action: kill, target: {broker: 1}, at: {visit: 4}}]\n",
		"faults[0].at.visit: 4 is not a visit of the run: use 1 to 3 (visits)"},
	{"after a whole interval", "name: x\nfaults: [{action: kill, target: {broker: 1}, at: {visit: 1, after: 39s}}]\n",
		"faults[0].at.after: 39s is not within the visit: use 0s or more, less than visit_interval 39s"},
	{"negative after", "name: x\nfaults: [{action: kill, target: {broker: 1}, at: {visit: 1, after: -1s}}]\n",
		"faults[0].at.after: -1s is not within the visit: use 0s or more, less than visit_interval 39s"},
	{"after not a duration", "name: x\nfaults: [{action: kill, target: {broker: 1}, at: {visit: 1, after: 5}}]\n",
		"faults[0].at.after: 5 is not a duration: write a number with a unit, e.g. 39s, 1m30s, 500ms"},
	{"kill with a duration", "name: x\nfaults: [{action: kill, target: {broker: 1}, at: {visit: 1}, duration: 5s}]\n",
		"faults[0].duration: kill is an instant: leave duration out"},
	{"pause without a duration", "name: x\nfaults: [{action: pause, target: {broker: 1}, at: {visit: 1}}]\n",
		"faults[0].duration: required with pause: how long the fault lasts, more than 0s, got 0s"},
	{"negative drain", "name: x\nfaults: [{action: drain, target: {worker: 1}, at: {visit: 1}, duration: -5s}]\n",
		"faults[0].duration: must be more than 0s, or left out to drain until the run ends, got -5s"},
	{"fault past the run's end", "name: x\nvisits: 3\nfaults: [{action: partition, target: {broker: 2}, at: {visit: 3, after: 10s}, duration: 30s}]\n",
		"faults[0].duration: the fault would end at T0 + 1m58s (it starts at T0 + 1m28s and lasts 30s), after the run's end at T0 + 1m57s (3 visits x 39s): shorten it to at most 29s"},
	{"netem without slow-network", "name: x\nfaults: [{action: pause, target: {broker: 1}, at: {visit: 1}, duration: 5s, netem: {delay: 1s}}]\n",
		"faults[0].netem: only with action slow-network, not pause: leave it out"},
	{"slow-network without netem", "name: x\nfaults: [{action: slow-network, target: {broker: 1}, at: {visit: 1}, duration: 5s}]\n",
		"faults[0].netem: required with slow-network: {delay: 200ms, jitter: 50ms, loss: 1.5}"},
	{"netem jitter above delay", "name: x\nfaults: [{action: slow-network, target: {broker: 1}, at: {visit: 1}, duration: 5s, netem: {delay: 10ms, jitter: 20ms}}]\n",
		"faults[0].netem.jitter: 20ms is more than netem.delay 10ms: the jitter varies the delay, so at most the delay"},
	{"netem negative delay", "name: x\nfaults: [{action: slow-network, target: {broker: 1}, at: {visit: 1}, duration: 5s, netem: {delay: -10ms}}]\n",
		"faults[0].netem.delay: must not be negative, got -10ms"},
	{"netem loss over 100", "name: x\nfaults: [{action: slow-network, target: {broker: 1}, at: {visit: 1}, duration: 5s, netem: {loss: 101}}]\n",
		"faults[0].netem.loss: 101 is not a percentage: use 0 to 100"},
	{"netem that slows nothing", "name: x\nfaults: [{action: slow-network, target: {broker: 1}, at: {visit: 1}, duration: 5s, netem: {jitter: 0s}}]\n",
		"faults[0].netem: delay 0s and loss 0 slow nothing: give a delay, a loss or both"},
	{"netem loss not a number", "name: x\nfaults: [{action: slow-network, target: {broker: 1}, at: {visit: 1}, duration: 5s, netem: {loss: 1.5%}}]\n",
		`faults[0].netem.loss: "1.5%" is not a number`},
	{"fault in one run of a sweep", "name: x\nvisits: [2, 3]\nfaults: [{action: kill, target: {broker: 1}, at: {visit: 3}}]\n",
		"faults[0].at.visit: 3 is not a visit of the run: use 1 to 2 (visits) (in sweep run x-visits-2)"},
	{"faults not a list", "name: x\nfaults: {action: kill}\n",
		"faults: want a list of mappings of action, target, at, duration, netem, got a mapping"},

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

// writeOCF writes n generated alerts to an Avro object container file.
func writeOCF(t *testing.T, path string, n int) {
	t.Helper()
	writeVisitsOCF(t, path, make([]int, n))
}

// writeVisitsOCF writes one generated alert per entry of visits, of that
// visit: alerts of one visit share its midpointMjdTai, 39 s after the
// visit before.
func writeVisitsOCF(t *testing.T, path string, visits []int) {
	t.Helper()
	g, err := alert.NewGenerator(alert.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var alerts []map[string]any
	for seq, v := range visits {
		alerts = append(alerts, g.Alert(alert.ID{Visit: v, Seq: seq}))
	}
	if err := alert.WriteOCF(f, alerts); err != nil {
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
	writeOCF(t, avro, 2)
	runs, err := Load(exp)
	if err != nil {
		t.Fatalf("replay of an Avro file: %v", err)
	}
	if runs[0].Alert.Replay != avro {
		t.Errorf("Alert.Replay = %q, want the absolute path %q", runs[0].Alert.Replay, avro)
	}

	if runs[0].Alert.ReplayMode != "infinite" || runs[0].Visits != DefaultVisits {
		t.Errorf("replay mode %q, %d visits; want infinite by default, the default visits", runs[0].Alert.ReplayMode, runs[0].Visits)
	}

	// A single pass has the visits its file fills: 5 alerts at 2 a
	// visit are 3, and the run timeout follows them.
	writeOCF(t, avro, 5)
	writeFile(t, exp, []byte("name: x\nalerts_per_visit: 2\nvisit_interval: 10s\nalert: {replay: data/alerts.avro, replay_mode: single-pass}\n"))
	runs, err = Load(exp)
	if err != nil {
		t.Fatalf("single pass: %v", err)
	}
	if runs[0].Visits != 3 || runs[0].Limits.RunTimeout != 30*time.Second+DefaultRunSlack {
		t.Errorf("single pass of 5 alerts at 2 a visit: %d visits, run timeout %s; want 3, %s", runs[0].Visits, runs[0].Limits.RunTimeout, 30*time.Second+DefaultRunSlack)
	}
	for _, c := range []struct{ file, err string }{
		{"name: x\nvisits: 4\nalerts_per_visit: 2\nalert: {replay: data/alerts.avro, replay_mode: single-pass}\n",
			"visits: 4, but a single pass (alert.replay_mode) of the 5 alerts of " + avro + " at alerts_per_visit 2 is 3 visits: leave visits out, or use alert.replay_mode infinite"},
		{"name: x\nalert: {replay: data/alerts.avro, replay_mode: twice}\n",
			`alert.replay_mode: "twice" is not infinite (the file over and over, each pass's alert ids and times shifted) or single-pass (the file once)`},
		{"name: x\nalert: {replay_mode: single-pass}\n", "alert.replay_mode: has no effect without alert.replay: leave it out"},
		{"name: x\nalerts_per_visit: 4\nproducers: 2\npacing: {model: ccd-bursts, bursts: 2, burst_min: 2, burst_max: 2, burst_mean: 2}\nalert: {replay: data/alerts.avro, replay_mode: single-pass}\n",
			"alert.replay_mode: the last visit of the single pass has the file's last 1 alerts, which pacing ccd-bursts cannot send (alerts_per_visit: 1 is impossible with 2 bursts of 2 to 2 alerts: must be between 4 and 4): choose alerts_per_visit so that it divides 5"},
	} {
		writeFile(t, exp, []byte(c.file))
		if _, err := Load(exp); err == nil || err.Error() != exp+": "+c.err {
			t.Errorf("%s: error\n got: %v\nwant: %s", c.file, err, exp+": "+c.err)
		}
	}

	// A size has no effect on replayed alerts.
	writeFile(t, exp, []byte("name: x\nalert: {replay: data/alerts.avro, size: 5000}\n"))
	_, err = Load(exp)
	want = exp + ": alert.size: has no effect with alert.replay (replayed alerts keep their size): leave it out"
	if err == nil || err.Error() != want {
		t.Errorf("size with replay: error\n got: %v\nwant: %s", err, want)
	}
}

// alert.replay_pacing observed: one visit per exposure, at the alerts'
// own times (the testbed's schema: diaSource.midpointMjdTai, 39 s a
// visit), sped up and with long gaps shortened; every setting that does
// not fit fails naming its field.
func TestReplayObserved(t *testing.T) {
	dir := t.TempDir()
	exp := filepath.Join(dir, "exp.yaml")
	avro := filepath.Join(dir, "alerts.avro")
	// Exposures of visits 0, 1, 3 and 100 (39 s apart each), out of order
	// in the file: 2 alerts, 1, 3 and 1.
	writeVisitsOCF(t, avro, []int{1, 0, 3, 3, 0, 100, 3})
	writeFile(t, exp, []byte("name: x\nvisit_interval: 20s\nalert: {replay: alerts.avro, replay_mode: single-pass, replay_pacing: observed, replay_speedup: 1.5, replay_max_gap: 60s}\n"))
	runs, err := Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	e := runs[0]
	want := []pacing.Slot{{Offset: 0, Alerts: 2}, {Offset: 26 * time.Second, Alerts: 1}, {Offset: 78 * time.Second, Alerts: 3}, {Offset: 138 * time.Second, Alerts: 1}}
	if !reflect.DeepEqual(e.Slots, want) {
		t.Fatalf("slots %v, want %v", e.Slots, want)
	}
	if e.Visits != 4 || e.AlertsPerVisit != 3 || e.TotalAlerts() != 7 || e.Duration() != 158*time.Second ||
		e.Limits.RunTimeout != 158*time.Second+DefaultRunSlack || e.Alert.ReplayTimeField != "diaSource.midpointMjdTai" {
		t.Errorf("visits %d, alerts per visit %d, total %d, duration %s, run timeout %s, field %s", e.Visits, e.AlertsPerVisit, e.TotalAlerts(), e.Duration(), e.Limits.RunTimeout, e.Alert.ReplayTimeField)
	}
	if e.Observed == nil || !reflect.DeepEqual(e.Observed.Order, []int{1, 4, 0, 2, 3, 6, 5}) {
		t.Errorf("observed %+v: want the order that sorts the file by time", e.Observed)
	}
	s := e.String()
	for _, w := range []string{
		"visits:    4 exposures of 1-3 alerts (7 in all) at their observed times (diaSource.midpointMjdTai), 1 producer",
		"1.5 times as fast as observed, 1 gap shortened to 1m0s: the last at T0 + 2m18s, then 20s to the end (2m38s)",
		"replayed from " + avro + " (single-pass, observed pacing)",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("summary lacks %q:\n%s", w, s)
		}
	}
	// The archive's experiment.yaml loads back as the same run.
	out, err := yaml.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out, exp)
	if err != nil || !reflect.DeepEqual(back[0].Slots, e.Slots) || back[0].Visits != e.Visits {
		t.Fatalf("written and read back: %v, %+v\n%s", err, back, out)
	}

	// A fault is placed in its exposure's own visit.
	writeFile(t, exp, []byte("name: x\nalert: {replay: alerts.avro, replay_mode: single-pass, replay_pacing: observed}\nfaults: [{action: kill, target: {broker: 1}, at: {visit: 3, after: 5s}}]\n"))
	runs, err = Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	if got := runs[0].FaultStart(0); got != 122*time.Second {
		t.Errorf("fault at visit 3 + 5 s starts at T0 + %s, want 2m2s (visit 3 at 117 s)", got)
	}

	base := "name: x\nalert: {replay: alerts.avro, replay_mode: single-pass, replay_pacing: observed"
	for _, c := range []struct{ file, err string }{
		{"name: x\nalert: {replay: alerts.avro, replay_pacing: observed}\n",
			"alert.replay_pacing: observed paces a single pass of the file (its times happened once): set alert.replay_mode single-pass, or use replay_pacing experiment"},
		{"name: x\nalert: {replay: alerts.avro, replay_pacing: sky}\n",
			`alert.replay_pacing: "sky" is not experiment (the experiment's pacing and visits) or observed (one visit per exposure, at the alerts' own observation times)`},
		{"name: x\nalert: {replay_pacing: observed}\n", "alert.replay_pacing: has no effect without alert.replay: leave it out"},
		{"name: x\nalert: {replay: alerts.avro, replay_speedup: 2}\n", "alert.replay_speedup: has no effect without alert.replay_pacing observed: leave it out"},
		{"name: x\nalert: {replay: alerts.avro, replay_mode: single-pass, replay_max_gap: 1m}\n", "alert.replay_max_gap: has no effect without alert.replay_pacing observed: leave it out"},
		{"name: x\nalert: {replay_time_field: candidate.jd}\n", "alert.replay_time_field: has no effect without alert.replay_pacing observed: leave it out"},
		{base + ", replay_speedup: 0}\n", "alert.replay_speedup: must be a positive number (2: exposures twice as close as observed), got 0"},
		{base + ", replay_speedup: .inf}\n", "alert.replay_speedup: must be a positive number (2: exposures twice as close as observed), got +Inf"},
		{base + ", replay_max_gap: -1s}\n", "alert.replay_max_gap: must be 0s (no gap shortened) or more, got -1s"},
		{base + ", replay_time_field: candidate.jd}\n", "alert.replay_time_field: alert: replay " + avro + ": the alert has no field candidate (it has alertId, diaSource, prvDiaSources, prvDiaForcedSources, diaObject, cutoutDifference, cutoutScience, cutoutTemplate)"},
		{base + ", replay_time_field: diaSource.band}\n", "alert.replay_time_field: alert: replay " + avro + `: diaSource.band is "string", not an observation time: name a double or float in days (MJD or JD) or a long of logical type timestamp-millis or timestamp-micros`},
		{base + "}\nvisits: 3\n", "visits: 3, but " + avro + " holds 4 exposures (distinct diaSource.midpointMjdTai), each one visit with replay_pacing observed: leave visits out"},
		{base + "}\nalerts_per_visit: 3\n", "alerts_per_visit: has no effect with alert.replay_pacing observed (each visit is one exposure of the file, with its own alerts): leave it out"},
		{base + "}\npacing: {model: rate, rate: 0.05}\n", "pacing.model: rate cannot send the file's exposures at their times: visit 1 of the schedule (2 alerts, 39s to the next): rate: 0.05 alerts/s takes 40s to send 2 alerts, longer than the interval 39s: must be at least 0.06 alerts/s; use pacing model visit (each exposure at its time), or a smaller alert.replay_speedup (exposures further apart)"},
		{base + "}\nfaults: [{action: kill, target: {broker: 1}, at: {visit: 1, after: 40s}}]\n", "faults[0].at.after: 40s is not within visit 1: use 0s or more, less than its 39s to the next exposure's start (alert.replay_pacing observed)"},
		{base + "}\nlimits: {run_timeout: 5m}\n", "limits.run_timeout: 5m0s is shorter than the run: the last of 4 exposures at T0 + 6m57s, + visit_interval 39s = 7m36s"},
	} {
		writeFile(t, exp, []byte(c.file))
		if _, err := Load(exp); err == nil || err.Error() != exp+": "+c.err {
			t.Errorf("%s: error\n got: %v\nwant: %s", c.file, err, exp+": "+c.err)
		}
	}
}

// alert.schema: a file's schema is taken from the experiment's folder and
// must be one the generator can fill; Rubin's take their schema ids from
// their version; a schema has no effect on replayed alerts.
func TestAlertSchema(t *testing.T) {
	dir := t.TempDir()
	exp := filepath.Join(dir, "exp.yaml")
	writeFile(t, exp, []byte("name: x\nalert: {schema: s/a.avsc}\n"))
	_, err := Load(exp)
	want := exp + ": alert.schema: open " + filepath.Join(dir, "s", "a.avsc") + ": no such file or directory (a relative path is taken from the experiment file's folder)"
	if err == nil || err.Error() != want {
		t.Errorf("missing schema file: error\n got: %v\nwant: %s", err, want)
	}
	avsc := filepath.Join(dir, "s", "a.avsc")
	if err := os.Mkdir(filepath.Dir(avsc), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, avsc, []byte(`{"type": "record", "name": "a", "fields": [{"name": "src", "type": "ns.Source"}]}`))
	_, err = Load(exp)
	want = exp + ": alert.schema: " + avsc + `: field src: type "ns.Source" is used but not defined (a self-contained Avro record schema is needed: every named type defined where it is first used)`
	if err == nil || err.Error() != want {
		t.Errorf("schema not self-contained: error\n got: %v\nwant: %s", err, want)
	}
	writeFile(t, avsc, []byte(`{"type": "record", "name": "a", "namespace": "ns", "fields": [{"name": "alertId", "type": "long"}, {"name": "ra", "type": "double"}]}`))
	runs, err := Load(exp)
	if err != nil || runs[0].Alert.Schema != avsc || runs[0].Alert.SchemaID != DefaultSchemaID {
		t.Errorf("a good schema file: %v, %+v", err, runs)
	}
	for name, id := range map[string]int{"rubin": 1101, "rubin-7.4": 704, "testbed": 1} {
		writeFile(t, exp, []byte("name: x\nalert: {schema: "+name+"}\n"))
		if runs, err := Load(exp); err != nil || runs[0].Alert.SchemaID != id {
			t.Errorf("alert.schema %s: %v, schema id %d, want %d", name, err, runs[0].Alert.SchemaID, id)
		}
	}
	writeFile(t, exp, []byte("name: x\nalert: {schema: rubin-7.4, schema_id: 3}\n"))
	if runs, err := Load(exp); err != nil || runs[0].Alert.SchemaID != 3 {
		t.Errorf("alert.schema_id given: %v, %+v", err, runs)
	}
	writeOCF(t, filepath.Join(dir, "alerts.avro"), 1)
	writeFile(t, exp, []byte("name: x\nalert: {replay: alerts.avro, schema: rubin}\n"))
	_, err = Load(exp)
	want = exp + ": alert.schema: has no effect with alert.replay (replayed alerts keep their file's schema): leave it out"
	if err == nil || err.Error() != want {
		t.Errorf("schema with replay: error\n got: %v\nwant: %s", err, want)
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

// A file of several documents is several experiments, in file order;
// errors name the document.
func TestSeveralDocuments(t *testing.T) {
	runs, err := Parse([]byte("name: a\nproducers: [1, 2]\n---\nname: b\n---\n# trailing\n"), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Name+"@"+r.File)
	}
	if got := strings.Join(names, " "); got != "a-producers-1@f.yaml (document 1) a-producers-2@f.yaml (document 1) b@f.yaml (document 2)" {
		t.Errorf("runs: %s", got)
	}
	for _, c := range []struct{ yaml, want string }{
		{"name: x\n---\nname: x\n", "f.yaml (document 2): name: a run named x is already in f.yaml (document 1): give each document its own name"},
		{"name: x\n---\nname: y\nvisits: 0\n", "f.yaml (document 2): visits: "},
		{"name: x\n---\nname: y\nnosuch: 1\n", "f.yaml (document 2): nosuch: "},
	} {
		_, err := Parse([]byte(c.yaml), "f.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q...", c.yaml, err, c.want)
		}
	}
}
