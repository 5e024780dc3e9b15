variable "name" {
  description = "Name of the testbed: prefixes every resource name and is the testbed tag."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,18}[a-z0-9]$", var.name))
    error_message = "Use 2 to 20 characters, lower-case letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "region" {
  description = "AWS region to stand the testbed up in."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "Use an AWS region name such as us-east-1."
  }
}

variable "owner" {
  description = "Who answers for the testbed (an e-mail or user name); tagged on every resource."
  type        = string

  validation {
    condition     = length(trimspace(var.owner)) > 0 && length(var.owner) <= 128
    error_message = "Give an owner of 1 to 128 characters."
  }
}

variable "expires_at" {
  description = "When the testbed may be destroyed (RFC 3339, e.g. 2026-11-23T18:00:00Z); tagged on every resource."
  type        = string

  validation {
    condition     = can(formatdate("YYYY", var.expires_at))
    error_message = "Use an RFC 3339 time such as 2026-11-23T18:00:00Z."
  }
}

variable "operator_cidr" {
  description = "The only network SSH, Kafka's external listener, Prometheus and Grafana are open to (the operator's address, e.g. 203.0.113.7/32). 0.0.0.0/0 is refused unless allow_any_operator is true."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.operator_cidr))
    error_message = "Use an IPv4 CIDR such as 203.0.113.7/32."
  }
}

variable "allow_any_operator" {
  description = "Accept 0.0.0.0/0 as operator_cidr: SSH and the testbed's UIs open to the whole Internet."
  type        = bool
  default     = false
}

variable "ssh_public_key" {
  description = "OpenSSH public key the orchestrator logs in with (its private half stays with the operator)."
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$", var.ssh_public_key))
    error_message = "Use an OpenSSH public key line (ssh-ed25519 AAAA... comment)."
  }
}

variable "ssh_host_keys" {
  description = "Each node's SSH host key pair by node name (NAME-manager-I, NAME-worker-I), made by the orchestrator so that it can check every host key from the first connection on (no trust on first use). Given to the node by cloud-init's ssh_keys. Empty: the nodes make their own, and the orchestrator cannot check them."
  type = map(object({
    private = string
    public  = string
  }))
  default   = {}
  sensitive = true

  validation {
    condition     = alltrue([for k in values(var.ssh_host_keys) : startswith(k.public, "ssh-ed25519 ") && strcontains(k.private, "BEGIN OPENSSH PRIVATE KEY")])
    error_message = "Host keys must be ed25519: public in authorized_keys form, private in OpenSSH PEM form."
  }
}

variable "manager_count" {
  description = "Swarm managers: odd, 3 to 7; one Kafka broker on each of the first 3."
  type        = number
  default     = 3

  validation {
    condition     = var.manager_count >= 3 && var.manager_count <= 7 && var.manager_count % 2 == 1 && floor(var.manager_count) == var.manager_count
    error_message = "A swarm needs an odd number of managers to keep a Raft majority, and Kafka 3: use 3, 5 or 7."
  }
}

variable "worker_count" {
  description = "Swarm workers, which run the alert agents."
  type        = number
  default     = 10

  validation {
    condition     = var.worker_count >= 0 && var.worker_count <= 100 && floor(var.worker_count) == var.worker_count
    error_message = "Use a whole number from 0 to 100."
  }
}

variable "manager_instance_type" {
  description = "EC2 instance type of the managers (DMTN-028: m4.16xlarge)."
  type        = string
  default     = "m4.16xlarge"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.manager_instance_type))
    error_message = "Use an EC2 instance type such as m4.16xlarge."
  }
}

variable "worker_instance_type" {
  description = "EC2 instance type of the workers (DMTN-028: m4.4xlarge)."
  type        = string
  default     = "m4.4xlarge"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.worker_instance_type))
    error_message = "Use an EC2 instance type such as m4.4xlarge."
  }
}

variable "root_volume_gb" {
  description = "Size of each node's root volume (gp3), GB."
  type        = number
  default     = 40

  validation {
    condition     = var.root_volume_gb >= 20 && var.root_volume_gb <= 1000
    error_message = "Use 20 to 1000 GB."
  }
}

variable "manager_data_volume_gb" {
  description = "Size of each manager's data volume (gp3, mounted at /var/lib/docker: Kafka's logs and Prometheus' TSDB), GB."
  type        = number
  default     = 500

  validation {
    condition     = var.manager_data_volume_gb >= 20 && var.manager_data_volume_gb <= 16000
    error_message = "Use 20 to 16000 GB."
  }
}

variable "worker_data_volume_gb" {
  description = "Size of each worker's data volume (gp3, mounted at /var/lib/docker), GB."
  type        = number
  default     = 50

  validation {
    condition     = var.worker_data_volume_gb >= 20 && var.worker_data_volume_gb <= 16000
    error_message = "Use 20 to 16000 GB."
  }
}

variable "ami_id" {
  description = "AMI of every node; null looks up the newest Debian 12 amd64 AMI of Debian's account."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "Use an AMI id such as ami-0123456789abcdef0, or leave it null."
  }
}

variable "vpc_cidr" {
  description = "Address range of the testbed's VPC; its first /24 is the nodes' subnet."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrsubnet(var.vpc_cidr, 8, 0))
    error_message = "Use an IPv4 CIDR of /24 or wider, e.g. 10.42.0.0/16."
  }
}

variable "create_ecr_repository" {
  description = "Make an ECR repository for the agents image (false: the user names a registry the nodes can pull from)."
  type        = bool
  default     = true
}

variable "agents_registry" {
  description = "With create_ecr_repository = false: host[:port] of the registry the nodes pull the agents image from."
  type        = string
  default     = null

  validation {
    condition     = var.agents_registry == null || can(regex("^[a-z0-9.-]+(:[0-9]+)?$", var.agents_registry))
    error_message = "Use a registry host[:port] such as registry.example.org:5000."
  }
}

variable "aws_endpoint" {
  description = "Endpoint of an AWS API emulator for every service (tests only); null: AWS itself."
  type        = string
  default     = null
}
