"""The ECS and CloudWatch Logs calls the daemon makes, through boto3 like sockerless does."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .records import TaskSnapshot

log = logging.getLogger(__name__)

CONTAINER_NAME = "main"
DESCRIBE_BATCH = 100  # DescribeTasks accepts at most 100 ARNs
MAX_LOG_PAGES = 1000  # a bound on GetLogEvents pagination, far above any test's output


@dataclass(frozen=True)
class LogEvent:
    """One CloudWatch event: milliseconds since the epoch, the message text, and when
    CloudWatch ingested it (milliseconds; None when unknown)."""

    timestamp_ms: int
    message: str
    ingestion_ms: int | None = None


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in tags.items()]


def _private_ip(task: dict[str, Any]) -> str | None:
    for attachment in task.get("attachments", []):
        if attachment.get("type") != "ElasticNetworkInterface":
            continue
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address" and detail.get("value"):
                return str(detail["value"])
    for container in task.get("containers", []):
        for interface in container.get("networkInterfaces", []):
            if interface.get("privateIpv4Address"):
                return str(interface["privateIpv4Address"])
    return None


def _exit_code(task: dict[str, Any]) -> int | None:
    for container in task.get("containers", []):
        if container.get("name") == CONTAINER_NAME and container.get("exitCode") is not None:
            return int(container["exitCode"])
    return None


def snapshot_from_task(task: dict[str, Any]) -> TaskSnapshot:
    """Reduce a DescribeTasks entry to what the daemon needs."""
    return TaskSnapshot(
        arn=task["taskArn"],
        last_status=task.get("lastStatus", "PROVISIONING"),
        exit_code=_exit_code(task),
        stopped_reason=task.get("stoppedReason"),
        started_at=task.get("startedAt"),
        stopped_at=task.get("stoppedAt") or task.get("executionStoppedAt"),
        private_ip=_private_ip(task),
        created_at=task.get("createdAt"),
    )


def _missing(arn: str, reason: str) -> TaskSnapshot:
    return TaskSnapshot(arn, "STOPPED", None, f"task not found in ECS ({reason})", None, None, None)


class EcsGateway:
    """Typed wrappers over the ECS/Logs operations; boto3 errors propagate to the caller."""

    def __init__(self, ecs: Any, logs: Any, *, cluster: str, log_group: str) -> None:
        self._ecs = ecs
        self._logs = logs
        self.cluster = cluster
        self.log_group = log_group

    def register_task_definition(self, definition: dict[str, Any], tags: dict[str, str]) -> str:
        """RegisterTaskDefinition; returns the task definition ARN."""
        response = self._ecs.register_task_definition(**definition, tags=_tag_list(tags))
        return str(response["taskDefinition"]["taskDefinitionArn"])

    def deregister_task_definition(self, arn: str) -> None:
        """DeregisterTaskDefinition (the revision becomes INACTIVE)."""
        self._ecs.deregister_task_definition(taskDefinition=arn)

    def run_task(
        self,
        task_definition_arn: str,
        *,
        subnets: Sequence[str],
        security_groups: Sequence[str],
        tags: dict[str, str],
    ) -> str:
        """RunTask on Fargate in awsvpc mode without a public IP; returns the task ARN."""
        response = self._ecs.run_task(
            cluster=self.cluster,
            taskDefinition=task_definition_arn,
            launchType="FARGATE",
            count=1,
            startedBy="sockerless",
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": list(subnets),
                    "securityGroups": list(security_groups),
                    "assignPublicIp": "DISABLED",
                }
            },
            tags=_tag_list(tags),
        )
        tasks = response.get("tasks", [])
        if not tasks:
            failures = response.get("failures", [])
            reason = "; ".join(
                f"{f.get('arn', '')} {f.get('reason', '')} {f.get('detail', '')}".strip()
                for f in failures
            )
            raise ApiError(500, f"RunTask: {reason or 'no task was started'}")
        return str(tasks[0]["taskArn"])

    def describe_tasks(self, arns: Iterable[str]) -> dict[str, TaskSnapshot]:
        """DescribeTasks in batches of 100; a task ECS no longer knows reads as STOPPED."""
        wanted = list(dict.fromkeys(arns))
        result: dict[str, TaskSnapshot] = {}
        for start in range(0, len(wanted), DESCRIBE_BATCH):
            batch = wanted[start : start + DESCRIBE_BATCH]
            response = self._ecs.describe_tasks(cluster=self.cluster, tasks=batch)
            for task in response.get("tasks", []):
                snapshot = snapshot_from_task(task)
                result[snapshot.arn] = snapshot
            for failure in response.get("failures", []):
                arn = failure.get("arn", "")
                if arn in batch and arn not in result:
                    result[arn] = _missing(arn, failure.get("reason", "MISSING"))
        for arn in wanted:
            result.setdefault(arn, _missing(arn, "MISSING"))
        return result

    def stop_task(self, arn: str, reason: str) -> None:
        """StopTask with ``reason``."""
        self._ecs.stop_task(cluster=self.cluster, task=arn, reason=reason)

    def log_event_pages(
        self,
        stream_name: str,
        token: str | None,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> Iterator[tuple[list[LogEvent], str | None]]:
        """GetLogEvents from the head (or after ``token``), following ``nextForwardToken`` until
        it stops changing, one page at a time, each with the token to continue after it (a
        reader that writes each page before it asks for the next holds one page, not all). A
        stream that does not exist (yet) gives no page."""
        for _ in range(MAX_LOG_PAGES):
            kwargs: dict[str, Any] = {
                "logGroupName": self.log_group,
                "logStreamName": stream_name,
                "startFromHead": True,
            }
            if token is not None:
                kwargs["nextToken"] = token
            if start_ms is not None:
                kwargs["startTime"] = start_ms
            if end_ms is not None:
                kwargs["endTime"] = end_ms
            try:
                response = self._logs.get_log_events(**kwargs)
            except self._logs.exceptions.ResourceNotFoundException:
                return
            page = [
                LogEvent(
                    int(event["timestamp"]),
                    str(event.get("message", "")),
                    int(event["ingestionTime"]) if event.get("ingestionTime") else None,
                )
                for event in response.get("events", [])
            ]
            next_token = response.get("nextForwardToken")
            if next_token is None or next_token == token:
                if page:
                    yield page, token
                return
            token = next_token
            yield page, token
        log.warning("GetLogEvents on %s: stopped after %d pages", stream_name, MAX_LOG_PAGES)
