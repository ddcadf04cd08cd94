"""The daemon's lies (``SimConfig.lies``): where it claims AWS effects that did not happen.

Lies are faults, not quirks: a quirk reproduces real sockerless, a lie reproduces a wrong
daemon, so that the kit's AWS-side checks can be shown to catch one. A lying daemon lies
consistently (inspect, list, start, stop, exec and logs agree with each other), so only a look
at AWS itself can tell:

* ``ip-not-eni``: the reported IP is another address of the ENI's /24, never the ENI's own;
* ``start-before-running``: a task still PROVISIONING/PENDING is reported ``running``, and start
  answers 204 right after RunTask;
* ``no-task-definition``: the task definition family is ``impostor-<id12>``, never
  ``sockerless-<id12>``;
* ``log-timestamps-not-cloudwatch``: ``timestamps=true`` prints each event's ``ingestionTime``
  instead of its ``timestamp``;
* ``logs-not-cloudwatch``: logs come from the simulator's own capture (``logs.py`` reads it).

With no lie set, every answer here is exactly the honest daemon's.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import replace

from .ecs import LogEvent
from .records import ContainerConfig, DockerState, TaskSnapshot, docker_state, rfc3339

HONEST_FAMILY_PREFIX = "sockerless-"
IMPOSTOR_FAMILY_PREFIX = "impostor-"
EARLY_STATUSES = frozenset({"PROVISIONING", "PENDING"})
# Host numbers a fake address may take inside the ENI's /24: past the addresses AWS reserves at
# the start of a subnet, below the broadcast address.
_FIRST_HOST = 4
_HOSTS = 250


def not_eni_ip(eni_ip: str, task_id: str) -> str:
    """Another private address of ``eni_ip``'s /24, fixed per task, never ``eni_ip`` itself."""
    address = int(ipaddress.IPv4Address(eni_ip))
    base = address & ~0xFF
    digest = int.from_bytes(hashlib.sha256(task_id.encode()).digest()[:4], "big")
    host = _FIRST_HOST + digest % _HOSTS
    if base + host == address:
        host = _FIRST_HOST + (host - _FIRST_HOST + 1) % _HOSTS
    return str(ipaddress.IPv4Address(base + host))


class Impostor:
    """The active lies, applied where the daemon derives what it reports."""

    def __init__(self, lies: frozenset[str], pull_failure_pattern: str) -> None:
        self.lies = lies
        self._pull_failure = re.compile(pull_failure_pattern)

    @property
    def logs_from_capture(self) -> bool:
        """``logs-not-cloudwatch``: serve logs from the simulator's own capture."""
        return "logs-not-cloudwatch" in self.lies

    def family(self, container_id: str) -> str:
        """The task definition family a container's tasks run from."""
        if "no-task-definition" in self.lies:
            return IMPOSTOR_FAMILY_PREFIX + container_id[:12]
        return HONEST_FAMILY_PREFIX + container_id[:12]

    def claims_running_early(self, snapshot: TaskSnapshot | None) -> bool:
        """``start-before-running``: this task is not RUNNING yet, but is reported running."""
        return (
            "start-before-running" in self.lies
            and snapshot is not None
            and snapshot.last_status in EARLY_STATUSES
        )

    def answers_start_early(self, config: ContainerConfig) -> bool:
        """``start-before-running``: start answers 204 as soon as RunTask returned.

        Not for a container the simulator knows will fail to start (an image matching its
        pull-failure pattern, nothing to run): that start waits and answers 500 as before, so the
        Docker-side failure checks still pass and only the AWS-side state check catches the lie.
        """
        return (
            "start-before-running" in self.lies
            and bool(config.argv)
            and not self._pull_failure.search(config.image)
        )

    def state(
        self, snapshot: TaskSnapshot | None, honest: DockerState | None = None
    ) -> DockerState:
        """Docker's state of the newest task, as this daemon reports it (``honest``: the state
        without lies, default ``docker_state(snapshot)``)."""
        state = docker_state(snapshot) if honest is None else honest
        if snapshot is None or not self.lies:
            return state
        if self.claims_running_early(snapshot):
            state = replace(
                state,
                status="running",
                started_at=rfc3339(snapshot.started_at or snapshot.created_at),
                ip=snapshot.private_ip or "",
            )
        if "ip-not-eni" in self.lies and state.ip:
            state = replace(state, ip=not_eni_ip(state.ip, snapshot.task_id))
        return state

    def printed_ms(self, event: LogEvent) -> int:
        """The time ``timestamps=true`` prints for an event (ms since the epoch)."""
        if "log-timestamps-not-cloudwatch" in self.lies and event.ingestion_ms is not None:
            return event.ingestion_ms
        return event.timestamp_ms
