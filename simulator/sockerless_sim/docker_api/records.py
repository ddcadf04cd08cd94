"""What the daemon remembers about a container, and the Docker state derived from its ECS task."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

ZERO_TIME = "0001-01-01T00:00:00Z"

# ECS lastStatus -> Docker State.Status (the spec's table; DEPROVISIONING is "running (stopping)").
_STATUS_MAP = {
    "PROVISIONING": "created",
    "PENDING": "created",
    "ACTIVATING": "created",
    "RUNNING": "running",
    "DEACTIVATING": "running",
    "STOPPING": "running",
    "DEPROVISIONING": "running",
    "STOPPED": "exited",
}

# Exit code reported for a task that stopped without its container ever running (image pull
# failure and the like): what Docker reports when a container fails to start.
START_FAILURE_EXIT_CODE = 128


def start_failure_exit_code(reason: str) -> int:
    """Docker's exit code for a container whose start failed with ``reason``, by moby's rule
    (``daemon/start.go``): 127 when the command was not found, 126 when it could not be
    executed, else 128. Measured on Docker 20.10: ``bash`` on alpine reads 127, ``/etc/passwd``
    126."""
    if "executable file not found" in reason or "no such file or directory" in reason:
        return 127
    if "permission denied" in reason:
        return 126
    return START_FAILURE_EXIT_CODE


def env_assignments(env: list[str]) -> list[tuple[str, str]]:
    """The ``K=V`` entries of a create's or an exec's ``Env`` as (name, value), in order; an
    entry without ``=`` (Docker: unset it from the image's environment, which does not exist
    here) sets nothing."""
    entries = (item.partition("=") for item in env)
    return [(name, value) for name, equals, value in entries if name and equals]


@dataclass(frozen=True)
class ContainerConfig:
    """The container as the client created it (inspect shows this, never the agent wrapper)."""

    image: str
    cmd: list[str] | None
    entrypoint: list[str] | None
    env: list[str]
    labels: dict[str, str]
    tty: bool
    open_stdin: bool
    working_dir: str
    user: str
    hostname: str
    stop_timeout: int | None
    host_config: dict[str, object]
    stop_signal: str = ""
    stdin_once: bool = False
    attach_stdin: bool = False
    attach_stdout: bool = False
    attach_stderr: bool = False
    domainname: str = ""
    task_cpu: str = "256"  # the Fargate task size for HostConfig.NanoCpus/CpuShares
    task_memory: str = "512"  # and HostConfig.Memory/MemoryReservation (MiB)
    console_size: tuple[int, int] = (0, 0)  # HostConfig.ConsoleSize: the Tty's rows, columns

    @property
    def argv(self) -> list[str]:
        """Entrypoint followed by command: what the process runs. An entrypoint of one empty
        string (``docker run --entrypoint ""``) means none, as in Docker."""
        entrypoint = [] if self.entrypoint == [""] else (self.entrypoint or [])
        return [*entrypoint, *(self.cmd or [])]

    @property
    def auto_remove(self) -> bool:
        """``HostConfig.AutoRemove`` (``docker run --rm``)."""
        return self.host_config.get("AutoRemove") is True


@dataclass(frozen=True)
class TaskSnapshot:
    """The fields of one DescribeTasks entry the daemon uses."""

    arn: str
    last_status: str
    exit_code: int | None
    stopped_reason: str | None
    started_at: datetime | None
    stopped_at: datetime | None
    private_ip: str | None
    created_at: datetime | None = None  # when RunTask made the task

    @property
    def task_id(self) -> str:
        """The last segment of the task ARN (CloudWatch stream names use it)."""
        return self.arn.rsplit("/", 1)[-1]

    @property
    def stopped(self) -> bool:
        """Whether ECS reports the task STOPPED (it never changes again)."""
        return self.last_status == "STOPPED"


@dataclass
class ContainerRecord:
    """One container: identity, original config, its ECS task definition and tasks."""

    id: str
    name: str
    created: datetime
    config: ContainerConfig
    agent_token: str
    task_definition_arn: str
    task_arns: list[str] = field(default_factory=list)
    # The last snapshot of the newest task once it is STOPPED: it cannot change any more.
    final: TaskSnapshot | None = None
    # The signal of a ``docker kill`` of the newest task (kept only under stop-exit-code-one).
    kill_signal: int | None = None
    # Open ``POST /containers/{id}/attach`` streams (an auto-remove waits for them to end).
    attachments: int = 0
    # ``lock`` guards state changes; ``start_lock`` serialises starts, which wait for minutes.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    start_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def short_id(self) -> str:
        """The first 12 hex digits (task definition family, log stream prefix)."""
        return self.id[:12]

    @property
    def current_task(self) -> str | None:
        """The newest task's ARN, if the container was ever started."""
        return self.task_arns[-1] if self.task_arns else None


@dataclass(frozen=True)
class DockerState:
    """``State`` of a container as Docker shows it."""

    status: str
    exit_code: int
    error: str
    started_at: str
    finished_at: str
    ip: str

    @property
    def running(self) -> bool:
        """Docker's ``State.Running``."""
        return self.status == "running"


def rfc3339(moment: datetime | None) -> str:
    """Docker's RFC 3339 with nanoseconds (UTC, ``Z``), or the zero time."""
    if moment is None:
        return ZERO_TIME
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond * 1000:09d}Z"


def docker_state(snapshot: TaskSnapshot | None) -> DockerState:
    """Map the newest task (None: never started) to Docker's state, per the spec's table."""
    if snapshot is None:
        return DockerState("created", 0, "", ZERO_TIME, ZERO_TIME, "")
    status = _STATUS_MAP.get(snapshot.last_status, "created")
    if status == "running" and snapshot.started_at is None:
        # Stopping before its container ever ran (an image pull failure): it was never running.
        status = "created"
    exit_code = 0
    error = ""
    if status == "exited":
        if snapshot.exit_code is not None:
            exit_code = snapshot.exit_code
        else:
            error = snapshot.stopped_reason or "task stopped"
            exit_code = start_failure_exit_code(error)
    return DockerState(
        status=status,
        exit_code=exit_code,
        error=error,
        started_at=rfc3339(snapshot.started_at),
        finished_at=rfc3339(snapshot.stopped_at) if status == "exited" else ZERO_TIME,
        ip=(snapshot.private_ip or "") if status == "running" else "",
    )
