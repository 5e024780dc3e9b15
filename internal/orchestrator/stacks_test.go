package orchestrator

import (
	"testing"

	"gopkg.in/yaml.v3"

	testbed "github.com/alert-testbed/testbed"
	"github.com/alert-testbed/testbed/internal/monitoring"
	"github.com/alert-testbed/testbed/internal/stacks"
	"github.com/alert-testbed/testbed/internal/swarm"
)

// Every config file a stack file mounts must be among the files written
// beside it: Grafana cannot be deployed on the build machines, so this is
// what keeps its stack deployable.
func checkConfigFiles(t *testing.T, st stacks.Stack) {
	t.Helper()
	data, err := testbed.Files.ReadFile(st.File)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Configs map[string]struct {
			Name string `yaml:"name"`
			File string `yaml:"file"`
		} `yaml:"configs"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", st.File, err)
	}
	if len(doc.Configs) == 0 {
		t.Fatalf("%s mounts no configs", st.File)
	}
	for key, c := range doc.Configs {
		rel := c.File
		if len(rel) > 2 && rel[:2] == "./" {
			rel = rel[2:]
		}
		if _, ok := st.Files[rel]; !ok {
			t.Errorf("%s: config %s mounts %s, which is not written beside it", st.File, key, c.File)
		}
		if c.Name == "" || c.Name[len(c.Name)-len("${CONFIG_HASH}"):] != "${CONFIG_HASH}" {
			t.Errorf("%s: config %s is named %q: its name must end in ${CONFIG_HASH} (swarm configs cannot change in place)", st.File, key, c.Name)
		}
	}
	if len(doc.Configs) != len(st.Files) {
		t.Errorf("%s mounts %d configs but %d files are written", st.File, len(doc.Configs), len(st.Files))
	}
}

func TestGrafanaStackFiles(t *testing.T) {
	st, err := grafanaStack("grafana/grafana-oss:12.2.1", "pw")
	if err != nil {
		t.Fatal(err)
	}
	checkConfigFiles(t, st)
}

func TestMonitoringStackFiles(t *testing.T) {
	st, err := monitoring.Stack("tb", []swarm.NodeState{{ID: "a", Hostname: "tb-manager-1", Role: "manager"}}, monitoring.Images{}, "1d")
	if err != nil {
		t.Fatal(err)
	}
	checkConfigFiles(t, st)
}
