#!/bin/bash
# Entry point of a testbed swarm node: a Docker Engine inside a container
# (DESIGN.md lists the container settings this needs on the build machines).
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
if [ -n "${TESTBED_NAME:-}" ] && [ -n "${TESTBED_NODE:-}" ]; then
	# The node shares the host's cgroup namespace; a parent of its own keeps
	# its containers' cgroups apart and lets `testbed down` remove them.
	args+=(--cgroup-parent="/testbed-${TESTBED_NAME}/${TESTBED_NODE}")
fi

# tini reaps the orphans that containerd shims leave behind and forwards
# SIGTERM so dockerd stops its containers cleanly.
exec /usr/bin/tini -g -- dockerd "${args[@]}" "$@"
