"""Task networking on moto's EC2 objects: ENI addresses inside the subnet, DNS names, deletion.

moto's ECS gives every awsvpc task an ENI with a random 10.x.y.z address that is usually not
inside the task's subnet and is never released. Here the address is drawn from the subnet's own
CIDR (skipping the addresses AWS reserves), unique among the subnet's ENIs, and the ENI is
deleted when the task stops.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from moto.ec2.models import ec2_backends

# AWS reserves the network address, the next three (router, DNS, future) and the broadcast.
_RESERVED_LOW = 4
_RANDOM_TRIES = 64


class SubnetFullError(Exception):
    """No free address is left in the subnet."""


def ec2_backend(account_id: str, region: str) -> Any:
    """moto's EC2 backend for one account and region."""
    return ec2_backends[account_id][region]


def private_dns_name(ip: str, region: str) -> str:
    """The EC2 private DNS name AWS gives an address (``ip-10-0-1-5.ec2.internal``)."""
    dashed = ip.replace(".", "-")
    if region == "us-east-1":
        return f"ip-{dashed}.ec2.internal"
    return f"ip-{dashed}.{region}.compute.internal"


def allocate_ip(ec2: Any, subnet: Any, rng: random.Random) -> str:
    """A free address inside ``subnet``'s CIDR (random first, then the lowest free one)."""
    network = ipaddress.IPv4Network(str(subnet.cidr_block), strict=False)
    first = int(network.network_address) + _RESERVED_LOW
    last = int(network.broadcast_address) - 1
    if last < first:
        raise SubnetFullError(f"subnet {subnet.id} ({network}) is too small for a task")
    used = {
        eni.private_ip_address
        for eni in list(ec2.enis.values())
        if getattr(eni.subnet, "id", None) == subnet.id
    }
    for _ in range(_RANDOM_TRIES):
        candidate = str(ipaddress.IPv4Address(rng.randint(first, last)))
        if candidate not in used:
            return candidate
    for value in range(first, last + 1):
        candidate = str(ipaddress.IPv4Address(value))
        if candidate not in used:
            return candidate
    raise SubnetFullError(f"subnet {subnet.id} ({network}) has no free address")


def readdress_eni(ec2: Any, eni: Any, ip: str, region: str) -> str:
    """Give ``eni`` the address ``ip`` (and its DNS name when the VPC has DNS hostnames)."""
    vpc = ec2.get_vpc(eni.subnet.vpc_id)
    dns_name = private_dns_name(ip, region) if getattr(vpc, "enable_dns_hostnames", False) else None
    eni.private_ip_address = ip
    eni.private_dns_name = dns_name
    primary: dict[str, Any] = {"Primary": True, "PrivateIpAddress": ip}
    if dns_name:
        primary["PrivateDnsName"] = dns_name
    eni.private_ip_addresses = [primary]
    return private_dns_name(ip, region)


def delete_eni(ec2: Any, eni_id: str) -> bool:
    """Delete the ENI; False when it was already gone (e.g. after a moto reset)."""
    if eni_id not in ec2.enis:
        return False
    ec2.delete_network_interface(eni_id)
    return True
