# The DMTN-028 cloud testbed: one VPC with a public subnet, 3 managers and
# 10 workers (by default) running Docker from cloud-init, a security group
# that keeps the swarm and Kafka inside the VPC and opens SSH, Kafka's
# external listener, Prometheus and Grafana to the operator's network only,
# and an ECR repository for the agents image. The `inventory` output has the
# same shape as terraform/local's.

locals {
  tags = {
    "testbed.name"       = var.name
    "testbed.owner"      = var.owner
    "testbed.expires-at" = var.expires_at
  }
  ssh_user = "admin" # Debian's cloud images
  nodes = concat(
    [for i in range(var.manager_count) : { role = "manager", index = i + 1, type = var.manager_instance_type, data_gb = var.manager_data_volume_gb }],
    [for i in range(var.worker_count) : { role = "worker", index = i + 1, type = var.worker_instance_type, data_gb = var.worker_data_volume_gb }],
  )
  node_names = [for n in local.nodes : "${var.name}-${n.role}-${n.index}"]
  ami        = var.ami_id != null ? var.ami_id : data.aws_ami.debian[0].id
}

data "aws_ami" "debian" {
  count       = var.ami_id == null ? 1 : 0
  most_recent = true
  owners      = ["136693071363"] # Debian

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }
  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name }
}

resource "aws_subnet" "public" {
  vpc_id                  = aws_vpc.this.id
  cidr_block              = cidrsubnet(var.vpc_cidr, 8, 0)
  map_public_ip_on_launch = true
  tags                    = { Name = "${var.name}-public" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-public" }
}

resource "aws_route" "internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_security_group" "nodes" {
  name        = "${var.name}-nodes"
  description = "testbed ${var.name}: swarm and Kafka inside the VPC; SSH, Kafka external, Prometheus, Grafana from the operator"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-nodes" }

  lifecycle {
    precondition {
      condition     = var.operator_cidr != "0.0.0.0/0" || var.allow_any_operator
      error_message = "operator_cidr 0.0.0.0/0 opens SSH, Kafka, Prometheus and Grafana to the whole Internet: give your own address (e.g. 203.0.113.7/32), or set allow_any_operator = true to accept that."
    }
  }
}

locals {
  # Inside the VPC only: swarm management, gossip and overlay traffic, and
  # Kafka's listeners for the agents and the other brokers.
  vpc_rules = {
    swarm-manage  = { protocol = "tcp", from = 2377, to = 2377 }
    swarm-gossip  = { protocol = "tcp", from = 7946, to = 7946 }
    swarm-gossipu = { protocol = "udp", from = 7946, to = 7946 }
    swarm-overlay = { protocol = "udp", from = 4789, to = 4789 }
    kafka         = { protocol = "tcp", from = 9092, to = 9094 }
    kafka-swarm   = { protocol = "tcp", from = 19092, to = 19093 }
  }
  # From the operator's network only.
  operator_rules = {
    ssh        = { protocol = "tcp", from = 22, to = 22 }
    kafka      = { protocol = "tcp", from = 9094, to = 9094 }
    prometheus = { protocol = "tcp", from = 9090, to = 9090 }
    grafana    = { protocol = "tcp", from = 3000, to = 3000 }
  }
}

resource "aws_vpc_security_group_ingress_rule" "vpc" {
  for_each          = local.vpc_rules
  security_group_id = aws_security_group.nodes.id
  description       = "${each.key} inside the VPC"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = each.value.protocol
  from_port         = each.value.from
  to_port           = each.value.to
}

resource "aws_vpc_security_group_ingress_rule" "operator" {
  for_each          = local.operator_rules
  security_group_id = aws_security_group.nodes.id
  description       = "${each.key} from the operator"
  cidr_ipv4         = var.operator_cidr
  ip_protocol       = each.value.protocol
  from_port         = each.value.from
  to_port           = each.value.to
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.nodes.id
  description       = "packages and images"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}

resource "aws_key_pair" "operator" {
  key_name   = "${var.name}-operator"
  public_key = var.ssh_public_key
}

resource "aws_instance" "node" {
  count                  = length(local.nodes)
  ami                    = local.ami
  instance_type          = local.nodes[count.index].type
  subnet_id              = aws_subnet.public.id
  vpc_security_group_ids = [aws_security_group.nodes.id]
  key_name               = aws_key_pair.operator.key_name
  user_data = templatefile("${path.module}/cloud-init.yaml.tftpl", {
    hostname = local.node_names[count.index]
    ssh_user = local.ssh_user
    host_key = lookup(var.ssh_host_keys, local.node_names[count.index], null)
  })
  user_data_replace_on_change = true

  root_block_device {
    volume_type = "gp3"
    volume_size = var.root_volume_gb
    encrypted   = true
  }

  ebs_block_device {
    device_name           = "/dev/sdf"
    volume_type           = "gp3"
    volume_size           = local.nodes[count.index].data_gb
    encrypted             = true
    delete_on_termination = true
  }

  metadata_options {
    http_tokens = "required"
  }

  tags = {
    Name            = local.node_names[count.index]
    "testbed.role"  = local.nodes[count.index].role
    "testbed.index" = tostring(local.nodes[count.index].index)
  }
  volume_tags = {
    Name = local.node_names[count.index]
  }

  depends_on = [aws_route.internet]
}

# The registry address in the inventory is HOST/NAME, and the agents image
# is testbed/agents:HASH under it.
resource "aws_ecr_repository" "agents" {
  count                = var.create_ecr_repository ? 1 : 0
  name                 = "${var.name}/testbed/agents"
  image_tag_mutability = "IMMUTABLE" # tags are content hashes
  force_delete         = true
}
