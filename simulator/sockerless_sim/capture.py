"""The simulator's own copy of every task's output, for the ``logs-not-cloudwatch`` lie.

Under that lie the plane wires this in place of the log shipper: the workload readers' lines
land here (with the time they were read) and nothing reaches CloudWatch, not even the log
stream, so the daemon can serve ``GET /containers/{id}/logs`` from a capture AWS never saw.
Empty lines are skipped, as the awslogs driver skips them, so the Docker side looks the same.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CapturedLine:
    """One output line of a task: when it was read, from which stream, its text."""

    timestamp_ms: int
    stream: str  # "stdout" | "stderr"
    text: str


class LocalCapture:
    """Keeps each task's output lines in arrival order, for the simulator's life (as ECS keeps
    its stopped tasks here); a ``TaskOutputSink`` that ships nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: dict[str, list[CapturedLine]] = {}

    # -- the lifecycle driver's TaskOutputSink --------------------------------------------

    def register(
        self, task_arn: str, target: Any, *, tty: bool = False, delay_key: str = ""
    ) -> None:
        """A new task (its awslogs target is ignored: nothing goes to CloudWatch)."""
        del target, tty, delay_key
        with self._lock:
            self._lines.setdefault(task_arn, [])

    def task_launching(self, task_arn: str, command_line: list[str], ts_ms: int) -> None:
        """Nothing to do: there is no CloudWatch event, so no command-echo event either."""

    def task_stopped(self, task_arn: str) -> None:
        """Nothing to flush."""

    def drained(self, task_arn: str) -> bool:
        """Always: a capture has no delivery delay (the workload reports its exit only after
        its output was read to the end)."""
        return True

    # -- the workload runner's OutputCallback ---------------------------------------------

    def on_output(self, task_arn: str, stream: str, line: bytes, ts_ms: int) -> None:
        """One line without its newline, as read at ``ts_ms``."""
        if not line:
            return
        captured = CapturedLine(ts_ms, stream, line.decode("utf-8", errors="replace"))
        with self._lock:
            self._lines.setdefault(task_arn, []).append(captured)

    # -- for the daemon -------------------------------------------------------------------

    def lines(self, task_arn: str, start: int = 0) -> list[CapturedLine]:
        """The task's lines from index ``start`` on (empty for an unknown task)."""
        with self._lock:
            return list(self._lines.get(task_arn, [])[start:])
