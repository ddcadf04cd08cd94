"""A hostile daemon: a unix-socket HTTP proxy in front of the simulator that rewrites what the
kit asks and what it is answered.

Everything else is relayed as it comes: a 101 upgrade (exec start, attach) becomes a two-way
pipe, a chunked answer (a followed log stream) is relayed chunk by chunk as it arrives, so the
kit's flows run against the real simulator behind it. A JSON request body (``rewrite_request``)
and a JSON answer with a ``Content-Length`` (``rewrite_response``) pass through the given
functions, which see the method, the path and the parsed JSON and return the JSON to send.

Only for tests: one thread per connection, every socket operation bounded by ``IO_TIMEOUT``.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

IO_TIMEOUT = 60.0  # no daemon answer or stream in the suites waits longer than this


@dataclass
class Exchange:
    """The request being relayed: what the rewrite functions are told."""

    method: str
    path: str  # without the API version prefix: /containers/json, /containers/create, ...


Rewrite = Callable[[Exchange, Any], Any]


def _unversioned(target: str) -> str:
    path = urlsplit(target).path
    parts = path.split("/", 2)
    if len(parts) == 3 and parts[1].startswith("v") and parts[1][1:2].isdigit():
        return "/" + parts[2]
    return path


class _Reader:
    """Buffered reads from one socket: heads, lines and exact byte counts."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def until(self, marker: bytes) -> bytes | None:
        """Everything up to and including ``marker``; None at end of stream before it."""
        while marker not in self.buffer:
            if not self._fill():
                return None
        end = self.buffer.index(marker) + len(marker)
        data = bytes(self.buffer[:end])
        del self.buffer[:end]
        return data

    def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                raise ConnectionError("stream ended inside a body")
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def take_buffered(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def _head(raw: bytes) -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    """First line, lower-cased headers, and the header lines as sent."""
    first, *lines = raw.decode("latin-1").rstrip("\r\n").split("\r\n")
    pairs = []
    for line in lines:
        name, _, value = line.partition(":")
        pairs.append((name.strip(), value.strip()))
    return first, {name.lower(): value for name, value in pairs}, pairs


def _with_length(first: str, pairs: list[tuple[str, str]], body: bytes) -> bytes:
    kept = [(n, v) for n, v in pairs if n.lower() not in {"content-length", "transfer-encoding"}]
    kept.append(("Content-Length", str(len(body))))
    head = "\r\n".join([first, *(f"{name}: {value}" for name, value in kept)]) + "\r\n\r\n"
    return head.encode("latin-1") + body


def _rewritten(body: bytes, exchange: Exchange, rewrite: Rewrite | None) -> bytes | None:
    """The rewritten JSON body, or None when it is not JSON or nothing changed."""
    if rewrite is None or not body:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    changed = rewrite(exchange, document)
    return json.dumps(changed).encode() + b"\n"


class RewritingProxy:
    """Serves ``socket_path``, relaying each connection to the daemon at ``upstream``."""

    def __init__(
        self,
        upstream: str,
        socket_path: Path,
        *,
        rewrite_request: Rewrite | None = None,
        rewrite_response: Rewrite | None = None,
    ) -> None:
        self.upstream = upstream
        self.socket_path = socket_path
        self.rewrite_request = rewrite_request
        self.rewrite_response = rewrite_response
        self.rewritten = 0  # bodies changed, so a test can prove the daemon was hostile
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(socket_path))
        self._server.listen(64)
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._accepter = threading.Thread(target=self._accept, name="hostile-proxy", daemon=True)
        self._accepter.start()

    def __enter__(self) -> RewritingProxy:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._accepter.join(5)
        for thread in list(self._threads):
            thread.join(5)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _count(self) -> None:
        with self._lock:
            self.rewritten += 1

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(IO_TIMEOUT)
        upstream.settimeout(IO_TIMEOUT)
        try:
            upstream.connect(self.upstream)
            from_client, from_daemon = _Reader(client), _Reader(upstream)
            while not self._stopped.is_set():
                if not self._relay_one(client, upstream, from_client, from_daemon):
                    return
        except (OSError, ConnectionError):
            return
        finally:
            client.close()
            upstream.close()

    def _relay_one(
        self,
        client: socket.socket,
        upstream: socket.socket,
        from_client: _Reader,
        from_daemon: _Reader,
    ) -> bool:
        """One request and its answer; False when the connection is over."""
        raw = from_client.until(b"\r\n\r\n")
        if raw is None:
            return False
        first, headers, pairs = _head(raw)
        method, target, _ = first.split(" ", 2)
        exchange = Exchange(method, _unversioned(target))
        body = from_client.exactly(int(headers.get("content-length", "0") or 0))
        changed = _rewritten(body, exchange, self.rewrite_request)
        if changed is not None:
            self._count()
            upstream.sendall(_with_length(first, pairs, changed))
        else:
            upstream.sendall(raw + body)
        answer = from_daemon.until(b"\r\n\r\n")
        if answer is None:
            return False
        status_line, answer_headers, answer_pairs = _head(answer)
        status = int(status_line.split(" ", 2)[1])
        if status == 101:
            client.sendall(answer + from_daemon.take_buffered())
            upstream.sendall(from_client.take_buffered())
            _pipe(client, upstream)
            return False
        if "chunked" in answer_headers.get("transfer-encoding", "").lower():
            client.sendall(answer)
            _relay_chunked(from_daemon, client)
        elif "content-length" in answer_headers:
            length = int(answer_headers["content-length"])
            body = from_daemon.exactly(length)
            changed = None
            if "json" in answer_headers.get("content-type", ""):
                changed = _rewritten(body, exchange, self.rewrite_response)
            if changed is not None:
                self._count()
                client.sendall(_with_length(status_line, answer_pairs, changed))
            else:
                client.sendall(answer + body)
        else:  # no body (204, 304) or a body up to the close
            client.sendall(answer + from_daemon.take_buffered())
            if status not in (204, 304) and method != "HEAD":
                _pipe(client, upstream)
                return False
        return "close" not in answer_headers.get("connection", "").lower()


def _relay_chunked(source: _Reader, destination: socket.socket) -> None:
    """Relay one chunked body, each chunk as it arrives."""
    while True:
        size_line = source.until(b"\r\n")
        if size_line is None:
            raise ConnectionError("chunked answer cut short")
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            trailer = b""
            while True:
                line = source.until(b"\r\n")
                if line is None:
                    raise ConnectionError("chunked answer cut short")
                trailer += line
                if line == b"\r\n":
                    break
            destination.sendall(size_line + trailer)
            return
        destination.sendall(size_line + source.exactly(size + 2))


def _pipe(one: socket.socket, other: socket.socket) -> None:
    """Copy both ways until both sides are done (a half-close is passed on)."""
    selector = selectors.DefaultSelector()
    peers = {one: other, other: one}
    for sock in peers:
        selector.register(sock, selectors.EVENT_READ)
    open_sides = 2
    while open_sides:
        events = selector.select(IO_TIMEOUT)
        if not events:
            return
        for key, _ in events:
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            data = sock.recv(65536)
            if data:
                peers[sock].sendall(data)
                continue
            selector.unregister(sock)
            open_sides -= 1
            with contextlib.suppress(OSError):
                peers[sock].shutdown(socket.SHUT_WR)
