# The two commands of the README:
#   make run   set up the host, stand up the default testbed, run a short
#              ztf-scale experiment, print where its report is
#   make test  set up the host, run every test (unit and integration)
GO ?= go

.PHONY: setup build up run status down test unit

setup:
	bash scripts/setup-host.sh

build:
	$(GO) build -o bin/testbed ./cmd/testbed

up: setup build
	./bin/testbed up

# The main job: a 3-visit ztf-scale run on the default testbed (left up
# for more runs: `make down` removes it).
run: up
	./bin/testbed run --visits 3 experiments/ztf-scale.yaml

status: build
	./bin/testbed status

down: build
	./bin/testbed down

# Integration tests stand up real testbeds (3 managers + 2 workers) and
# take them down again; the first run on a fresh machine also builds
# Terraform, its providers and the images. The hashicorp/aws provider (for
# the aws module's tests against moto) is built first and alone: about 3.5
# minutes and 3.4 GB of memory on 2 cores (only the EC2, ECR and STS
# service packages, see internal/toolchain/awstrim.go); skipped when
# already in .testbed/cache.
#
# tools/gotest runs go test and prints what it prints, then ends with a
# digest of the failing tests' messages: CI reports keep the start and
# the end of the output, and an integration test's own output is long.
test: setup build
	./bin/testbed toolchain build --aws
	$(GO) build -o bin/gotest ./tools/gotest
	./bin/gotest -count=1 -timeout 80m ./...

# Unit tests only: no Docker Engine, toolchain build or network; tests
# that need them skip under -short (kafkatest.Start, the tf package's
# toolchainOf, cmd/testbed's needsTestbeds).
unit:
	$(GO) test -count=1 -short ./...
