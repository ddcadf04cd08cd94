"""How many Fargate tasks the run's containers launched, and for how long, as ECS reports it.

Fargate bills from the start of the image pull until the task stops, so a task counts from
``pullStartedAt`` (else ``startedAt``; 0 s without either) to ``stoppedAt`` (else now, while it
runs). Task ARNs recorded by cleanups are counted even when ECS has already forgotten the task
(AWS drops stopped tasks after about an hour); their seconds are then unknown and counted as 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .queries import ContainerResources
from .resources import task_belongs_to


@dataclass(frozen=True)
class TaskUsage:
    """Tasks launched for the run's containers and their summed running time."""

    tasks: int
    task_seconds: float
    unknown_duration: int  # tasks counted whose seconds ECS no longer knows


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    return None


def task_seconds(task: dict[str, Any], now: datetime) -> float:
    """Billable seconds of one described task (0 when it never started pulling)."""
    begin = _moment(task.get("pullStartedAt")) or _moment(task.get("startedAt"))
    if begin is None:
        return 0.0
    end = _moment(task.get("stoppedAt")) or (
        now if task.get("lastStatus") != "STOPPED" else _moment(task.get("stoppingAt")) or now
    )
    return max(0.0, (end - begin).total_seconds())


def measure_usage(
    resources: ContainerResources,
    container_ids: Iterable[str],
    recorded_arns: Iterable[str] = (),
    now: datetime | None = None,
) -> TaskUsage:
    """Count the tasks of these containers (listed now, or recorded earlier) and their seconds."""
    ids = list(dict.fromkeys(container_ids))
    recorded = set(recorded_arns)
    arns = sorted(recorded)
    for container_id in ids:
        for status in ("RUNNING", "STOPPED"):
            arns.extend(resources.task_arns(container_id, status))
    answered = resources.describe_tasks(list(dict.fromkeys(arns)))
    described = {str(task["taskArn"]): task for task in answered}
    # Recorded by a cleanup of this run, gone from ECS since: it ran, its duration is unknown.
    unknown = len(recorded - described.keys())
    ran = [
        task
        for arn, task in described.items()
        if arn in recorded or any(task_belongs_to(task, cid) for cid in ids)
    ]
    moment = now or datetime.now(UTC)
    return TaskUsage(
        tasks=len(ran) + unknown,
        task_seconds=sum(task_seconds(task, moment) for task in ran),
        unknown_duration=unknown,
    )
