package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/alert-testbed/testbed/internal/pricing"
	"testing"
)

// A good experiment file, and the bad ones of the table below: written to
// the test's working folder, named there as given on the command line.
const goodExperiment = "name: good\nvisits: 2\nvisit_interval: 10s\nalerts_per_visit: 100\n"

var badExperiments = map[string]string{
	"unknown-field.yaml":   "name: x\nvisit: 3\n",
	"syntax.yaml":          "name: x\n  visits: 3\n",
	"empty.yaml":           "",
	"two-docs.yaml":        "name: x\n---\nname: x\n",
	"bad-name.yaml":        "name: Scaling_1\n",
	"zero-visits.yaml":     "name: x\nvisits: 0\n",
	"size-at-max.yaml":     "name: x\nalert: {size: 1000000}\n",
	"max-message.yaml":     "name: x\nkafka: {max_message_bytes: 2000000}\n",
	"retries.yaml":         "name: x\nkafka: {retries: -1}\n",
	"backoff.yaml":         "name: x\nkafka: {retry_backoff: 0s}\n",
	"delivery.yaml":        "name: x\nkafka: {delivery_timeout: 10s}\n",
	"duplicates.yaml":      "name: x\nexpect: {duplicates: -1}\n",
	"needs-swept.yaml":     "name: x\nneeds: [a, b]\n",
	"fault-action.yaml":    "name: x\nfaults: [{action: reboot, target: {broker: 1}, at: {visit: 1}}]\n",
	"fault-swept.yaml":     "name: x\nfaults: [{action: [kill, pause], target: {broker: 1}, at: {visit: 1}}]\n",
	"fault-member.yaml":    "name: x\ntopic: {partitions: 3}\nconsumers: [{name: counting, members: 3}]\nfaults:\n  - {action: kill, target: {broker: 1}, at: {visit: 1}}\n  - {action: kill, target: {consumer: counting, member: 4}, at: {visit: 1}}\n",
	"fault-targets.yaml":   "name: x\nfaults: [{action: kill, target: {broker: 1, producer: 1}, at: {visit: 1}}]\n",
	"fault-drain.yaml":     "name: x\nfaults: [{action: drain, target: {broker: 1}, at: {visit: 1}}]\n",
	"fault-worker.yaml":    "name: x\nfaults: [{action: kill, target: {worker: 2}, at: {visit: 1}}]\n",
	"fault-end.yaml":       "name: x\nvisits: 3\nfaults: [{action: partition, target: {broker: 2}, at: {visit: 3, after: 10s}, duration: 30s}]\n",
	"fault-netem.yaml":     "name: x\nfaults: [{action: slow-network, target: {broker: 1}, at: {visit: 1}, duration: 5s}]\n",
	"fault-visit.yaml":     "name: x\nfaults: [{action: kill, target: {broker: 1}, at: {visit: 11}}]\n",
	"long-group.yaml":      "name: x\nconsumers: [{name: " + strings.Repeat("g", 30) + "}]\n",
	"filters-kafka.yaml":   "name: x\nfilters:\n  groups: 1\n  filters_per_group: 2\n  expressions: [{name: a.b, expr: diaSource.snr > 5}, {name: a_b, expr: diaSource.snr > 6}]\n",
	"filters-service.yaml": "name: x\nfilters:\n  groups: 1\n  filters_per_group: 2\n  end_users: 1\n  expressions: [{name: My.Filter, expr: diaSource.snr > 5}, {name: my_filter, expr: diaSource.snr > 6}]\n",
	"internal-topic.yaml":  "name: x\ntopic: {name: __consumer_offsets}\n",
	"dotdot-topic.yaml":    "name: x\ntopic: {name: ..}\n",
	"replication.yaml":     "name: x\ntopic: {replication_factor: 4}\n",
	"nobody-reads.yaml":    "name: x\nconsumers: []\n",
	"mode.yaml":            "name: x\nconsumers: [{name: c, mode: fast}]\n",
}

// badInputs are command lines that must fail at once, before anything is
// created, each with its exact standard error.
type badInput struct {
	name string
	args []string
	want string // standard error, without the "testbed: " prefix and newline
	bug  string // a known bug outside cmd/testbed's tests: the row is skipped, saying why
}

// nameRule is what topology.ValidateName says is allowed: terraform/local's
// and terraform/aws's rule for var.name.
const nameRule = "use 2 to 20 characters, lower-case letters, digits and '-', starting with a letter and not ending with '-'"

// badNames are --name values no testbed can have: "" would make down remove
// every testbed's state (TESTBED_HOME/testbeds) and ".." the whole
// workspace, were they not refused first.
var badNames = []string{"a/b", "..", "", "A", "-x", strings.Repeat("a", 64)}

// badNameInputs gives each bad name to every command that takes --name.
func badNameInputs() []badInput {
	var rows []badInput
	for _, cmd := range [][]string{{"up"}, {"down"}, {"status"}, {"run"}} {
		for _, n := range badNames {
			args := append(append([]string{}, cmd...), "--name", n)
			if cmd[0] == "run" {
				args = append(args, "good.yaml")
			}
			rows = append(rows, badInput{fmt.Sprintf("%s --name %q", cmd[0], n), args,
				fmt.Sprintf("invalid --name %q: %s", n, nameRule), ""})
		}
	}
	return rows
}

var badInputs = append([]badInput{
	// Experiment files, by run --check and by run on a testbed that does
	// not exist (the files are checked first).
	{"unknown field", []string{"run", "--check", "unknown-field.yaml"},
		"unknown-field.yaml: visit: unknown field; did you mean visits? (allowed: name, description, needs, visits, visit_interval, alerts_per_visit, producers, alert, pacing, topic, consumers, external_consumers, filters, kafka, limits, faults, expect)", ""},
	{"YAML syntax", []string{"run", "--name", "no-such", "syntax.yaml"},
		"syntax.yaml: yaml: line 2: mapping values are not allowed in this context", ""},
	{"empty file", []string{"run", "--check", "empty.yaml"},
		"empty.yaml: empty file: want a mapping of experiment fields, at least a name", ""},
	{"two documents", []string{"run", "--name", "no-such", "two-docs.yaml"},
		"two-docs.yaml (document 2): name: a run named x is already in two-docs.yaml (document 1): give each document its own name", ""},
	{"bad name", []string{"run", "--check", "bad-name.yaml"},
		`bad-name.yaml: name: "Scaling_1" is not allowed: use lowercase letters, digits and '-', not at the start or end`, ""},
	{"zero visits in the file", []string{"run", "--name", "no-such", "zero-visits.yaml"},
		"zero-visits.yaml: visits: must be at least 1, got 0", ""},
	{"alert size equal to max_message_bytes", []string{"run", "--check", "size-at-max.yaml"},
		"size-at-max.yaml: alert.size: 1000000 bytes (a generated alert up to 1001000 bytes) plus 155 bytes of headers and 96 bytes of record overhead (as the Kafka client counts them) is 1001251 bytes, more than kafka.max_message_bytes 1000000: use alert.size at most 998749 or raise kafka.max_message_bytes", ""},
	{"max_message_bytes above the brokers'", []string{"run", "--check", "max-message.yaml"},
		"max-message.yaml: kafka.max_message_bytes: 2000000 is not between 1 and the brokers' message.max.bytes, 1048588", ""},
	{"negative retries", []string{"run", "--check", "retries.yaml"},
		"retries.yaml: kafka.retries: must be 0 (no retries) or more, got -1", ""},
	{"zero retry backoff", []string{"run", "--name", "no-such", "backoff.yaml"},
		"backoff.yaml: kafka.retry_backoff: must be more than 0s, got 0s", ""},
	{"delivery timeout too short", []string{"run", "--check", "delivery.yaml"},
		"delivery.yaml: kafka.delivery_timeout: 10s is less than kafka.linger 5ms + the request timeout 30s: Kafka requires delivery.timeout.ms >= linger.ms + request.timeout.ms; use at least 30.005s", ""},
	{"negative expected duplicates", []string{"run", "--check", "duplicates.yaml"},
		"duplicates.yaml: expect.duplicates: must be 0 (exactly once) or more, or left out (duplicates reported, not failing), got -1", ""},
	{"needs swept", []string{"run", "--check", "needs-swept.yaml"},
		"needs-swept.yaml: needs: a list here would be a sweep, but needs cannot be swept: give one value", ""},
	{"unknown fault action", []string{"run", "--check", "fault-action.yaml"},
		`fault-action.yaml: faults[0].action: "reboot" is not one of kill, restart, pause, partition, slow-network, drain`, ""},
	{"fault action swept", []string{"run", "--check", "fault-swept.yaml"},
		"fault-swept.yaml: faults[0].action: a list here would be a sweep, but faults[0].action cannot be swept: give one value", ""},
	{"fault member beyond the group", []string{"run", "--name", "no-such", "fault-member.yaml"},
		"fault-member.yaml: faults[1].target.member: 4 is not a member of consumer group counting (it has 3: 1 to 3)", ""},
	{"fault with two targets", []string{"run", "--check", "fault-targets.yaml"},
		"fault-targets.yaml: faults[0].target: broker 1 and producer 1: give one target, not broker and producer", ""},
	{"drain of a broker", []string{"run", "--check", "fault-drain.yaml"},
		"fault-drain.yaml: faults[0].target: drain acts on a worker node, not on broker 1: use worker: N, or kill, pause or partition for a task", ""},
	{"kill of a worker", []string{"run", "--check", "fault-worker.yaml"},
		"fault-worker.yaml: faults[0].target: kill acts on a task's container, not on a node (worker 2): use drain or partition for a node", ""},
	{"fault past the run's end", []string{"run", "--check", "fault-end.yaml"},
		"fault-end.yaml: faults[0].duration: the fault would end at T0 + 1m58s (it starts at T0 + 1m28s and lasts 30s), after the run's end at T0 + 1m57s (3 visits x 39s): shorten it to at most 29s", ""},
	{"slow-network without netem", []string{"run", "--check", "fault-netem.yaml"},
		"fault-netem.yaml: faults[0].netem: required with slow-network: {delay: 200ms, jitter: 50ms, loss: 1.5}", ""},
	{"fault after the last visit", []string{"run", "--check", "fault-visit.yaml"},
		"fault-visit.yaml: faults[0].at.visit: 11 is not a visit of the run: use 1 to 10 (visits)", ""},
	{"group name too long for a service name", []string{"run", "--check", "long-group.yaml"},
		`long-group.yaml: consumers[0].name: "` + strings.Repeat("g", 30) + `" makes the swarm service name "run-20261122-073256-9959-consumer-` + strings.Repeat("g", 30) + `" 64 characters long: at most 63 (shorten the name to at most 29 characters)`, ""},
	{"filter topics colliding in Kafka", []string{"run", "--check", "filters-kafka.yaml"},
		`filters-kafka.yaml: filters.expressions[1].name: "a_b" collides with filters.expressions[0].name "a.b": Kafka treats '.' and '_' in topic names as the same; rename one`, ""},
	{"filters making one service", []string{"run", "--name", "no-such", "filters-service.yaml"},
		`filters-service.yaml: filters.expressions[1].name: "my_filter" and filters.expressions[0].name "My.Filter" both make the end users' swarm service "run-20261122-073256-9959-enduser-my-filter" (names are lowercased, other characters than a-z and 0-9 made '-'): rename one`, ""},
	{"internal topic name", []string{"run", "--check", "internal-topic.yaml"},
		`internal-topic.yaml: topic.name: "__consumer_offsets" is not allowed: topic names starting with "__" are Kafka's internal topics`, ""},
	{"topic named ..", []string{"run", "--check", "dotdot-topic.yaml"},
		`dotdot-topic.yaml: topic.name: ".." is not a Kafka topic name: "." and ".." are not allowed`, ""},
	{"replication factor 4", []string{"run", "--check", "replication.yaml"},
		"replication.yaml: topic.replication_factor: 4 is not between 1 and 3 (the testbed's Kafka brokers)", ""},
	{"nobody reads", []string{"run", "--check", "nobody-reads.yaml"},
		"nobody-reads.yaml: consumers: no consumer groups and no filter groups (filters.groups): nothing would read the alerts", ""},
	{"unknown consumer mode", []string{"run", "--name", "no-such", "mode.yaml"},
		`mode.yaml: consumers[0].mode: "fast" is not one of count, print-every, drop`, ""},
	{"a bad file after a good one", []string{"run", "--name", "no-such", "good.yaml", "mode.yaml"},
		`mode.yaml: consumers[0].mode: "fast" is not one of count, print-every, drop`, ""},

	// run's own arguments.
	{"run --visits 0", []string{"run", "--check", "--visits", "0", "good.yaml"},
		"--visits: good.yaml: visits: must be at least 1, got 0", ""},
	{"run --visits -3", []string{"run", "--name", "no-such", "--visits", "-3", "good.yaml"},
		"--visits: good.yaml: visits: must be at least 1, got -3", ""},
	{"run without a file", []string{"run", "--check"},
		"no experiment file given: `testbed run experiments/ztf-scale.yaml` (files are in ./experiments)", ""},
	{"run of a missing file", []string{"run", "--check", "missing.yaml"},
		"missing.yaml: no such experiment file (the ready-made ones are in ./experiments)", ""},
	{"run of a folder", []string{"run", "--check", "folder"},
		"folder: a folder, not an experiment file: give the files in it (folder/*.yaml)", ""},
	{"run on a testbed that is not up", []string{"run", "--name", "no-such", "good.yaml"},
		"testbed \"no-such\" is not up: start it with `testbed up --name no-such`", ""},
	{"run --warm-up-rounds -1", []string{"run", "--name", "no-such", "--warm-up-rounds", "-1", "good.yaml"},
		"--warm-up-rounds -1: give the most warm-up rounds, 0 for none (default 8; the warm-up ends sooner once the brokers' JIT compilers settle)", ""},
	{"stream --warm-up-rounds -1", []string{"stream", "--name", "no-such", "--warm-up-rounds", "-1", "good.yaml"},
		"--warm-up-rounds -1: give the most warm-up rounds, 0 for none (default 8; the warm-up ends sooner once the brokers' JIT compilers settle)", ""},
	{"bench --warm-up-rounds -1", []string{"bench", "--name", "no-such", "--warm-up-rounds", "-1"},
		"--warm-up-rounds -1: give the most warm-up rounds, 0 for none (default 8; the warm-up ends sooner once the brokers' JIT compilers settle)", ""},
	{"run --warm-up-alerts 0", []string{"run", "--name", "no-such", "--warm-up-alerts", "0", "good.yaml"},
		"--warm-up-alerts 0: give the alerts of 136000 bytes each broker leads in a warm-up round, from 100 to 100000 (default 10000, an LSST visit)", ""},
	{"stream --warm-up-alerts 99", []string{"stream", "--name", "no-such", "--warm-up-alerts", "99", "good.yaml"},
		"--warm-up-alerts 99: give the alerts of 136000 bytes each broker leads in a warm-up round, from 100 to 100000 (default 10000, an LSST visit)", ""},
	{"bench --warm-up-alerts 100001", []string{"bench", "--name", "no-such", "--warm-up-alerts", "100001"},
		"--warm-up-alerts 100001: give the alerts of 136000 bytes each broker leads in a warm-up round, from 100 to 100000 (default 10000, an LSST visit)", ""},
	{"run --warm-up-alerts -5", []string{"run", "--name", "no-such", "--warm-up-alerts", "-5", "good.yaml"},
		"--warm-up-alerts -5: give the alerts of 136000 bytes each broker leads in a warm-up round, from 100 to 100000 (default 10000, an LSST visit)", ""},

	// up's flags.
	{"up --managers 2", []string{"up", "--name", "bad-up", "--managers", "2"},
		"invalid --managers 2: the Kafka stack runs 3 brokers, one per manager; use an odd number from 3 to 7", ""},
	{"up --managers 4", []string{"up", "--name", "bad-up", "--managers", "4"},
		"invalid --managers 4: a swarm needs an odd number of managers to keep a Raft majority; use an odd number from 3 to 7 (3 or 5)", ""},
	{"up --managers 1", []string{"up", "--name", "bad-up", "--managers", "1"},
		"invalid --managers 1: the Kafka stack runs 3 brokers, one per manager; use an odd number from 3 to 7", ""},
	{"up --managers 9", []string{"up", "--name", "bad-up", "--managers", "9"},
		"invalid --managers 9: more than 7 managers slow every swarm write and add no fault tolerance the testbed needs; use an odd number from 3 to 7", ""},
	{"up --workers -1", []string{"up", "--name", "bad-up", "--workers", "-1"},
		"invalid --workers -1: use a number from 0 to 100", ""},
	{"up --workers 101", []string{"up", "--name", "bad-up", "--workers", "101"},
		"invalid --workers 101: use a number from 0 to 100", ""},
	{"up --env gcp", []string{"up", "--name", "bad-up", "--env", "gcp"},
		`unknown --env "gcp": use "local" or "aws"`, ""},
	{"up --images foo", []string{"up", "--name", "bad-up", "--images", "foo"},
		`unknown --images "foo": use "auto" (upstream images where the nodes can pull from Docker Hub, else built here; the default), "offline" (build here) or "upstream" (nodes pull the upstream images from Docker Hub)`, ""},
	{"up --registry-mirror without a scheme", []string{"up", "--name", "bad-up", "--registry-mirror", "10.0.0.5:5000"},
		`invalid --registry-mirror "10.0.0.5:5000": use a registry's URL, http:// or https:// and a host[:port] with no path, e.g. http://10.0.0.5:5000`, ""},
	{"up --registry-mirror with a path", []string{"up", "--name", "bad-up", "--registry-mirror", "http://10.0.0.5:5000/v2/"},
		`invalid --registry-mirror "http://10.0.0.5:5000/v2/": use a registry's URL, http:// or https:// and a host[:port] with no path, e.g. http://10.0.0.5:5000`, ""},
	{"up --registry-mirror ftp", []string{"up", "--name", "bad-up", "--registry-mirror", "http://ok:1", "--registry-mirror", "ftp://m"},
		`invalid --registry-mirror "ftp://m": use a registry's URL, http:// or https:// and a host[:port] with no path, e.g. http://10.0.0.5:5000`, ""},
	{"up --env aws --registry-mirror", []string{"up", "--name", "bad-up", "--env", "aws", "--operator-cidr", "203.0.113.7/32", "--registry-mirror", "http://10.0.0.5:5000"},
		"--registry-mirror is for the local environment: aws nodes pull from the registries themselves", ""},
	{"up --env aws --images offline", []string{"up", "--name", "bad-up", "--env", "aws", "--operator-cidr", "203.0.113.7/32", "--images", "offline"},
		"--images offline is for the local environment: aws nodes pull the upstream images themselves (use --images upstream)", ""},
	{"up --env aws --manager-type unknown", []string{"up", "--name", "bad-up", "--env", "aws", "--operator-cidr", "203.0.113.7/32", "--manager-type", "m9.huge"},
		`--manager-type: instance type "m9.huge" is not in the price table (us-east-1, 2026-06): use one of ` + strings.Join(pricing.Types(), ", ") + ", or add its hourly price to internal/pricing", ""},
	{"up --env aws --expires-in negative", []string{"up", "--name", "bad-up", "--env", "aws", "--operator-cidr", "203.0.113.7/32", "--expires-in", "-1h"},
		"invalid --expires-in -1h0m0s: use a positive duration such as 8h", ""},

	// up on a testbed that exists (kept: local, 3 managers, 2 workers,
	// images auto, no mirror): what it keeps from its making.
	{"up kept --workers 3", []string{"up", "--name", "kept", "--workers", "3"},
		`testbed "kept" already exists with 3 managers and 2 workers; resizing is not supported: run ` + "`testbed down --name kept`" + ` first, or leave --managers and --workers out`, ""},
	{"up kept --env aws", []string{"up", "--name", "kept", "--env", "aws", "--operator-cidr", "203.0.113.7/32"},
		`testbed "kept" already exists in env local; run ` + "`testbed down --name kept`" + ` first, or leave --env out`, ""},
	{"up kept --images offline", []string{"up", "--name", "kept", "--images", "offline"},
		`testbed "kept" already exists with --images auto; run ` + "`testbed down --name kept`" + ` first, or leave --images out`, ""},
	{"up kept --registry-mirror", []string{"up", "--name", "kept", "--registry-mirror", "http://10.0.0.5:5000"},
		`testbed "kept" already exists with registry mirrors []; its nodes keep them: run ` + "`testbed down --name kept`" + ` first, or leave --registry-mirror out`, ""},
	{"up kept --retention bad", []string{"up", "--name", "kept", "--retention", "0d"},
		`invalid --retention "0d": use a Prometheus duration of more than 0, such as 15d, 12h or 1w (a whole number and a unit: ms, s, m, h, d, w or y; combined as in 1d12h)`, ""},
	{"up --docker-api tcp", []string{"up", "--name", "bad-up", "--docker-api", "tcp"},
		`unknown --docker-api "tcp": use "unix" (a socket per node, local only) or "ssh" (over SSH, as on aws)`, ""},
	{"up --name with capitals", []string{"up", "--name", "Bad_Name"},
		`invalid --name "Bad_Name": ` + nameRule, ""},
	{"up --env aws without --operator-cidr", []string{"up", "--name", "bad-up", "--env", "aws"},
		"--operator-cidr is required with --env aws: the only network SSH, Kafka's external listener, Prometheus and Grafana will be open to, e.g. 203.0.113.7/32 for your own address", ""},
	{"up --workers not a number", []string{"up", "--name", "bad-up", "--workers", "ten"},
		`invalid value "ten" for flag -workers: parse error`, ""},
	{"up --retention xyz", []string{"up", "--name", "bad-up", "--retention", "xyz"},
		`invalid --retention "xyz": use a Prometheus duration of more than 0, such as 15d, 12h or 1w (a whole number and a unit: ms, s, m, h, d, w or y; combined as in 1d12h)`, ""},
	{"up --retention 0s", []string{"up", "--name", "bad-up", "--retention", "0s"},
		`invalid --retention "0s": use a Prometheus duration of more than 0, such as 15d, 12h or 1w (a whole number and a unit: ms, s, m, h, d, w or y; combined as in 1d12h)`, ""},
	{"up --retention 1.5d", []string{"up", "--name", "bad-up", "--retention", "1.5d"},
		`invalid --retention "1.5d": use a Prometheus duration of more than 0, such as 15d, 12h or 1w (a whole number and a unit: ms, s, m, h, d, w or y; combined as in 1d12h)`, ""},

	// testbed report: what is not a run archive makes nothing (not the
	// -o folder either).
	{"report without archives", []string{"report"},
		"no archive given: `testbed report runs/<run-id>` makes a run's report again, `testbed report runs/A runs/B...` compares runs", ""},
	{"report of a missing folder", []string{"report", "no-such-run"}, "no-such-run: no such file or directory", ""},
	{"report of a file", []string{"report", "good.yaml"}, "good.yaml is a file; give a run's archive folder (runs/<run-id>/)", ""},
	{"report of a folder that is no archive", []string{"report", "folder", "-o", "out"},
		"folder is not a run archive: it has no run.json (archives are RUNS-DIR/<run-id>/, runs/ by default)", ""},
	{"report comparing folders that are no archives", []string{"report", "folder", "folder", "--by", "producers"},
		"folder is not a run archive: it has no run.json (archives are RUNS-DIR/<run-id>/, runs/ by default)", ""},
	{"report with an unknown flag after the folder", []string{"report", "folder", "--bogus"}, "flag --bogus is not one of this command's (see --help)", ""},
	{"report -o without a value", []string{"report", "folder", "-o"}, "flag -o needs a value", ""},

	// The name is checked before the files, even by run --check.
	{"run --check --name ..", []string{"run", "--check", "--name", "..", "good.yaml"},
		`invalid --name "..": ` + nameRule, ""},
	{"run --name '' with a bad file", []string{"run", "--name", "", "mode.yaml"},
		`invalid --name "": ` + nameRule, ""},
}, badNameInputs()...)

// Every bad input fails with its exact error and a non-zero exit, and
// nothing is created: no testbed folder under TESTBED_HOME, no runs
// folder. No Docker is needed: nothing gets that far.
func TestBadInputsCreateNothing(t *testing.T) {
	rows := 0
	for _, c := range badInputs {
		if c.bug == "" {
			rows++
		}
	}
	if rows < 78 {
		t.Fatalf("only %d bad inputs checked, want at least 78", rows)
	}
	bin := buildBinary(t)
	home := filepath.Join(t.TempDir(), "home")
	// Another testbed's saved state and the shared cache, which no bad
	// --name ("" is all of testbeds/, ".." the whole workspace) may touch.
	kept := filepath.Join(home, "testbeds", "kept", "settings.json")
	keptCache := filepath.Join(home, "cache", "kept")
	keptSettings := `{"env": "local", "managers": 3, "workers": 2, "images": "auto", "docker_api": "unix", "retention": "15d",
  "registry_host_port": 5999, "kafka_cluster_id": "kept", "grafana_password": "kept"}` + "\n"
	for f, data := range map[string]string{kept: keptSettings, keptCache: "{}\n"} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wd := t.TempDir()
	files := map[string]string{"good.yaml": goodExperiment}
	for name, data := range badExperiments {
		files[name] = data
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(wd, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(wd, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TESTBED_") {
			env = append(env, kv)
		}
	}
	env = append(env, "TESTBED_HOME="+home)

	for _, c := range badInputs {
		t.Run(c.name, func(t *testing.T) {
			if c.bug != "" {
				t.Skip("known bug: " + c.bug)
			}
			cmd := exec.Command(bin, c.args...)
			cmd.Dir, cmd.Env = wd, env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("testbed %q: exit 0 or not run (%v); stdout:\n%s", c.args, err, stdout.String())
			}
			want := "testbed: " + c.want + "\n"
			if got := stderr.String(); got != want {
				t.Errorf("testbed %q: exit %d, standard error\n%q\nwant\n%q", c.args, exit.ExitCode(), got, want)
			}
		})
	}

	for f, data := range map[string]string{kept: keptSettings, keptCache: "{}\n"} {
		if b, err := os.ReadFile(f); err != nil || string(b) != data {
			t.Errorf("bad inputs removed or changed %s: %v\n%s", f, err, b)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(home, "testbeds")); len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("bad inputs left testbed state behind in %s: %v, want only kept/", filepath.Join(home, "testbeds"), names)
	}
	for _, name := range []string{"bad-up", "no-such", "Bad_Name", "a"} {
		if _, err := os.Stat(filepath.Join(home, "testbeds", name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("testbed folder %s exists", name)
		}
	}
	if _, err := os.Stat(filepath.Join(wd, "runs")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bad inputs made %s", filepath.Join(wd, "runs"))
	}
	if _, err := os.Stat(filepath.Join(wd, ".testbed")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bad inputs made a workspace in the working folder")
	}
	entries, _ := os.ReadDir(wd)
	if len(entries) != len(files)+1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the working folder holds %v, want only the %d experiment files and folder/", names, len(files))
	}
}
