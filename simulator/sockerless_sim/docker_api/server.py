"""HTTP/1.1 transport of the Docker API: a unix socket (and optionally 127.0.0.1 TCP), one
thread per connection, keep-alive, and connections handed over whole for hijacks."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import socketserver
import stat
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from .app import DockerApi
from .errors import ApiError
from .exchange import ClientGone, Exchange

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_UNIX_PATH = 107  # sun_path is 108 bytes including the terminating NUL
SOCKET_MODE = 0o660
# How often a server thread looks for a stop request: what a stop waits at most for each server.
SHUTDOWN_POLL_SECONDS = 0.05


class _ConnectionTracking:
    """Remembers open connections so ``stop`` can end the ones parked in keep-alive or streams."""

    api: DockerApi

    def _init_tracking(self, api: DockerApi) -> None:
        self.api = api
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, sock: socket.socket) -> None:
        """Start tracking ``sock``."""
        with self._connections_lock:
            self._connections.add(sock)

    def untrack(self, sock: socket.socket) -> None:
        """Stop tracking ``sock``."""
        with self._connections_lock:
            self._connections.discard(sock)

    def drop_all(self) -> None:
        """Shut every open connection down (their threads then end)."""
        with self._connections_lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _UnixServer(_ConnectionTracking, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, path: str, api: DockerApi) -> None:
        self._init_tracking(api)
        super().__init__(path, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error", exc_info=True)


class _TcpServer(_ConnectionTracking, socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, port: int, api: DockerApi) -> None:
        self._init_tracking(api)
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """Parses requests with the standard library and hands each to the ``DockerApi``."""

    protocol_version = "HTTP/1.1"
    server: _UnixServer | _TcpServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        self.server.untrack(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def address_string(self) -> str:
        address = self.client_address
        return str(address[0]) if isinstance(address, tuple) and address else "unix"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s: %s", self.address_string(), format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests are answered with a Docker-style JSON error, then closed."""
        self.close_connection = True
        exchange = Exchange(self.connection, self.rfile, head_only=False)
        with contextlib.suppress(ClientGone):
            exchange.send_error(ApiError(code, message or explain or "bad request"))

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise ApiError(400, f"invalid Content-Length: {length_text!r}") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise ApiError(413, f"request body of {length} bytes is too large")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_line = self.rfile.readline(1024)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ApiError(400, "malformed chunked request body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise ApiError(413, "request body is too large")
            body += self.rfile.read(size)
            self.rfile.readline(1024)

    def _dispatch(self) -> None:
        exchange = Exchange(self.connection, self.rfile, head_only=self.command == "HEAD")
        try:
            body = self._read_body()
        except ApiError as exc:
            self.close_connection = True
            with contextlib.suppress(ClientGone):
                exchange.send_error(exc)
            return
        self.server.api.handle(self.command, self.path, self.headers, body, exchange)
        if exchange.close_after or not exchange.started:
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _dispatch


def _prepare_unix_path(path: str) -> None:
    """Refuse a path that is too long or busy; remove a stale socket left by a dead daemon."""
    if len(os.fsencode(path)) > MAX_UNIX_PATH:
        raise OSError(
            errno.ENAMETOOLONG, f"unix socket path is longer than {MAX_UNIX_PATH} bytes", path
        )
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise OSError(errno.EEXIST, "exists and is not a socket", path)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except OSError:
        Path(path).unlink(missing_ok=True)  # nobody listens: stale
        return
    finally:
        probe.close()
    raise OSError(errno.EADDRINUSE, "another daemon is listening on this socket", path)


class DockerApiServer:
    """Serves a ``DockerApi`` on a unix socket and/or 127.0.0.1:``tcp_port`` (0: any free port)."""

    def __init__(self, api: DockerApi, *, socket_path: str | None, tcp_port: int | None) -> None:
        if socket_path is None and tcp_port is None:
            raise ValueError("a socket path or a TCP port is required")
        self.api = api
        self.socket_path = socket_path
        self.tcp_port = tcp_port
        self._servers: list[_UnixServer | _TcpServer] = []
        self._threads: list[threading.Thread] = []
        self._stopped = False

    def start(self) -> None:
        """Bind and serve in background threads."""
        try:
            if self.socket_path is not None:
                _prepare_unix_path(self.socket_path)
                unix = _UnixServer(self.socket_path, self.api)
                Path(self.socket_path).chmod(SOCKET_MODE)
                self._servers.append(unix)
            if self.tcp_port is not None:
                tcp = _TcpServer(self.tcp_port, self.api)
                self.tcp_port = int(tcp.server_address[1])
                self._servers.append(tcp)
        except BaseException:
            self.stop()
            raise
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
                name="docker-api",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop accepting, end open connections and waiting handlers, remove the socket file.
        Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self.api.backend.stopping.set()
        for server, thread in zip(self._servers, self._threads, strict=False):
            server.shutdown()
            thread.join(5.0)
        for server in self._servers:
            server.server_close()
            server.drop_all()
        if self.socket_path is not None and self._servers:
            Path(self.socket_path).unlink(missing_ok=True)
