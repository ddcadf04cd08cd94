"""The ECS backend: the container store and what each Docker operation does on ECS.

Like sockerless, the daemon keeps only identity and the original config in memory; a
container's state is read from ECS (DescribeTasks) every time, except that a task seen STOPPED
is remembered, since it can never change again.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..agent.client import AgentClient, AgentError
from ..agent.protocol import TOKEN_ENV, ProtocolError, parse_signal
from ..config import SimConfig
from ..quirks import FIXED_STOP_GRACE_SECONDS
from . import naming
from .ecs import CONTAINER_NAME, EcsGateway
from .errors import ApiError, bad_request, no_such_container, not_running
from .exchange import ClientGone
from .image_ref import public_gallery_reference
from .images import ImageStore
from .impostor import Impostor
from .ports import Plane
from .records import (
    ContainerConfig,
    ContainerRecord,
    DockerState,
    TaskSnapshot,
    docker_state,
    env_assignments,
)
from .stop_reading import stopped_state

log = logging.getLogger(__name__)

AGENT_PREFIX = ["/sockerless-agent", "--"]
START_TIMEOUT_SECONDS = 300.0  # sockerless polls DescribeTasks for up to 5 minutes
STOP_WAIT_SECONDS = 120.0  # sockerless (H) waits this long for STOPPED, or t + 60 s
STOP_REASON = "Container stopped via API"
# DescribeTasks polls back off from POLL_FIRST to POLL_MAX: sockerless polls every 0.5 s when
# its AWS endpoint is overridden (a simulator), every 2 s on AWS (backends/ecs/config.go).
POLL_FIRST = 0.05
POLL_MAX = 0.5
FARGATE_MAX_STOP_TIMEOUT = 120
AGENT_TIMEOUT = 5.0
WAIT_CONDITIONS = ("not-running", "next-exit", "removed")
AUTO_REMOVE_ATTACH_WAIT = 30.0  # how long an auto-remove lets open attach streams finish


def backoff(first: float = POLL_FIRST, maximum: float = POLL_MAX) -> Iterator[float]:
    """Poll intervals: ``first``, doubling up to ``maximum``."""
    interval = first
    while True:
        yield interval
        interval = min(interval * 2, maximum)


@dataclass(frozen=True)
class ContainerView:
    """A container with its newest task, the Docker state derived from it and the image
    reference it reports."""

    record: ContainerRecord
    snapshot: TaskSnapshot | None
    state: DockerState
    image: str


class EcsBackend:
    """Container store plus the ECS logic of sockerless' backend, talking to the plane via boto3."""

    def __init__(self, plane: Plane, config: SimConfig, *, hostname: str | None = None) -> None:
        self.plane = plane
        self.config = config
        self.hostname = hostname or socket.gethostname()
        self.gateway = EcsGateway(
            plane.client("ecs"), plane.client("logs"), cluster=plane.cluster,
            log_group=plane.log_group,
        )  # fmt: skip
        # The configured lies (none: every answer is the honest daemon's).
        self.impostor = Impostor(config.lies, config.pull_failure_pattern)
        # The pulled references (sockerless' image store; no registry here).
        self.images = ImageStore(config.pull_failure_pattern)
        # Quirks: where real sockerless departs from Docker (see quirks.py).
        self._stop_exit_code_one = "stop-exit-code-one" in config.quirks
        self._image_rewritten = "image-rewritten" in config.quirks
        self._conflict_without_slash = "conflict-without-slash" in config.quirks
        self.workdir_and_user_dropped = "workdir-and-user-dropped" in config.quirks
        self._kill_without_signal = "kill-without-signal" in config.quirks
        self._stop_grace_fixed = "stop-grace-fixed" in config.quirks
        self._auto_remove_ignored = "auto-remove-ignored" in config.quirks
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._containers: dict[str, ContainerRecord] = {}
        self._names: dict[str, str] = {}

    # ----------------------------------------------------------------- store

    def resolve(self, ref: str) -> ContainerRecord:
        """Full ID, then name (leading ``/`` optional), then a unique ID prefix; else 404."""
        with self._lock:
            record = self._containers.get(ref)
            if record is not None:
                return record
            by_name = self._names.get(ref.removeprefix("/"))
            if by_name is not None:
                return self._containers[by_name]
            matches = [c for cid, c in self._containers.items() if ref and cid.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise bad_request(f"multiple IDs found with provided prefix: {ref}")
        raise no_such_container(ref)

    def exists(self, container_id: str) -> bool:
        """Whether the container is still known (not removed)."""
        with self._lock:
            return container_id in self._containers

    def records(self) -> list[ContainerRecord]:
        """Every container, newest first."""
        with self._lock:
            records = list(self._containers.values())
        return sorted(records, key=lambda r: r.created, reverse=True)

    # ---------------------------------------------------------------- create

    def create(self, name: str | None, config: ContainerConfig) -> ContainerRecord:
        """Register the container's task definition and remember it (``Id`` for the 201)."""
        container_id = naming.new_id()
        with self._lock:
            if name is None:
                name = naming.generate_name(self._names)
            elif not naming.valid_name(name):
                raise bad_request(
                    f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                )
            name = name.removeprefix("/")
            holder = self._names.get(name)
            if holder is not None:
                raise self._name_conflict(name, holder)
            self._names[name] = container_id  # reserved while the task definition registers
        try:
            token = naming.new_agent_token()
            created = datetime.now(UTC)
            record_args = (container_id, name, created, config, token)
            arn = self.gateway.register_task_definition(
                self._task_definition(*record_args),
                self._identity_tags(container_id, name, created),
            )
        except BaseException:
            with self._lock:
                self._names.pop(name, None)
            raise
        record = ContainerRecord(container_id, name, created, config, token, arn)
        with self._lock:
            self._containers[container_id] = record
        if self.images.pullable(config.image):
            self.images.pull(config.image)  # sockerless pulls on create when not in its store
        log.info("created container %s (/%s) as %s", record.short_id, name, arn)
        return record

    def _name_conflict(self, name: str, holder: str) -> ApiError:
        if self._conflict_without_slash:
            return ApiError(409, f'Conflict. The container name "{name}" is already in use')
        return ApiError(
            409,
            f'Conflict. The container name "/{name}" is already in use by container "{holder}". '
            "You have to remove (or rename) that container to be able to reuse that name.",
        )

    def _identity_tags(self, container_id: str, name: str, created: datetime) -> dict[str, str]:
        return {
            "sockerless-managed": "true",
            "sockerless-container-id": container_id,
            "sockerless-backend": "ecs",
            "sockerless-name": f"/{name}",
            "sockerless-instance": self.hostname,
            "sockerless-created-at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def _task_definition(
        self, container_id: str, name: str, created: datetime, config: ContainerConfig, token: str
    ) -> dict[str, Any]:
        del name, created  # identity goes into tags, not the definition
        stop_timeout = config.stop_timeout
        if stop_timeout is None or stop_timeout < 0:
            stop_timeout = int(self.config.stop_timeout_seconds)
        if self._stop_grace_fixed:  # sockerless' AWS simulator stops with Docker's 10 s grace
            # (times the time scale, as the quirks' other sockerless timings)
            stop_timeout = max(1, round(FIXED_STOP_GRACE_SECONDS * self.config.time_scale))
        # StopSignal and ConsoleSize have no place in a task definition (ECS stops with
        # SIGTERM; pseudoTerminal has no size): the agent wrapper carries them.
        agent_flags = ["--stop-signal", config.stop_signal] if config.stop_signal else []
        if config.tty and config.console_size != (0, 0):
            agent_flags += ["--console-size", "{}x{}".format(*config.console_size)]
        container: dict[str, Any] = {
            "name": CONTAINER_NAME,
            "image": self.image_of(config, started=True),  # what the task runs
            "essential": True,
            # The agent wrapper is what ECS runs; the original argv is kept in the record.
            "entryPoint": [AGENT_PREFIX[0], *agent_flags, *AGENT_PREFIX[1:], *config.argv],
            "environment": [
                *({"name": name, "value": value} for name, value in env_assignments(config.env)),
                {"name": TOKEN_ENV, "value": token},
            ],
            "stopTimeout": min(stop_timeout, FARGATE_MAX_STOP_TIMEOUT),
            "dockerLabels": dict(config.labels),
            "pseudoTerminal": config.tty,
            "interactive": config.open_stdin,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": self.plane.log_group,
                    "awslogs-region": self.plane.region,
                    "awslogs-stream-prefix": container_id[:12],
                },
            },
        }
        # sockerless' AWS simulator keeps neither field of the definition (the quirk).
        if config.working_dir and not self.workdir_and_user_dropped:
            container["workingDirectory"] = config.working_dir
        if config.user and not self.workdir_and_user_dropped:
            container["user"] = config.user
        return {
            "family": self.impostor.family(container_id),
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": config.task_cpu,
            "memory": config.task_memory,
            "containerDefinitions": [container],
        }

    # ----------------------------------------------------------------- state

    def image_of(self, config: ContainerConfig, *, started: bool) -> str:
        """The image reference reported (and run): the created one, or with the
        ``image-rewritten`` quirk its Public Gallery mirror once the container was started."""
        if self._image_rewritten and started:
            return public_gallery_reference(config.image)
        return config.image

    def state(self, record: ContainerRecord, snapshot: TaskSnapshot | None) -> DockerState:
        """Docker's state of the newest task as this daemon reports it (quirks, then lies)."""
        honest = docker_state(snapshot)
        if self._stop_exit_code_one:
            honest = stopped_state(honest, snapshot, record.kill_signal)
        return self.impostor.state(snapshot, honest)

    def snapshot(self, record: ContainerRecord) -> TaskSnapshot | None:
        """The newest task as ECS describes it now (None when never started)."""
        final = record.final
        if final is not None:
            return final
        arn = record.current_task
        if arn is None:
            return None
        snapshot = self.gateway.describe_tasks([arn])[arn]
        self._remember(record, snapshot)
        return snapshot

    def _remember(self, record: ContainerRecord, snapshot: TaskSnapshot) -> None:
        if snapshot.stopped:
            with record.lock:
                if record.current_task == snapshot.arn:
                    record.final = snapshot

    def view(self, record: ContainerRecord) -> ContainerView:
        """``record`` with its current state."""
        snapshot = self.snapshot(record)
        return self._view(record, snapshot)

    def _view(self, record: ContainerRecord, snapshot: TaskSnapshot | None) -> ContainerView:
        state = self.state(record, snapshot)
        return ContainerView(
            record, snapshot, state, self.image_of(record.config, started=bool(record.task_arns))
        )

    def views(self, records: list[ContainerRecord]) -> list[ContainerView]:
        """Current state of many containers with one DescribeTasks call per 100 tasks."""
        pending = [r.current_task for r in records if r.final is None and r.current_task]
        described = self.gateway.describe_tasks([a for a in pending if a]) if pending else {}
        views = []
        for record in records:
            snapshot = record.final
            if snapshot is None and record.current_task is not None:
                snapshot = described.get(record.current_task)
                if snapshot is None:  # restarted since the batch was built
                    snapshot = self.snapshot(record)
                else:
                    self._remember(record, snapshot)
            views.append(self._view(record, snapshot))
        return views

    def agent_for(self, record: ContainerRecord) -> tuple[TaskSnapshot, tuple[str, str | None]]:
        """The running task and its agent's (socket, token); 409 when not running."""
        snapshot = self.snapshot(record)
        if snapshot is None or not self.state(record, snapshot).running:
            raise not_running(record.id)
        agent = self.plane.agent_for_task(snapshot.arn)
        if agent is None and self.impostor.claims_running_early(snapshot):
            snapshot, agent = self._await_agent(record, snapshot)
        if agent is None:
            raise not_running(record.id)
        return snapshot, agent

    def _await_agent(
        self, record: ContainerRecord, snapshot: TaskSnapshot
    ) -> tuple[TaskSnapshot, tuple[str, str | None] | None]:
        """The start-before-running lie: the container is "running" before its task is, so
        wait (as long as an honest start would have) until the agent is there or the task
        left PROVISIONING/PENDING without one."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        agent = None
        for interval in backoff():
            if time.monotonic() + interval > deadline:
                break
            if self.stopping.wait(interval):
                raise ApiError(503, "the daemon is shutting down")
            snapshot = self.gateway.describe_tasks([snapshot.arn])[snapshot.arn]
            self._remember(record, snapshot)
            agent = self.plane.agent_for_task(snapshot.arn)
            if agent is not None or not self.impostor.claims_running_early(snapshot):
                break
        return snapshot, agent

    # ------------------------------------------------------------- lifecycle

    def start(self, record: ContainerRecord) -> int:
        """RunTask, then wait for RUNNING: 204; 304 when already running; 500 when the task
        stops without its container having run (e.g. the image cannot be pulled)."""
        with record.start_lock:
            snapshot = self.snapshot(record)
            if snapshot is not None and self.state(record, snapshot).running:
                return 304
            if snapshot is not None and not snapshot.stopped:
                task_arn = snapshot.arn  # an earlier start timed out; keep waiting for it
            else:
                task_arn = self.gateway.run_task(
                    record.task_definition_arn,
                    subnets=self.plane.subnets,
                    security_groups=self.plane.security_groups,
                    tags={
                        **self._identity_tags(record.id, record.name, record.created),
                        **naming.labels_b64_tags(record.config.labels),
                    },
                )
                with record.lock:
                    record.task_arns.append(task_arn)
                    record.final = None
                    record.kill_signal = None
                log.info("container %s: RunTask -> %s", record.short_id, task_arn)
                self._watch_auto_remove(record, task_arn)
                if self.impostor.answers_start_early(record.config):
                    return 204  # the start-before-running lie: RUNNING is not awaited
            self._await_running(record, task_arn)
            return 204

    def _watch_auto_remove(self, record: ContainerRecord, task_arn: str) -> None:
        """``HostConfig.AutoRemove`` (``docker run --rm``): once this task stopped and the
        attach streams ended, the daemon removes the container (as Docker does)."""
        if not record.config.auto_remove or self._auto_remove_ignored:
            return
        threading.Thread(
            target=self._auto_remove, args=(record, task_arn), name="auto-remove", daemon=True
        ).start()

    def _auto_remove(self, record: ContainerRecord, task_arn: str) -> None:
        try:
            for interval in backoff(maximum=0.5):
                if self.stopping.wait(interval) or record.current_task != task_arn:
                    return
                if not self.exists(record.id):
                    return
                snapshot = self.snapshot(record)
                if snapshot is not None and snapshot.stopped:
                    break
            deadline = time.monotonic() + AUTO_REMOVE_ATTACH_WAIT
            while record.attachments and time.monotonic() < deadline:
                if self.stopping.wait(0.02):
                    return
            if self.exists(record.id) and record.current_task == task_arn:
                self.remove(record, force=False)
        except (ApiError, ClientError, BotoCoreError) as exc:
            log.warning("container %s: auto-remove failed: %s", record.short_id, exc)

    def _await_running(self, record: ContainerRecord, task_arn: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        last_status = "PROVISIONING"
        for interval in backoff():
            snapshot = self.gateway.describe_tasks([task_arn])[task_arn]
            self._remember(record, snapshot)
            last_status = snapshot.last_status
            if snapshot.stopped:
                if snapshot.exit_code is not None:
                    return  # ran and already finished (a fast echo): start succeeded
                raise ApiError(
                    500, f"task failed to start: task stopped: {snapshot.stopped_reason or ''}"
                )
            if docker_state(snapshot).running:  # the truth: what start waits for
                return
            if time.monotonic() + interval > deadline:
                break
            if self.stopping.wait(interval):
                raise ApiError(503, "the daemon is shutting down")
        raise ApiError(
            500,
            f"task failed to start: task {task_arn} still {last_status} after "
            f"{START_TIMEOUT_SECONDS:.0f} s",
        )

    def stop(self, record: ContainerRecord, t: int | None) -> int:
        """StopTask and wait until STOPPED: 204; 304 when not running."""
        with record.lock:
            snapshot = self.snapshot(record)
            if snapshot is None or not self.state(record, snapshot).running:
                return 304
            self.gateway.stop_task(snapshot.arn, STOP_REASON)
        bound = t + 60.0 if t is not None and t > 0 else STOP_WAIT_SECONDS
        self._await_stopped(record, snapshot.arn, bound)
        return 204

    def _await_stopped(self, record: ContainerRecord, task_arn: str, bound: float) -> None:
        deadline = time.monotonic() + bound
        for interval in backoff():
            snapshot = self.gateway.describe_tasks([task_arn])[task_arn]
            self._remember(record, snapshot)
            if snapshot.stopped:
                return
            if time.monotonic() + interval > deadline:
                break
            if self.stopping.wait(interval):
                raise ApiError(503, "the daemon is shutting down")
        raise ApiError(500, f"timed out after {bound:.0f} s waiting for task {task_arn} to stop")

    def kill(self, record: ContainerRecord, signal_value: str | None) -> None:
        """Deliver the signal to the main process through the agent (confirmed), then StopTask.

        With SIGKILL (the default) it answers once the task is STOPPED, so the container reads
        ``exited`` (137) right after, as Docker answers a kill once the container is dead. With
        another signal it answers once the signal was delivered, as Docker does; the task then
        stops as ECS stops it (the StopSignal, the grace, SIGKILL).

        With the ``kill-without-signal`` quirk no signal reaches the process: StopTask alone,
        answered at once, as sockerless' ECS backend does.
        """
        try:
            signum = parse_signal(signal_value) if signal_value else int(signal.SIGKILL)
        except ProtocolError:
            raise bad_request(f"Invalid signal: {signal_value}") from None
        with record.lock:
            snapshot = self.snapshot(record)
            if snapshot is None or not self.state(record, snapshot).running:
                raise not_running(record.id)
            if self._stop_exit_code_one:
                record.kill_signal = signum  # sockerless reads back 128 + this signal
            agent = None if self._kill_without_signal else self.plane.agent_for_task(snapshot.arn)
            if agent is not None:
                try:
                    AgentClient(agent[0], agent[1], timeout=AGENT_TIMEOUT).signal_main(signum)
                except AgentError as exc:
                    log.warning("container %s: signal %d not delivered: %s", record.short_id,
                                signum, exc)  # fmt: skip
            self.gateway.stop_task(
                snapshot.arn, f"Container killed via API ({signal.Signals(signum).name})"
            )
        if signum == signal.SIGKILL and not self._kill_without_signal:
            self._await_stopped(record, snapshot.arn, STOP_WAIT_SECONDS)

    def resize(self, record: ContainerRecord, height: int, width: int) -> None:
        """Resize the main process's terminal through the agent; 409 when not running."""
        _snapshot, agent = self.agent_for(record)
        try:
            AgentClient(agent[0], agent[1], timeout=AGENT_TIMEOUT).resize_main(width, height)
        except AgentError as exc:
            raise ApiError(409, f"Container {record.id} is not running: {exc}") from None

    def wait(
        self,
        record: ContainerRecord,
        condition: str,
        client_gone: Callable[[], bool],
        before_blocking: Callable[[], None] = lambda: None,
    ) -> int:
        """Block until ``condition`` holds; returns the exit code (Docker's ``StatusCode``).
        ``before_blocking`` is called once, only when the condition does not hold at once (the
        handler flushes its response head there, as sockerless does before it blocks).

        ``not-running``: the container is not running (a never-started one qualifies at once);
        ``next-exit``: the task running now, or the next one started, has stopped;
        ``removed``: the container is gone.
        """
        if condition not in WAIT_CONDITIONS:
            raise bad_request(f"invalid condition: {condition!r}")
        first = self.view(record)
        awaited_task = first.snapshot.arn if first.snapshot and not first.snapshot.stopped else None
        first_task = first.snapshot.arn if first.snapshot else None
        view = first
        blocked = False
        for interval in backoff(maximum=0.5):
            if self._wait_met(record, condition, view, awaited_task, first_task):
                return view.state.exit_code
            if not blocked:
                blocked = True
                before_blocking()
            if client_gone():
                raise ClientGone("client went away during wait")
            if self.stopping.wait(interval):
                raise ApiError(503, "the daemon is shutting down")
            view = self.view(record)
        raise AssertionError("backoff() never ends")

    def _wait_met(
        self, record: ContainerRecord, condition: str, view: ContainerView,
        awaited_task: str | None, first_task: str | None,
    ) -> bool:  # fmt: skip
        if condition == "removed" and self._auto_remove_ignored:
            # sockerless' wait reads no condition: it answers once the container is not running
            # (backends/core/handle_containers.go:handleContainerWait), removed or not.
            return not view.state.running
        if condition == "removed":
            return not self.exists(record.id)
        if condition == "not-running":
            return not view.state.running
        if view.snapshot is None or not view.snapshot.stopped:
            return False
        if awaited_task is None:
            return view.snapshot.arn != first_task
        return view.snapshot.arn == awaited_task or record.current_task != awaited_task

    def remove(self, record: ContainerRecord, *, force: bool) -> None:
        """DeregisterTaskDefinition and forget; 409 for a running container without ``force``
        (with ``force``: StopTask first, without waiting)."""
        with record.lock:
            snapshot = self.snapshot(record)
            active = snapshot is not None and not snapshot.stopped
            if active and not force:
                raise ApiError(
                    409,
                    f"You cannot remove a running container {record.id}. Stop the container "
                    "before attempting removal or force remove",
                )
            if active and snapshot is not None:
                self.gateway.stop_task(snapshot.arn, STOP_REASON)
            self.gateway.deregister_task_definition(record.task_definition_arn)
            with self._lock:
                self._containers.pop(record.id, None)
                if self._names.get(record.name) == record.id:
                    del self._names[record.name]
        log.info("removed container %s", record.short_id)
