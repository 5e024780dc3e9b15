// Package testbed carries the files the orchestrator ships inside its
// binary: the Terraform root modules of each environment and the swarm
// stack files, so that a built `testbed` needs no checkout beside it.
package testbed

import "embed"

// Files holds terraform/<env>/*.tf and the swarm/ folder (stack files and
// the configuration files their services mount) and dashboards/.
//
//go:embed terraform/local/*.tf terraform/aws/*.tf terraform/aws/*.tftpl swarm dashboards
var Files embed.FS
