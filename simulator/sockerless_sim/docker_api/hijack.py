"""A hijacked connection (exec start, attach): its head, the client's input, and its end.

The client's input is read to its end on every hijacked connection, whether it is stdin for a
process or not: a unix (or TCP) socket closed with unread bytes in its receive queue resets the
connection, and the client then reads ``connection reset by peer`` instead of the end of the
output (the Docker CLI's ``echo x | docker run -i ...`` failed that way when its stdin was not
read). So the stream ends with our half-close, then a bounded wait for the client's own.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from ..agent.client import AgentError, ExecSession
from . import framing
from .exchange import Exchange

log = logging.getLogger(__name__)

# docker-py reads the 101 response through http.client's buffered reader and then switches to
# the raw socket, losing any stream bytes that arrived together with the headers
# (docker/docker-py#3332). Writing the head on its own and pausing briefly keeps the first
# frame out of that buffer. Our own client does not need this pause.
HIJACK_PAUSE_SECONDS = 0.02
INPUT_READ = 64 * 1024
# How long the end of a stream waits for the client to close its side after ours: the Docker
# CLI closes as soon as it read the end of the output.
CLIENT_CLOSE_SECONDS = 2.0
# Stdin that arrives before the process can take it (an attach before the task runs) is kept
# up to this size; beyond it the client is throttled by its socket buffer.
PENDING_LIMIT = 1 << 20


def hijack_head(*, tty: bool, upgrade: bool) -> bytes:
    """The response head sockerless writes before the stream (200 without an upgrade)."""
    if not upgrade:
        return b"HTTP/1.1 200 OK\r\nContent-Type: " + framing.RAW_STREAM.encode() + b"\r\n\r\n"
    return (
        b"HTTP/1.1 101 UPGRADED\r\nContent-Type: "
        + framing.content_type(tty=tty).encode()
        + b"\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
    )


class ClientInput:
    """Reads the client's bytes until its half-close, on a thread of its own.

    With ``forward`` the bytes are stdin for a session (an exec's, or the main process's for an
    attach): kept until ``connect`` gives one, then sent in order; the client's end closes that
    stdin when ``close_at_end`` (an exec always; an attach with ``StdinOnce``). Without
    ``forward`` they are read and dropped, as Docker drops stdin nobody asked for.
    """

    def __init__(self, exchange: Exchange, *, forward: bool, close_at_end: bool = True) -> None:
        self._exchange = exchange
        self._forward = forward
        self._close_at_end = close_at_end
        self._lock = threading.Lock()
        self._has_room = threading.Condition(self._lock)
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._ended = False
        self._session: ExecSession | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="client-input", daemon=True)
        self._thread.start()

    def connect(self, session: ExecSession) -> None:
        """From now on the input goes to ``session`` (first what arrived before)."""
        if not self._forward:
            return
        with self._lock:
            self._session = session
            pending, self._pending, self._pending_bytes = self._pending, [], 0
            self._has_room.notify_all()
            self._deliver(pending, end=self._ended)

    def disconnect(self) -> None:
        """Stop sending to the session (it ended); later input is dropped."""
        with self._lock:
            self._session = None
            self._forward = False
            self._has_room.notify_all()

    def _run(self) -> None:
        try:
            while True:
                data = self._exchange.rfile.read1(INPUT_READ)
                if not data:
                    break
                self._take(data)
        except (OSError, ValueError) as exc:
            log.debug("client input ended: %s", exc)
        finally:
            self._end()

    def _take(self, data: bytes) -> None:
        with self._lock:
            while self._forward and self._session is None and self._pending_bytes >= PENDING_LIMIT:
                self._has_room.wait(0.5)
            if not self._forward:
                return
            if self._session is None:
                self._pending.append(data)
                self._pending_bytes += len(data)
                return
            self._deliver([data], end=False)

    def _end(self) -> None:
        with self._lock:
            self._ended = True
            self._deliver([], end=True)
        self._done.set()

    def _deliver(self, chunks: list[bytes], *, end: bool) -> None:
        """Send ``chunks`` to the session, then with ``end`` (and ``close_at_end``) the end of
        its input; a session that cannot take them is let go. Called with the lock held."""
        session = self._session
        if session is None:
            return
        try:
            for data in chunks:
                session.send_stdin(data)
            if end and self._close_at_end:
                session.close_stdin()
        except AgentError as exc:
            log.debug("stdin not delivered: %s", exc)
            self._session = None

    def wait_end(self, timeout: float) -> bool:
        """Wait (bounded) until the client closed its side; True when it did."""
        return self._done.wait(timeout)

    def stop(self) -> None:
        """Release the reader (its socket is shut down by now) and wait for it briefly."""
        self.disconnect()
        self._thread.join(1.0)


def end_hijacked(exchange: Exchange, client_input: ClientInput) -> None:
    """End a hijacked stream: half-close our side (the client reads the end of the output),
    read what the client still sends until it closes its side (bounded), then shut down both
    ways (the server closes the socket). No unread byte is left to reset the connection."""
    with contextlib.suppress(OSError):
        exchange.sock.shutdown(socket.SHUT_WR)
    if not client_input.wait_end(CLIENT_CLOSE_SECONDS):
        log.debug("the client kept its side open %.1f s after the end", CLIENT_CLOSE_SECONDS)
    with contextlib.suppress(OSError):
        exchange.sock.shutdown(socket.SHUT_RDWR)
    client_input.stop()
