"""The agent's server on a unix socket: ``GET /health`` and the WebSocket at ``/ws``.

Built on the ``websockets`` sync server (one thread per connection). Plain HTTP requests are
answered from ``process_request`` before any WebSocket handshake: ``/health`` needs no token,
``/ws`` needs ``Authorization: Bearer <token>`` or ``?token=<token>`` when the agent has a token
(401 otherwise), and any other path is 404.
"""

from __future__ import annotations

import contextlib
import hmac
import http
import json
import logging
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, unix_serve

from .connection import ConnectionHandler, ExecDefaults
from .exec_process import ExecRegistry
from .main_process import MainProcess
from .outbound import Outbound
from .protocol import HEALTH_PATH, WS_PATH

MAX_MESSAGE_BYTES = 16 * 1024 * 1024

log = logging.getLogger(__name__)


class AgentServer:
    """Serves health and WebSocket sessions for one task's main process."""

    def __init__(
        self,
        socket_path: str,
        token: str | None,
        main: MainProcess,
        registry: ExecRegistry,
        child_env: Mapping[str, str],
        *,
        defaults: ExecDefaults | None = None,
    ) -> None:
        self._socket_path = socket_path
        self._token = token or None
        self._main = main
        self._registry = registry
        self._child_env = dict(child_env)
        self._defaults = defaults or ExecDefaults()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._outbounds: set[Outbound] = set()

    def start(self) -> None:
        """Bind the socket (replacing a stale file) and serve on a background thread."""
        Path(self._socket_path).unlink(missing_ok=True)
        self._server = unix_serve(
            self._handle,
            path=self._socket_path,
            process_request=self._process_request,
            compression=None,
            # A local socket needs no keepalive, and clients that read only now and then must
            # not be disconnected for missing pongs.
            ping_interval=None,
            max_size=MAX_MESSAGE_BYTES,
            logger=logging.getLogger("sockerless_sim.agent.websockets"),
        )
        Path(self._socket_path).chmod(0o600)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="agent-server", daemon=True
        )
        self._thread.start()
        log.info("serving on %s (auth %s)", self._socket_path, "on" if self._token else "off")

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        if url.path == HEALTH_PATH:
            return self._health(connection)
        if url.path != WS_PATH:
            return connection.respond(http.HTTPStatus.NOT_FOUND, "not found\n")
        if not self._authorized(request.headers, url.query):
            log.warning("rejected a connection: missing or wrong agent token")
            return connection.respond(
                http.HTTPStatus.UNAUTHORIZED, "unauthorized: missing or invalid agent token\n"
            )
        return None

    def _health(self, connection: ServerConnection) -> Response:
        body = {"status": "ok", "pid": self._main.pid, "exited": self._main.exit_code is not None}
        response = connection.respond(http.HTTPStatus.OK, json.dumps(body))
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
        return response

    def _authorized(self, headers: Headers, query: str) -> bool:
        if self._token is None:
            return True
        presented = ""
        authorization = headers.get("Authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer":
            presented = credentials.strip()
        else:
            presented = (parse_qs(query).get("token") or [""])[0]
        return hmac.compare_digest(presented.encode(), self._token.encode())

    def _handle(self, connection: ServerConnection) -> None:
        outbound = Outbound(connection.send, name="agent-writer")
        with self._lock:
            self._outbounds.add(outbound)
        handler = ConnectionHandler(
            outbound, self._main, self._registry, self._child_env, self._defaults
        )
        log.info("connection opened")
        try:
            handler.serve(_messages(connection))
        finally:
            # Let the writer send what the sessions queued before the library closes the socket.
            outbound.drain(1.0)
            outbound.close()
            with self._lock:
                self._outbounds.discard(outbound)
            log.info("connection closed")

    def drain(self, timeout: float) -> None:
        """Wait (bounded) until every connection sent what its sessions queued."""
        with self._lock:
            outbounds = list(self._outbounds)
        for outbound in outbounds:
            outbound.drain(timeout)

    def stop(self, timeout: float) -> None:
        """Close connections and the socket (bounded by ``timeout``), remove the socket file."""
        if self._server is not None:
            stopper = threading.Thread(target=self._server.shutdown, daemon=True)
            stopper.start()
            stopper.join(timeout)
        with contextlib.suppress(OSError):
            Path(self._socket_path).unlink()


def _messages(connection: ServerConnection) -> Iterator[str | bytes]:
    """The connection's incoming messages, ending quietly however it closes."""
    with contextlib.suppress(ConnectionClosed):
        yield from connection
