package dockerssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/client"
	"golang.org/x/crypto/ssh"
)

// RemoteSocket is the Docker API socket on every node: the login user must
// be allowed to open it (root on local nodes, the docker group on aws).
const RemoteSocket = "/var/run/docker.sock"

// dialTimeout bounds the TCP connect and SSH handshake to one node.
const dialTimeout = 15 * time.Second

// Conn is an SSH connection to one node, redialled when it breaks (a node
// restarted, an idle connection dropped), through which any number of
// Docker API connections are opened.
type Conn struct {
	keys   Keys
	target Target

	mu     sync.Mutex
	client *ssh.Client
}

// Dial checks nothing yet: the first Docker API call connects.
func (k Keys) Dial(dockerHost string) (*Conn, error) {
	t, err := ParseTarget(dockerHost)
	if err != nil {
		return nil, err
	}
	return &Conn{keys: k, target: t}, nil
}

func (c *Conn) sshClient(ctx context.Context) (*ssh.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		return c.client, nil
	}
	cfg, err := c.keys.clientConfig(c.target)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: dialTimeout}
	tcp, err := d.DialContext(ctx, "tcp", c.target.Addr())
	if err != nil {
		return nil, fmt.Errorf("ssh %s@%s: %w", c.target.User, c.target.Addr(), err)
	}
	tcp.SetDeadline(time.Now().Add(dialTimeout))
	sc, chans, reqs, err := ssh.NewClientConn(tcp, c.target.Addr(), cfg)
	if err != nil {
		tcp.Close()
		return nil, fmt.Errorf("ssh %s@%s: %w", c.target.User, c.target.Addr(), explain(err, c.keys))
	}
	tcp.SetDeadline(time.Time{})
	cl := ssh.NewClient(sc, chans, reqs)
	c.client = cl
	go func() {
		// Forget a broken connection so that the next call redials.
		cl.Wait()
		c.mu.Lock()
		if c.client == cl {
			c.client = nil
		}
		c.mu.Unlock()
	}()
	return cl, nil
}

// TrustError is a failure that waiting will not cure: the node's host key
// is not the one in known_hosts, or it refuses the operator key.
type TrustError struct{ Err error }

func (e *TrustError) Error() string { return e.Err.Error() }
func (e *TrustError) Unwrap() error { return e.Err }

// Permanent says whether err is a TrustError.
func Permanent(err error) bool {
	var t *TrustError
	return errors.As(err, &t)
}

// explain turns a host key or login failure into what it means for the
// user, as a TrustError.
func explain(err error, k Keys) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "key mismatch"):
		return &TrustError{fmt.Errorf("%w: the node's host key is not the one testbed made for it (%s); refusing to connect", err, k.KnownHosts())}
	case strings.Contains(msg, "key is unknown"):
		return &TrustError{fmt.Errorf("%w: the node is not in %s; refusing to connect", err, k.KnownHosts())}
	case strings.Contains(msg, "unable to authenticate"):
		return &TrustError{fmt.Errorf("%w: the node does not accept the operator key %s", err, k.OperatorKey())}
	}
	return err
}

// DialDocker opens a connection to the node's Docker API socket.
func (c *Conn) DialDocker(ctx context.Context) (net.Conn, error) {
	for attempt := 0; ; attempt++ {
		cl, err := c.sshClient(ctx)
		if err != nil {
			return nil, err
		}
		conn, err := cl.DialContext(ctx, "unix", RemoteSocket)
		if err == nil {
			return conn, nil
		}
		// A connection that broke since it was cached: drop it and redial once.
		c.mu.Lock()
		if c.client == cl {
			c.client = nil
		}
		c.mu.Unlock()
		cl.Close()
		if attempt == 1 || ctx.Err() != nil {
			return nil, fmt.Errorf("%s on %s over ssh: %w", RemoteSocket, c.target.Addr(), err)
		}
	}
}

// Close closes the SSH connection.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		return nil
	}
	err := c.client.Close()
	c.client = nil
	return err
}

// APIClient is a Docker API client whose every connection goes through c.
func (c *Conn) APIClient() (*client.Client, error) {
	return client.NewClientWithOpts(
		// The host names nothing: the dialer decides where connections go.
		client.WithHost("http://docker.invalid"),
		client.WithDialContext(func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.DialDocker(ctx)
		}),
		client.WithAPIVersionNegotiation(),
	)
}

// Tunnel listens on a Unix socket in dir and forwards every connection to
// the node's Docker API over c, for programs that take a DOCKER_HOST (the
// docker CLI). Close stops it and removes the socket.
type Tunnel struct {
	Host string // unix:// address to give as DOCKER_HOST
	ln   net.Listener
	dir  string
}

// Tunnel starts a tunnel; its socket lives in a new folder under dir
// (short, since Unix socket paths are limited to 107 bytes).
func (c *Conn) Tunnel(dir string) (*Tunnel, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(dir, "t")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(tmp, "docker.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("tunnel socket: %w", err)
	}
	t := &Tunnel{Host: "unix://" + path, ln: ln, dir: tmp}
	go func() {
		for {
			local, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer local.Close()
				remote, err := c.DialDocker(context.Background())
				if err != nil {
					return
				}
				defer remote.Close()
				pipe(local, remote)
			}()
		}
	}()
	return t, nil
}

// pipe copies both ways until either side ends.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}

// Close stops accepting and removes the socket; connections still open end
// with the program that holds them.
func (t *Tunnel) Close() error {
	err := t.ln.Close()
	os.RemoveAll(t.dir)
	return err
}
