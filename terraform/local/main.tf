# The local environment: the swarm nodes are Docker-in-Docker containers on
# the host's Docker Engine, on one bridge network of their own, beside a
# registry container that they pull the stack images from.

locals {
  labels = {
    "testbed.name" = var.name
  }

  # Managers first: manager-1 initialises the swarm.
  nodes = merge(
    { for i in range(1, var.managers + 1) : "${var.name}-manager-${i}" => { role = "manager", index = i } },
    { for i in range(1, var.workers + 1) : "${var.name}-worker-${i}" => { role = "worker", index = i } },
  )

  registry_host = "${var.name}-registry"
}

resource "docker_network" "testbed" {
  name   = var.name
  driver = "bridge"

  dynamic "labels" {
    for_each = local.labels
    content {
      label = labels.key
      value = labels.value
    }
  }
}

resource "docker_volume" "registry" {
  name = "${var.name}-registry"

  dynamic "labels" {
    for_each = local.labels
    content {
      label = labels.key
      value = labels.value
    }
  }
}

resource "docker_container" "registry" {
  name     = local.registry_host
  hostname = local.registry_host
  image    = var.registry_image
  restart  = "unless-stopped"

  networks_advanced {
    name    = docker_network.testbed.name
    aliases = [local.registry_host]
  }

  # Published on loopback only: the host pushes, nobody else reaches it.
  ports {
    internal = 5000
    external = var.registry_host_port
    ip       = "127.0.0.1"
  }

  volumes {
    volume_name    = docker_volume.registry.name
    container_path = "/var/lib/registry"
  }

  dynamic "labels" {
    for_each = merge(local.labels, { "testbed.role" = "registry" })
    content {
      label = labels.key
      value = labels.value
    }
  }
}

# Each node's inner /var/lib/docker is a volume: a plain folder on the host's
# file system, so the inner daemon can use overlay2.
resource "docker_volume" "node" {
  for_each = local.nodes
  name     = "${each.key}-docker"

  dynamic "labels" {
    for_each = local.labels
    content {
      label = labels.key
      value = labels.value
    }
  }
}

resource "docker_container" "node" {
  for_each = local.nodes

  name     = each.key
  hostname = each.key
  image    = var.node_image
  restart  = "unless-stopped"

  # What Docker-in-Docker needs on these machines: --privileged
  # fails because the sandbox withholds CAP_SYS_RESOURCE, so every other
  # capability is granted and the confinement profiles are lifted.
  # (Docker reports capability names with their CAP_ prefix; written so, a
  # second apply finds nothing to change.)
  capabilities {
    add  = ["ALL"]
    drop = ["CAP_SYS_RESOURCE"]
  }
  security_opts = ["seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"]
  cgroupns_mode = "host"

  tmpfs = {
    "/run" = "rw,exec"
    "/tmp" = "rw,exec"
  }

  volumes {
    host_path      = "/sys/fs/cgroup"
    container_path = "/sys/fs/cgroup"
    read_only      = false
  }

  volumes {
    volume_name    = docker_volume.node[each.key].name
    container_path = "/var/lib/docker"
  }

  # The node's Docker API, as a Unix socket in a host folder: reachable by
  # the orchestrator on this host, by nothing over the network.
  volumes {
    host_path      = "${var.api_socket_dir}/${each.key}"
    container_path = "/testbed-api"
  }

  # The node's sshd files (host key, authorized_keys), when the
  # orchestrator made them: the same SSH path to the Docker API as on aws.
  dynamic "volumes" {
    for_each = var.ssh_dir == "" ? [] : [1]
    content {
      host_path      = "${var.ssh_dir}/hosts/${each.key}"
      container_path = "/etc/testbed-ssh"
      read_only      = true
    }
  }

  # The mirrors' variable is set only when there are mirrors, so that a
  # testbed made without them keeps its nodes' settings unchanged.
  env = concat([
    "TESTBED_NAME=${var.name}",
    "TESTBED_NODE=${each.key}",
    "TESTBED_INSECURE_REGISTRY=${local.registry_host}:5000",
    ], length(var.registry_mirrors) == 0 ? [] : [
    "TESTBED_REGISTRY_MIRRORS=${join(" ", var.registry_mirrors)}",
  ])

  networks_advanced {
    name = docker_network.testbed.name
  }

  dynamic "labels" {
    for_each = merge(local.labels, { "testbed.role" = each.value.role, "testbed.index" = tostring(each.value.index) })
    content {
      label = labels.key
      value = labels.value
    }
  }

  # The registry must be up before any node pulls from it.
  depends_on = [docker_container.registry]

  lifecycle {
    # Docker applies systempaths=unconfined as empty masked and read-only
    # path lists and does not report it back among the security options, so
    # the provider would see a change on every plan and replace every node.
    ignore_changes = [security_opts]
  }
}
