"""The single writer of one WebSocket connection, with flow control for output messages.

Output (``stdout``/``stderr``) is bounded: exec pumps wait for room (back-pressure onto the
command, as a full pipe would), while the main process's tee must never wait, so it learns that
the queue is full and drops its attach session instead. ``exit``/``error`` are never refused
while the connection is open, so a session always gets its ending.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from .protocol import encode

DATA_LIMIT = 256  # output messages queued per connection (each carries <= 32 KiB)

log = logging.getLogger(__name__)


class Outbound:
    """Queues messages for one connection and sends them from one thread, in order."""

    def __init__(self, send: Callable[[str], None], name: str) -> None:
        self._send = send
        self._cond = threading.Condition()
        self._queue: deque[tuple[dict[str, Any], bool]] = deque()
        self._data_queued = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def closed(self) -> bool:
        """True once the connection can no longer carry messages."""
        return self._closed

    def put_data(self, message: dict[str, Any], *, block: bool) -> bool:
        """Queue an output message; waits for room when ``block``. False if not queued."""
        with self._cond:
            while not self._closed and self._data_queued >= DATA_LIMIT:
                if not block:
                    return False
                self._cond.wait()
            if self._closed:
                return False
            self._queue.append((message, True))
            self._data_queued += 1
            self._cond.notify_all()
            return True

    def put_control(self, message: dict[str, Any]) -> bool:
        """Queue an ``exit``/``error`` message; False only if the connection is closed."""
        with self._cond:
            if self._closed:
                return False
            self._queue.append((message, False))
            self._cond.notify_all()
            return True

    def drain(self, timeout: float) -> bool:
        """Wait until everything queued was sent (or the connection closed)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._closed or not self._queue, timeout)

    def close(self) -> None:
        """Stop sending; queued messages are dropped and blocked producers released."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or bool(self._queue))
                if self._closed:
                    return
                message, is_data = self._queue[0]
            try:
                self._send(encode(message))
            except Exception as exc:  # the connection is gone, whatever the library calls it
                log.info("connection closed while sending: %s", type(exc).__name__)
                self.close()
                return
            with self._cond:
                if self._queue:
                    self._queue.popleft()
                if is_data:
                    self._data_queued -= 1
                self._cond.notify_all()
