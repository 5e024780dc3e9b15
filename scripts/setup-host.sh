#!/usr/bin/env bash
# Prepares a Debian host for the local environment: a running Docker Engine
# and the tools the offline image builds use (debootstrap, Maven), and
# Chromium for the test of the HTML reports. Go must
# already be installed: it builds testbed, Terraform and the provider.
#
# Relies on what the machines this project is built on are like: no Docker Engine
# runs on a fresh machine, Debian's docker.io (20.10) installs and runs as
# root, and only package registries (Debian, Maven Central, the Go module
# proxy) are reachable. Idempotent: does nothing when all is in place.
set -euo pipefail

log() { printf 'setup: %s\n' "$*"; }

if ! command -v go >/dev/null 2>&1; then
	echo "setup: Go is needed (1.24 or later) and is not on PATH; install it first" >&2
	exit 1
fi

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v tar >/dev/null 2>&1 || missing+=(tar)
# The HTML reports' test renders them in headless Chromium.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "setup: missing ${missing[*]}; install them (Debian: apt-get install -y ${missing[*]}) and run again" >&2
		exit 1
	fi
	log "installing ${missing[*]} from Debian"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: the Docker Engine is not running and starting it needs root" >&2
		exit 1
	fi
	log "starting dockerd (log: /var/log/testbed-dockerd.log)"
	# No init system runs on the build machines: start the Engine directly.
	nohup dockerd >/var/log/testbed-dockerd.log 2>&1 &
	for _ in $(seq 1 60); do
		docker info >/dev/null 2>&1 && break
		sleep 1
	done
	if ! docker info >/dev/null 2>&1; then
		echo "setup: dockerd did not come up in 60 s; see /var/log/testbed-dockerd.log" >&2
		tail -n 20 /var/log/testbed-dockerd.log >&2 || true
		exit 1
	fi
fi
log "Docker Engine $(docker version --format '{{.Server.Version}}') is running; debootstrap, mvn, chromium and go are installed"
