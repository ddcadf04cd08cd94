"""One HTTP request and the ways to answer it: JSON, empty, chunked stream, or a hijack."""

from __future__ import annotations

import contextlib
import email.utils
import json
import select
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from io import BufferedIOBase
from typing import Any

from . import framing
from .errors import ApiError
from .params import Body, Query, parse_json_body

API_VERSION = "1.44"
MIN_API_VERSION = "1.24"
SERVER_NAME = "sockerless-sim"

_REASONS = {
    101: "UPGRADED",
    200: "OK",
    201: "Created",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class ClientGone(Exception):
    """The client closed the connection (or a fault dropped it) while we were answering."""


@dataclass
class Request:
    """A parsed request; ``path`` has no ``/vX.Y`` prefix and no query string."""

    method: str
    path: str
    target: str  # the request target as sent (version prefix and query included)
    query: Query
    headers: Message
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    route: str = ""

    def json(self) -> dict[str, Any]:
        """The body as a JSON object (``{}`` when empty); 400 when malformed."""
        return parse_json_body(self.body)

    def body_fields(self) -> Body:
        """The body as a case-insensitive JSON object."""
        return Body(self.json())

    @property
    def wants_upgrade(self) -> bool:
        """Whether the client asked for a connection upgrade (hijack)."""
        return self.headers.get("Upgrade") is not None


def _common_headers() -> list[tuple[str, str]]:
    return [
        ("Api-Version", API_VERSION),
        ("Docker-Experimental", "false"),
        ("Ostype", "linux"),
        ("Server", f"{SERVER_NAME} (linux)"),
        ("Date", email.utils.formatdate(usegmt=True)),
    ]


def _head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Exchange:
    """Writes the answer to one request on its connection.

    Exactly one of the ``send*``/``stream``/``hijack`` calls may be made. ``close_after`` tells
    the server not to reuse the connection (after a hijack, a stream error, or a dropped stream).
    """

    def __init__(self, sock: socket.socket, rfile: BufferedIOBase, *, head_only: bool) -> None:
        self.sock = sock
        self.rfile = rfile
        self.head_only = head_only
        self.status: int | None = None
        self.close_after = False
        self.drop_after_bytes: int | None = None
        self._hijacked_sent: int | None = None  # bytes written after the hijack head

    @property
    def started(self) -> bool:
        """Whether the status line has been written."""
        return self.status is not None

    def write_raw(self, data: bytes) -> None:
        """Send bytes as they are; ``ClientGone`` when the peer has gone."""
        limit = self.drop_after_bytes
        if self._hijacked_sent is not None and limit is not None:
            # An injected fault on a hijacked stream: cut it after ``limit`` bytes.
            if self._hijacked_sent + len(data) > limit:
                with contextlib.suppress(OSError):
                    self.sock.sendall(data[: max(limit - self._hijacked_sent, 0)])
                self.abort()
                raise ClientGone("connection dropped by an injected fault")
            self._hijacked_sent += len(data)
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.close_after = True
            raise ClientGone(str(exc)) from exc

    def send(
        self,
        status: int,
        body: bytes = b"",
        *,
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        """A complete response with ``Content-Length`` (none for 204/304, which have no body)."""
        all_headers = _common_headers()
        if content_type:
            all_headers.append(("Content-Type", content_type))
        all_headers.extend(headers)
        bodyless = status in (204, 304)
        if not bodyless:
            all_headers.append(("Content-Length", str(len(body))))
        self.status = status
        payload = b"" if bodyless or self.head_only else body
        limit = self.drop_after_bytes
        if limit is not None and len(payload) > limit:
            # An injected fault: the body is cut short and the connection dropped.
            with contextlib.suppress(ClientGone):
                self.write_raw(_head(status, all_headers) + payload[:limit])
            self.abort()
            raise ClientGone("connection dropped by an injected fault")
        self.write_raw(_head(status, all_headers) + payload)

    def send_json(self, status: int, value: Any) -> None:
        """``value`` as JSON (with the trailing newline Go's encoder writes)."""
        body = (json.dumps(value) + "\n").encode()
        self.send(status, body, content_type="application/json")

    def send_empty(self, status: int) -> None:
        """204 or 304: status and headers only."""
        self.send(status)

    def send_error(self, error: ApiError) -> None:
        """``{"message": ...}`` with ``application/json``."""
        self.send_json(error.status, {"message": error.message})

    def stream(self, status: int, content_type: str) -> ChunkedStream:
        """Start a chunked response; write to the returned stream, then ``finish()`` it."""
        headers = [*_common_headers(), ("Content-Type", content_type)]
        headers.append(("Transfer-Encoding", "chunked"))
        self.status = status
        self.write_raw(_head(status, headers))
        return ChunkedStream(self)

    def hijack(self, head: bytes) -> None:
        """Write ``head`` (a full status line and headers) in its own write; the socket is ours.

        After this the connection is never reused for HTTP.
        """
        self.status = int(head.split(b" ", 2)[1])
        self.close_after = True
        self.write_raw(head)
        self._hijacked_sent = 0

    def client_gone(self) -> bool:
        """True when the client has closed its side (a pending EOF), without consuming data."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if not readable:
                return False
            return self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def peer_closed(self) -> bool:
        """True when the client closed the connection entirely (a hang-up), not merely its
        sending half: the Docker CLI half-closes a hijacked attach it sends no stdin on, and
        keeps reading. Seen on unix sockets at once; over TCP only when a write fails."""
        poller = select.poll()
        poller.register(self.sock, select.POLLHUP | select.POLLERR)
        try:
            return any(events & (select.POLLHUP | select.POLLERR) for _, events in poller.poll(0))
        except OSError:
            return True

    def abort(self) -> None:
        """Drop the connection at once (both directions)."""
        self.close_after = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


class ChunkedStream:
    """The body of a chunked response; honours an injected ``drop_after_bytes`` fault."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._sent = 0
        self.finished = False

    def write(self, data: bytes) -> None:
        """Send ``data`` as one chunk (nothing for empty data)."""
        if not data:
            return
        limit = self._exchange.drop_after_bytes
        if limit is not None and self._sent + len(data) > limit:
            # An injected fault: the chunk header promises more than is sent, then the
            # connection goes away, as a daemon crash or a network cut would look.
            partial = data[: max(limit - self._sent, 0)]
            with contextlib.suppress(ClientGone):
                self._exchange.write_raw(b"%x\r\n" % len(data) + partial)
            self._exchange.abort()
            raise ClientGone("connection dropped by an injected fault")
        self._exchange.write_raw(framing.chunk(data))
        self._sent += len(data)

    def finish(self) -> None:
        """End the body (the connection stays usable)."""
        if not self.finished:
            self.finished = True
            self._exchange.write_raw(framing.LAST_CHUNK)
