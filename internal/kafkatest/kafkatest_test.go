package kafkatest

import (
	"strings"
	"testing"
)

func TestClusterIDsNeverBeginWithADash(t *testing.T) {
	for i := 0; i < 2000; i++ {
		if id := ClusterID(); len(id) != 22 || strings.HasPrefix(id, "-") {
			t.Fatalf("cluster id %q", id)
		}
	}
}

// The Kafka image formats its storage with any valid cluster id, one
// beginning with '-' too (the storage tool once took it for an option).
func TestBrokerStartsWithAClusterIDBeginningWithADash(t *testing.T) {
	addr := StartWithClusterID(t, "-kVD7UP2gBoNP5S-Od_i8g")
	if addr == "" {
		t.Fatal("no address")
	}
}
