"""The lifecycle driver: moves tasks PROVISIONING > PENDING > RUNNING > DEPROVISIONING > STOPPED.

moto's own transitions are frozen; this thread changes the moto ``Task`` objects directly
(status, timestamps, stop codes, exit codes, the ENI attachment) and runs each task's command
through the ``WorkloadRunner``. A task is RUNNING exactly while its process runs; its exit code
is the process's own. Launching and closing workloads can block, so they run on a small pool
and the tick only polls their futures.

Two quirks of sockerless' own AWS simulator can be switched on: ``pull_attempt_seconds`` (the
``running-before-pull`` quirk) makes a task whose image cannot be pulled RUNNING first, for that
long, before it stops with exit code -1; ``user_stop_exit_code`` (``stop-exit-code-one``) is the
exit code StopTask gives the container, whatever its process returned.

The task's timestamps follow the latency model, not the tick that notices a transition: a phase
drawn to last ``d`` seconds from ``t`` ends at ``t + d`` on the ECS timestamps (``createdAt`` plus
the provisioning draw is ``pullStartedAt``, plus the pending draw ``pullStoppedAt``; the exit plus
the deprovisioning draw ``stoppedAt``, unless the log driver was still flushing then), so the
phases a client reads off DescribeTasks are the delays the simulator drew (``/_sim/stats``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ..config import Delays, Draw
from ..workloads import Workload, WorkloadRunner, WorkloadSpec
from . import network
from .task_model import (
    DEPROVISIONING,
    ESSENTIAL_EXITED_REASON,
    PENDING,
    PROVISIONING,
    RUNNING,
    STOP_ESSENTIAL_EXITED,
    STOP_FAILED_TO_START,
    STOP_USER_INITIATED,
    STOPPED,
    USER_STOP_REASON,
    attachment_detail,
    eni_attachment,
    set_status,
    touch,
    utcnow,
)
from .task_spec import ContainerPlan, LogTarget

TICK_SECONDS = 0.02
LAUNCH_TIMEOUT_SECONDS = 5.0
# ECS documents a container's reason as at most 1024 characters (botocore's ECS model,
# Container.reason); a Fargate stoppedReason of 300 was seen (cannot_start_reason).
MAX_REASON_CHARS = 1024
_POOL_WORKERS = 4

log = logging.getLogger(__name__)


class TaskOutputSink(Protocol):
    """What the driver tells the log shipper about a task."""

    def register(
        self, task_arn: str, target: LogTarget | None, *, tty: bool = False, delay_key: str = ""
    ) -> None: ...
    def task_launching(self, task_arn: str, command_line: list[str], ts_ms: int) -> None: ...
    def task_stopped(self, task_arn: str) -> None: ...
    def drained(self, task_arn: str) -> bool: ...


@dataclass
class _Tracked:
    task: Any  # moto's ecs Task
    plan: ContainerPlan
    ec2: Any  # moto's EC2 backend holding the task's ENI
    deadline: float  # time.monotonic() at which the current delay ends
    due: float = 0.0  # the same moment on the wall clock: the next ECS timestamp
    flushing: bool = False  # deprovisioning ended before the log driver had flushed
    stop_requested: bool = False
    launch: Future[Workload] | None = None
    workload: Workload | None = None


@dataclass
class _Usage:
    tasks_launched: int = 0
    workloads_launched: int = 0
    finished_seconds: float = 0.0
    running_since: dict[str, datetime] = field(default_factory=dict)


def pull_failure_reason(image: str) -> str:
    """The stoppedReason ECS gives a task whose image reference does not resolve."""
    return (
        "CannotPullContainerError: pull image manifest has been retried 1 time(s): "
        f"failed to resolve ref {image}: not found"
    )


def cannot_start_reason(runc_reason: str) -> str:
    """The stoppedReason Fargate (platform 1.4, containerd) gives a task whose command runc
    cannot execute, e.g. for ``exec: "bash": executable file not found in $PATH``: seen on
    Fargate in github.com/saebyn/glowing-telegram issue 398."""
    return _short(
        "CannotStartContainerError: ResourceInitializationError: failed to create new container "
        "runtime task: failed to create shim task: OCI runtime create failed: runc create "
        f"failed: unable to start container process: {runc_reason}: unknown"
    )


def start_failure_reason(image: str) -> str:
    """The stoppedReason sockerless' AWS simulator gives a RUNNING task whose image pull failed."""
    return (
        f"Container start failed: image pull {image}: Error response from daemon: "
        f'failed to resolve reference "{image}": not found'
    )[:MAX_REASON_CHARS]


def _at(moment: float) -> datetime:
    """An ECS timestamp (aware, UTC) for a wall-clock moment."""
    return datetime.fromtimestamp(moment, UTC)


def _schedule(tracked: _Tracked, start: datetime, draw: Draw) -> None:
    """The next delay, drawn now, began at ``start``: when it is due, on both clocks."""
    tracked.due = start.timestamp() + draw(start.timestamp(), key=tracked.plan.delay_key)
    tracked.deadline = time.monotonic() + (tracked.due - time.time())


def _short(reason: str) -> str:
    first_line = reason.strip().splitlines()[0] if reason.strip() else "unknown error"
    return first_line[:MAX_REASON_CHARS]


class LifecycleDriver:
    """Owns the tracked tasks and the thread that moves them on."""

    def __init__(
        self,
        *,
        lock: threading.RLock,
        delays: Delays,
        runner: WorkloadRunner,
        output: TaskOutputSink,
        pull_failure_pattern: str,
        tick_seconds: float = TICK_SECONDS,
        pull_attempt_seconds: float | None = None,
        user_stop_exit_code: int | None = None,
    ) -> None:
        self._lock = lock
        self._delays = delays
        self._runner = runner
        self._output = output
        self._pull_failure = re.compile(pull_failure_pattern)
        self._tick = tick_seconds
        self._pull_attempt = pull_attempt_seconds  # None: a failed pull stops the task in PENDING
        self._user_stop_exit_code = user_stop_exit_code  # None: the process's own code
        self._active: dict[str, _Tracked] = {}
        self._usage = _Usage()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=_POOL_WORKERS, thread_name_prefix="sim-task")
        self._thread = threading.Thread(target=self._run, name="sim-lifecycle", daemon=True)

    def start(self) -> None:
        """Start the driver thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for pending launches/closes; idempotent."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- called by the ECS handlers, under the plane's lock ---------------------------------

    def track(self, task: Any, plan: ContainerPlan, ec2: Any) -> None:
        """Take over a task RunTask just created (lastStatus PROVISIONING)."""
        tracked = _Tracked(task=task, plan=plan, ec2=ec2, deadline=0.0)
        _schedule(tracked, task.created_at or utcnow(), self._delays.provisioning)
        self._active[task.task_arn] = tracked
        self._usage.tasks_launched += 1
        self._output.register(
            task.task_arn, plan.log_target, tty=plan.process.tty, delay_key=plan.delay_key
        )
        self._wake.set()

    def request_stop(self, task: Any, reason: str | None) -> None:
        """StopTask: desiredStatus STOPPED now; the process gets SIGTERM, then SIGKILL."""
        tracked = self._active.get(task.task_arn)
        if tracked is None or task.desired_status == STOPPED:
            return
        task.desired_status = STOPPED
        task.stop_code = STOP_USER_INITIATED
        task.stopped_reason = reason or USER_STOP_REASON
        task.stopping_at = utcnow()
        touch(task)
        tracked.stop_requested = True
        workload = tracked.workload
        if task.last_status == RUNNING and workload is not None and workload.exit_code() is None:
            workload.terminate(tracked.plan.stop_timeout)
        self._wake.set()

    # -- queries ----------------------------------------------------------------------------

    def agent_for(self, task_arn: str) -> tuple[str, str | None] | None:
        """(agent socket, token) while the task is RUNNING."""
        with self._lock:
            tracked = self._active.get(task_arn)
            if tracked is None or tracked.workload is None:
                return None
            if tracked.task.last_status != RUNNING:
                return None
            return tracked.workload.agent_socket, tracked.workload.agent_token

    def usage(self) -> dict[str, Any]:
        """Tasks taken over, workloads started, and task-seconds (startedAt to stoppedAt/now)."""
        with self._lock:
            now = utcnow()
            running = sum(
                (now - since).total_seconds() for since in self._usage.running_since.values()
            )
            return {
                "tasks_launched": self._usage.tasks_launched,
                "workloads_started": self._usage.workloads_launched,
                "tasks_active": len(self._active),
                "task_seconds": round(self._usage.finished_seconds + running, 3),
            }

    # -- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                idle = not self._active
            # Sleep until woken when there is nothing to move; tick while tasks are in flight.
            self._wake.wait(None if idle else self._tick)
            self._wake.clear()
            if self._stopping.is_set():
                return
            self._step_all()

    def _step_all(self) -> None:
        now = time.monotonic()
        with self._lock:
            for arn, tracked in list(self._active.items()):
                try:
                    self._step(tracked, now)
                except Exception:
                    log.exception("lifecycle step failed for %s; stopping the task", arn)
                    self._fail_safe(tracked, now)

    def _step(self, tracked: _Tracked, now: float) -> None:
        status = tracked.task.last_status
        if status == PROVISIONING:
            if tracked.stop_requested:
                self._deprovision(tracked, now)
            elif now >= tracked.deadline:
                self._enter_pending(tracked, now)
        elif status == PENDING:
            self._step_pending(tracked, now)
        elif status == RUNNING:
            if tracked.workload is None:
                self._step_pull_attempt(tracked, now)
                return
            code = tracked.workload.exit_code()
            if code is not None:
                self._container_exited(tracked, code, now)
        elif status == DEPROVISIONING:
            # STOPPED only once the log driver has delivered everything (see LogShipper.drained).
            if now >= tracked.deadline:
                if self._output.drained(tracked.task.task_arn):
                    self._finish(tracked)
                else:
                    tracked.flushing = True
        elif status == STOPPED:
            self._active.pop(tracked.task.task_arn, None)

    def _step_pending(self, tracked: _Tracked, now: float) -> None:
        if tracked.launch is None:
            if tracked.stop_requested:
                self._deprovision(tracked, now)
            elif now >= tracked.deadline:
                self._pull(tracked, now)
        elif tracked.launch.done():
            self._launched(tracked, tracked.launch, now)

    def _enter_pending(self, tracked: _Tracked, now: float) -> None:
        task = tracked.task
        attachment = eni_attachment(task)
        if attachment is not None:
            attachment["status"] = "ATTACHED"
        task.pull_started_at = _at(tracked.due)
        set_status(task, PENDING)
        _schedule(tracked, task.pull_started_at, self._delays.pending)

    def _pull(self, tracked: _Tracked, now: float) -> None:
        task, plan = tracked.task, tracked.plan
        if self._pull_failure.search(plan.image):
            if self._pull_attempt is not None:
                # running-before-pull: RUNNING now, the pull fails while it is tried.
                self._enter_running(tracked, utcnow())
                tracked.deadline = now + self._pull_attempt
                return
            reason = pull_failure_reason(plan.image)
            self._set_container_reason(tracked, reason)
            self._deprovision(
                tracked, now, stop_code=STOP_FAILED_TO_START, reason=reason, stamp=_at(tracked.due)
            )
            return
        pulled = _at(tracked.due)
        task.pull_stopped_at = pulled
        touch(task)
        self._output.task_launching(
            task.task_arn, plan.command_line, int(pulled.timestamp() * 1000)
        )
        spec = WorkloadSpec(
            task_arn=task.task_arn,
            task_id=task.id,
            container_name=plan.name,
            argv=list(plan.argv),
            env=dict(plan.env),
            agent_token=plan.agent_token,
            process=plan.process,
            image=plan.image,
        )
        tracked.launch = self._pool.submit(self._runner.launch, spec, LAUNCH_TIMEOUT_SECONDS)

    def _launched(self, tracked: _Tracked, launch: Future[Workload], now: float) -> None:
        task = tracked.task
        try:
            workload = launch.result()
        except Exception as exc:  # WorkloadStartError, or anything the runner let through
            spawn_reason = getattr(exc, "spawn_reason", None)
            if spawn_reason is not None:
                reason = cannot_start_reason(spawn_reason)
            else:
                reason = f"CannotStartContainerError: {_short(str(exc))}"
            log.warning("task %s failed to start: %s", task.task_arn, exc)
            self._set_container_reason(tracked, reason)
            self._deprovision(tracked, now, stop_code=STOP_FAILED_TO_START, reason=reason)
            return
        tracked.workload = workload
        self._usage.workloads_launched += 1
        if tracked.stop_requested:
            # Stopped while still PENDING: the container never counts as started.
            self._pool.submit(workload.close)
            self._deprovision(tracked, now)
            return
        self._enter_running(tracked, workload.started_at or utcnow())

    def _enter_running(self, tracked: _Tracked, started: datetime) -> None:
        task = tracked.task
        task.started_at = started
        task.connectivity = "CONNECTED"
        task.connectivity_at = started
        for container in task.containers:
            container.runtime_id = f"{task.id}-{container.name}"
        set_status(task, RUNNING)
        self._usage.running_since[task.task_arn] = started

    def _step_pull_attempt(self, tracked: _Tracked, now: float) -> None:
        """running-before-pull: RUNNING without a process while the image pull is tried; it
        fails at the deadline (exit code -1), unless the task is stopped first."""
        if tracked.stop_requested:
            self._deprovision(tracked, now)
        elif now >= tracked.deadline:
            self._set_exit_code(tracked, -1)
            reason = start_failure_reason(tracked.plan.image)
            self._deprovision(tracked, now, stop_code=STOP_ESSENTIAL_EXITED, reason=reason)

    def _set_exit_code(self, tracked: _Tracked, exit_code: int) -> None:
        for container in tracked.task.containers:
            if container.name == tracked.plan.name:
                container.exit_code = exit_code

    def _container_exited(self, tracked: _Tracked, exit_code: int, now: float) -> None:
        self._set_exit_code(tracked, exit_code)
        exited_at = tracked.workload.exited_at if tracked.workload is not None else None
        self._deprovision(
            tracked,
            now,
            stop_code=STOP_ESSENTIAL_EXITED,
            reason=ESSENTIAL_EXITED_REASON,
            stamp=exited_at,
        )

    def _set_container_reason(self, tracked: _Tracked, reason: str) -> None:
        for container in tracked.task.containers:
            container.reason = reason

    def _deprovision(
        self,
        tracked: _Tracked,
        now: float,
        *,
        stop_code: str | None = None,
        reason: str | None = None,
        stamp: datetime | None = None,
    ) -> None:
        """Enter DEPROVISIONING; a stop code already set (UserInitiated) is kept.

        ``stamp`` is when execution stopped (the essential container's exit), default now.
        """
        task = tracked.task
        stamp = stamp or utcnow()
        if tracked.stop_requested and self._user_stop_exit_code is not None:
            self._set_exit_code(tracked, self._user_stop_exit_code)  # StopTask decides the code
        task.desired_status = STOPPED
        if getattr(task, "stop_code", None) is None:
            task.stop_code = stop_code or STOP_USER_INITIATED
            task.stopped_reason = reason or USER_STOP_REASON
        if getattr(task, "stopping_at", None) is None:
            task.stopping_at = stamp
        task.execution_stopped_at = stamp
        set_status(task, DEPROVISIONING)
        _schedule(tracked, stamp, self._delays.deprovisioning)
        self._close_usage(task.task_arn, stamp)
        self._output.task_stopped(task.task_arn)

    def _finish(self, tracked: _Tracked) -> None:
        task = tracked.task
        attachment = eni_attachment(task)
        if attachment is not None:
            eni_id = attachment_detail(attachment, "networkInterfaceId")
            if eni_id and not network.delete_eni(tracked.ec2, eni_id):
                log.info("task %s: ENI %s was already gone", task.task_arn, eni_id)
            attachment["status"] = "DELETED"
        # Deprovisioning ends when drawn, or when the log driver is done if it was not by then
        # (or now, when a failure cut it short).
        late = tracked.flushing or tracked.due > time.time()
        task.stopped_at = utcnow() if late else _at(tracked.due)
        set_status(task, STOPPED)
        self._active.pop(task.task_arn, None)
        if tracked.workload is not None:
            self._pool.submit(tracked.workload.close)

    def _close_usage(self, task_arn: str, stamp: datetime) -> None:
        since = self._usage.running_since.pop(task_arn, None)
        if since is not None:
            self._usage.finished_seconds += (stamp - since).total_seconds()

    def _fail_safe(self, tracked: _Tracked, now: float) -> None:
        """After an unexpected error, end the task rather than leave it stuck."""
        try:
            if tracked.workload is not None:
                self._pool.submit(tracked.workload.close)
            if tracked.task.last_status in (DEPROVISIONING, STOPPED):
                self._finish(tracked)
            else:
                reason = "InternalError: the simulator could not move the task on"
                self._deprovision(tracked, now, stop_code=STOP_FAILED_TO_START, reason=reason)
        except Exception:
            log.exception("could not stop %s cleanly; forgetting it", tracked.task.task_arn)
            self._active.pop(tracked.task.task_arn, None)
