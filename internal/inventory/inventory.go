// Package inventory reads the `inventory` output of an environment's
// Terraform root module: the nodes of a testbed, their roles, addresses and
// how to reach their Docker APIs. Every environment (local, aws) emits the
// same shape, so everything after `terraform apply` is environment-blind.
package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"sort"
)

// Roles of a swarm node.
const (
	RoleManager = "manager"
	RoleWorker  = "worker"
)

// Inventory is the parsed `inventory` output.
type Inventory struct {
	Name     string   `json:"name"`
	Env      string   `json:"env"`
	Registry Registry `json:"registry"`
	Nodes    []Node   `json:"nodes"`
}

// Registry is where the nodes pull the stack images from.
type Registry struct {
	// NodeAddress is host:port as the nodes reach the registry; image
	// references in stack files start with it.
	NodeAddress string `json:"node_address"`
	// HostAddress is host:port as the orchestrator reaches it to push.
	HostAddress string `json:"host_address"`
}

// Node is one swarm node.
type Node struct {
	Name       string `json:"name"`
	Role       string `json:"role"`
	Index      int    `json:"index"`
	Address    string `json:"address"`     // IP the orchestrator's host reaches it at
	DockerHost string `json:"docker_host"` // unix:// or ssh:// address of its Docker API
	// PrivateAddress is the IP the other nodes reach it at, where that
	// differs from Address (aws: the VPC address; Address is public).
	PrivateAddress string `json:"private_address,omitempty"`
}

// SwarmAddress is the IP the node advertises to the swarm: the address the
// other nodes reach it at.
func (n Node) SwarmAddress() string {
	if n.PrivateAddress != "" {
		return n.PrivateAddress
	}
	return n.Address
}

// Parse decodes and checks the JSON value of the `inventory` output. Nodes
// come back ordered managers first, each role by index, so that the first
// node is the one that initialises the swarm.
func Parse(data []byte) (Inventory, error) {
	var inv Inventory
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&inv); err != nil {
		return Inventory{}, fmt.Errorf("terraform output inventory: %w", err)
	}
	if err := inv.validate(); err != nil {
		return Inventory{}, fmt.Errorf("terraform output inventory: %w", err)
	}
	sort.SliceStable(inv.Nodes, func(i, j int) bool {
		a, b := inv.Nodes[i], inv.Nodes[j]
		if a.Role != b.Role {
			return a.Role == RoleManager
		}
		return a.Index < b.Index
	})
	return inv, nil
}

func (inv Inventory) validate() error {
	if inv.Name == "" {
		return fmt.Errorf("no testbed name")
	}
	if inv.Registry.NodeAddress == "" || inv.Registry.HostAddress == "" {
		return fmt.Errorf("registry addresses missing")
	}
	if len(inv.Nodes) == 0 {
		return fmt.Errorf("no nodes")
	}
	seenName := map[string]bool{}
	seenIndex := map[string]bool{}
	managers := 0
	for i, n := range inv.Nodes {
		where := fmt.Sprintf("node %d (%q)", i, n.Name)
		if n.Name == "" {
			return fmt.Errorf("node %d has no name", i)
		}
		if seenName[n.Name] {
			return fmt.Errorf("%s: name appears twice", where)
		}
		seenName[n.Name] = true
		switch n.Role {
		case RoleManager:
			managers++
		case RoleWorker:
		default:
			return fmt.Errorf("%s: role %q is neither %q nor %q", where, n.Role, RoleManager, RoleWorker)
		}
		if n.Index < 1 {
			return fmt.Errorf("%s: index %d, want 1 or more", where, n.Index)
		}
		key := fmt.Sprintf("%s/%d", n.Role, n.Index)
		if seenIndex[key] {
			return fmt.Errorf("%s: %s index %d appears twice", where, n.Role, n.Index)
		}
		seenIndex[key] = true
		if net.ParseIP(n.Address) == nil {
			return fmt.Errorf("%s: address %q is not an IP address", where, n.Address)
		}
		if n.PrivateAddress != "" && net.ParseIP(n.PrivateAddress) == nil {
			return fmt.Errorf("%s: private_address %q is not an IP address", where, n.PrivateAddress)
		}
		u, err := url.Parse(n.DockerHost)
		if err != nil || (u.Scheme != "unix" && u.Scheme != "ssh") {
			return fmt.Errorf("%s: docker_host %q is neither unix:// nor ssh://", where, n.DockerHost)
		}
	}
	if managers == 0 {
		return fmt.Errorf("no manager node")
	}
	return nil
}

// Managers returns the manager nodes, by index.
func (inv Inventory) Managers() []Node { return inv.byRole(RoleManager) }

// Workers returns the worker nodes, by index.
func (inv Inventory) Workers() []Node { return inv.byRole(RoleWorker) }

func (inv Inventory) byRole(role string) []Node {
	var out []Node
	for _, n := range inv.Nodes {
		if n.Role == role {
			out = append(out, n)
		}
	}
	return out
}
