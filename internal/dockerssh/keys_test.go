package dockerssh

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alert-testbed/testbed/internal/inventory"
)

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{
		"ssh://admin@54.1.2.3":         {User: "admin", Host: "54.1.2.3", Port: "22"},
		"ssh://root@172.18.0.3:22":     {User: "root", Host: "172.18.0.3", Port: "22"},
		"ssh://root@node.example:2222": {User: "root", Host: "node.example", Port: "2222"},
	} {
		got, err := ParseTarget(in)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"unix:///var/run/docker.sock":    "is not ssh://USER@HOST[:PORT]",
		"ssh://54.1.2.3":                 "names no user",
		"ssh://admin@54.1.2.3/var/run/x": "has a path",
	} {
		if _, err := ParseTarget(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", in, err, want)
		}
	}
}

func TestKeysAreMadeOnceAndKnownHostsPinThem(t *testing.T) {
	k := Keys{Dir: filepath.Join(t.TempDir(), "ssh")}
	nodes := []string{"tb-manager-1", "tb-worker-1"}
	if err := k.Ensure(nodes); err != nil {
		t.Fatal(err)
	}
	first, err := k.HostKeys(nodes)
	if err != nil {
		t.Fatal(err)
	}
	op1, _ := k.OperatorPublicKey()
	// A second up keeps every key: the nodes' sshd and known_hosts agree.
	if err := k.Ensure(nodes); err != nil {
		t.Fatal(err)
	}
	second, _ := k.HostKeys(nodes)
	op2, _ := k.OperatorPublicKey()
	if first["tb-manager-1"] != second["tb-manager-1"] || op1 != op2 {
		t.Errorf("Ensure made new keys over existing ones")
	}
	if first["tb-manager-1"].Public == first["tb-worker-1"].Public {
		t.Errorf("two nodes share a host key")
	}
	for _, n := range nodes {
		auth, err := os.ReadFile(filepath.Join(k.HostDir(n), "authorized_keys"))
		if err != nil || strings.TrimSpace(string(auth)) != op1 {
			t.Errorf("%s authorized_keys %q %v, want the operator key", n, auth, err)
		}
		if fi, err := os.Stat(filepath.Join(k.HostDir(n), hostKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s host key mode %v %v, want 0600 (sshd refuses others)", n, fi.Mode(), err)
		}
	}

	inv := inventory.Inventory{Name: "tb", Nodes: []inventory.Node{
		{Name: "tb-manager-1", DockerHost: "ssh://admin@54.1.2.3"},
		{Name: "tb-worker-1", DockerHost: "ssh://root@172.18.0.4:2222"},
	}}
	if err := k.WriteHosts(inv); err != nil {
		t.Fatal(err)
	}
	known, _ := os.ReadFile(k.KnownHosts())
	wantKnown := "54.1.2.3 " + strings.Join(strings.Fields(first["tb-manager-1"].Public)[:2], " ") + "\n" +
		"[172.18.0.4]:2222 " + strings.Join(strings.Fields(first["tb-worker-1"].Public)[:2], " ") + "\n"
	if string(known) != wantKnown {
		t.Errorf("known_hosts\n%s\nwant\n%s", known, wantKnown)
	}
	config, _ := os.ReadFile(k.Config())
	for _, want := range []string{"Host tb-manager-1\n  HostName 54.1.2.3\n  Port 22\n  User admin\n", "StrictHostKeyChecking yes", "UserKnownHostsFile " + k.KnownHosts()} {
		if !strings.Contains(string(config), want) {
			t.Errorf("config lacks %q:\n%s", want, config)
		}
	}

	// A node without a host key of this workspace is an error, not a
	// known_hosts without it.
	inv.Nodes = append(inv.Nodes, inventory.Node{Name: "tb-worker-9", DockerHost: "ssh://root@172.18.0.9:22"})
	if err := k.WriteHosts(inv); err == nil || !strings.Contains(err.Error(), "tb-worker-9 has no host key") {
		t.Errorf("WriteHosts with an unknown node: %v", err)
	}
	// No known_hosts: no connection.
	os.Remove(k.KnownHosts())
	if _, err := k.clientConfig(Target{User: "root", Host: "172.18.0.4", Port: "22"}); err == nil || !strings.Contains(err.Error(), "no known_hosts") {
		t.Errorf("client config without known_hosts: %v", err)
	}
}
