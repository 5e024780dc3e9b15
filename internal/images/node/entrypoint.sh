#!/bin/bash
# Entry point of a testbed swarm node: a Docker Engine inside a container
# (terraform/local/main.tf gives the node containers the settings this needs).
#
# The Engine's API listens on two Unix sockets only: the usual one inside the
# node, and /testbed-api/docker.sock, a folder the host bind-mounts so that
# the orchestrator on the host reaches the node without any Docker API being
# open on a network.
set -euo pipefail

mkdir -p /testbed-api
rm -f /testbed-api/docker.sock /var/run/docker.pid /var/run/docker/containerd/containerd.pid

args=(--host=unix:///var/run/docker.sock --host=unix:///testbed-api/docker.sock)
if [ -n "${TESTBED_INSECURE_REGISTRY:-}" ]; then
	# The testbed's own registry speaks plain HTTP on its private network.
	args+=(--insecure-registry="${TESTBED_INSECURE_REGISTRY}")
fi
for mirror in ${TESTBED_REGISTRY_MIRRORS:-}; do
	# Docker Hub's images through a mirror (up's --registry-mirror); one
	# over plain HTTP must be an insecure registry to be used.
	args+=(--registry-mirror="${mirror}")
	case "${mirror}" in
	http://*) host="${mirror#http://}" && args+=(--insecure-registry="${host%/}") ;;
	esac
done
if [ -n "${TESTBED_NAME:-}" ] && [ -n "${TESTBED_NODE:-}" ]; then
	# The node shares the host's cgroup namespace; a parent of its own keeps
	# its containers' cgroups apart and lets `testbed down` remove them.
	args+=(--cgroup-parent="/testbed-${TESTBED_NAME}/${TESTBED_NODE}")
fi

# The same API over SSH, as cloud nodes offer it: when the orchestrator has
# given this node a host key and the operator's public key (bind-mounted at
# /etc/testbed-ssh), sshd serves logins with that key only, and the Docker
# socket is reached by OpenSSH's Unix-socket forwarding.
if [ -f /etc/testbed-ssh/ssh_host_ed25519_key ] && [ -f /etc/testbed-ssh/authorized_keys ]; then
	mkdir -p /run/sshd
	cat > /run/testbed-sshd_config <<-'EOF'
		HostKey /etc/testbed-ssh/ssh_host_ed25519_key
		AuthorizedKeysFile /etc/testbed-ssh/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		AllowStreamLocalForwarding local
		# sshd gates every client-side forwarding, Unix sockets included, on
		# this one: "no" would refuse the Docker socket too.
		AllowTcpForwarding local
		X11Forwarding no
		PidFile /run/sshd.pid
		Subsystem sftp internal-sftp
	EOF
	/usr/sbin/sshd -f /run/testbed-sshd_config -E /var/log/sshd.log
fi

# tini reaps the orphans that containerd shims leave behind and forwards
# SIGTERM so dockerd stops its containers cleanly.
exec /usr/bin/tini -g -- dockerd "${args[@]}" "$@"
