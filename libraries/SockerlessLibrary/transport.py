"""HTTP/1.1 to a Docker-API daemon over a unix socket or TCP, on the standard ``http.client``.

``http.client`` writes each request and reads each response; this module adds what a test kit
needs (docs/architecture.md, "the wire"): the daemon's address (``Target``) and a socket to it
that fails with a precise reason, outages that stay down (``outage.py``), a *deadline* per call
at every receive and send (``WireSocket``: a daemon that trickles bytes cannot hang a test), one
kept-alive connection, the strictness ``http.client`` leaves out, messages that name operation,
target, status and what the daemon said (and a request's size when that was the trouble), and
the upgraded stream after a ``101``, read from the response's own buffer (``response.fp``) so
bytes that came with the head are kept. Nothing connects at construction.

API version: a pinned version (the default, ``1.44``) is used as given. ``api_version="auto"``
negotiates as docker-py's ``version="auto"`` and the Go SDK's ``NegotiateAPIVersion`` do: before
the first request, one unversioned ``GET /_ping``; its ``API-Version`` header, if lower than
``1.44``, becomes the version of every later request (see ``negotiate_api_version``).
"""

from __future__ import annotations

import ast
import contextlib
import http.client
import json
import re
import select
import socket
import stat
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from http.client import HTTPResponse
from pathlib import Path
from typing import Any, NamedTuple, cast
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
_NEWEST, _OLDEST = [tuple(map(int, v.split("."))) for v in (DEFAULT_API_VERSION, MIN_API_VERSION)]
USER_AGENT = "SockerlessLibrary"
RECV_SIZE = 256 * 1024
MAX_HEAD_SIZE = 64 * 1024  # of a response head, kept to quote it when it breaks off
MAX_BODY_SIZE = 64 * 1024 * 1024
MAX_ERROR_BODY_SIZE = 1024 * 1024
# A URL longer than this is beyond what many HTTP servers take in a request line (nginx and
# Apache: 8 KiB; Python's http.server: 64 KiB; Go's net/http: 1 MiB for the whole head).
LONG_URL = 8 * 1024
# A request larger than a socket's buffer: one the daemon must have stopped reading, if sending
# it broke off (a small one may be sent whole after the daemon had closed).
LARGE_REQUEST = 64 * 1024
_SIZE_REFUSALS = frozenset({413, 414, 431})  # too large, URI too long, header fields too large
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


class Response:
    """A complete response: status, reason, body and (lower-cased) headers."""

    def __init__(self, answer: Answer, body: bytes) -> None:
        self.status, self.reason, self.body = answer.status, answer.reason, body
        self.headers = answer.fields  # names lower-cased; a repeated header's values joined

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
            f"{self.operation} on {self.target}: {what} within the {self.seconds:g} s read timeout"
        )


class WireSocket(socket.socket):
    """A socket whose receives and sends end at the call's deadline, not after an idle timeout.

    ``http.client`` reads through it, so a daemon that trickles a head or a body byte by byte
    still fails when the deadline passes. It keeps what failure messages need: whether the
    daemon closed its side (``eof``; a reset counts) and the first bytes it sent (``received``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expect_response(None)

    def expect_response(self, deadline: Deadline | None) -> None:
        """A request is about to be sent: from here on reads and sends stop at ``deadline``."""
        self.deadline = deadline
        self.eof = False
        self.received = bytearray()

    def context(self) -> str:
        """``exec start on unix:///x.sock``: the call this socket serves, to start a message."""
        return f"{self.deadline.operation} on {self.deadline.target}" if self.deadline else ""

    def arm(self) -> None:
        """Set the socket timeout to what is left of the deadline (raises once none is)."""
        if self.deadline is not None:
            self.settimeout(self.deadline.remaining())

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """``socket.recv_into`` (what ``http.client``'s reader calls) under the deadline."""
        self.arm()
        try:
            count = super().recv_into(buffer, nbytes, flags)
        except TimeoutError:
            if self.deadline is None:
                raise
            raise self.deadline.expired() from None
        except ConnectionResetError:
            count = 0
        self.eof = not count
        if len(self.received) < MAX_HEAD_SIZE:
            self.received += memoryview(buffer)[: min(count, MAX_HEAD_SIZE - len(self.received))]
        return count

    def sendall(self, data: Any, flags: int = 0) -> None:
        """``socket.sendall`` under the deadline."""
        self.arm()
        try:
            super().sendall(data, flags)
        except TimeoutError:
            if self.deadline is None:
                raise
            raise self.deadline.expired("could not send the request") from None

    def idle(self) -> bool:
        """False if the daemon closed this kept-alive connection or sent something unasked."""
        try:
            return not select.select([self], [], [], 0)[0]
        except (OSError, ValueError):
            return False


def open_socket(target: Target, operation: str, limit: float) -> WireSocket:
    """A socket connected to ``target`` within ``limit`` seconds, or an error that says why not."""
    try:
        if target.scheme == "tcp":
            assert target.host is not None and target.port is not None
            plain = socket.create_connection((target.host, target.port), timeout=limit)
            plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return WireSocket(fileno=plain.detach())
        sock = WireSocket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(limit)
            sock.connect(str(target.socket_path))
        except BaseException:
            sock.close()
            raise
        return sock
    except TimeoutError:
        raise DaemonTimeout(
            f"{operation}: connecting to {target} took longer than the {limit:g} s connect timeout"
        ) from None
    except FileNotFoundError:
        why = f"no socket at {target.socket_path}"
    except ConnectionRefusedError:
        not_socket = _not_a_socket(target.socket_path)
        where = target.socket_path if target.scheme == "unix" else target.host_header
        why = (
            f"{target.socket_path} is {not_socket}, not a unix socket (is the path right?)"
            if not_socket
            else f"connection refused at {where} (is the daemon running?)"
        )
    except OSError as error:
        why = str(error)
    raise DaemonUnreachable(f"{operation}: cannot connect to {target}: {why}")


def _not_a_socket(path: str | None) -> str:
    """What ``path`` is when it exists and is no socket (``"a directory"``), else ``""``.

    Connecting to such a path fails with "connection refused", which would wrongly suggest a
    daemon that is not running.
    """
    try:
        mode = Path(str(path)).stat().st_mode
    except OSError:
        return ""
    if stat.S_ISSOCK(mode) or path is None:
        return ""
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a regular file" if stat.S_ISREG(mode) else "another kind of file"


class Answer(HTTPResponse):
    """``http.client``'s response, with its headers as the kit reads them."""

    @cached_property
    def fields(self) -> dict[str, str]:
        """Header names lower-cased; a repeated header's values joined with ``, ``."""
        fields: dict[str, str] = {}
        for name, value in self.msg.raw_items():
            key = name.lower()
            fields[key] = f"{fields[key]}, {value}" if key in fields else value
        return fields


class Connection(http.client.HTTPConnection):
    """``http.client`` on a socket the transport opened; it never reconnects by itself.

    ``wire`` stays when ``http.client`` lets go of ``sock`` (an answer that closes the
    connection), so that answer's body is still read under the deadline.
    """

    response_class = Answer

    def __init__(self, wire: WireSocket) -> None:
        super().__init__("localhost")
        self.auto_open = 0
        self.sock = self.wire = wire

    def close(self) -> None:
        """Close the connection and its socket (idempotent)."""
        super().close()
        self.wire.close()


class Request(NamedTuple):
    """A request as handed to ``http.client`` (which adds Content-Length, Accept-Encoding), and
    the operation it serves."""

    operation: str
    method: str
    url: str
    body: bytes | None
    headers: dict[str, str]

    def size_note(self) -> str:
        """Why its size may have made a daemon refuse it, or ``""`` when it was not large."""
        if len(self.url) <= LONG_URL:
            return ""
        return (
            f" (the request's URL was {len(self.url):,} bytes, more than HTTP servers take in a "
            "request line: 8 KiB in nginx, 64 KiB in Python's http.server, 1 MiB of head in "
            "Go's net/http; is an ID, name or filter far too long?)"
        )


class NoResponse(Exception):
    """The connection ended before a response began; ``cut_short``: before the daemon had read
    the whole request."""

    def __init__(self, cut_short: bool) -> None:
        super().__init__("no response")
        self.cut_short = cut_short


def exchange(connection: Connection, request: Request, deadline: Deadline) -> Answer:
    """Send ``request`` and read the answer's head, under ``deadline``.

    A daemon that stops reading a request may have answered it first (a 414 or 431 to one too
    large): that answer is read like any other. ``NoResponse`` when none came.
    """
    wire = connection.wire
    wire.expect_response(deadline)
    cut_short = False
    try:
        connection.request(request.method, request.url, request.body, request.headers)
    except (BrokenPipeError, ConnectionResetError):
        cut_short = True
    try:
        if not cut_short:
            response = cast(Answer, connection.getresponse())  # its response_class
        else:
            response = Answer(wire, method=request.method)
            response.begin()
    except http.client.RemoteDisconnected:
        raise NoResponse(cut_short) from None
    except http.client.BadStatusLine as error:
        raise ProtocolError(
            f"{wire.context()}: malformed status line {str(error).strip()!r}"
        ) from None
    except http.client.HTTPException as error:  # a line or a head too long, an HTTP/2 answer
        raise ProtocolError(f"{wire.context()}: {type(error).__name__}: {error}") from None
    problem = _lenient_head(response, wire)
    if problem:
        raise ProtocolError(f"{wire.context()}: {problem}")
    return response


def _lenient_head(response: Answer, wire: WireSocket) -> str:
    """What ``http.client`` accepts in a head and the kit does not, said; ``""`` if nothing."""
    if wire.eof:  # a whole head ends in a blank line, and reading that never meets the end
        received = wire.received.decode("latin-1")
        return f"connection closed inside the response head: {excerpt(received)!r}"
    if response.msg.defects:  # a line that is no header: http.client ends the head there
        stray = str(response.msg.get_payload()).splitlines() or [str(response.msg.defects[0])]
        return f"malformed header line {stray[0]!r}"
    if response.length is None and not response.chunked:  # a body read to the end: why?
        length = response.fields.get("content-length")
        if length is not None:  # one that is no number: http.client ignores it
            return f"bad Content-Length header {length!r}"
    return ""


def _broken(
    response: Answer, wire: WireSocket, got: int, error: http.client.IncompleteRead | None
) -> str:
    """How a body broke off after ``got`` bytes: short of its Content-Length, or inside or
    between chunks. A chunk size line that is no number (the connection still open) raises
    ``ProtocolError``."""
    if error is None:
        return f"truncated body: expected {got + (response.length or 0)} bytes, got {got}"
    if not wire.eof:
        raise ProtocolError(f"{wire.context()}: bad chunk size line {_bad_line(error)}")
    where = "inside a chunk (got" if response.chunk_left else "between chunks (got"
    last = "" if response.chunk_left else ", no final chunk"
    return f"truncated chunked body: connection closed {where} {got} bytes{last})"


def _bad_line(error: http.client.IncompleteRead) -> str:
    """The chunk size line, quoted from ``int()``'s error that ``http.client`` chained."""
    try:  # invalid literal for int() with base 16: b'zz\r\n'
        line = ast.literal_eval(str(error.__context__).rpartition(": ")[2])
        return repr(bytes(line).decode("latin-1").strip())
    except (ValueError, SyntaxError, TypeError):
        return f"({error.__context__ or error})"


def read_body(response: Answer, wire: WireSocket, limit: int) -> tuple[bytes, str | None]:
    """The body, read until it passes ``limit`` bytes, and how it broke off (``None``: it did
    not)."""
    parts: list[bytes] = []
    got, broken = 0, None
    try:
        while got <= limit and (chunk := response.read1(RECV_SIZE)):
            parts.append(chunk)
            got += len(chunk)
        if response.length and got <= limit:
            broken = _broken(response, wire, got, None)
    except http.client.IncompleteRead as error:
        broken = _broken(response, wire, got, error)
    finally:
        response.close()
    return b"".join(parts), broken


def response_error(
    operation: str,
    target: Target,
    status: int,
    reason: str,
    body: bytes,
    *,
    content_type: str = "",
    truncated: str | None = None,
    expected: Collection[int] = (),
    request: Request | None = None,
) -> DaemonResponseError:
    """A ``DaemonResponseError`` that says what the body was (JSON message, text, empty, cut)
    and, when the daemon refused the request's size, how large it was."""
    message, detail = describe_error_body(content_type, body)
    if truncated is not None:
        detail = truncated + (f"; received: {detail}" if body else "")
    if request is not None and status in _SIZE_REFUSALS:
        detail += request.size_note()
    return DaemonResponseError(
        operation=operation,
        target=str(target),
        status=status,
        reason=reason,
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
    """A response whose body is read as it arrives, on a connection of its own.

    After a ``101`` the body is the upgraded stream: everything after the head until the daemon
    closes, starting with what came in the same read as the head (still in ``response.fp``).
    """

    def __init__(self, connection: Connection, response: Answer) -> None:
        self.connection = connection
        self.status = response.status
        self.reason = response.reason
        self.headers = response.fields
        self._response = response
        self._upgraded = response.status == 101 and response.fp is not None
        self._read = response.fp.read1 if self._upgraded else response.read1

    def chunks(self) -> Iterator[bytes]:
        """Body pieces as they arrive; ``DaemonTimeout`` when the deadline passes first."""
        wire, got = self.connection.wire, 0
        try:
            while chunk := self._read(RECV_SIZE):
                got += len(chunk)
                yield chunk
        except http.client.IncompleteRead as error:
            broken = _broken(self._response, wire, got, error)
        else:
            if not self._response.length:  # all there (0 after a 101: no body, a stream)
                return
            broken = _broken(self._response, wire, got, None)
        raise ProtocolError(f"{wire.context()}: {broken}")

    def send_while_reading(self, data: bytes, received: Callable[[bytes], object]) -> None:
        """Send ``data`` (an exec's stdin), handing what the daemon sends meanwhile to
        ``received``: a daemon that writes output before it reads its input would otherwise wait
        for us while we wait for it. Stops sending, quietly, once the daemon closes."""
        wire = self.connection.wire
        view = memoryview(data)
        while view:
            wire.arm()
            readable, writable, _ = select.select([wire], [wire], [], wire.gettimeout())
            if readable:
                if not (chunk := self._read(RECV_SIZE)):
                    return
                received(chunk)
            if writable:
                try:
                    view = view[wire.send(view[:RECV_SIZE]) :]
                except (BrokenPipeError, ConnectionResetError):
                    return

    def shutdown_write(self) -> None:
        """Half-close: the daemon sees the end of stdin and keeps sending output."""
        with contextlib.suppress(OSError):  # already closed by the daemon: nothing to signal
            self.connection.wire.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        """Close the connection (the daemon sees the client go away)."""
        self._response.close()
        self.connection.close()

    def __enter__(self) -> StreamResponse:
        return self

    def __exit__(self, *exc_info: object) -> None:
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
    if parsed < _OLDEST:
        raise ConfigurationError(
            f"{operation} on {target}: the daemon speaks Docker API {server} at most, older "
            f"than {MIN_API_VERSION}, the oldest this library supports (it speaks "
            f"{MIN_API_VERSION} to {DEFAULT_API_VERSION})"
        )
    return f"{parsed[0]}.{parsed[1]}" if parsed < _NEWEST else DEFAULT_API_VERSION


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
        # The API version and how it was chosen.
        if requested == AUTO:
            self.api = ApiVersion(DEFAULT_API_VERSION, "pending")
        elif requested is None:
            self.api = ApiVersion(None, "unversioned")
        else:
            self.api = ApiVersion(requested, "pinned")
        self._on_negotiated = on_negotiated
        self._negotiation_lock = threading.Lock()
        self.timeouts = timeouts or Timeouts()
        self._pooled: Connection | None = None
        self._pool_lock = threading.Lock()
        self._count_lock = threading.Lock()
        # Every HTTP request sent so far (a retry after a closed keep-alive counts too).
        self.request_count = 0
        # The request line of the latest request, so a failing keyword can show what it sent.
        self.last_request = ""

    def count_request(self) -> None:
        """Count one request (WebSocket callers send theirs themselves)."""
        with self._count_lock:
            self.request_count += 1

    def use_api_version(self, api: ApiVersion) -> None:
        """Take the outcome of an earlier negotiation with the same daemon (no new ping)."""
        if self.api.source == "pending" and api.source == "negotiated":
            self.api = api

    def ensure_api_version(self, operation: str, timeouts: Timeouts) -> str | None:
        """The version to use, negotiating first if that is still pending (once, thread-safe).

        Negotiation failures that mean the daemon cannot answer at all (unreachable, no response
        in time, malformed response head) are raised as they would be for ``operation`` itself.
        """
        if self.api.source == "pending":
            with self._negotiation_lock:
                if self.api.source == "pending":
                    self._negotiate(operation, timeouts)
        return self.api.version

    def _negotiate(self, operation: str, timeouts: Timeouts) -> None:
        """``GET /_ping`` without a version prefix; its ``API-Version`` header counts whatever
        the status (Docker sets it on every answer). A body that breaks off only costs the
        kept-alive connection."""
        request = self.build_request("GET", "/_ping", operation=operation, versioned=False)
        with self._pool_lock:
            connection, response = self._send(request, timeouts, pooled=True)
            with contextlib.suppress(ProtocolError):
                self._read_pooled(connection, response)
        server = response.fields.get("api-version")
        version = negotiate_api_version(server, operation, self.target)
        self.api = ApiVersion(version, "negotiated", server)
        if self._on_negotiated is not None:
            self._on_negotiated(self.api)

    def url_path(self, path: str, query: str = "", *, versioned: bool = True) -> str:
        """``/v1.44/containers/json?all=true`` from ``/containers/json`` and a query string."""
        version = self.api.version if versioned else None
        prefix = f"/v{version}" if version else ""
        return f"{prefix}{path}" + (f"?{query}" if query else "")

    def build_request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        query: str = "",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        versioned: bool = True,
    ) -> Request:
        """The request: a JSON body with its Content-Type, ``Host: localhost`` on a unix socket
        (``http.client`` adds ``Content-Length``, ``0`` on an empty POST)."""
        url = self.url_path(path, query, versioned=versioned)
        self.last_request = f"{method} {url}"
        fields = {"Host": self.target.host_header, "User-Agent": USER_AGENT}
        payload = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            fields["Content-Type"] = "application/json"
        return Request(operation, method, url, payload, fields | dict(headers or {}))

    def connect(self, operation: str, timeouts: Timeouts | None = None) -> WireSocket:
        """A new connection to the daemon (not pooled).

        With ``outages``: a daemon marked down raises ``DaemonDown`` at once; one that answered
        earlier in the run and now does not accept is tried again for a few seconds before it
        is marked down; one that never answered is marked down at its first failure.
        """
        limit = (timeouts or self.timeouts).connect
        if self.outages is None:
            return open_socket(self.target, operation, limit)
        address = str(self.target)
        outage = self.outages.down(address)
        if outage is not None:
            raise DaemonDown(operation, outage)
        streak = self.outages.streak()
        while True:
            began = self.outages.clock()
            try:
                sock = open_socket(self.target, operation, limit)
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
            return sock

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
        request = self.build_request(
            method, path, operation=operation, query=query, body=body, headers=headers
        )
        with self._pool_lock:
            connection, response = self._send(request, timeouts, pooled=True)
            data, truncated = self._read_pooled(connection, response)
        status, reason = response.status, response.reason
        if truncated is not None and status in expected:
            raise ProtocolError(
                f"{operation} on {self.target}: HTTP {status} {reason} with a {truncated}"
            )
        if len(data) > MAX_BODY_SIZE:
            raise ProtocolError(f"{operation} on {self.target}: response body too large")
        if truncated is not None or status not in expected:
            raise self._refusal(request, response, data, truncated, expected)
        return Response(response, data)

    def _send(
        self, request: Request, timeouts: Timeouts, *, pooled: bool
    ) -> tuple[Connection, Answer]:
        """Send ``request`` and read the answer's head. ``pooled``: on the kept-alive connection,
        replaced by a new one if the daemon had closed it (seen before sending, or by no answer
        to this request: then sent once more); else on a connection of its own."""
        deadline = Deadline(timeouts.read, request.operation, self.target)
        while True:
            connection = self._take_pooled() if pooled else None
            reused = connection is not None
            connection = connection or Connection(self.connect(request.operation, timeouts))
            self.count_request()
            try:
                return connection, exchange(connection, request, deadline)
            except NoResponse as error:
                connection.close()
                if reused:  # taken from the pool, which is empty now: the next is a new one
                    continue
                raise self._no_answer(request, error) from None
            except BaseException:
                connection.close()
                raise

    def _take_pooled(self) -> Connection | None:
        """The kept-alive connection, unless the daemon has closed it meanwhile."""
        connection, self._pooled = self._pooled, None
        if connection is not None and not connection.wire.idle():
            connection.close()
            return None
        return connection

    def _read_pooled(self, connection: Connection, response: Answer) -> tuple[bytes, str | None]:
        """Read the body; keep the connection for the next request if it can carry one."""
        try:
            data, truncated = read_body(response, connection.wire, MAX_BODY_SIZE)
        except BaseException:
            connection.close()
            raise
        # http.client drops ``sock`` when the answer closes the connection; a 101 changed protocols.
        if (
            truncated is None
            and len(data) <= MAX_BODY_SIZE
            and connection.sock
            and response.status >= 200
        ):
            self._pooled = connection
        else:
            connection.close()
        return data, truncated

    def _no_answer(self, request: Request, error: NoResponse) -> DaemonUnreachable:
        """No answer came: said with the request's size when it was cut short or large."""
        message = (
            f"{request.operation} on {self.target}: the daemon closed the connection without "
            "answering"
        )
        note = request.size_note()
        size = len(request.url) + len(request.body or b"")
        if error.cut_short and size > LARGE_REQUEST:  # smaller: the daemon may have closed first
            body = f" and a {len(request.body):,}-byte body" if request.body else ""
            message += ", before reading all of the request"
            note = note or f" (a {len(request.url):,}-byte URL{body})"
        return DaemonUnreachable(message + note)

    def _refusal(
        self,
        request: Request,
        response: Answer,
        body: bytes,
        truncated: str | None,
        expected: Collection[int],
    ) -> DaemonResponseError:
        """An unexpected status (or an error body cut short), with what the daemon said."""
        return response_error(
            request.operation,
            self.target,
            response.status,
            response.reason,
            body,
            content_type=response.fields.get("content-type", ""),
            truncated=truncated,
            expected=expected,
            request=request,
        )

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
        request = self.build_request(
            method, path, operation=operation, query=query, body=body, headers=headers
        )
        connection, response = self._send(request, timeouts, pooled=False)
        if response.status not in expected:
            with contextlib.closing(connection):
                data, truncated = read_body(response, connection.wire, MAX_ERROR_BODY_SIZE)
            raise self._refusal(request, response, data, truncated, expected)
        return StreamResponse(connection, response)

    def close(self) -> None:
        """Close the kept-alive connection, if any."""
        with self._pool_lock:
            if self._pooled is not None:
                self._pooled.close()
                self._pooled = None
