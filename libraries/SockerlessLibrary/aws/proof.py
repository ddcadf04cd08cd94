"""Positive proofs on AWS: what the daemon claims must have happened on ECS and CloudWatch.

Each proof first finds the resource the spec's Docker -> ECS mapping says must exist for a
container (its task, the task's ENI, its task definition, its CloudWatch events), then compares
it with the daemon's claim; docs/proofs.md says why and how a failure reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from ..logstream import LogLine
from ..polling import Poller, PollTimeout, poll_until
from .evidence import (
    BEFORE_RUNNING,
    TaskEvidence,
    attachment_detail,
    describe_task,
    task_exit_code,
)
from .queries import ContainerResources
from .resources import arn_name, family_of_task_definition_arn, short_id, task_definition_family

T = TypeVar("T")
FARGATE = "FARGATE"
FIRST_INTERVAL_SECONDS = 0.5
MAX_INTERVAL_SECONDS = 4.0


class AwsProofFailed(AssertionError):
    """AWS does not show what the daemon claimed."""

    ROBOT_SUPPRESS_NAME = True

    def __init__(self, claim: str, *, expected: str, found: str, looked: Sequence[str]) -> None:
        super().__init__(
            f"{claim}\n"
            f"    expected on AWS: {expected}\n"
            f"    found on AWS: {found}\n"
            f"    looked with: {'; '.join(looked)}"
        )


class NothingToProve(AssertionError):
    """A proof was given nothing to check: passing would prove nothing."""

    ROBOT_SUPPRESS_NAME = True


@dataclass
class AwsProver:
    """The positive proofs of one target's AWS side; ``log`` writes at INFO."""

    resources: ContainerResources
    log: Callable[[str], None]
    interval: float = FIRST_INTERVAL_SECONDS

    def _poll(self, poller: Poller[T], what: str, timeout: float) -> T:
        """``poll_until`` with this prover's backoff and log."""
        return poll_until(
            poller,
            what=what,
            timeout=timeout,
            interval=self.interval,
            max_interval=MAX_INTERVAL_SECONDS,
            log=self.log,
        )

    # -- finding the task -------------------------------------------------------------------

    def _await_tasks(
        self,
        container_id: str,
        claim: str,
        expected: str,
        timeout: float,
        until: Callable[[list[dict[str, Any]]], bool] = bool,
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """The container's tasks once ``until`` holds (default: there is one), and the lookups:
        by family, else by tag anywhere in the cluster."""
        cluster = self.resources.config.cluster
        looked: list[str] = []

        def probe() -> list[dict[str, Any]]:
            looked[:] = [
                f"ECS ListTasks cluster={cluster} family={task_definition_family(container_id)} "
                "desiredStatus=RUNNING,STOPPED + DescribeTasks include=TAGS"
            ]
            tasks = self.resources.container_tasks(container_id, ("RUNNING", "STOPPED"))
            if tasks:
                return tasks
            looked.append(
                f"ECS ListTasks cluster={cluster} desiredStatus=RUNNING,STOPPED + DescribeTasks "
                f"include=TAGS, tag sockerless-container-id={short_id(container_id)}*"
            )
            return self.resources.tagged_cluster_tasks(container_id)

        poller: Poller[list[dict[str, Any]]] = Poller(
            probe=probe, done=until, describe=_describe_tasks
        )
        try:
            tasks = self._poll(poller, f"ECS task of container {short_id(container_id)}", timeout)
        except PollTimeout as error:
            last = error.last if isinstance(error.last, list) else []
            raise AwsProofFailed(
                claim,
                expected=expected,
                found=(
                    f"{_describe_tasks(last)}, still so after {timeout:g} s"
                    if last
                    else f"no ECS task for the container within {timeout:g} s"
                ),
                looked=looked,
            ) from None
        return tasks, looked

    # -- AC 3, 4, 8: the task exists, is Fargate, from the container's family, and ran ------

    def task_should_have_reached_running(self, container_id: str, timeout: float) -> TaskEvidence:
        """After start answered 204: exactly one FARGATE task of family ``sockerless-<id12>``,
        RUNNING or later (never PROVISIONING/PENDING), whose task definition is ACTIVE."""
        family = task_definition_family(container_id)
        claim = f"Start answered 204 for container {short_id(container_id)}"
        expected = (
            f"exactly one ECS task, launchType {FARGATE}, task definition family {family}, "
            "lastStatus RUNNING or later"
        )
        tasks, looked = self._await_tasks(container_id, claim, expected, timeout)
        found = _describe_tasks(tasks)

        def fail(why: str) -> AwsProofFailed:
            return AwsProofFailed(
                f"{claim}, but {why}", expected=expected, found=found, looked=looked
            )

        if len(tasks) != 1:
            raise fail(f"ECS has {len(tasks)} tasks for it")
        task = tasks[0]
        evidence = TaskEvidence.from_task(container_id, task)
        if evidence.launch_type != FARGATE:
            raise fail(f"its task runs with launch type {evidence.launch_type or 'none'}")
        if evidence.family != family:
            raise fail(f"its task was not launched from the container's task definition {family}")
        if evidence.last_status in BEFORE_RUNNING:
            raise fail(f"its task was still {evidence.last_status}: start returned before RUNNING")
        if evidence.last_status == "STOPPED" and not _ran(task):
            raise fail("its task stopped without ever running")
        arn = evidence.task_definition_arn
        status = (self.resources.task_definition(arn) or {}).get("status", "unknown to ECS")
        if status != "ACTIVE":
            raise AwsProofFailed(
                f"{claim}, but the task definition it ran from is not ACTIVE",
                expected=f"task definition {arn} ACTIVE",
                found=f"task definition {arn} {status}",
                looked=[*looked, f"ECS DescribeTaskDefinition taskDefinition={arn}"],
            )
        evidence.definition_seen_active = True
        self.log(
            f"On AWS: container {short_id(container_id)} runs as ECS task {evidence.task_id} "
            f"({describe_task(task)}), task definition {evidence.task_definition_arn} ACTIVE"
        )
        return evidence

    # -- AC 2: the task runs where the configuration says --------------------------------------

    def network_should_be_configured(self, evidence: TaskEvidence) -> dict[str, Any]:
        """The task's cluster, subnet (from its ENI attachment) and security groups (from EC2,
        while the ENI exists; ``None`` when not read) are the configured ones; unconfigured ones
        are reported as used. Returns ``cluster``, ``subnets``, ``security_groups`` and
        ``description`` (``cluster c, subnet(s) s, security group(s) g``)."""
        config = self.resources.config
        groups = self.resources.security_groups_of_eni(evidence.eni_id) if evidence.eni_id else None
        evidence.security_groups = groups
        cluster = arn_name(evidence.cluster_arn)
        subnets = [evidence.subnet_id] if evidence.subnet_id else []
        unread_because = (
            f"EC2 does not know ENI {evidence.eni_id}: released with its stopped task"
            if evidence.eni_id
            else "the task's ENI attachment names no network interface"
        )
        used = (
            f"cluster {cluster}, subnet(s) {', '.join(subnets) or 'none'}, security group(s) "
            + (", ".join(groups) if groups is not None else f"not read ({unread_because})")
        )
        looked = [
            f"ECS DescribeTasks cluster={config.cluster} tasks={evidence.task_id} "
            "(clusterArn, ENI attachment subnetId)",
            f"EC2 DescribeNetworkInterfaces NetworkInterfaceIds={evidence.eni_id or 'none'}",
        ]
        configured = (
            f"cluster {config.cluster}, subnet(s) {', '.join(config.subnets) or 'any'}, "
            f"security group(s) {', '.join(config.security_groups) or 'any'}"
        )
        problems: list[str] = []
        # SOCKERLESS_ECS_CLUSTER may be a name or an ARN; the task names its cluster by ARN.
        if cluster != arn_name(config.cluster):
            problems.append(f"cluster {cluster} is not {config.cluster}")
        if not subnets:
            problems.append("the task has no ENI attachment with a subnet (not awsvpc)")
        elif config.subnets and subnets[0] not in config.subnets:
            problems.append(f"subnet {subnets[0]} is not one of {', '.join(config.subnets)}")
        if (
            config.security_groups
            and groups is not None
            and set(groups) != set(config.security_groups)
        ):
            problems.append(
                f"security groups {', '.join(groups) or 'none'} are not "
                f"{', '.join(config.security_groups)}"
            )
        if problems:
            raise AwsProofFailed(
                f"Task {evidence.task_id} does not run in the configured network: "
                + "; ".join(problems),
                expected=configured,
                found=used,
                looked=looked,
            )
        self.log(f"On AWS: task {evidence.task_id} runs in {used}")
        return {
            "cluster": cluster,
            "subnets": subnets,
            "security_groups": groups,
            "description": used,
        }

    # -- AC 5: the IP the daemon reports is the task ENI's --------------------------------------

    def reported_ip_should_be_eni_ip(self, evidence: TaskEvidence, reported: str) -> None:
        """The daemon's IP equals the ENI attachment's ``privateIPv4Address``."""
        if evidence.private_ip is None:  # proven before the ENI had one: as ECS says it now
            tasks = self.resources.describe_tasks([evidence.task_arn])
            if tasks:
                evidence = replace(
                    evidence,
                    eni_id=attachment_detail(tasks[0], "networkInterfaceId"),
                    private_ip=attachment_detail(tasks[0], "privateIPv4Address"),
                )
        looked = [
            f"ECS DescribeTasks cluster={self.resources.config.cluster} tasks={evidence.task_id} "
            "(ENI attachment privateIPv4Address)"
        ]
        if evidence.private_ip != reported:
            raise AwsProofFailed(
                f"The daemon reports IP {reported} for container "
                f"{short_id(evidence.container_id)}, which is not its task's ENI address",
                expected=f"ENI {evidence.eni_id or '?'} of task {evidence.task_id} with "
                f"privateIPv4Address {reported}",
                found=f"ENI {evidence.eni_id or 'none'} with privateIPv4Address "
                f"{evidence.private_ip or 'none'}",
                looked=looked,
            )
        self.log(
            f"On AWS: {reported} is the privateIPv4Address of task {evidence.task_id}'s ENI"
            + (f" {evidence.eni_id}" if evidence.eni_id else "")
        )

    # -- AC 6, 7: the task stopped, with the exit code Docker reports ---------------------------

    def task_of_container(self, container_id: str, timeout: float) -> TaskEvidence:
        """The container's one ECS task, whatever its state (for a proof about a container no
        earlier proof has looked at, e.g. one started with plain `Start Container`)."""
        claim = f"Container {short_id(container_id)} was started"
        expected = f"one ECS task of family {task_definition_family(container_id)}"
        tasks, looked = self._await_tasks(container_id, claim, expected, timeout)
        if len(tasks) != 1:
            raise AwsProofFailed(
                f"{claim}, but ECS has {len(tasks)} tasks for it",
                expected=expected,
                found=_describe_tasks(tasks),
                looked=looked,
            )
        return TaskEvidence.from_task(container_id, tasks[0])

    def task_should_stop(
        self,
        evidence: TaskEvidence,
        timeout: float,
        exit_code: int | None = None,
        *,
        daemon_says: str = "",
    ) -> dict[str, Any]:
        """The task reaches STOPPED within ``timeout``; with ``exit_code``, ECS recorded that
        exit code for its container. ``daemon_says``: what the daemon reported, for the
        failure message (when the caller checked the daemon first)."""
        looked = [
            f"ECS DescribeTasks cluster={self.resources.config.cluster} tasks={evidence.task_id}"
        ]
        expected = f"task {evidence.task_id} lastStatus STOPPED" + (
            f", container exitCode {exit_code}" if exit_code is not None else ""
        )

        def probe() -> dict[str, Any]:
            tasks = self.resources.describe_tasks([evidence.task_arn])
            return tasks[0] if tasks else {}

        def done(task: Mapping[str, Any]) -> bool:
            stopped = task.get("lastStatus") == "STOPPED"
            return stopped and (exit_code is None or task_exit_code(task) is not None)

        poller: Poller[dict[str, Any]] = Poller(
            probe=probe, done=done, describe=lambda t: describe_task(t) if t else "no such task"
        )
        try:
            task = self._poll(poller, f"ECS task {evidence.task_id} stopped", timeout)
        except PollTimeout as timeout_error:
            last = timeout_error.last
            found = describe_task(last) if isinstance(last, Mapping) and last else "no such task"
            raise AwsProofFailed(
                f"Container {short_id(evidence.container_id)} reads as exited, but its task "
                f"did not stop within {timeout:g} s",
                expected=expected,
                found=found,
                looked=looked,
            ) from None
        recorded = task_exit_code(task)
        if exit_code is not None and recorded != exit_code:
            raise AwsProofFailed(
                f"ECS recorded exit code {recorded} for the task of container "
                f"{short_id(evidence.container_id)}, expected {exit_code}"
                + (f" ({daemon_says})" if daemon_says else ""),
                expected=expected,
                found=describe_task(task),
                looked=looked,
            )
        self.log(f"On AWS: {describe_task(task)}")
        return task

    # -- AC 8: the task definition that was ACTIVE is deregistered ------------------------------

    def task_definition_should_be_deregistered(self, evidence: TaskEvidence) -> None:
        """The revision the task ran from, proven ACTIVE earlier, is now INACTIVE (or deleted)."""
        arn = evidence.task_definition_arn
        looked = [f"ECS DescribeTaskDefinition taskDefinition={arn}"]
        if not evidence.definition_seen_active:
            raise AwsProofFailed(
                f"Task definition {arn} was never seen ACTIVE, so its deregistration proves "
                "nothing",
                expected=f"{arn} ACTIVE after start, INACTIVE after remove",
                found="no ACTIVE revision recorded for this container",
                looked=looked,
            )
        definition = self.resources.task_definition(arn)
        status = None if definition is None else str(definition.get("status"))
        if status not in (None, "INACTIVE", "DELETE_IN_PROGRESS"):
            raise AwsProofFailed(
                f"Container {short_id(evidence.container_id)} was removed, but its task "
                "definition was not deregistered",
                expected=f"{arn} INACTIVE",
                found=f"{arn} {status}",
                looked=looked,
            )
        self.log(
            f"On AWS: task definition {arn}, ACTIVE after start, is now "
            f"{status or 'deleted (unknown to ECS)'}"
        )

    # -- AC 11-13: the lines the daemon returns are the task's CloudWatch events ----------------

    def log_lines_should_be_events(
        self, evidence: TaskEvidence, lines: Sequence[LogLine], timeout: float
    ) -> list[dict[str, Any]]:
        """Every line is an event of the task's stream, in order; every printed timestamp equals
        that event's timestamp to the millisecond. Returns the matched events."""
        group = self.resources.config.log_group
        stream = evidence.log_stream
        looked = [f"Logs GetLogEvents group={group} stream={stream} startFromHead=true"]
        wanted = [line for line in lines if line.text]
        if not wanted:
            raise NothingToProve(
                f"No log line to prove for container {short_id(evidence.container_id)}: the "
                f"logs given hold {len(lines)} line(s)"
                + (" and none has text" if lines else "")
                + ", so matching them to the CloudWatch events of its task would prove "
                "nothing. Read the logs once the output is there (`Wait Until Logs Contain "
                "Line` returns the read that held the line; a read with tail=0, or one made "
                "before CloudWatch delivered the first event, holds none)"
            )
        state: dict[str, Any] = {"events": None, "matched": [], "missing": None, "wanted": wanted}

        def probe() -> dict[str, Any]:
            events = self.resources.log_events(stream)
            matched, missing = _match_lines(wanted, events or [])
            state.update(events=events, matched=matched, missing=missing)
            return state

        poller: Poller[dict[str, Any]] = Poller(
            probe=probe,
            done=lambda s: s["events"] is not None and s["missing"] is None,
            describe=_describe_match,
        )
        try:
            self._poll(poller, f"CloudWatch events of {stream}", timeout)
        except PollTimeout:
            raise AwsProofFailed(
                f"The daemon's log lines for container {short_id(evidence.container_id)} are "
                "not the CloudWatch events of its task",
                expected=f"in stream {stream} of group {group}: "
                + "; ".join(_describe_line(line) for line in wanted),
                found=_describe_match(state),
                looked=looked,
            ) from None
        problems = [
            f"{line.text!r} printed at {line.raw_timestamp}, but the event's timestamp is "
            f"{event['timestamp']} ms ({_iso(event['timestamp'])})"
            for line, event in zip(wanted, state["matched"], strict=True)
            if line.timestamp is not None and _epoch_ms(line.timestamp) != event["timestamp"]
        ]
        if problems:
            raise AwsProofFailed(
                "The timestamps the daemon prints are not the CloudWatch event timestamps: "
                + "; ".join(problems),
                expected="each printed timestamp equal to its event's timestamp (milliseconds)",
                found="; ".join(
                    f"{event['message'].rstrip()!r} at {event['timestamp']} ms"
                    for event in state["matched"]
                ),
                looked=looked,
            )
        evidence.log_stream_seen = True
        self.log(
            f"On AWS: {len(wanted)} line(s) are events of {group}/{stream}"
            + (" with the same timestamps" if any(line.timestamp for line in wanted) else "")
        )
        return list(state["matched"])

    # -- spec note TestECSStartTimeout: the task was launched and failed to start ---------------

    def task_should_have_failed_to_start(
        self, container_id: str, reason_pattern: str, timeout: float
    ) -> dict[str, Any]:
        """A task was launched for the container and stopped without running, for a reason
        matching ``reason_pattern`` (its stoppedReason or the container's reason)."""
        claim = f"Start of container {short_id(container_id)} failed"
        family = task_definition_family(container_id)
        expected = (
            f"an ECS task of family {family}, STOPPED without running, reason matching "
            f"/{reason_pattern}/"
        )
        tasks, looked = self._await_tasks(
            container_id,
            claim,
            expected,
            timeout,
            until=lambda found: (
                bool(found) and all(t.get("lastStatus") == "STOPPED" for t in found)
            ),
        )
        if any(
            family_of_task_definition_arn(str(t.get("taskDefinitionArn"))) != family for t in tasks
        ):
            raise AwsProofFailed(
                f"{claim}, but its task was not launched from the container's task definition "
                f"{family}",
                expected=expected,
                found=_describe_tasks(tasks),
                looked=looked,
            )
        pattern = re.compile(reason_pattern)
        for task in tasks:
            reasons = [str(task.get("stoppedReason") or "")] + [
                str(c.get("reason") or "") for c in task.get("containers") or ()
            ]
            if not _ran(task) and any(pattern.search(reason) for reason in reasons):
                self.log(f"On AWS: {describe_task(task)}")
                return task
        raise AwsProofFailed(
            f"{claim}, but no task of it failed for that reason",
            expected=expected,
            found=_describe_tasks(tasks),
            looked=looked,
        )


def _describe_tasks(tasks: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(describe_task(task) for task in tasks) or "no task"


def _ran(task: Mapping[str, Any]) -> bool:
    """The task got as far as running its container: a start time or an exit code."""
    return bool(task.get("startedAt")) or task_exit_code(task) is not None


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp()) * 1000 + moment.microsecond // 1000


def _iso(timestamp_ms: int) -> str:
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _message(event: Mapping[str, Any]) -> str:
    return str(event.get("message", "")).rstrip("\r\n")


def _match_lines(
    lines: Sequence[LogLine], events: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], LogLine | None]:
    """Each line matched, in order, to a later event with the same message; the first that is
    not matched (``None`` when all are)."""
    matched: list[dict[str, Any]] = []
    position = 0
    for line in lines:
        for index in range(position, len(events)):
            if _message(events[index]) == line.text:
                matched.append(dict(events[index]))
                position = index + 1
                break
        else:
            return matched, line
    return matched, None


def _describe_line(line: LogLine) -> str:
    at = f" at {line.raw_timestamp}" if line.raw_timestamp else ""
    return f"event {line.text!r}{at}"


def _describe_match(state: Mapping[str, Any]) -> str:
    events = state.get("events")
    if events is None:
        return "no such log stream"
    shown = ", ".join(repr(_message(event)) for event in events[:10])
    more = f" (+{len(events) - 10} more)" if len(events) > 10 else ""
    missing = state.get("missing")
    head = f"{len(events)} event(s): {shown or 'none'}{more}"
    if missing is None:
        return head
    in_stream = sum(1 for event in events if _message(event) == missing.text)
    if not in_stream:
        return f"{head}; no event {missing.text!r}"
    in_logs = sum(1 for line in state.get("wanted") or () if line.text == missing.text)
    if in_logs > in_stream:
        return (
            f"{head}; the daemon's logs have the line {missing.text!r} {in_logs} times, the "
            f"stream only {in_stream} time{'' if in_stream == 1 else 's'}"
        )
    return (
        f"{head}; the event {missing.text!r} is there, but not after the events that match "
        f"the lines before it: the daemon's order is not the stream's"
    )
