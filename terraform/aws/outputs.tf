output "inventory" {
  description = "The testbed's nodes as internal/inventory reads them (the same shape as terraform/local's): the orchestrator reaches each node's Docker API over SSH, the nodes reach each other at their private addresses."
  value = {
    name = var.name
    env  = "aws"
    registry = {
      node_address = local.registry
      host_address = local.registry
    }
    nodes = [for i, n in local.nodes : {
      name            = local.node_names[i]
      role            = n.role
      index           = n.index
      address         = aws_instance.node[i].public_ip
      private_address = aws_instance.node[i].private_ip
      docker_host     = "ssh://${local.ssh_user}@${aws_instance.node[i].public_ip}"
    }]
  }

  precondition {
    condition     = var.create_ecr_repository || var.agents_registry != null
    error_message = "With create_ecr_repository = false, name the registry the nodes pull the agents image from in agents_registry."
  }
}

locals {
  # HOST/NAME: image references are HOST/NAME/testbed/agents:HASH, the
  # repository this module makes.
  registry = var.create_ecr_repository ? "${split("/", aws_ecr_repository.agents[0].repository_url)[0]}/${var.name}" : coalesce(var.agents_registry, "none")
}

output "instance_ids" {
  description = "EC2 instance ids by node name."
  value       = { for i, name in local.node_names : name => aws_instance.node[i].id }
}

output "security_group_id" {
  description = "The nodes' security group."
  value       = aws_security_group.nodes.id
}

output "ecr_repository_url" {
  description = "Where the agents image is pushed (empty without create_ecr_repository)."
  value       = var.create_ecr_repository ? aws_ecr_repository.agents[0].repository_url : ""
}
