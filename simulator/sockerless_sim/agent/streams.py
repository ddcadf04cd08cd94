"""Byte plumbing between the agent and its child processes: output pumps and stdin feeders."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import queue
import struct
import termios
import threading
from collections.abc import Callable

CHUNK_SIZE = 32 * 1024
PTY_EOF = b"\x04"  # the terminal's end-of-input character (^D)

log = logging.getLogger(__name__)


def pump(fd: int, on_chunk: Callable[[bytes], None]) -> None:
    """Read ``fd`` until EOF (or EIO, how a pty reports its far end closed), then close it."""
    try:
        while True:
            try:
                chunk = os.read(fd, CHUNK_SIZE)
            except OSError as exc:
                if exc.errno != errno.EIO:
                    log.warning("read from fd %d failed: %s", fd, exc)
                break
            if not chunk:
                break
            on_chunk(chunk)
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def start_pump(name: str, fd: int, on_chunk: Callable[[bytes], None]) -> threading.Thread:
    """Run :func:`pump` on a daemon thread and return it."""
    thread = threading.Thread(target=pump, args=(fd, on_chunk), name=name, daemon=True)
    thread.start()
    return thread


def set_window_size(fd: int, height: int, width: int) -> None:
    """Set a terminal's size (rows, columns); a closed or non-terminal fd is ignored."""
    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (blocking)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class StdinFeeder:
    """Writes to a child's stdin on its own thread, so a child that does not read its stdin
    never blocks the WebSocket connection that carries the data.

    ``close_with`` is written before the fd is closed (a pty's EOF character, since closing one
    duplicate of a pty master does not signal end-of-input). The feeder owns ``fd`` and closes it.
    """

    def __init__(self, name: str, fd: int, close_with: bytes | None = None) -> None:
        self._fd = fd
        self._close_with = close_with
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> bool:
        """Queue ``data``; False when stdin was already closed."""
        with self._lock:
            if self._closed:
                return False
            self._queue.put(data)
            return True

    def close(self) -> None:
        """Queue end-of-input; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)

    def _run(self) -> None:
        broken = False
        while True:
            item = self._queue.get()
            if item is None:
                break
            if broken:
                continue
            try:
                write_all(self._fd, item)
            except OSError as exc:
                # The child closed its stdin or exited: later data has nowhere to go.
                log.info("stdin write failed (%s); dropping further input", exc.strerror)
                broken = True
        if self._close_with is not None and not broken:
            with contextlib.suppress(OSError):
                write_all(self._fd, self._close_with)
        with contextlib.suppress(OSError):
            os.close(self._fd)
