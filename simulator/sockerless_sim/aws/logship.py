"""The awslogs driver stand-in: ships each task's output lines to CloudWatch Logs, late.

Lines arrive from the workload readers (``on_output``) with the time they were read. A batch
opens with a task's first unsent line and is sent whole once that line has waited the delivery
delay (one draw per batch, like the driver's batching plus CloudWatch's ingestion lag): with
PutLogEvents, in chronological order, to ``<prefix>/<container>/<task id>`` in the task
definition's awslogs group, through the plane's internal (never faulted) client.

stderr lines carry ``STDERR_MARKER`` so the Docker API layer can frame them as stream 2 (real
CloudWatch keeps no stream information; sockerless frames everything as stdout): with the
``logs-stdout-only`` quirk (``mark_stderr=False``) they are shipped as they are. With the
``command-echo-event`` quirk the first event of a task is its declared command line, as
sockerless' own AWS simulators write it. Empty lines are skipped, as the awslogs driver does
(CloudWatch rejects empty messages). ``min_ingestion_lag`` (used by the
``log-timestamps-not-cloudwatch`` lie) holds every event back at least that long after it was
read, so its ingestion time never equals its timestamp.

Two quirks reproduce sockerless' own AWS simulator, which reads a task's output from the Docker
Engine once the container has exited (``simulators/aws/shared/container.go:waitAndCaptureLogs``):
with ``hold_until_exit`` (``logs-after-exit``) a task's lines are held until it stops and then
shipped, each stamped with that moment, the time they reach CloudWatch there
(``simulators/aws/ecs.go:cwLogSink.WriteLog``); with ``drop_tty_output`` (``tty-output-lost``)
the output of a task with a terminal is lost, as its demultiplexer finds no frames in a TTY's raw
stream (``streamDockerLogs``).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..config import Draw
from .task_spec import LogTarget

STDERR_MARKER = "[stderr] "
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26  # CloudWatch counts 26 bytes per event on top of the message

log = logging.getLogger(__name__)


@dataclass
class _Event:
    timestamp: int
    message: str
    due: float


@dataclass
class _TaskLog:
    target: LogTarget | None
    pending: list[_Event] = field(default_factory=list)
    batch_due: float = 0.0
    tty: bool = False
    stopped: bool = False
    delay_key: str = ""


@dataclass
class _Counters:
    events_shipped: int = 0
    events_dropped: int = 0
    put_calls: int = 0


class LogShipper:
    """Buffers task output and ships it after the delivery delay on its own thread."""

    def __init__(
        self,
        *,
        log_delivery: Draw,
        logs_client: Any,
        command_echo: bool,
        min_ingestion_lag: float = 0.0,
        mark_stderr: bool = True,
        hold_until_exit: bool = False,
        drop_tty_output: bool = False,
    ) -> None:
        self._log_delivery = log_delivery
        self._hold_until_exit = hold_until_exit
        self._drop_tty_output = drop_tty_output
        self._client = logs_client
        self._command_echo = command_echo
        self._min_lag = min_ingestion_lag
        self._stderr_marker = STDERR_MARKER if mark_stderr else ""
        self._cond = threading.Condition()
        self._tasks: dict[str, _TaskLog] = {}
        self._streams_ready: set[tuple[str, str]] = set()
        self._in_flight: dict[str, int] = {}
        self._counters = _Counters()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sim-logship", daemon=True)

    def start(self) -> None:
        """Start the shipping thread."""
        self._thread.start()

    def stop(self) -> None:
        """Ship everything still buffered at once, then end the thread; idempotent."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    # -- inputs ---------------------------------------------------------------------------

    def register(
        self, task_arn: str, target: LogTarget | None, *, tty: bool = False, delay_key: str = ""
    ) -> None:
        """A new task; ``target`` None means no awslogs configuration (nothing is shipped);
        ``delay_key`` keys its delivery delays' draws (``ContainerPlan.delay_key``)."""
        with self._cond:
            self._tasks.setdefault(task_arn, _TaskLog(target, tty=tty, delay_key=delay_key))

    def task_launching(self, task_arn: str, command_line: list[str], ts_ms: int) -> None:
        """The task's command is about to start: the quirk's echo event, before any output."""
        if self._command_echo and command_line:
            self._add(task_arn, " ".join(command_line), ts_ms)

    def task_stopped(self, task_arn: str) -> None:
        """The task stopped: its buffered lines go out as soon as their delay has passed (held
        lines, under ``hold_until_exit``, stamped now and due one delivery delay from now)."""
        with self._cond:
            task_log = self._tasks.get(task_arn)
            if task_log is not None:
                task_log.stopped = True
                held = [event for event in task_log.pending if event.due == math.inf]
                if held:
                    now_ms = int(time.time() * 1000)
                    delay = self._log_delivery(now_ms / 1000, key=task_log.delay_key)
                    due = time.monotonic() + max(0.0, delay)
                    for event in held:
                        event.timestamp, event.due = now_ms, due
            self._cond.notify_all()

    def on_output(self, task_arn: str, stream: str, line: bytes, ts_ms: int) -> None:
        """The workload runner's ``OutputCallback``: one line, without its newline."""
        if not line:
            return
        text = line.decode("utf-8", errors="replace")
        message = self._stderr_marker + text if stream == "stderr" else text
        self._add(task_arn, message, ts_ms, output=True)

    def _add(self, task_arn: str, message: str, ts_ms: int, *, output: bool = False) -> None:
        with self._cond:
            task_log = self._tasks.get(task_arn)
            if task_log is None or task_log.target is None:
                return
            if output and task_log.tty and self._drop_tty_output:
                return
            if output and self._hold_until_exit and not task_log.stopped:
                task_log.pending.append(_Event(ts_ms, message, math.inf))  # see task_stopped
                return
            now = time.monotonic()
            if not task_log.pending:
                # A batch opens with its first line and goes out whole when that line is due:
                # the delivery delay counts from the line's own timestamp.
                written = ts_ms / 1000
                delay = self._log_delivery(written, key=task_log.delay_key)
                task_log.batch_due = now + max(0.0, written + delay - time.time())
            due = task_log.batch_due
            if self._min_lag:
                due = max(due, now + self._min_lag)
            task_log.pending.append(_Event(ts_ms, message, due))
            self._cond.notify_all()

    def drained(self, task_arn: str) -> bool:
        """True once every line of the task has been shipped (or dropped), none in flight.

        The driver holds a task in DEPROVISIONING until then, as Fargate does while its log
        driver flushes: a task that reads STOPPED writes no more log events, so a cleanup that
        deletes the task's streams after STOPPED does not see them come back.
        """
        with self._cond:
            task_log = self._tasks.get(task_arn)
            pending = task_log is not None and task_log.target is not None and task_log.pending
            return not pending and not self._in_flight.get(task_arn)

    def counters(self) -> dict[str, int]:
        """Events shipped and dropped, PutLogEvents calls made."""
        with self._cond:
            return dict(vars(self._counters))

    # -- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                batches, stopping = self._wait_for_due()
            for task_arn, target, events in batches:
                try:
                    self._ship(target, events)
                finally:
                    with self._cond:
                        self._in_flight[task_arn] -= 1
                        if not self._in_flight[task_arn]:
                            del self._in_flight[task_arn]
            if stopping:
                return

    def _wait_for_due(self) -> tuple[list[tuple[str, LogTarget, list[_Event]]], bool]:
        """Block until some events are due (or stopping); take them out of the buffers."""
        while True:
            now = time.monotonic()
            earliest: float | None = None
            batches: list[tuple[str, LogTarget, list[_Event]]] = []
            for task_arn, task_log in self._tasks.items():
                if task_log.target is None or not task_log.pending:
                    continue
                due: list[_Event] = []
                waiting: list[_Event] = []
                for event in task_log.pending:
                    (due if self._stopping or event.due <= now else waiting).append(event)
                task_log.pending = waiting
                if due:
                    batches.append((task_arn, task_log.target, due))
                    self._in_flight[task_arn] = self._in_flight.get(task_arn, 0) + 1
                for event in waiting:
                    if event.due == math.inf:
                        continue  # held until its task stops (task_stopped wakes us)
                    earliest = event.due if earliest is None else min(earliest, event.due)
            if batches or self._stopping:
                return batches, self._stopping
            self._cond.wait(None if earliest is None else max(earliest - now, 0.001))

    def _ship(self, target: LogTarget, events: list[_Event]) -> None:
        # Stable: equal timestamps keep arrival order (the echo event stays first).
        events = sorted(events, key=lambda event: event.timestamp)
        for chunk in _chunks(events):
            try:
                self._put(target, chunk, retry=True)
            except (ClientError, BotoCoreError) as exc:
                log.warning(
                    "dropping %d log events for %s/%s: %s",
                    len(chunk),
                    target.group,
                    target.stream,
                    exc,
                )
                with self._cond:
                    self._counters.events_dropped += len(chunk)

    def _put(self, target: LogTarget, events: list[_Event], *, retry: bool) -> None:
        key = (target.group, target.stream)
        if key not in self._streams_ready:
            self._create_stream(target)
            self._streams_ready.add(key)
        try:
            self._client.put_log_events(
                logGroupName=target.group,
                logStreamName=target.stream,
                logEvents=[{"timestamp": e.timestamp, "message": e.message} for e in events],
            )
        except ClientError as exc:
            # The stream (or group) was deleted under a running task: make it again, once.
            if not retry or _error_code(exc) != "ResourceNotFoundException":
                raise
            self._streams_ready.discard(key)
            self._put(target, events, retry=False)
            return
        with self._cond:
            self._counters.put_calls += 1
            self._counters.events_shipped += len(events)

    def _create_stream(self, target: LogTarget) -> None:
        if target.create_group:
            self._ignore_exists(lambda: self._client.create_log_group(logGroupName=target.group))
        self._ignore_exists(
            lambda: self._client.create_log_stream(
                logGroupName=target.group, logStreamName=target.stream
            )
        )

    @staticmethod
    def _ignore_exists(call: Callable[[], Any]) -> None:
        try:
            call()
        except ClientError as exc:
            if _error_code(exc) != "ResourceAlreadyExistsException":
                raise


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _chunks(events: list[_Event]) -> list[list[_Event]]:
    """Split into PutLogEvents-sized batches (count and byte limits)."""
    chunks: list[list[_Event]] = []
    current: list[_Event] = []
    size = 0
    for event in events:
        event_size = len(event.message.encode()) + EVENT_OVERHEAD_BYTES
        if current and (len(current) >= MAX_BATCH_EVENTS or size + event_size > MAX_BATCH_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(event)
        size += event_size
    if current:
        chunks.append(current)
    return chunks
