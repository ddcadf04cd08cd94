"""The AWS resources a sockerless ECS configuration expects, made in a fresh moto.

Cluster, a VPC with DNS hostnames on, subnet(s), security group(s) and the log group. Subnet
and security-group IDs named in the configuration (``SOCKERLESS_ECS_SUBNETS`` ...) are created
under exactly those IDs, so a daemon configured for them finds them; otherwise the simulator
makes one of each. Done over HTTP with the plane's internal clients, which also loads moto's
ECS, EC2 and Logs backends before the first real request (the first ECS call costs ~1 s).
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from moto.ec2.models import security_groups as moto_security_groups
from moto.ec2.models import subnets as moto_subnets

from ..config import SimConfig

VPC_CIDR = "10.30.0.0/16"
SUBNET_PREFIX_LENGTH = 24
AGENT_PORT = 9111  # the sockerless agent's port: the group admits it from inside the VPC
NAME = "sockerless-sim"
_ZONE_LETTERS = "abc"


@dataclass(frozen=True)
class Bootstrapped:
    """IDs of what the daemon is configured with."""

    vpc_id: str
    subnets: list[str]
    security_groups: list[str]


@contextlib.contextmanager
def _next_id(module: Any, generator: str, wanted: str | None) -> Iterator[None]:
    """Make moto's next random ID for one resource type ``wanted`` (no-op for None)."""
    if wanted is None:
        yield
        return
    original = getattr(module, generator)
    setattr(module, generator, lambda: wanted)
    try:
        yield
    finally:
        setattr(module, generator, original)


def _exists(call: Any, **kwargs: Any) -> bool:
    try:
        call(**kwargs)
    except ClientError as exc:
        if "NotFound" in str(exc.response.get("Error", {}).get("Code", "")):
            return False
        raise
    return True


def _tags(resource_type: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": NAME}]}]


def _subnets(ec2: Any, vpc_id: str, config: SimConfig) -> list[str]:
    blocks = ipaddress.IPv4Network(VPC_CIDR).subnets(new_prefix=SUBNET_PREFIX_LENGTH)
    next(blocks)  # leave 10.30.0.0/24 unused, as a VPC's first block often is
    made: list[str] = []
    for index, wanted in enumerate(config.subnets or [None]):
        if wanted and _exists(ec2.describe_subnets, SubnetIds=[wanted]):
            made.append(wanted)
            continue
        with _next_id(moto_subnets, "random_subnet_id", wanted):
            subnet = ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=str(next(blocks)),
                AvailabilityZone=f"{config.region}{_ZONE_LETTERS[index % len(_ZONE_LETTERS)]}",
                TagSpecifications=_tags("subnet"),
            )["Subnet"]
        made.append(subnet["SubnetId"])
    return made


def _security_groups(ec2: Any, vpc_id: str, config: SimConfig) -> list[str]:
    made: list[str] = []
    for index, wanted in enumerate(config.security_groups or [None]):
        if wanted and _exists(ec2.describe_security_groups, GroupIds=[wanted]):
            made.append(wanted)
            continue
        with _next_id(moto_security_groups, "random_security_group_id", wanted):
            group_id = ec2.create_security_group(
                GroupName=NAME if index == 0 else f"{NAME}-{index}",
                Description="sockerless simulator tasks",
                VpcId=vpc_id,
                TagSpecifications=_tags("security-group"),
            )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=group_id,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": AGENT_PORT,
                    "ToPort": AGENT_PORT,
                    "IpRanges": [{"CidrIp": VPC_CIDR, "Description": "sockerless agent"}],
                }
            ],
        )
        made.append(group_id)
    return made


def bootstrap(*, ecs: Any, ec2: Any, logs: Any, config: SimConfig) -> Bootstrapped:
    """Create cluster, network and log group; returns the IDs to report."""
    ecs.create_cluster(clusterName=config.cluster)
    vpc_id = ec2.create_vpc(CidrBlock=VPC_CIDR, TagSpecifications=_tags("vpc"))["Vpc"]["VpcId"]
    # Task ENIs get private DNS names only in VPCs with DNS hostnames, as on AWS.
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnets = _subnets(ec2, vpc_id, config)
    groups = _security_groups(ec2, vpc_id, config)
    try:
        logs.create_log_group(logGroupName=config.log_group)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
            raise
    # Goes through the patched ListTasks: proves the patches answer before anyone relies on them.
    ecs.list_tasks(cluster=config.cluster)
    return Bootstrapped(vpc_id=vpc_id, subnets=subnets, security_groups=groups)
