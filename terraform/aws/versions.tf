terraform {
  required_version = ">= 1.5.0"

  # The orchestrator passes the state file path at init
  # (-backend-config=path=...), one state per testbed name.
  backend "local" {}

  required_providers {
    aws = {
      # Built from the Go module proxy by `testbed` (internal/toolchain,
      # the 6.47.1 code) and found through the filesystem mirror of its CLI
      # configuration.
      source  = "hashicorp/aws"
      version = "= 6.47.1"
    }
  }
}

provider "aws" {
  region = var.region

  # An AWS API emulator (moto's server mode) in the tests: every service
  # the module uses at one endpoint, fake credentials, no account lookups.
  access_key                  = var.aws_endpoint == null ? null : "testing"
  secret_key                  = var.aws_endpoint == null ? null : "testing"
  skip_credentials_validation = var.aws_endpoint != null
  skip_requesting_account_id  = var.aws_endpoint != null
  skip_metadata_api_check     = var.aws_endpoint != null

  endpoints {
    ec2 = var.aws_endpoint
    ecr = var.aws_endpoint
    sts = var.aws_endpoint
    iam = var.aws_endpoint
  }

  default_tags {
    tags = local.tags
  }
}
