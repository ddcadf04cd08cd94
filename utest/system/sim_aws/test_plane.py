"""AwsPlane as a whole: bootstrap, loopback only, one per process, clean stop, start-up cost."""

from __future__ import annotations

import logging
import os
import resource
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aws_helpers import Aws, start_plane

pytestmark = pytest.mark.timeout(60)

ADOPTED_SUBNET = "subnet-0123456789abcdef0"
ADOPTED_GROUP = "sg-0fedcba9876543210"


def sim_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("sim-", "workload-"))]


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (the agent is started with its socket path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_plane_bootstraps_serves_loopback_only_and_stops_clean(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    plane = start_plane(tmp_path_factory)
    try:
        aws = Aws(plane)
        assert urlsplit(plane.endpoint_url).hostname == "127.0.0.1"
        assert logging.getLogger("werkzeug").level == logging.ERROR
        (cluster,) = aws.ecs.describe_clusters(clusters=[plane.cluster])["clusters"]
        assert cluster["status"] == "ACTIVE"
        (subnet,) = aws.ec2.describe_subnets(SubnetIds=plane.subnets)["Subnets"]
        attribute = aws.ec2.describe_vpc_attribute(
            VpcId=subnet["VpcId"], Attribute="enableDnsHostnames"
        )
        assert attribute["EnableDnsHostnames"]["Value"] is True
        (group,) = aws.ec2.describe_security_groups(GroupIds=plane.security_groups)[
            "SecurityGroups"
        ]
        assert group["VpcId"] == subnet["VpcId"]
        groups = aws.logs.describe_log_groups(logGroupNamePrefix=plane.log_group)["logGroups"]
        assert [g["logGroupName"] for g in groups] == [plane.log_group]
        with pytest.raises(RuntimeError, match="already running"):
            start_plane(tmp_path_factory)

        task = aws.run_command(["sleep", "60"])
        aws.wait_status(task["taskArn"], "RUNNING")
        agent = plane.agent_for_task(task["taskArn"])
        assert agent is not None
        pids = processes_mentioning(agent[0])
        assert pids and all(alive(pid) for pid in pids)
    finally:
        plane.stop()
    plane.stop()  # idempotent

    assert sim_threads() == []
    assert not any(alive(pid) for pid in pids)


@pytest.mark.timing
def test_new_plane_starts_clean_with_configured_ids_and_its_cost_is_known(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    earlier = start_plane(tmp_path_factory)  # leaves a task in moto's module-level state
    Aws(earlier).run_command(["true"])
    earlier.stop()

    plane = start_plane(tmp_path_factory, subnets=[ADOPTED_SUBNET], security_groups=[ADOPTED_GROUP])
    try:
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\nplane start: {plane.startup_seconds:.2f} s, peak RSS {rss_mib:.0f} MiB")
        assert plane.startup_seconds is not None and plane.startup_seconds < 5.0
        assert plane.stats()["startup_seconds"] == plane.startup_seconds
        aws = Aws(plane)
        for status in ("RUNNING", "STOPPED"):
            listed = aws.ecs.list_tasks(cluster=plane.cluster, desiredStatus=status)
            assert listed["taskArns"] == []
        assert plane.subnets == [ADOPTED_SUBNET]
        assert plane.security_groups == [ADOPTED_GROUP]
        (subnet,) = aws.ec2.describe_subnets(SubnetIds=[ADOPTED_SUBNET])["Subnets"]
        (group,) = aws.ec2.describe_security_groups(GroupIds=[ADOPTED_GROUP])["SecurityGroups"]
        assert group["VpcId"] == subnet["VpcId"]
        task = aws.run(
            aws.register(["true"]),
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": [ADOPTED_SUBNET],
                    "securityGroups": [ADOPTED_GROUP],
                }
            },
        )
        _, stopped = aws.watch(task["taskArn"])
        assert stopped["containers"][0]["exitCode"] == 0
    finally:
        plane.stop()
