"""A scripted Docker-API server on a temporary unix socket, able to misbehave on purpose.

The fixtures here (``socket_dir``, ``serve``, ``keep_alive``, ``client_for``,
``isolated_journal``) are imported by the conftest files of the directories that use them.

Each test gives a handler that runs once per accepted connection (in its own thread) and uses
``ServerConnection`` to read requests and write whatever bytes it likes: well-formed responses,
101 upgrades with frames in the same write, truncated bodies, or nothing at all.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import shutil
import socket
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from robot.api import logger

from SockerlessLibrary.client import DockerClient
from SockerlessLibrary.transport import Timeouts, Transport

SERVER_IO_TIMEOUT = 5.0
# Settings from the developer's shell that would change what a library test talks to or counts.
OUTSIDE_SETTINGS = (
    "SOCKERLESS_HOST",
    "SOCKERLESS_ECS_SOCKET",
    "SOCKERLESS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_PROFILE",
    "SOCKERLESS_KIT_RUN_ID",
    "SOCKERLESS_KIT_TASK_BUDGET",
    "SOCKERLESS_KIT_BUDGET_ID",
)
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass
class Request:
    """What the server read: request line, lower-cased headers and body."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes
    request_line: str

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query_string(self) -> str:
        return urlsplit(self.target).query

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)


class ServerConnection:
    """One accepted connection, seen from the server side."""

    def __init__(self, sock: socket.socket, server: ScriptedServer) -> None:
        self.sock = sock
        self.server = server
        self.buffer = bytearray()
        sock.settimeout(SERVER_IO_TIMEOUT)

    def _fill(self) -> bool:
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return False
        self.buffer += data
        return bool(data)

    def read_request(self) -> Request | None:
        """The next request, or None when the client closed the connection."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return None
        end = self.buffer.index(b"\r\n\r\n")
        head = bytes(self.buffer[:end]).decode("latin-1")
        del self.buffer[: end + 4]
        request_line, *lines = head.split("\r\n")
        method, target, version = request_line.split(" ")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            if not self._fill():
                break
        body = bytes(self.buffer[:length])
        del self.buffer[:length]
        request = Request(method, target, version, headers, body, request_line)
        self.server.requests.append(request)
        return request

    def read_until_eof(self) -> bytes:
        """Everything the client sends until it half-closes (or closes) its side."""
        while self._fill():
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def respond(
        self,
        status: int,
        reason: str,
        body: bytes = b"",
        *,
        content_type: str | None = "application/json",
        headers: dict[str, str] | None = None,
        content_length: int | None = None,
        api_version: str | None = "1.44",
    ) -> None:
        """A response with Content-Length (``content_length`` may lie, to truncate on purpose)
        and, as Docker sends on every answer, ``Api-Version`` (``None``: no such header)."""
        lines = [f"HTTP/1.1 {status} {reason}"]
        if api_version is not None:
            lines.append(f"Api-Version: {api_version}")
        if content_type and body:
            lines.append(f"Content-Type: {content_type}")
        if status not in (204, 304):
            lines.append(
                f"Content-Length: {len(body) if content_length is None else content_length}"
            )
        lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def respond_json(self, status: int, reason: str, payload: Any) -> None:
        self.respond(status, reason, json.dumps(payload).encode() + b"\n")

    def shutdown_write(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def hold(self, seconds: float) -> None:
        """Stay silent for ``seconds``, or until the server is closed."""
        self.server.stopped.wait(seconds)

    def close(self) -> None:
        self.sock.close()

    def websocket_accept(self, request: Request) -> None:
        """Answer a WebSocket handshake with 101 Switching Protocols."""
        key = request.headers["sec-websocket-key"]
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )

    def websocket_send(self, payload: bytes, opcode: int = 0x2) -> None:
        """One unmasked server frame (binary by default; 0x8 is close)."""
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([len(payload)])
        else:
            header += bytes([126]) + struct.pack(">H", len(payload))
        self.send(header + payload)

    def websocket_receive(self) -> tuple[int, bytes] | None:
        """One masked client frame: (opcode, payload), or None at EOF."""
        while len(self.buffer) < 2:
            if not self._fill():
                return None
        opcode, length = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F
        offset = 2
        if length == 126:
            while len(self.buffer) < 4:
                self._fill()
            length = struct.unpack(">H", self.buffer[2:4])[0]
            offset = 4
        while len(self.buffer) < offset + 4 + length:
            if not self._fill():
                return None
        mask = self.buffer[offset : offset + 4]
        data = bytes(
            b ^ mask[i % 4] for i, b in enumerate(self.buffer[offset + 4 : offset + 4 + length])
        )
        del self.buffer[: offset + 4 + length]
        return opcode, data


Handler = Callable[[ServerConnection], None]


@dataclass
class ScriptedServer:
    """Accepts connections on ``path`` and runs ``handler`` for each, in a thread."""

    path: str
    handler: Handler
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    @property
    def request_lines(self) -> list[str]:
        return [request.request_line for request in self.requests]

    def _accept_loop(self) -> None:
        while not self.stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._sockets.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            self.handler(ServerConnection(sock, self))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away; tests that care check what they received
        except BaseException as error:  # reported to the test through ``errors``
            self.errors.append(error)
        finally:
            sock.close()

    def close(self) -> None:
        self.stopped.set()
        # shutdown() wakes the accept loop at once (close() alone leaves it to its 0.1 s poll).
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._accept_thread.join(timeout=2)
        for thread in self._threads:
            thread.join(timeout=2)


def keep_alive(responder: Callable[[ServerConnection, Request], None]) -> Handler:
    """A handler that answers every request on the connection until the client closes it."""

    def handle(connection: ServerConnection) -> None:
        while (request := connection.read_request()) is not None:
            responder(connection, request)

    return handle


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short temporary directory (unix socket paths are limited to ~107 bytes)."""
    directory = Path(tempfile.mkdtemp(prefix="skl-", dir="/tmp"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def serve(socket_dir: Path) -> Iterator[Callable[[Handler], ScriptedServer]]:
    """``serve(handler)`` starts a scripted server; all are closed after the test."""
    servers: list[ScriptedServer] = []

    def start(handler: Handler) -> ScriptedServer:
        server = ScriptedServer(str(socket_dir / f"d{len(servers)}.sock"), handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
    for server in servers:
        assert not server.errors, f"server handler failed: {server.errors!r}"


@pytest.fixture
def client_for() -> Iterator[Callable[..., DockerClient]]:
    """``client_for(server, read=2.0)``: a DockerClient on the server's socket."""
    clients: list[DockerClient] = []

    def make(server: ScriptedServer, *, read: float = 2.0, connect: float = 1.0) -> DockerClient:
        transport = Transport(f"unix://{server.path}", timeouts=Timeouts(connect, read))
        client = DockerClient(transport)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(name="keep_alive")
def keep_alive_fixture() -> Callable[[Callable[[ServerConnection, Request], None]], Handler]:
    """The ``keep_alive`` handler builder, for tests."""
    return keep_alive


@pytest.fixture
def isolated_journal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A journal in ``tmp_path``, no AWS credentials, no target or budget from the outside, and
    the Robot logger quiet; returns the journal directory."""
    for name in OUTSIDE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOCKERLESS_KIT_JOURNAL_DIR", str(tmp_path / "journal"))
    monkeypatch.setattr(logger, "info", lambda message, *a, **k: None)
    return tmp_path / "journal"
