package kafka

import (
	"strings"
	"testing"
)

// Output of Kafka 4.x `kafka-metadata-quorum.sh describe --replication`.
const replication4 = `NodeId  DirectoryId             LogEndOffset  Lag  LastFetchTimestamp  LastCaughtUpTimestamp  Status
2       pM2Ey0rqQ0eaKUZV2GaTfA  1254          0    1763787230000       1763787230000          Leader
1       oK_5jJH2Qa6WkSKUiP_MZw  1254          0    1763787229900       1763787229900          Follower
3       yUd5XdgxSyiMlmSVEsOxLQ  1250          4    1763787229800       1763787229800          Follower
`

func TestParseReplicationAndHealthyQuorum(t *testing.T) {
	v, err := ParseReplication(replication4)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 3 || v[0].NodeID != 1 || v[1].Status != "Leader" || v[2].Lag != 4 {
		t.Fatalf("parsed %+v", v)
	}
	if err := CheckQuorum(v, 3); err != nil {
		t.Fatalf("healthy quorum rejected: %v", err)
	}
}

func TestCheckQuorumProblems(t *testing.T) {
	missing := strings.Replace(replication4, "Follower\n3", "Observer\n3", 1) // broker 1 an observer
	v, err := ParseReplication(missing)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckQuorum(v, 3); err == nil || err.Error() != "KRaft quorum not healthy: broker 1 is not a voter" {
		t.Fatalf("got %v", err)
	}
	lagging := strings.Replace(replication4, "1250          4", "1000          254", 1)
	v, _ = ParseReplication(lagging)
	if err := CheckQuorum(v, 3); err == nil || err.Error() != "KRaft quorum not healthy: broker 3 lags 254 records" {
		t.Fatalf("got %v", err)
	}
	noLeader := strings.Replace(replication4, "Leader", "Follower", 1)
	v, _ = ParseReplication(noLeader)
	if err := CheckQuorum(v, 3); err == nil || err.Error() != "KRaft quorum not healthy: 0 leaders" {
		t.Fatalf("got %v", err)
	}
}

func TestParseReplicationNoTable(t *testing.T) {
	if _, err := ParseReplication("Error while executing: timeout\n"); err == nil {
		t.Fatal("output without a table accepted")
	}
}
