terraform {
  required_version = ">= 1.5.0"

  # The orchestrator passes the state file path at init
  # (-backend-config=path=...), one state per testbed name.
  backend "local" {}

  required_providers {
    docker = {
      # Built from the Go module proxy by `testbed` (internal/toolchain) and
      # found through the filesystem mirror of its CLI configuration.
      source  = "kreuzwerker/docker"
      version = "= 4.6.0"
    }
  }
}

provider "docker" {
  host = var.docker_host
}
