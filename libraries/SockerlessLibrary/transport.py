"""HTTP/1.1 to a Docker-API daemon over a unix socket or TCP, written by hand.

Why by hand: the exec hijack must keep every byte that arrived with the ``101`` headers
(docker-py loses them inside ``http.client``'s buffered reader), and one small parser for status
line, headers and body framing serves plain requests, streams and the hijack alike.

Guarantees: nothing connects at construction; every call has a connect timeout and a read
*deadline* (the whole response, or the whole stream, must arrive within ``Timeouts.read``, so a
daemon that trickles bytes cannot hang a test either); one kept-alive connection is reused under a
lock and is transparently replaced once if the daemon had closed it before answering; streams get a
connection of their own.

API version: a pinned version (the default, ``1.44``) is used as given. ``api_version="auto"``
negotiates as docker-py's ``version="auto"`` and the Go SDK's ``NegotiateAPIVersion`` do: before
the first request, one unversioned ``GET /_ping``; its ``API-Version`` header, if lower than
``1.44``, becomes the version of every later request (see ``negotiate_api_version``).
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import stat
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .errors import (
    ConfigurationError,
    DaemonDown,
    DaemonResponseError,
    DaemonTimeout,
    DaemonUnreachable,
    ProtocolError,
    excerpt,
)
from .outage import DAEMON, Outages

DEFAULT_API_VERSION = "1.44"  # the newest API the library speaks: the ceiling of negotiation
MIN_API_VERSION = "1.24"  # the oldest it accepts from a daemon (Docker 1.12)
AUTO = "auto"  # negotiate with the daemon on the first request
_API_VERSION = re.compile(r"(\d{1,4})\.(\d{1,4})")
USER_AGENT = "SockerlessLibrary"
RECV_SIZE = 256 * 1024
MAX_HEAD_SIZE = 64 * 1024
MAX_BODY_SIZE = 64 * 1024 * 1024
MAX_ERROR_BODY_SIZE = 1024 * 1024
_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3})(?: (.*))?")
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_ADDRESS_FORMS = "unix:///path/to.sock, /path/to.sock, tcp://host:port or http://host:port"


@dataclass(frozen=True)
class Timeouts:
    """Seconds to connect, and seconds for the whole response (or stream) to arrive."""

    connect: float = 5.0
    read: float = 60.0


@dataclass(frozen=True)
class Target:
    """Where the daemon listens: a unix socket path, or a TCP host and port."""

    scheme: str  # "unix" or "tcp"
    socket_path: str | None = None
    host: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> Target:
        """Parse ``unix:///path.sock``, ``/path.sock``, ``tcp://host:port`` or ``http://host:port``."""
        address = str(text).strip()
        if address.startswith("unix://"):
            path = address[len("unix://") :]
            if not path.startswith("/"):
                raise ConfigurationError(
                    f"daemon address {text!r}: a unix socket needs an absolute path, "
                    f"e.g. unix:///var/run/sockerless.sock"
                )
            return cls("unix", socket_path=path)
        if address.startswith("/"):
            return cls("unix", socket_path=address)
        if address.startswith(("tcp://", "http://")):
            return cls._parse_tcp(text, address)
        if address.startswith("https://"):
            raise ConfigurationError(
                f"daemon address {text!r}: TLS is not supported; use {_ADDRESS_FORMS}"
            )
        raise ConfigurationError(f"cannot parse daemon address {text!r}: use {_ADDRESS_FORMS}")

    @classmethod
    def _parse_tcp(cls, text: str, address: str) -> Target:
        parts = urlsplit(address)
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None or port == 0:
            raise ConfigurationError(
                f"daemon address {text!r}: a TCP address needs a host and a port, "
                f"e.g. tcp://127.0.0.1:2375"
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ConfigurationError(f"daemon address {text!r}: only host and port are allowed")
        return cls("tcp", host=parts.hostname, port=port)

    @property
    def host_header(self) -> str:
        """``localhost`` over a unix socket (a path there breaks Go servers), else host:port."""
        if self.scheme == "unix":
            return "localhost"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.socket_path}"
        return f"tcp://{self.host_header}"


@dataclass
class ResponseHead:
    """Status line and headers (names lower-cased; repeated headers joined with ``, ``)."""

    version: tuple[int, int]
    status: int
    reason: str
    headers: dict[str, str]


@dataclass
class Response:
    """A complete response."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def text(self) -> str:
        """The body as UTF-8 text."""
        return self.body.decode("utf-8", errors="replace")


class Deadline:
    """An absolute point in time for one operation; ``remaining()`` raises once it has passed."""

    def __init__(self, seconds: float, operation: str, target: Target) -> None:
        self.seconds = seconds
        self.operation = operation
        self.target = target
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; raises ``DaemonTimeout`` when none are."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self, what: str = "no complete response") -> DaemonTimeout:
        """The error to raise when the deadline passed: ``what`` happened within the timeout."""
        return DaemonTimeout(
            f"{self.operation} on {self.target}: {what} within the {self.seconds:g} s read timeout",
            operation=self.operation,
            timeout=self.seconds,
        )


class NoResponse(Exception):
    """The connection ended (EOF or reset) before any byte of a response arrived."""


class TruncatedBody(Exception):
    """The connection ended before the announced body was complete."""

    def __init__(self, description: str, received: bytes) -> None:
        super().__init__(description)
        self.description = description
        self.received = received


@dataclass
class HttpConnection:
    """One socket plus the bytes read from it but not consumed yet."""

    sock: socket.socket
    target: Target
    buffer: bytearray = field(default_factory=bytearray)
    eof: bool = False
    uses: int = 0

    def send(self, data: bytes, deadline: Deadline) -> None:
        """Send all of ``data``; a reset or broken pipe means the daemon went away."""
        self.sock.settimeout(deadline.remaining())
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise deadline.expired("could not send the request") from None
        except (BrokenPipeError, ConnectionResetError) as error:
            raise NoResponse(str(error)) from None

    def send_while_reading(self, data: bytes, deadline: Deadline) -> None:
        """Send ``data`` while buffering whatever the daemon sends meanwhile.

        A daemon that writes output before reading its stdin would otherwise deadlock with us.
        Stops sending quietly if the daemon closes its reading side.
        """
        view = memoryview(data)
        while view and not self.eof:
            readable, writable, _ = select.select(
                [self.sock], [self.sock], [], deadline.remaining()
            )
            if readable:
                self._recv_into_buffer(deadline)
            if writable:
                try:
                    sent = self.sock.send(view[:RECV_SIZE])
                except (BrokenPipeError, ConnectionResetError):
                    return
                view = view[sent:]

    def shutdown_write(self) -> None:
        """Half-close: the daemon sees end of stdin and keeps sending output."""
        with contextlib.suppress(OSError):  # already closed by the daemon: nothing to signal
            self.sock.shutdown(socket.SHUT_WR)

    def _recv(self, deadline: Deadline, size: int = RECV_SIZE) -> bytes:
        if self.eof:
            return b""
        self.sock.settimeout(deadline.remaining())
        try:
            data = self.sock.recv(size)
        except TimeoutError:
            raise deadline.expired() from None
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
        return data

    def _recv_into_buffer(self, deadline: Deadline) -> int:
        data = self._recv(deadline)
        self.buffer += data
        return len(data)

    def read_head(self, deadline: Deadline) -> ResponseHead:
        """Read the status line and headers from our own buffer; the rest stays buffered."""
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.buffer) > MAX_HEAD_SIZE:
                raise ProtocolError(
                    f"{deadline.operation} on {self.target}: response head larger than "
                    f"{MAX_HEAD_SIZE} bytes"
                )
            if not self._recv_into_buffer(deadline):
                if not self.buffer:
                    raise NoResponse("connection closed before a response")
                raise ProtocolError(
                    f"{deadline.operation} on {self.target}: connection closed inside the "
                    f"response head: {excerpt(self.buffer.decode('latin-1'))!r}"
                )
        head = bytes(self.buffer[:end])
        del self.buffer[: end + 4]
        return self._parse_head(head, deadline.operation)

    def _parse_head(self, head: bytes, operation: str) -> ResponseHead:
        status_line, *header_lines = head.split(b"\r\n")
        match = _STATUS_LINE.fullmatch(status_line)
        if match is None:
            raise ProtocolError(
                f"{operation} on {self.target}: malformed status line "
                f"{status_line.decode('latin-1')!r}"
            )
        headers: dict[str, str] = {}
        for line in header_lines:
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon or not name.strip():
                text = line.decode("latin-1")
                raise ProtocolError(f"{operation} on {self.target}: malformed header line {text!r}")
            key, text = name.strip().lower(), value.strip()
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        return ResponseHead(
            (int(match.group(1)), int(match.group(2))),
            int(match.group(3)),
            (match.group(4) or b"").decode("latin-1"),
            headers,
        )

    def take_buffered(self) -> bytes:
        """Every byte read past the head and not consumed yet (the hijacked stream's start)."""
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def body_chunks(
        self, head: ResponseHead, method: str, deadline: Deadline, *, raw: bool = False
    ) -> Iterator[bytes]:
        """The body as it arrives. ``raw=True``: read to EOF regardless of headers (hijack)."""
        try:
            framing = "close" if raw else body_framing(method, head)
        except ProtocolError as error:
            raise ProtocolError(f"{deadline.operation} on {self.target}: {error}") from None
        if framing == "none":
            return
        if framing == "chunked":
            yield from self._chunked(deadline)
            return
        if framing == "close":
            if self.buffer:
                yield self.take_buffered()
            while data := self._recv(deadline):
                yield data
            return
        yield from self._exactly(int(framing), deadline)

    def _exactly(self, expected: int, deadline: Deadline) -> Iterator[bytes]:
        received: list[bytes] = []
        left = expected
        if self.buffer:
            data = bytes(self.buffer[:left])
            del self.buffer[: len(data)]
            left -= len(data)
            received.append(data)
            yield data
        while left > 0:
            data = self._recv(deadline, min(left, RECV_SIZE))
            if not data:
                got = expected - left
                raise TruncatedBody(
                    f"truncated body: expected {expected} bytes, got {got}", b"".join(received)
                )
            left -= len(data)
            received.append(data)
            yield data

    def _chunked(self, deadline: Deadline) -> Iterator[bytes]:
        total = 0
        while True:
            size_line = self._line(deadline, total)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ProtocolError(
                    f"{deadline.operation} on {self.target}: bad chunk size line "
                    f"{size_line.decode('latin-1')!r}"
                ) from None
            if size == 0:
                while self._line(deadline, total):
                    pass  # trailers are ignored
                return
            while len(self.buffer) < size + 2:
                if not self._recv_into_buffer(deadline):
                    raise TruncatedBody(
                        f"truncated chunked body: connection closed inside a chunk "
                        f"(got {total + len(self.buffer)} bytes)",
                        b"",
                    )
            if self.buffer[size : size + 2] != b"\r\n":
                raise ProtocolError(
                    f"{deadline.operation} on {self.target}: chunk of {size} bytes not "
                    f"followed by CRLF"
                )
            data = bytes(self.buffer[:size])
            del self.buffer[: size + 2]
            total += size
            yield data

    def _line(self, deadline: Deadline, total: int) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            if len(self.buffer) > MAX_HEAD_SIZE:
                raise ProtocolError(f"{deadline.operation} on {self.target}: chunk line too long")
            if not self._recv_into_buffer(deadline):
                raise TruncatedBody(
                    f"truncated chunked body: connection closed between chunks "
                    f"(got {total} bytes, no final chunk)",
                    b"",
                )
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    def alive(self) -> bool:
        """False if the daemon closed this idle connection or left unread bytes on it."""
        if self.eof or self.buffer:
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable  # an idle HTTP connection has nothing to read unless it is closed

    def close(self) -> None:
        """Close the socket (idempotent)."""
        with contextlib.suppress(OSError):
            self.sock.close()


def _not_a_socket(path: str | None) -> str:
    """What ``path`` is when it exists and is no socket (``"a directory"``), else ``""``.

    Connecting to such a path fails with "connection refused", which would wrongly suggest a
    daemon that is not running.
    """
    if path is None:
        return ""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return ""
    if stat.S_ISSOCK(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a regular file" if stat.S_ISREG(mode) else "another kind of file"


def body_framing(method: str, head: ResponseHead) -> str:
    """``none``, ``chunked``, ``close`` or the Content-Length as a decimal string."""
    if method == "HEAD" or head.status < 200 or head.status in (204, 304):
        return "none"
    if "chunked" in head.headers.get("transfer-encoding", "").lower():
        return "chunked"
    length = head.headers.get("content-length")
    if length is None:
        return "close"
    if not length.strip().isdigit():
        raise ProtocolError(f"bad Content-Length header {length!r}")
    return str(int(length))


def response_error(
    operation: str,
    target: Target,
    head: ResponseHead,
    body: bytes,
    *,
    truncated: str | None = None,
    expected: Collection[int] = (),
) -> DaemonResponseError:
    """A ``DaemonResponseError`` that says what the body was: JSON message, text, empty, cut."""
    message, detail = describe_error_body(head.headers.get("content-type", ""), body)
    if truncated is not None:
        detail = truncated + (f"; received: {detail}" if body else "")
    return DaemonResponseError(
        operation=operation,
        target=str(target),
        status=head.status,
        reason=head.reason,
        message=message,
        body=body,
        detail=detail,
        expected=tuple(sorted(expected)),
    )


def describe_error_body(content_type: str, body: bytes) -> tuple[str, str]:
    """``(the daemon's message, how to say it in an error)`` for any kind of error body."""
    if not body.strip():
        return "", "empty body"
    text = body.decode("utf-8", errors="replace").strip()
    if "json" in content_type.lower() or text.startswith(("{", "[")):
        try:
            parsed = json.loads(text)
        except ValueError:
            return text, f"body is not valid JSON: {excerpt(text)}"
        if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
            return parsed["message"], parsed["message"]
        return "", f'JSON body without "message": {excerpt(text)}'
    return text, f"plain-text body: {excerpt(text)}"


class StreamResponse:
    """A response whose body is read incrementally, on a connection of its own."""

    def __init__(
        self,
        connection: HttpConnection,
        head: ResponseHead,
        method: str,
        deadline: Deadline,
    ) -> None:
        self.connection = connection
        self.status = head.status
        self.reason = head.reason
        self.headers = head.headers
        self.deadline = deadline
        self._head = head
        self._method = method

    def chunks(self) -> Iterator[bytes]:
        """Body pieces as they arrive; ``DaemonTimeout`` when the deadline passes first."""
        try:
            yield from self.connection.body_chunks(self._head, self._method, self.deadline)
        except TruncatedBody as error:
            raise ProtocolError(
                f"{self.deadline.operation} on {self.connection.target}: {error.description}"
            ) from None

    def close(self) -> None:
        """Close the connection (the daemon sees the client go away)."""
        self.connection.close()

    def __enter__(self) -> StreamResponse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def parse_api_version(text: str) -> tuple[int, int] | None:
    """``(1, 41)`` for ``"1.41"``; ``None`` for anything that is not ``major.minor``."""
    match = _API_VERSION.fullmatch(text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def pinned_api_version(value: str | None) -> str | None:
    """Check an API version given by the user: ``"1.41"``, ``"auto"`` or ``None`` (no prefix)."""
    if value is None or value == AUTO:
        return value
    parsed = parse_api_version(str(value))
    if parsed is None:
        raise ConfigurationError(
            f"api_version {value!r} is not a Docker API version: use major.minor "
            f"(e.g. 1.41) or '{AUTO}' to negotiate with the daemon"
        )
    return f"{parsed[0]}.{parsed[1]}"


@dataclass(frozen=True)
class ApiVersion:
    """The API version a transport uses, and how it was chosen.

    ``source``: ``pinned`` (given by the user: no negotiation), ``negotiated`` (from the
    daemon's ``/_ping``), ``pending`` (``auto``, before the first request) or ``unversioned``.
    ``server`` is the daemon's ``API-Version`` header (``None``: it sent none, or no ping yet).
    """

    version: str | None
    source: str
    server: str | None = None

    def describe(self) -> str:
        """One sentence for the log, e.g. ``Docker API 1.41 (the daemon's maximum; ...)``."""
        if self.source == "unversioned":
            return "Docker API paths without a version prefix"
        if self.source == "pinned":
            return f"Docker API {self.version} (pinned: no negotiation)"
        if self.source == "pending":
            return f"Docker API version not negotiated yet (up to {DEFAULT_API_VERSION})"
        if self.server is None:
            return (
                f"Docker API {self.version} (the daemon's /_ping sent no API-Version header; "
                f"the library's own {DEFAULT_API_VERSION})"
            )
        if self.version == self.server:
            return (
                f"Docker API {self.version} (negotiated: the daemon's maximum; the library "
                f"speaks up to {DEFAULT_API_VERSION})"
            )
        return (
            f"Docker API {self.version} (negotiated: the library's maximum; the daemon "
            f"speaks up to {self.server})"
        )


def negotiate_api_version(server: str | None, operation: str, target: Target) -> str:
    """The version to use with a daemon whose ``/_ping`` said ``API-Version: server``.

    The lower of ``server`` and ``DEFAULT_API_VERSION``, compared numerically (1.9 < 1.41);
    no header keeps ``DEFAULT_API_VERSION`` (sockerless answers every version). A header that is
    not ``major.minor`` is a ``ProtocolError``; a version below ``MIN_API_VERSION`` is a
    ``ConfigurationError`` naming both versions.
    """
    if server is None:
        return DEFAULT_API_VERSION
    parsed = parse_api_version(server)
    if parsed is None:
        raise ProtocolError(
            f"{operation} on {target}: the daemon's /_ping answered API-Version "
            f"{excerpt(server, 60)!r}, which is not a Docker API version (major.minor); pin "
            f"the version (library argument api_version=1.41) to skip negotiation"
        )
    minimum = parse_api_version(MIN_API_VERSION)
    assert minimum is not None
    if parsed < minimum:
        raise ConfigurationError(
            f"{operation} on {target}: the daemon speaks Docker API {server} at most, older "
            f"than {MIN_API_VERSION}, the oldest this library supports (it speaks "
            f"{MIN_API_VERSION} to {DEFAULT_API_VERSION})"
        )
    ceiling = parse_api_version(DEFAULT_API_VERSION)
    assert ceiling is not None
    return f"{parsed[0]}.{parsed[1]}" if parsed < ceiling else DEFAULT_API_VERSION


NegotiationListener = Callable[[ApiVersion], None]


class Transport:
    """Sends requests to one daemon; counts them; owns one kept-alive connection."""

    def __init__(
        self,
        target: Target | str,
        *,
        api_version: str | None = DEFAULT_API_VERSION,
        timeouts: Timeouts | None = None,
        on_negotiated: NegotiationListener | None = None,
        outages: Outages | None = None,
    ) -> None:
        """``api_version``: a version such as ``"1.41"`` (pinned), ``"auto"`` (negotiate on
        the first request; ``on_negotiated`` then hears the outcome once) or ``None`` (paths
        without a version prefix). ``outages``: the run's record of what is down; with it a
        daemon that stops accepting is retried briefly, then marked down (``outage.py``)."""
        self.target = target if isinstance(target, Target) else Target.parse(target)
        self.outages = outages
        requested = pinned_api_version(api_version)
        if requested == AUTO:
            self._api = ApiVersion(DEFAULT_API_VERSION, "pending")
        elif requested is None:
            self._api = ApiVersion(None, "unversioned")
        else:
            self._api = ApiVersion(requested, "pinned")
        self._on_negotiated = on_negotiated
        self._negotiation_lock = threading.Lock()
        self.timeouts = timeouts or Timeouts()
        self._pooled: HttpConnection | None = None
        self._pool_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._request_count = 0
        # The request line of the latest request, so a failing keyword can show what it sent.
        self.last_request = ""

    @property
    def request_count(self) -> int:
        """Every HTTP request sent so far (a retry after a closed keep-alive counts too)."""
        return self._request_count

    def count_request(self) -> None:
        """Count one request (hijack and WebSocket callers send theirs themselves)."""
        with self._count_lock:
            self._request_count += 1

    @property
    def api_version(self) -> str | None:
        """The version in the path prefix (before negotiation: the one it would fall back to)."""
        return self._api.version

    @property
    def api(self) -> ApiVersion:
        """The API version and how it was chosen."""
        return self._api

    def use_api_version(self, api: ApiVersion) -> None:
        """Take the outcome of an earlier negotiation with the same daemon (no new ping)."""
        if self._api.source == "pending" and api.source == "negotiated":
            self._api = api

    def ensure_api_version(self, operation: str, timeouts: Timeouts | None = None) -> str | None:
        """The version to use, negotiating first if that is still pending (once, thread-safe).

        Negotiation failures that mean the daemon cannot answer at all (unreachable, no response
        in time, malformed response head) are raised as they would be for ``operation`` itself.
        """
        if self._api.source == "pending":
            with self._negotiation_lock:
                if self._api.source == "pending":
                    self._negotiate(operation, timeouts or self.timeouts)
        return self._api.version

    def _negotiate(self, operation: str, timeouts: Timeouts) -> None:
        server = self._ping_api_version(operation, timeouts)
        version = negotiate_api_version(server, operation, self.target)
        self._api = ApiVersion(version, "negotiated", server)
        if self._on_negotiated is not None:
            self._on_negotiated(self._api)

    def _ping_api_version(self, operation: str, timeouts: Timeouts) -> str | None:
        """``GET /_ping`` without a version prefix; the ``API-Version`` header, whatever the
        status (Docker sets it on every answer). A body that breaks off only costs the
        kept-alive connection."""
        payload = self.build_request("GET", "/_ping", versioned=False)
        with self._pool_lock:
            connection, head, deadline = self._send_pooled(payload, operation, timeouts)
            try:
                for _ in connection.body_chunks(head, "GET", deadline):
                    pass
            except (TruncatedBody, ProtocolError):
                self._discard(connection)
            except BaseException:
                self._discard(connection)
                raise
            else:
                if self._reusable(head, "GET", connection):
                    self._pooled = connection
                else:
                    self._discard(connection)
        return head.headers.get("api-version")

    def url_path(self, path: str, query: str = "", *, versioned: bool = True) -> str:
        """``/v1.44/containers/json?all=true`` from ``/containers/json`` and a query string."""
        version = self._api.version if versioned else None
        prefix = f"/v{version}" if version else ""
        return f"{prefix}{path}" + (f"?{query}" if query else "")

    def build_request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        versioned: bool = True,
    ) -> bytes:
        """The request bytes: JSON body with its Content-Type, ``Content-Length: 0`` on an
        empty POST, ``Host: localhost`` on a unix socket."""
        self.last_request = f"{method} {self.url_path(path, query, versioned=versioned)}"
        lines = [
            f"{self.last_request} HTTP/1.1",
            f"Host: {self.target.host_header}",
            f"User-Agent: {USER_AGENT}",
        ]
        payload = b""
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            lines.append("Content-Type: application/json")
            lines.append(f"Content-Length: {len(payload)}")
        elif method in _METHODS_WITH_BODY:
            lines.append("Content-Length: 0")
        lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload

    def connect(self, operation: str, timeouts: Timeouts | None = None) -> HttpConnection:
        """A new connection to the daemon (not pooled).

        With ``outages``: a daemon marked down raises ``DaemonDown`` at once; one that answered
        earlier in the run and now does not accept is tried again for a few seconds before it
        is marked down; one that never answered is marked down at its first failure.
        """
        if self.outages is None:
            return self._connect_once(operation, timeouts)
        address = str(self.target)
        outage = self.outages.down(address)
        if outage is not None:
            raise DaemonDown(operation, outage)
        streak = self.outages.streak()
        while True:
            began = self.outages.clock()
            try:
                connection = self._connect_once(operation, timeouts)
            except (DaemonUnreachable, DaemonTimeout) as error:
                delay = streak.failed(began)
                if delay is not None and self.outages.ever_answered(address):
                    self.outages.sleep(delay)
                    continue
                self.outages.mark(DAEMON, address, str(error), streak)
                if streak.attempts > 1:
                    error.args = (
                        f"{error} (no connection in {streak.attempts} attempts over "
                        f"{streak.elapsed:.1f} s: the daemon is marked down for the rest of "
                        "the run)",
                    )
                raise
            self.outages.answered(address)
            return connection

    def _connect_once(self, operation: str, timeouts: Timeouts | None) -> HttpConnection:
        limit = (timeouts or self.timeouts).connect
        target = self.target
        try:
            if target.scheme == "unix":
                assert target.socket_path is not None
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(limit)
                    sock.connect(target.socket_path)
                except BaseException:
                    sock.close()
                    raise
            else:
                assert target.host is not None and target.port is not None
                sock = socket.create_connection((target.host, target.port), timeout=limit)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except TimeoutError:
            raise DaemonTimeout(
                f"{operation}: connecting to {target} took longer than the {limit:g} s "
                f"connect timeout",
                operation=operation,
                timeout=limit,
            ) from None
        except FileNotFoundError:
            raise DaemonUnreachable(
                f"{operation}: cannot connect to {target}: no socket at {target.socket_path}"
            ) from None
        except ConnectionRefusedError:
            not_socket = _not_a_socket(target.socket_path)
            if not_socket:
                raise DaemonUnreachable(
                    f"{operation}: cannot connect to {target}: {target.socket_path} is "
                    f"{not_socket}, not a unix socket (is the path right?)"
                ) from None
            where = target.socket_path if target.scheme == "unix" else target.host_header
            raise DaemonUnreachable(
                f"{operation}: cannot connect to {target}: connection refused at {where} "
                f"(is the daemon running?)"
            ) from None
        except OSError as error:
            raise DaemonUnreachable(f"{operation}: cannot connect to {target}: {error}") from None
        return HttpConnection(sock, target)

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        query: str = "",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        expected: Collection[int] = (200,),
        timeout: Timeouts | None = None,
    ) -> Response:
        """Send one request on the kept-alive connection and read the whole response.

        A status outside ``expected`` raises ``DaemonResponseError``.
        """
        timeouts = timeout or self.timeouts
        self.ensure_api_version(operation, timeouts)
        payload = self.build_request(method, path, query=query, body=body, headers=headers)
        with self._pool_lock:
            connection, head, deadline = self._send_pooled(payload, operation, timeouts)
            try:
                chunks = list(connection.body_chunks(head, method, deadline))
            except TruncatedBody as error:
                self._discard(connection)
                if head.status in expected:
                    raise ProtocolError(
                        f"{operation} on {self.target}: HTTP {head.status} {head.reason} with a "
                        f"{error.description}"
                    ) from None
                raise response_error(
                    operation,
                    self.target,
                    head,
                    error.received,
                    truncated=error.description,
                    expected=expected,
                ) from None
            except BaseException:
                self._discard(connection)
                raise
            body_bytes = b"".join(chunks)
            if len(body_bytes) > MAX_BODY_SIZE:
                self._discard(connection)
                raise ProtocolError(f"{operation} on {self.target}: response body too large")
            if self._reusable(head, method, connection):
                self._pooled = connection
            else:
                self._discard(connection)
        if head.status not in expected:
            raise response_error(operation, self.target, head, body_bytes, expected=expected)
        return Response(head.status, head.reason, head.headers, body_bytes)

    def _send_pooled(
        self, payload: bytes, operation: str, timeouts: Timeouts
    ) -> tuple[HttpConnection, ResponseHead, Deadline]:
        deadline = Deadline(timeouts.read, operation, self.target)
        for attempt in range(2):
            connection = self._pooled
            self._pooled = None
            if connection is not None and not connection.alive():
                connection.close()
                connection = None
            reused = connection is not None
            if connection is None:
                connection = self.connect(operation, timeouts)
            connection.uses += 1
            self.count_request()
            try:
                connection.send(payload, deadline)
                return connection, connection.read_head(deadline), deadline
            except NoResponse:
                connection.close()
                if reused and attempt == 0:
                    continue  # the daemon closed the idle connection as we reused it
                raise DaemonUnreachable(
                    f"{operation} on {self.target}: the daemon closed the connection without "
                    f"answering"
                ) from None
            except BaseException:
                connection.close()
                raise
        raise AssertionError("unreachable: the second attempt returns or raises")

    @staticmethod
    def _reusable(head: ResponseHead, method: str, connection: HttpConnection) -> bool:
        if connection.eof or connection.buffer or head.status < 200:
            return False  # a 1xx final answer (101) means the connection changed protocols
        connection_header = head.headers.get("connection", "").lower()
        if head.version < (1, 1):
            return "keep-alive" in connection_header and body_framing(method, head) != "close"
        return "close" not in connection_header and body_framing(method, head) != "close"

    def _discard(self, connection: HttpConnection) -> None:
        connection.close()
        if self._pooled is connection:
            self._pooled = None

    def open_stream(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        query: str = "",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        expected: Collection[int] = (200,),
        timeout: Timeouts | None = None,
    ) -> StreamResponse:
        """Send a request on a new connection and return once the head arrived.

        An unexpected status raises ``DaemonResponseError`` (with the body read and parsed).
        """
        timeouts = timeout or self.timeouts
        self.ensure_api_version(operation, timeouts)
        payload = self.build_request(method, path, query=query, body=body, headers=headers)
        connection = self.connect(operation, timeouts)
        deadline = Deadline(timeouts.read, operation, self.target)
        self.count_request()
        try:
            connection.send(payload, deadline)
            head = connection.read_head(deadline)
            if head.status not in expected:
                raise read_error_response(connection, head, method, deadline, expected)
        except NoResponse:
            connection.close()
            raise DaemonUnreachable(
                f"{operation} on {self.target}: the daemon closed the connection without answering"
            ) from None
        except BaseException:
            connection.close()
            raise
        return StreamResponse(connection, head, method, deadline)

    def close(self) -> None:
        """Close the kept-alive connection, if any."""
        with self._pool_lock:
            if self._pooled is not None:
                self._pooled.close()
                self._pooled = None


def read_error_response(
    connection: HttpConnection,
    head: ResponseHead,
    method: str,
    deadline: Deadline,
    expected: Collection[int],
) -> DaemonResponseError:
    """Read an error response's body (bounded) and describe it."""
    received: list[bytes] = []
    size = 0
    try:
        for chunk in connection.body_chunks(head, method, deadline):
            received.append(chunk)
            size += len(chunk)
            if size > MAX_ERROR_BODY_SIZE:
                break
    except TruncatedBody as error:
        return response_error(
            deadline.operation,
            connection.target,
            head,
            error.received or b"".join(received),
            truncated=error.description,
            expected=expected,
        )
    return response_error(
        deadline.operation, connection.target, head, b"".join(received), expected=expected
    )
