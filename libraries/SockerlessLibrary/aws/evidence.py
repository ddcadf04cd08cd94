"""What AWS says about one container's Fargate task: the evidence the positive proofs compare.

A Docker-side answer is only the daemon's claim. ``TaskEvidence`` is what ECS itself reports for
the task launched for a container (found by task definition family or by the
``sockerless-container-id`` tag), read from a ``DescribeTasks`` answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .resources import arn_name, family_of_task_definition_arn, short_id

ENI_ATTACHMENT = "ElasticNetworkInterface"
MAIN_CONTAINER = "main"
# ECS task states in lifecycle order; anything before RUNNING means the task never ran yet.
BEFORE_RUNNING = ("PROVISIONING", "PENDING", "ACTIVATING")


def attachment_detail(task: Mapping[str, Any], name: str) -> str | None:
    """A detail (``subnetId``, ``privateIPv4Address``, ...) of the task's ENI attachment."""
    for attachment in task.get("attachments") or ():
        if attachment.get("type") != ENI_ATTACHMENT:
            continue
        for detail in attachment.get("details") or ():
            if detail.get("name") == name and detail.get("value"):
                return str(detail["value"])
    return None


def main_container(task: Mapping[str, Any]) -> Mapping[str, Any]:
    """The container ``main`` of a described task (sockerless' name), else the first one."""
    containers = list(task.get("containers") or ())
    for container in containers:
        if container.get("name") == MAIN_CONTAINER:
            return dict(container)
    return dict(containers[0]) if containers else {}


def task_exit_code(task: Mapping[str, Any]) -> int | None:
    """The exit code ECS recorded for the main container, ``None`` while it has none."""
    code = main_container(task).get("exitCode")
    return None if code is None else int(code)


def describe_task(task: Mapping[str, Any]) -> str:
    """One line for humans: id, status, launch type, family, exit code, stop reason."""
    parts = [
        arn_name(str(task.get("taskArn", "?"))),
        f"lastStatus={task.get('lastStatus')}",
        f"launchType={task.get('launchType')}",
        "family=" + family_of_task_definition_arn(str(task.get("taskDefinitionArn", "")) or "?"),
    ]
    code = task_exit_code(task)
    if code is not None:
        parts.append(f"exitCode={code}")
    if task.get("stoppedReason"):
        parts.append(f"stoppedReason={task['stoppedReason']!r}")
    return " ".join(parts)


@dataclass
class TaskEvidence:
    """The ECS task of one container, as DescribeTasks reported it when it was proven."""

    container_id: str
    task_arn: str
    cluster_arn: str
    launch_type: str
    task_definition_arn: str
    last_status: str
    subnet_id: str | None
    eni_id: str | None
    private_ip: str | None
    security_groups: list[str] | None = None  # read from EC2 while the ENI exists
    definition_seen_active: bool = False
    log_stream_seen: bool = False  # its events were matched to the daemon's log lines

    @classmethod
    def from_task(cls, container_id: str, task: Mapping[str, Any]) -> TaskEvidence:
        """Evidence from one described task (with tags)."""
        return cls(
            container_id=container_id,
            task_arn=str(task.get("taskArn", "")),
            cluster_arn=str(task.get("clusterArn", "")),
            launch_type=str(task.get("launchType", "")),
            task_definition_arn=str(task.get("taskDefinitionArn", "")),
            last_status=str(task.get("lastStatus", "")),
            subnet_id=attachment_detail(task, "subnetId"),
            eni_id=attachment_detail(task, "networkInterfaceId"),
            private_ip=attachment_detail(task, "privateIPv4Address"),
        )

    @property
    def task_id(self) -> str:
        """The last segment of the task ARN (part of the log stream name)."""
        return arn_name(self.task_arn)

    @property
    def family(self) -> str:
        """The task definition family the task was launched from."""
        return family_of_task_definition_arn(self.task_definition_arn)

    @property
    def log_stream(self) -> str:
        """``<id[:12]>/main/<task id>``: where the awslogs driver writes the task's output."""
        return f"{short_id(self.container_id)}/{MAIN_CONTAINER}/{self.task_id}"

    def as_dict(self) -> dict[str, Any]:
        """For Robot: every field but the proof flags, plus ``task_id``, ``family`` and
        ``log_stream``."""
        fields = asdict(self)
        del fields["definition_seen_active"], fields["log_stream_seen"]
        return {
            **fields,
            "task_id": self.task_id,
            "family": self.family,
            "log_stream": self.log_stream,
        }
