// Package dockerssh reaches a node's Docker Engine API over SSH, with the
// node's host key checked against a known_hosts file that the orchestrator
// wrote itself: the Go Docker client dials the remote API socket through an
// SSH connection (OpenSSH's direct-streamlocal forwarding), and the docker
// CLI (`docker stack deploy`) goes through a local Unix socket tunnelled the
// same way. Nothing is trusted on first use: the orchestrator makes every
// node's host key before the node exists and hands it to the node (a bind
// mount on local, cloud-init's ssh_keys on aws).
//
// The keys of one testbed live in its workspace folder, DIR:
//
//	DIR/operator_ed25519(.pub)   the key the orchestrator logs in with
//	DIR/hosts/NODE/ssh_host_ed25519_key(.pub), authorized_keys
//	                             what NODE's sshd is given
//	DIR/known_hosts              every node's address with its host key
//	DIR/config                   an OpenSSH client config: ssh -F DIR/config NODE
package dockerssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/alert-testbed/testbed/internal/inventory"
)

// Keys are the SSH files of one testbed, under Dir.
type Keys struct {
	Dir string
}

// File names under Keys.Dir.
const (
	operatorKeyFile = "operator_ed25519"
	hostKeyFile     = "ssh_host_ed25519_key"
	knownHostsFile  = "known_hosts"
	configFile      = "config"
)

// OperatorKey is the private key the orchestrator logs in with.
func (k Keys) OperatorKey() string { return filepath.Join(k.Dir, operatorKeyFile) }

// HostDir holds what node's sshd is given: its host key pair and the
// authorized_keys file with the operator's public key.
func (k Keys) HostDir(node string) string { return filepath.Join(k.Dir, "hosts", node) }

// KnownHosts is the known_hosts file the host keys are checked against.
func (k Keys) KnownHosts() string { return filepath.Join(k.Dir, knownHostsFile) }

// Config is an OpenSSH client config with one Host entry per node.
func (k Keys) Config() string { return filepath.Join(k.Dir, configFile) }

// Ensure makes the operator key and a host key for each node that has none
// yet (keys already there are kept, so that a second `up` changes nothing),
// and writes each node's authorized_keys.
func (k Keys) Ensure(nodes []string) error {
	if err := os.MkdirAll(k.Dir, 0o700); err != nil {
		return err
	}
	if err := ensureKey(k.OperatorKey(), "testbed-operator"); err != nil {
		return err
	}
	pub, err := k.OperatorPublicKey()
	if err != nil {
		return err
	}
	for _, n := range nodes {
		dir := k.HostDir(n)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err := ensureKey(filepath.Join(dir, hostKeyFile), "root@"+n); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(pub+"\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// OperatorPublicKey is the operator's public key in authorized_keys form.
func (k Keys) OperatorPublicKey() (string, error) {
	b, err := os.ReadFile(k.OperatorKey() + ".pub")
	if err != nil {
		return "", fmt.Errorf("the testbed's operator key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// HostKeys returns each node's host key pair (private in OpenSSH PEM form,
// public in authorized_keys form), for environments that hand them to
// nodes as data (cloud-init's ssh_keys).
func (k Keys) HostKeys(nodes []string) (map[string]HostKey, error) {
	out := map[string]HostKey{}
	for _, n := range nodes {
		path := filepath.Join(k.HostDir(n), hostKeyFile)
		priv, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		pub, err := os.ReadFile(path + ".pub")
		if err != nil {
			return nil, err
		}
		out[n] = HostKey{Private: string(priv), Public: strings.TrimSpace(string(pub))}
	}
	return out, nil
}

// HostKey is one node's host key pair.
type HostKey struct {
	Private string `json:"private"`
	Public  string `json:"public"`
}

func ensureKey(path, comment string) error {
	if _, err := os.Stat(path); err == nil {
		if _, err := os.Stat(path + ".pub"); err == nil {
			return nil
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return err
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " " + comment + "\n"
	return os.WriteFile(path+".pub", []byte(line), 0o644)
}

// Target is where a node's sshd listens and who logs in, from an ssh://
// docker_host.
type Target struct {
	User string
	Host string // IP or name
	Port string
}

// Addr is host:port.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, t.Port) }

// ParseTarget reads ssh://USER@HOST[:PORT].
func ParseTarget(dockerHost string) (Target, error) {
	u, err := url.Parse(dockerHost)
	if err != nil || u.Scheme != "ssh" || u.Hostname() == "" {
		return Target{}, fmt.Errorf("docker host %q is not ssh://USER@HOST[:PORT]", dockerHost)
	}
	if u.User == nil || u.User.Username() == "" {
		return Target{}, fmt.Errorf("docker host %q names no user (ssh://USER@HOST)", dockerHost)
	}
	if u.Path != "" && u.Path != "/" {
		return Target{}, fmt.Errorf("docker host %q has a path; the remote API socket is always %s", dockerHost, RemoteSocket)
	}
	port := u.Port()
	if port == "" {
		port = "22"
	}
	return Target{User: u.User.Username(), Host: u.Hostname(), Port: port}, nil
}

// WriteHosts writes known_hosts (each ssh node's address with the host key
// made for it) and the OpenSSH client config, from the inventory. Nodes
// reached over a Unix socket are left out.
func (k Keys) WriteHosts(inv inventory.Inventory) error {
	var known, config []string
	config = append(config, "# Written by testbed for testbed "+inv.Name+": ssh -F "+k.Config()+" NODE")
	for _, n := range inv.Nodes {
		if !strings.HasPrefix(n.DockerHost, "ssh://") {
			continue
		}
		t, err := ParseTarget(n.DockerHost)
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		b, err := os.ReadFile(filepath.Join(k.HostDir(n.Name), hostKeyFile+".pub"))
		if err != nil {
			return fmt.Errorf("node %s has no host key in %s (was the testbed made by another workspace?): %w", n.Name, k.Dir, err)
		}
		pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
		if err != nil {
			return fmt.Errorf("host key of %s: %w", n.Name, err)
		}
		known = append(known, knownhosts.Line([]string{knownhosts.Normalize(t.Addr())}, pub))
		config = append(config, fmt.Sprintf("\nHost %s\n  HostName %s\n  Port %s\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  CheckHostIP no",
			n.Name, t.Host, t.Port, t.User, k.OperatorKey(), k.KnownHosts()))
	}
	sort.Strings(known)
	if err := os.WriteFile(k.KnownHosts(), []byte(strings.Join(known, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(k.Config(), []byte(strings.Join(config, "\n")+"\n"), 0o644)
}

// clientConfig is the SSH client configuration for target: the operator
// key, and host keys checked against known_hosts.
func (k Keys) clientConfig(t Target) (*ssh.ClientConfig, error) {
	b, err := os.ReadFile(k.OperatorKey())
	if err != nil {
		return nil, fmt.Errorf("the testbed's operator key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.OperatorKey(), err)
	}
	check, err := knownhosts.New(k.KnownHosts())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no known_hosts for the testbed at %s: run `testbed up` again to write it", k.KnownHosts())
		}
		return nil, err
	}
	return &ssh.ClientConfig{
		User:              t.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   check,
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
	}, nil
}
