variable "name" {
  description = "Name of the testbed: the prefix of every container, network and volume it owns, and the value of their testbed.name label."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,18}[a-z0-9]$", var.name))
    error_message = "The name must be 2 to 20 characters of lower-case letters, digits and '-', start with a letter and not end with '-'."
  }
}

variable "managers" {
  description = "Number of swarm manager nodes (odd, 1 to 7: Raft wants an odd count)."
  type        = number
  default     = 3

  validation {
    condition     = var.managers >= 1 && var.managers <= 7 && var.managers % 2 == 1 && floor(var.managers) == var.managers
    error_message = "The manager count must be an odd whole number from 1 to 7."
  }
}

variable "workers" {
  description = "Number of swarm worker nodes (0 to 100)."
  type        = number
  default     = 10

  validation {
    condition     = var.workers >= 0 && var.workers <= 100 && floor(var.workers) == var.workers
    error_message = "The worker count must be a whole number from 0 to 100."
  }
}

variable "node_image" {
  description = "Docker-in-Docker image every node container runs (built by `testbed images build`)."
  type        = string

  validation {
    condition     = length(var.node_image) > 0
    error_message = "The node image must be given."
  }
}

variable "registry_image" {
  description = "Image of the local registry container that the nodes pull the stack images from."
  type        = string

  validation {
    condition     = length(var.registry_image) > 0
    error_message = "The registry image must be given."
  }
}

variable "registry_host_port" {
  description = "Port on 127.0.0.1 of the host where the registry is published, so the host can push images to it."
  type        = number

  validation {
    condition     = var.registry_host_port >= 1024 && var.registry_host_port <= 65535
    error_message = "The registry host port must be from 1024 to 65535."
  }
}

variable "api_socket_dir" {
  description = "Absolute host folder under which each node's Docker API socket is exposed (DIR/NODE/docker.sock). Unix sockets only: no node Docker API listens on a network."
  type        = string

  validation {
    condition     = startswith(var.api_socket_dir, "/") && length(var.api_socket_dir) <= 70
    error_message = "The API socket folder must be an absolute path of at most 70 characters (Unix socket paths are limited to 107 bytes)."
  }
}

variable "docker_api" {
  description = "How the orchestrator reaches each node's Docker API: \"unix\", a socket in api_socket_dir; or \"ssh\", root@NODE:22 with the host key and operator key from ssh_dir, the path cloud nodes are reached by."
  type        = string
  default     = "unix"

  validation {
    condition     = contains(["unix", "ssh"], var.docker_api)
    error_message = "The Docker API transport must be \"unix\" or \"ssh\"."
  }
}

variable "ssh_dir" {
  description = "Absolute host folder with each node's sshd files (DIR/hosts/NODE/ssh_host_ed25519_key and authorized_keys), made by the orchestrator; mounted read-only into the node. Empty: no sshd on the nodes."
  type        = string
  default     = ""

  validation {
    condition     = var.ssh_dir == "" || startswith(var.ssh_dir, "/")
    error_message = "The SSH folder must be an absolute path."
  }
}

variable "docker_host" {
  description = "Docker Engine API of the host that runs the node containers."
  type        = string
  default     = "unix:///var/run/docker.sock"

  validation {
    condition     = can(regex("^(unix|tcp|ssh)://", var.docker_host))
    error_message = "The Docker host must be a unix://, tcp:// or ssh:// address."
  }
}

variable "registry_mirrors" {
  description = "Registry mirrors the nodes' Docker Engines pull Docker Hub's images through (dockerd --registry-mirror): URLs with a scheme and a host, no path. A mirror over plain HTTP is also trusted as an insecure registry."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.registry_mirrors : can(regex("^https?://[^/?#]+/?$", m))])
    error_message = "Each registry mirror must be http:// or https:// and a host[:port], with no path."
  }
}
