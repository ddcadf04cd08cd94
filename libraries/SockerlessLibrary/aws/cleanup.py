"""Remove, on the AWS side, everything sockerless created for one container.

Order matters: tasks are stopped first, task definitions deregistered next (AWS keeps listing tasks
of a deregistered family, moto does not; stopping first finds them on both), log streams last,
once the tasks have reached STOPPED (a task still running may write to its stream again). Each
step runs even when an earlier one failed, so one stubborn resource does not leak the others; the
failures are collected and reported together. "Not found" counts as already clean. The shared log
group is never deleted: only streams ``<id[:12]>/...`` in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ..errors import AwsEndpointDown, AwsError
from ..polling import Poller, PollTimeout, poll_until
from .queries import ContainerResources, is_not_found
from .resources import arn_name, short_id, task_definition_family
from .retry import error_code, error_message

STOP_REASON = "sockerless-kit cleanup"
STOPPED_WAIT_SECONDS = 30.0
DEADLINE_RESERVE_SECONDS = 10.0  # kept for deregistering and deleting after the wait


@dataclass
class AwsCleanupReport:
    """What one container's AWS cleanup did, and what it could not do."""

    container_id: str
    stopped_tasks: list[str] = field(default_factory=list)
    deregistered_task_definitions: list[str] = field(default_factory=list)
    deleted_log_streams: list[str] = field(default_factory=list)
    # Streams an endpoint without DeleteLogStream keeps; AWS itself always deletes them.
    undeletable_log_streams: list[str] = field(default_factory=list)
    task_arns: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every step succeeded."""
        return not self.errors

    def summary(self) -> str:
        """One line for the log."""
        text = (
            f"AWS cleanup of container {self.container_id[:12]}: "
            f"{len(self.stopped_tasks)} task(s) stopped, "
            f"{len(self.deregistered_task_definitions)} task definition revision(s) deregistered, "
            f"{len(self.deleted_log_streams)} log stream(s) deleted"
        )
        if self.undeletable_log_streams:
            text += (
                f", {len(self.undeletable_log_streams)} kept (the endpoint cannot delete log "
                "streams)"
            )
        if self.errors:
            text += "; FAILED: " + "; ".join(self.errors)
        return text


def _task_gone(error: ClientError) -> bool:
    # AWS: InvalidParameterException "The referenced task was not found."
    return "not found" in error_message(error).lower() or error_code(error) in {
        "ClusterNotFoundException",
    }


def _definition_gone(error: ClientError) -> bool:
    message = error_message(error).lower()
    return error_code(error) == "ClientException" and (
        "inactive" in message or "unable to describe" in message or "does not exist" in message
    )


def wait_until_stopped(
    resources: ContainerResources,
    container_id: str,
    *,
    timeout: float,
    interval: float,
    max_interval: float,
) -> list[dict[str, Any]]:
    """The container's tasks once every one is STOPPED; ``PollTimeout`` names those that are
    not after ``timeout``."""
    poller: Poller[list[dict[str, Any]]] = Poller(
        probe=lambda: resources.container_tasks(container_id, ("RUNNING", "STOPPED")),
        done=lambda tasks: all(task.get("lastStatus") == "STOPPED" for task in tasks),
        describe=lambda tasks: (
            ", ".join(
                f"{arn_name(str(task.get('taskArn', '?')))} "
                f"{task.get('lastStatus')}/{task.get('desiredStatus')}"
                for task in tasks
            )
            or "no task"
        ),
    )
    return poll_until(
        poller,
        what=f"Tasks of family {task_definition_family(container_id)} stopped",
        timeout=timeout,
        interval=interval,
        max_interval=max_interval,
        log=resources.caller.log,
    )


@dataclass
class AwsCleaner:
    """Cleans the AWS resources derived from container IDs through ``resources``' clients."""

    resources: ContainerResources

    def clean(self, container_id: str) -> AwsCleanupReport:
        """Stop the container's tasks, deregister its task definitions, delete its log streams."""
        report = AwsCleanupReport(container_id)
        short_id(container_id)  # refuse anything that is not a container ID before any call
        steps = (
            self._stop_tasks,
            self._await_stopped,
            self._deregister_task_definitions,
            self._delete_log_streams,
        )
        for step in steps:
            try:
                step(report)
            except AwsEndpointDown as error:  # no later step could do anything either
                report.errors.append(f"{error} (the remaining steps were not attempted)")
                break
            except AwsError as error:
                report.errors.append(str(error))
        return report

    def _stop_tasks(self, report: AwsCleanupReport) -> None:
        res = self.resources
        cluster = res.config.cluster
        running = res.container_tasks(report.container_id, ("RUNNING",))
        stopped_arns = res.task_arns(report.container_id, "STOPPED")
        report.task_arns = list(
            dict.fromkeys([str(task["taskArn"]) for task in running] + stopped_arns)
        )
        for task in running:
            arn = str(task["taskArn"])
            res.caller.log(
                f"Stopping ECS task {arn} of container {report.container_id[:12]} "
                f"(last status {task.get('lastStatus')})"
            )
            res.caller.call(
                "ECS StopTask",
                arn,
                lambda arn=arn: res.ecs.stop_task(  # type: ignore[misc]
                    cluster=cluster,
                    task=arn,
                    reason=f"{STOP_REASON} of container {report.container_id[:12]}",
                ),
                tolerate=_task_gone,
            )
            report.stopped_tasks.append(arn)

    def _await_stopped(self, report: AwsCleanupReport) -> None:
        """Wait (bounded) until no task of the container is still on its way to STOPPED."""
        res = self.resources
        budget = min(
            STOPPED_WAIT_SECONDS, res.caller.deadline.remaining() - DEADLINE_RESERVE_SECONDS
        )
        if not report.task_arns or budget <= 0:
            return
        try:
            wait_until_stopped(
                res, report.container_id, timeout=budget, interval=0.25, max_interval=2.0
            )
        except PollTimeout as error:
            # Still stopping: carry on, the streams are deleted anyway and the sweep re-checks.
            res.caller.log(f"Not waiting longer for the tasks to stop: {error}")

    def _deregister_task_definitions(self, report: AwsCleanupReport) -> None:
        res = self.resources
        for arn in res.task_definition_arns(report.container_id, "ACTIVE"):
            res.caller.log(f"Deregistering task definition {arn}")
            res.caller.call(
                "ECS DeregisterTaskDefinition",
                arn,
                lambda arn=arn: res.ecs.deregister_task_definition(  # type: ignore[misc]
                    taskDefinition=arn
                ),
                tolerate=_definition_gone,
            )
            report.deregistered_task_definitions.append(arn)
        if not report.deregistered_task_definitions:
            family = task_definition_family(report.container_id)
            res.caller.log(f"No ACTIVE revision of task definition family {family}")

    def _delete_log_streams(self, report: AwsCleanupReport) -> None:
        res = self.resources
        group = res.config.log_group
        streams = res.log_streams(report.container_id)
        if streams is None:
            res.caller.log(f"Log group {group} does not exist: no log stream to delete")
            return
        for name in streams:
            res.caller.log(f"Deleting log stream {group}:{name}")
            try:
                res.caller.call(
                    "Logs DeleteLogStream",
                    f"{group}:{name}",
                    lambda name=name: res.logs.delete_log_stream(  # type: ignore[misc]
                        logGroupName=group, logStreamName=name
                    ),
                    tolerate=is_not_found,  # the stream: Logs names no cluster
                )
            except AwsError as error:
                if not res.note_unsupported(error):
                    raise
                res.caller.log(
                    f"Log stream {group}:{name} stays: the AWS endpoint "
                    f"{res.config.endpoint_url} does not implement DeleteLogStream"
                )
                report.undeletable_log_streams.append(name)
                continue
            report.deleted_log_streams.append(name)
