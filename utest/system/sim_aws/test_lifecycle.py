"""The lifecycle driver, observed only through a separate boto3 client (as the daemon sees it)."""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path
from typing import Any

import pytest
from aws_helpers import Aws, wait_for
from botocore.exceptions import ClientError

from sockerless_sim.aws.plane import AwsPlane

pytestmark = pytest.mark.timeout(60)

FULL_LIFECYCLE = ["PROVISIONING", "PENDING", "RUNNING", "DEPROVISIONING", "STOPPED"]


def detail(task: dict[str, Any], name: str) -> str:
    (attachment,) = task["attachments"]
    return next(d["value"] for d in attachment["details"] if d["name"] == name)


def eni_exists(aws: Aws, eni_id: str) -> bool:
    try:
        aws.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "InvalidNetworkInterfaceID.NotFound"
        return False
    return True


@pytest.mark.parametrize("exit_code", [0, 7])
def test_task_goes_through_every_state_with_the_real_exit_code(aws: Aws, exit_code: int) -> None:
    task = aws.run_command(["sh", "-c", f"sleep 0.4; exit {exit_code}"])
    assert task["lastStatus"] == "PROVISIONING"
    eni_id = detail(task, "networkInterfaceId")
    assert eni_exists(aws, eni_id)

    seen, stopped = aws.watch(task["taskArn"])

    # RunTask's answer is the first observation: the ENI lookup above can outlast PROVISIONING.
    observed = [task["lastStatus"], *seen]
    observed = [s for i, s in enumerate(observed) if i == 0 or s != observed[i - 1]]
    assert observed == FULL_LIFECYCLE
    assert stopped["desiredStatus"] == "STOPPED"
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    (container,) = stopped["containers"]
    assert container["exitCode"] == exit_code
    assert container["lastStatus"] == "STOPPED"
    assert container["taskArn"] == task["taskArn"]
    order = [
        "createdAt",
        "pullStartedAt",
        "pullStoppedAt",
        "startedAt",
        "stoppingAt",
        "executionStoppedAt",
        "stoppedAt",
    ]
    stamps = [stopped[name] for name in order]
    assert stamps == sorted(stamps), dict(zip(order, stamps, strict=True))
    # startedAt and executionStoppedAt are when the command started and exited, not when the
    # driver noticed: the span covers the whole ``sleep 0.4`` however busy the machine is.
    assert (stopped["executionStoppedAt"] - stopped["startedAt"]).total_seconds() >= 0.39
    assert stopped["attachments"][0]["status"] == "DELETED"
    assert not eni_exists(aws, eni_id)


def test_eni_address_is_inside_the_subnet_and_reported_everywhere(aws: Aws) -> None:
    task = aws.run_command(["sleep", "60"])
    running = aws.wait_status(task["taskArn"], "RUNNING")
    ip = detail(running, "privateIPv4Address")
    subnet_id = detail(running, "subnetId")
    (subnet,) = aws.ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(subnet["CidrBlock"])
    assert detail(running, "privateDnsName") == f"ip-{ip.replace('.', '-')}.ec2.internal"
    assert running["attachments"][0]["status"] == "ATTACHED"
    assert running["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] == ip
    (eni,) = aws.ec2.describe_network_interfaces(
        NetworkInterfaceIds=[detail(running, "networkInterfaceId")]
    )["NetworkInterfaces"]
    assert eni["PrivateIpAddress"] == ip
    assert eni["SubnetId"] == subnet_id
    aws.ecs.stop_task(cluster=aws.plane.cluster, task=task["taskArn"])
    aws.wait_status(task["taskArn"], "STOPPED")


def test_stop_task_sends_sigterm_and_reports_143_quickly(aws: Aws) -> None:
    task = aws.run_command(["sleep", "60"])
    aws.wait_status(task["taskArn"], "RUNNING")
    started = time.monotonic()

    stopping = aws.ecs.stop_task(
        cluster=aws.plane.cluster, task=task["taskArn"], reason="Container stopped via API"
    )["task"]

    assert stopping["desiredStatus"] == "STOPPED"
    assert stopping["stopCode"] == "UserInitiated"
    assert stopping["stoppedReason"] == "Container stopped via API"
    assert "stoppingAt" in stopping
    seen, stopped = aws.watch(task["taskArn"])
    assert time.monotonic() - started < 3.0
    assert seen[-2:] == ["DEPROVISIONING", "STOPPED"]
    assert stopped["containers"][0]["exitCode"] == 143
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "Container stopped via API"


def test_stop_task_kills_after_the_stop_timeout_with_137(aws: Aws) -> None:
    # The shell ignores SIGTERM and so does sleep, which inherits that.
    task_definition = aws.register(["sh", "-c", "trap '' TERM; sleep 60"], extra={"stopTimeout": 1})
    task = aws.run(task_definition)
    aws.wait_status(task["taskArn"], "RUNNING")
    time.sleep(0.3)  # let the shell install its trap
    started = time.monotonic()

    aws.ecs.stop_task(cluster=aws.plane.cluster, task=task["taskArn"])

    _, stopped = aws.watch(task["taskArn"])
    assert 0.9 <= time.monotonic() - started < 4.0
    assert stopped["containers"][0]["exitCode"] == 137
    assert stopped["stoppedReason"] == "Task stopped by user"


def test_task_stopped_before_it_runs_has_no_exit_code(aws: Aws) -> None:
    task = aws.run_command(["sleep", "60"])

    aws.ecs.stop_task(cluster=aws.plane.cluster, task=task["taskArn"])

    seen, stopped = aws.watch(task["taskArn"])
    assert "RUNNING" not in seen
    assert stopped["stopCode"] == "UserInitiated"
    assert "exitCode" not in stopped["containers"][0]
    assert "startedAt" not in stopped
    assert not eni_exists(aws, detail(task, "networkInterfaceId"))


def test_unresolvable_image_fails_to_pull_without_exit_code(aws: Aws) -> None:
    image = "registry.invalid/nope/does-not-exist:1"
    task = aws.run_command(["echo", "never"], image=image)

    seen, stopped = aws.watch(task["taskArn"])

    assert "RUNNING" not in seen
    assert seen[-1] == "STOPPED"
    reason = (
        "CannotPullContainerError: pull image manifest has been retried 1 time(s): "
        f"failed to resolve ref {image}: not found"
    )
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"] == reason
    (container,) = stopped["containers"]
    assert container["reason"] == reason
    assert "exitCode" not in container
    assert not eni_exists(aws, detail(task, "networkInterfaceId"))


def test_command_that_cannot_start_fails_the_task(aws: Aws) -> None:
    task = aws.run_command(["/no/such/binary-for-sim"])

    seen, stopped = aws.watch(task["taskArn"])

    assert "RUNNING" not in seen
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith("CannotStartContainerError: ")
    assert "exitCode" not in stopped["containers"][0]


def test_agent_is_reachable_only_while_running(aws: Aws, plane: AwsPlane) -> None:
    task = aws.register(
        ["sleep", "60"], extra={"environment": [{"name": "SOCKERLESS_AGENT_TOKEN", "value": "t0k"}]}
    )
    arn = aws.run(task)["taskArn"]
    assert plane.agent_for_task(arn) is None
    aws.wait_status(arn, "RUNNING")

    agent = plane.agent_for_task(arn)

    assert agent is not None
    socket_path, token = agent
    assert token == "t0k"
    assert Path(socket_path).exists()
    aws.ecs.stop_task(cluster=plane.cluster, task=arn)
    wait_for(lambda: plane.agent_for_task(arn) is None, what="agent released")
    aws.wait_status(arn, "STOPPED")
    wait_for(lambda: not Path(socket_path).exists(), what="agent socket removed")


def test_stats_count_tasks_and_task_seconds(aws: Aws, plane: AwsPlane) -> None:
    before = plane.stats()
    task = aws.run_command(["sh", "-c", "sleep 0.5"])
    aws.watch(task["taskArn"])

    after = plane.stats()

    assert after["tasks_launched"] == before["tasks_launched"] + 1
    assert after["workloads_started"] == before["workloads_started"] + 1
    assert after["task_seconds"] - before["task_seconds"] >= 0.45
    assert after["calls"]["RunTask"] == before["calls"]["RunTask"] + 1
