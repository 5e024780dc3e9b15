// Package kafka checks the health of a testbed's Kafka cluster: the KRaft
// quorum (through the brokers' own kafka-metadata-quorum tool, run in a
// broker container through its node's Docker API) and a produce/consume
// round trip from the host with IBM/sarama.
package kafka

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// Voter is one row of `kafka-metadata-quorum describe --replication`.
type Voter struct {
	NodeID int
	Lag    int64
	Status string // Leader, Follower, Observer
}

// ParseReplication reads the table that `kafka-metadata-quorum.sh describe
// --replication` prints. Columns are found by their header names, which
// differ between Kafka versions (4.x adds DirectoryId).
func ParseReplication(out string) ([]Voter, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	col := map[string]int{}
	var voters []Voter
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if fields[0] == "NodeId" {
			for i, f := range fields {
				col[f] = i
			}
			continue
		}
		if len(col) == 0 {
			continue // log lines before the table
		}
		idCol, okID := col["NodeId"]
		lagCol, okLag := col["Lag"]
		stCol, okSt := col["Status"]
		if !okID || !okLag || !okSt {
			return nil, fmt.Errorf("quorum table header lacks NodeId, Lag or Status: %v", col)
		}
		if len(fields) <= stCol || len(fields) <= lagCol {
			return nil, fmt.Errorf("short quorum table row %q", sc.Text())
		}
		id, err := strconv.Atoi(fields[idCol])
		if err != nil {
			return nil, fmt.Errorf("quorum table row %q: node id: %v", sc.Text(), err)
		}
		lag, err := strconv.ParseInt(fields[lagCol], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("quorum table row %q: lag: %v", sc.Text(), err)
		}
		voters = append(voters, Voter{NodeID: id, Lag: lag, Status: fields[stCol]})
	}
	if len(col) == 0 {
		return nil, fmt.Errorf("no quorum table in output: %q", strings.TrimSpace(out))
	}
	sort.Slice(voters, func(i, j int) bool { return voters[i].NodeID < voters[j].NodeID })
	return voters, nil
}

// MaxVoterLag is how many metadata records a voter may trail the leader
// and still count as in the quorum (the leader appends a record every
// half second even when idle).
const MaxVoterLag = 100

// CheckQuorum says whether ids 1..brokers are all voters in the quorum,
// exactly one of them the leader, each within MaxVoterLag of it.
func CheckQuorum(voters []Voter, brokers int) error {
	seen := map[int]Voter{}
	leaders := 0
	for _, v := range voters {
		if v.Status == "Leader" || v.Status == "Follower" {
			seen[v.NodeID] = v
			if v.Status == "Leader" {
				leaders++
			}
		}
	}
	var problems []string
	for id := 1; id <= brokers; id++ {
		v, ok := seen[id]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("broker %d is not a voter", id))
		case v.Lag > MaxVoterLag:
			problems = append(problems, fmt.Sprintf("broker %d lags %d records", id, v.Lag))
		}
	}
	if leaders != 1 {
		problems = append(problems, fmt.Sprintf("%d leaders", leaders))
	}
	if len(problems) > 0 {
		return fmt.Errorf("KRaft quorum not healthy: %s", strings.Join(problems, ", "))
	}
	return nil
}

// DescribeQuorum runs kafka-metadata-quorum in the container of the swarm
// service `service` on the node whose Docker API is api.
func DescribeQuorum(ctx context.Context, api *client.Client, service string) ([]Voter, error) {
	cs, err := api.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name="+service),
		filters.Arg("status", "running"))})
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("no running container of %s", service)
	}
	out, err := Exec(ctx, api, cs[0].ID, "/opt/kafka/bin/kafka-metadata-quorum.sh", "--bootstrap-server", "localhost:19092", "describe", "--replication")
	if err != nil {
		return nil, err
	}
	return ParseReplication(out)
}

// Exec runs a command in a container and returns its standard output; a
// non-zero exit is an error carrying standard error.
func Exec(ctx context.Context, api *client.Client, containerID string, cmd ...string) (string, error) {
	ex, err := api.ContainerExecCreate(ctx, containerID, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return "", fmt.Errorf("exec %s: %w", cmd[0], err)
	}
	att, err := api.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return "", fmt.Errorf("exec %s: %w", cmd[0], err)
	}
	defer att.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader); err != nil {
		return "", fmt.Errorf("exec %s: %w", cmd[0], err)
	}
	st, err := api.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		return "", err
	}
	if st.ExitCode != 0 {
		return stdout.String(), fmt.Errorf("%s exited %d: %s", cmd[0], st.ExitCode, lastLines(stderr.String(), 5))
	}
	return stdout.String(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
