package inventory

import (
	"strings"
	"testing"
)

const good = `{
  "name": "tb", "env": "local",
  "registry": {"node_address": "tb-registry:5000", "host_address": "127.0.0.1:41000"},
  "nodes": [
    {"name": "tb-worker-10", "role": "worker", "index": 10, "address": "172.20.0.13", "docker_host": "unix:///s/tb-worker-10/docker.sock"},
    {"name": "tb-worker-2", "role": "worker", "index": 2, "address": "172.20.0.6", "docker_host": "unix:///s/tb-worker-2/docker.sock"},
    {"name": "tb-manager-2", "role": "manager", "index": 2, "address": "172.20.0.4", "docker_host": "unix:///s/tb-manager-2/docker.sock"},
    {"name": "tb-manager-1", "role": "manager", "index": 1, "address": "172.20.0.3", "docker_host": "unix:///s/tb-manager-1/docker.sock"}
  ]
}`

func TestParseOrdersManagersFirstByIndex(t *testing.T) {
	inv, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range inv.Nodes {
		got = append(got, n.Name)
	}
	want := "tb-manager-1 tb-manager-2 tb-worker-2 tb-worker-10"
	if strings.Join(got, " ") != want {
		t.Fatalf("order %v, want %s", got, want)
	}
	if len(inv.Managers()) != 2 || len(inv.Workers()) != 2 {
		t.Fatalf("managers %d workers %d, want 2 and 2", len(inv.Managers()), len(inv.Workers()))
	}
	if inv.Registry.HostAddress != "127.0.0.1:41000" || inv.Nodes[0].Address != "172.20.0.3" {
		t.Fatalf("fields not decoded: %+v", inv)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"bad role", `"role": "worker", "index": 10`, `"role": "leader", "index": 10`, `terraform output inventory: node 0 ("tb-worker-10"): role "leader" is neither "manager" nor "worker"`},
		{"bad address", `"172.20.0.13"`, `"node-13"`, `terraform output inventory: node 0 ("tb-worker-10"): address "node-13" is not an IP address`},
		{"tcp docker api", `unix:///s/tb-worker-10/docker.sock`, `tcp://172.20.0.13:2375`, `terraform output inventory: node 0 ("tb-worker-10"): docker_host "tcp://172.20.0.13:2375" is neither unix:// nor ssh://`},
		{"duplicate name", `"name": "tb-worker-2"`, `"name": "tb-worker-10"`, `terraform output inventory: node 1 ("tb-worker-10"): name appears twice`},
		{"duplicate index", `"role": "manager", "index": 2`, `"role": "manager", "index": 1`, `terraform output inventory: node 3 ("tb-manager-1"): manager index 1 appears twice`},
		{"unknown field", `"env": "local"`, `"env": "local", "extra": 1`, `terraform output inventory: json: unknown field "extra"`},
		{"no registry", `"node_address": "tb-registry:5000"`, `"node_address": ""`, `terraform output inventory: registry addresses missing`},
		{"zero index", `"index": 10`, `"index": 0`, `terraform output inventory: node 0 ("tb-worker-10"): index 0, want 1 or more`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(good, c.old) {
				t.Fatalf("fixture lacks %q", c.old)
			}
			_, err := Parse([]byte(strings.Replace(good, c.old, c.new, 1)))
			if err == nil || err.Error() != c.want {
				t.Fatalf("error\n got: %v\nwant: %s", err, c.want)
			}
		})
	}
}

func TestParseNoManager(t *testing.T) {
	doc := `{"name":"tb","env":"local","registry":{"node_address":"a:5000","host_address":"127.0.0.1:1"},
	 "nodes":[{"name":"w","role":"worker","index":1,"address":"10.0.0.1","docker_host":"unix:///x"}]}`
	_, err := Parse([]byte(doc))
	if err == nil || err.Error() != "terraform output inventory: no manager node" {
		t.Fatalf("got %v", err)
	}
}
