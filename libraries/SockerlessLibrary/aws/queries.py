"""Read-only look-ups of one container's AWS resources (tasks, task definitions, log streams).

Every call goes through an ``AwsCaller`` (bounded, logged retries) and follows ``nextToken`` up to a
page limit, so a look-up can neither hang nor silently stop at the first page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

from ..errors import AwsError
from .config import AwsConfig
from .resources import (
    batches,
    log_stream_prefix,
    task_belongs_to,
    task_definition_family,
)
from .retry import AwsCaller, error_code, is_unsupported

MAX_PAGES = 50
LIST_TASK_DEFINITIONS = "ECS ListTaskDefinitions"
MAX_REVISIONS = 50  # a family has one revision per start of its container


def is_not_found(error: ClientError) -> bool:
    """The resource (cluster, log group, task) does not exist: nothing to find or clean."""
    return error_code(error) in {"ClusterNotFoundException", "ResourceNotFoundException"}


class AwsReadObserver(Protocol):
    """Told what the look-ups read, so nothing is asked twice (the timeline recorder is one)."""

    def tasks_described(self, tasks: list[dict[str, Any]]) -> None:
        """Every task a DescribeTasks answer held."""

    def log_events_read(self, stream: str, events: list[dict[str, Any]]) -> None:
        """Every event of ``stream`` a GetLogEvents read returned."""


@dataclass
class ContainerResources:
    """Look-ups of the AWS resources derived from container IDs, in one cluster and log group."""

    ecs: Any
    logs: Any
    config: AwsConfig
    caller: AwsCaller
    ec2: Any = None  # only the positive proofs read ENIs (their security groups)
    # Operations this endpoint answered "unknown operation" to, shared by every look-up and
    # cleanup of the target (sockerless' own AWS simulator implements only part of each API).
    unsupported: set[str] = field(default_factory=set)
    observer: AwsReadObserver | None = None

    def task_arns(self, container_id: str, desired_status: str) -> list[str]:
        """ARNs ListTasks reports for the container's family with this desired status."""
        family = task_definition_family(container_id)
        resource = f"family {family} ({desired_status})"
        arns = self._task_arns(resource, family=family, desiredStatus=desired_status)
        return list(dict.fromkeys(arns))

    def describe_tasks(self, arns: list[str]) -> list[dict[str, Any]]:
        """DescribeTasks with tags, in batches of 100; tasks AWS no longer knows are left out."""
        described: list[dict[str, Any]] = []
        for batch in batches(arns):
            answer = self.caller.call(
                "ECS DescribeTasks",
                f"{len(batch)} task(s) in cluster {self.config.cluster}",
                lambda batch=batch: self.ecs.describe_tasks(  # type: ignore[misc]
                    cluster=self.config.cluster, tasks=batch, include=["TAGS"]
                ),
                tolerate=is_not_found,
            )
            if answer:
                described.extend(answer.get("tasks", []))
        if self.observer is not None and described:
            self.observer.tasks_described(described)
        return described

    def container_tasks(
        self, container_id: str, desired_statuses: tuple[str, ...] = ("RUNNING",)
    ) -> list[dict[str, Any]]:
        """The container's tasks with these desired statuses, described, checked by tag/family."""
        arns: list[str] = []
        for status in desired_statuses:
            arns.extend(self.task_arns(container_id, status))
        return self._described_for(container_id, arns)

    def tagged_cluster_tasks(self, container_id: str) -> list[dict[str, Any]]:
        """Every task of the cluster tagged with the container's ID, whatever its family.

        Finds a task launched for the container from some other task definition; costs one
        DescribeTasks per 100 tasks of the cluster, so it is the fallback, not the first look.
        """
        arns: list[str] = []
        for status in ("RUNNING", "STOPPED"):
            resource = f"cluster {self.config.cluster} ({status})"
            arns.extend(self._task_arns(resource, desiredStatus=status))
        return self._described_for(container_id, arns)

    def _task_arns(self, resource: str, **filters: str) -> list[str]:
        arns, _ = self._listing(
            "ECS ListTasks",
            resource,
            "taskArns",
            self.ecs.list_tasks,
            cluster=self.config.cluster,
            **filters,
        )
        return [str(arn) for arn in arns]

    def _described_for(self, container_id: str, arns: list[str]) -> list[dict[str, Any]]:
        tasks = self.describe_tasks(list(dict.fromkeys(arns)))
        return [task for task in tasks if task_belongs_to(task, container_id)]

    def log_events(self, stream: str) -> list[dict[str, Any]] | None:
        """Every event of ``stream`` in the log group, oldest first; ``None`` when it is absent.

        GetLogEvents from the head, following ``nextForwardToken`` until it repeats (the API's
        own end marker), bounded by the page limit.
        """
        group = self.config.log_group
        events, found = self._listing(
            "Logs GetLogEvents",
            f"group={group} stream={stream}",
            "events",
            self.logs.get_log_events,
            token_key="nextForwardToken",  # noqa: S106 - a paging key
            logGroupName=group,
            logStreamName=stream,
            startFromHead=True,
        )
        if not found:
            return None
        if self.observer is not None:
            self.observer.log_events_read(stream, events)
        return events

    def task_definition(self, arn: str) -> dict[str, Any] | None:
        """DescribeTaskDefinition of one revision; ``None`` when AWS no longer knows it."""
        answer = self.caller.call(
            "ECS DescribeTaskDefinition",
            arn,
            lambda: self.ecs.describe_task_definition(taskDefinition=arn),
            tolerate=lambda error: error_code(error) in {"ClientException", "InvalidParameter"},
        )
        return None if answer is None else dict(answer.get("taskDefinition", {}))

    def security_groups_of_eni(self, eni_id: str) -> list[str] | None:
        """The security groups of a network interface; ``None`` when it no longer exists."""
        if self.ec2 is None:
            return None
        answer = self.caller.call(
            "EC2 DescribeNetworkInterfaces",
            eni_id,
            lambda: self.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id]),
            tolerate=lambda error: error_code(error).startswith("InvalidNetworkInterfaceID"),
        )
        interfaces = (answer or {}).get("NetworkInterfaces", [])
        if not interfaces:
            return None
        return [str(group["GroupId"]) for group in interfaces[0].get("Groups", [])]

    def task_definition_arns(self, container_id: str, status: str) -> list[str]:
        """Revisions of the container's family with this status ("ACTIVE" or "INACTIVE").

        An endpoint without ListTaskDefinitions (sockerless' own AWS simulator) is asked revision
        by revision with DescribeTaskDefinition instead (see ``_described_revisions``).
        """
        family = task_definition_family(container_id)
        if LIST_TASK_DEFINITIONS in self.unsupported:  # learnt earlier in the run: ask no more
            return self._described_revisions(family, status)
        try:
            arns, _ = self._listing(
                LIST_TASK_DEFINITIONS,
                f"family {family} ({status})",
                "taskDefinitionArns",
                self.ecs.list_task_definitions,
                familyPrefix=family,
                status=status,
            )
        except AwsError as error:
            if not self.note_unsupported(error):
                raise
            self.caller.log(
                f"The AWS endpoint {self.config.endpoint_url or 'of AWS'} does not implement "
                f"ECS ListTaskDefinitions; looking for {status} revisions of {family} with "
                "DescribeTaskDefinition instead"
            )
            return self._described_revisions(family, status)
        return list(dict.fromkeys(str(arn) for arn in arns))

    def _described_revisions(self, family: str, status: str) -> list[str]:
        """Revisions of ``family`` with ``status``, described one by one from the newest down.

        DescribeTaskDefinition(family) names the newest revision (the newest ACTIVE one on AWS,
        the newest of any status elsewhere); every revision below it is described by number,
        at most ``MAX_REVISIONS`` of them.
        """
        newest = self.task_definition(family)
        if newest is None:
            return []
        top = int(newest.get("revision") or 0)
        arns: list[str] = []
        for revision in range(top, max(0, top - MAX_REVISIONS), -1):
            definition = newest if revision == top else self.task_definition(f"{family}:{revision}")
            if definition and definition.get("status") == status:
                arns.append(str(definition["taskDefinitionArn"]))
        return arns

    def note_unsupported(self, error: AwsError) -> bool:
        """True, and remembered for the target, when ``error`` says the endpoint does not
        implement the operation at all; False for any other failure (the caller re-raises)."""
        if not is_unsupported(error):
            return False
        self.unsupported.add(error.operation)
        return True

    def log_streams(self, container_id: str) -> list[str] | None:
        """Streams ``<id[:12]>/...`` in the log group; ``None`` when the group is absent."""
        prefix = log_stream_prefix(container_id)
        group = self.config.log_group
        streams, found = self._listing(
            "Logs DescribeLogStreams",
            f"streams {prefix}* in {group}",
            "logStreams",
            self.logs.describe_log_streams,
            logGroupName=group,
            logStreamNamePrefix=prefix,
        )
        if not found:
            return None
        names = dict.fromkeys(str(stream["logStreamName"]) for stream in streams)
        # A prefix filter the server ignored (moto ignores some) must never widen a delete.
        return [name for name in names if name.startswith(prefix)]

    def _listing(
        self,
        operation: str,
        resource: str,
        key: str,
        call: Callable[..., dict[str, Any]],
        *,
        token_key: str = "nextToken",  # noqa: S107 - a paging key, not a secret
        **params: Any,
    ) -> tuple[list[Any], bool]:
        """Every item under ``key`` of every page of ``call(**params)``, and whether what is
        listed (cluster, log group) exists: the items before it went missing are kept."""
        items: list[Any] = []
        pages = iter_pages(
            self.caller,
            operation,
            resource,
            call,
            params,
            tolerate=is_not_found,
            token_key=token_key,
        )
        try:
            for page in pages:
                items.extend(page.get(key, []))
        except Missing:
            return items, False
        return items, True


def iter_pages(
    caller: AwsCaller,
    operation: str,
    resource: str,
    call: Callable[..., dict[str, Any]],
    params: dict[str, Any],
    *,
    tolerate: Callable[[ClientError], bool] | None = None,
    token_key: str = "nextToken",  # noqa: S107 - a paging key, not a secret
    max_pages: int = MAX_PAGES,
) -> Iterator[dict[str, Any]]:
    """The pages of ``call(**params)`` made through ``caller``, fetched as they are consumed
    (a caller may stop early).

    Each answer's ``token_key`` goes back as ``nextToken`` until it is absent or repeats, at
    most ``max_pages`` pages. A failure ``tolerate`` accepts raises ``Missing``.
    """
    token: str | None = None
    for _ in range(max_pages):
        answer = caller.call(
            operation,
            resource,
            lambda token=token: call(  # type: ignore[misc]
                **params, **({"nextToken": token} if token else {})
            ),
            tolerate=tolerate,
        )
        if answer is None:
            raise Missing
        yield answer
        next_token = answer.get(token_key)
        # moto hands back the same token at the end of some listings; treat it as the end.
        if not next_token or next_token == token:
            return
        token = str(next_token)


class Missing(Exception):
    """The resource being listed (cluster, log group) does not exist."""
