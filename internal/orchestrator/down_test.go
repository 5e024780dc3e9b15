package orchestrator

import "testing"

func TestRemovedSummary(t *testing.T) {
	r := Removed{
		TerraformResources: []string{`docker_container.node["tb-manager-1"]`, `docker_container.node["tb-worker-1"]`, "docker_network.testbed", "docker_container.registry"},
		Volumes:            []string{"tb-manager-1-docker"},
		CgroupDirs:         2,
		StateDir:           "/x/.testbed/testbeds/tb",
	}
	want := `Removed testbed "tb":
  terraform destroy: 4 resources (docker_container.node x2, docker_container.registry, docker_network.testbed)
  left outside the Terraform state, removed by label: 0 containers [], 0 networks [], 1 volumes [tb-manager-1-docker]
  cgroups of the nodes' containers: 2 hierarchies cleaned
  state folder /x/.testbed/testbeds/tb`
	if got := r.Summary("tb"); got != want {
		t.Fatalf("summary\n%s\nwant\n%s", got, want)
	}
	if got := (Removed{}).Summary("tb"); got != `Nothing to remove: no testbed named "tb" here.` {
		t.Fatalf("empty summary %q", got)
	}
}
