"""``DelayLog``: every deliberate delay the simulator drew, and when it began.

The latency profile's dwell times (PROVISIONING, PENDING, DEPROVISIONING, log delivery) are each
drawn at the moment the delay begins: RunTask draws provisioning, entering PENDING draws pending,
the container's exit or a StopTask draws deprovisioning, a task's first unsent output line draws
its batch's delivery delay. Recording each draw with the wall-clock time of the draw therefore
gives the interval ``[started, started + seconds]`` during which the simulator was waiting on
purpose. ``GET /_sim/stats`` reports them under ``delays``, so a benchmark can tell the
simulator's own waiting from the time its client added (``benchmarks/kit_overhead.py``).

Example::

    log = DelayLog()
    log.record("pending", 1.5)
    log.records()  # [{"kind": "pending", "started": 1764412345.678, "seconds": 1.5}]
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

DEFAULT_LIMIT = 100_000  # about four per task plus one per log batch: far beyond any run


class DelayLog:
    """Thread-safe record of drawn delays; keeps the newest ``limit`` of them."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._lock = threading.Lock()
        self._records: deque[tuple[str, float, float]] = deque(maxlen=limit)

    def record(self, kind: str, seconds: float, started: float | None = None) -> None:
        """A delay of ``seconds`` of ``kind`` begins at ``started`` (epoch s; default now)."""
        entry = (kind, time.time() if started is None else started, seconds)
        with self._lock:
            self._records.append(entry)

    def records(self) -> list[dict[str, Any]]:
        """Every recorded delay, oldest first: ``kind``, ``started`` (epoch s), ``seconds``."""
        with self._lock:
            entries = list(self._records)
        return [
            {"kind": kind, "started": round(started, 6), "seconds": round(seconds, 6)}
            for kind, started, seconds in entries
        ]
