package images

import (
	"regexp"
	"strings"
	"testing"
)

func TestKafkaVersionMatchesPom(t *testing.T) {
	pom, err := buildFiles.ReadFile("kafka/pom.xml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<kafka.version>([^<]+)</kafka.version>`).FindSubmatch(pom)
	if m == nil {
		t.Fatal("kafka/pom.xml has no kafka.version property")
	}
	if string(m[1]) != KafkaVersion {
		t.Fatalf("kafka/pom.xml builds Kafka %s but KafkaVersion is %s", m[1], KafkaVersion)
	}
}

func TestPlannedRefsAreContentAddressed(t *testing.T) {
	a, b := Planned(), Planned()
	if a != b {
		t.Fatalf("Planned() not stable: %+v vs %+v", a, b)
	}
	seen := map[string]bool{}
	for _, img := range a.All() {
		if !regexp.MustCompile(`^testbed/[a-z-]+:[0-9a-f]{12}$`).MatchString(img.Ref) {
			t.Errorf("image ref %q is not testbed/NAME:HASH12", img.Ref)
		}
		if seen[img.Ref] {
			t.Errorf("two images share %s", img.Ref)
		}
		seen[img.Ref] = true
	}
	// Changing any input changes the tag.
	if ref("kafka", javaBase.hash(), dirHash("kafka")) == ref("kafka", javaBase.hash(), dirHash("node")) {
		t.Fatal("kafka ref ignores its build files")
	}
	if strings.Contains(a.Kafka.Ref, a.Node.Ref) || !a.Kafka.Pushed || a.Node.Pushed {
		t.Fatalf("unexpected set %+v", a)
	}
}
