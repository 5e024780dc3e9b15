output "inventory" {
  description = "What the orchestrator needs to form the swarm and deploy stacks: the registry and every node with its role, address and Docker API."
  value = {
    name = var.name
    env  = "local"
    registry = {
      # Image references in stack files use the address the nodes see.
      node_address = "${local.registry_host}:5000"
      host_address = "127.0.0.1:${var.registry_host_port}"
    }
    nodes = [
      for name, n in local.nodes : {
        name        = name
        role        = n.role
        index       = n.index
        address     = docker_container.node[name].network_data[0].ip_address
        docker_host = var.docker_api == "ssh" ? "ssh://root@${docker_container.node[name].network_data[0].ip_address}:22" : "unix://${var.api_socket_dir}/${name}/docker.sock"
      }
    ]
  }
}
