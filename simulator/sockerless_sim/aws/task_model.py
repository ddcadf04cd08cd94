"""ECS task records kept on moto's ``Task`` objects, in the shape the ECS API reports.

moto's serializer writes every snake_case attribute whose camelCase name is a member of the
botocore output shape (``stop_code`` -> ``stopCode``, ``created_at`` -> ``createdAt``), so the
fields AWS reports but moto does not keep are added as plain attributes here. Responses are
built from ``snapshot`` copies taken under the plane's lock, because moto serializes after the
handler returned and the lifecycle driver may change the task meanwhile.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

# Task lastStatus values the simulator uses, in lifecycle order.
PROVISIONING = "PROVISIONING"
PENDING = "PENDING"
RUNNING = "RUNNING"
DEPROVISIONING = "DEPROVISIONING"
STOPPED = "STOPPED"

STOP_USER_INITIATED = "UserInitiated"
STOP_ESSENTIAL_EXITED = "EssentialContainerExited"
STOP_FAILED_TO_START = "TaskFailedToStart"
ESSENTIAL_EXITED_REASON = "Essential container in task exited"
USER_STOP_REASON = "Task stopped by user"


def utcnow() -> datetime:
    """Timezone-aware now, as moto's serializer expects for ECS timestamps."""
    return datetime.now(UTC)


class SimContainer:
    """One container of a task (moto keeps only the first one, with the wrong task ARN)."""

    def __init__(
        self,
        *,
        container_arn: str,
        task_arn: str,
        name: str,
        image: str,
        cpu: int | str | None,
        memory: int | str | None,
        memory_reservation: int | str | None,
    ) -> None:
        self.container_arn = container_arn
        self.task_arn = task_arn
        self.name = name
        self.image = image
        self.last_status = PENDING
        self.exit_code: int | None = None
        self.reason: str | None = None
        self.health_status = "UNKNOWN"
        self.cpu = None if cpu is None else str(cpu)
        self.memory = None if memory is None else str(memory)
        self.memory_reservation = None if memory_reservation is None else str(memory_reservation)
        self.network_interfaces: list[dict[str, str]] = []


def touch(task: Any) -> None:
    """Count one more change of the task (ECS ``version``)."""
    task.version = int(getattr(task, "version", 0)) + 1


def set_status(task: Any, status: str) -> None:
    """Move the task and its containers' ``lastStatus`` on (containers never go backwards)."""
    task.last_status = status
    container_status = {
        PROVISIONING: PENDING,
        PENDING: PENDING,
        RUNNING: RUNNING,
        DEPROVISIONING: STOPPED,
        STOPPED: STOPPED,
    }[status]
    for container in task.containers:
        if container.last_status != STOPPED:
            container.last_status = container_status
    touch(task)


def eni_attachment(task: Any) -> dict[str, Any] | None:
    """The task's ElasticNetworkInterface attachment, if it has one."""
    for attachment in task.attachments:
        if attachment.get("type") == "ElasticNetworkInterface":
            return cast(dict[str, Any], attachment)
    return None


def attachment_detail(attachment: dict[str, Any], name: str) -> str | None:
    """A ``details`` value of an attachment (``networkInterfaceId``, ``privateIPv4Address``)."""
    for detail in attachment.get("details", []):
        if detail.get("name") == name:
            return str(detail.get("value"))
    return None


def snapshot(task: Any, *, include_tags: bool) -> SimpleNamespace:
    """A detached copy of everything the serializer reads (call it under the plane's lock).

    A plain namespace, not ``copy.copy(task)``: every moto model instance is kept in a class-wide
    tracking list, so copying the model for each response would grow that list for ever.
    """
    fields = dict(vars(task))
    fields.update(
        last_status=task.last_status,
        task_arn=task.task_arn,
        containers=[SimpleNamespace(**vars(c)) for c in task.containers],
        attachments=copy.deepcopy(task.attachments),
        tags=list(task.tags) if include_tags else None,
    )
    return SimpleNamespace(**fields)
