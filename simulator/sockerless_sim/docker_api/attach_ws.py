"""``GET /containers/{id}/attach/ws``: the main process's output as raw WebSocket messages.

The handshake and framing use the sans-I/O ``websockets.ServerProtocol`` on the hijacked
socket. As in Docker (API >= 1.28), server messages are binary and never multiplexed; client
messages (text or binary) become the process's stdin.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.http11 import Request as WsRequest
from websockets.server import ServerProtocol

from ..agent.client import AgentClient, AgentError, ExecSession
from .backend import EcsBackend
from .errors import ApiError
from .exchange import ClientGone, Exchange, Request
from .logs import STDOUT_ONLY_QUIRK, LogOptions, open_reader, split_event
from .routing import Router

log = logging.getLogger(__name__)

RECV_TIMEOUT = 0.5
AGENT_TIMEOUT = 10.0
READ_SIZE = 64 * 1024
MAX_MESSAGE = 1 << 20
CLOSE_WAIT_SECONDS = 1.0
NOT_FOUND_PAGE = b"404 page not found\n"


class _WebSocket:
    """A server-side WebSocket over a hijacked socket; sends are serialised by a lock."""

    def __init__(self, exchange: Exchange, protocol: ServerProtocol) -> None:
        self._exchange = exchange
        self._protocol = protocol
        self._lock = threading.Lock()
        self.closed = threading.Event()

    def _flush(self) -> None:
        data = b"".join(self._protocol.data_to_send())
        if data:
            self._exchange.write_raw(data)

    def send(self, data: bytes) -> None:
        """One binary message."""
        with self._lock:
            self._protocol.send_binary(data)
            self._flush()

    def close(self) -> None:
        """Send a normal close frame (once)."""
        with self._lock:
            if self._protocol.close_expected() or self.closed.is_set():
                return
            with contextlib.suppress(Exception):
                self._protocol.send_close(1000)
                self._flush()

    def pump_input(self, session: ExecSession, stdin: bool) -> None:
        """Read client frames until the client closes; their payloads go to stdin."""
        try:
            while not self.closed.is_set():
                data = self._exchange.rfile.read1(READ_SIZE)
                with self._lock:
                    if data:
                        self._protocol.receive_data(data)
                    else:
                        self._protocol.receive_eof()
                    events = self._protocol.events_received()
                    self._flush()
                for frame in events:
                    if not isinstance(frame, Frame):
                        continue
                    if stdin and frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                        session.send_stdin(bytes(frame.data))
                if not data or self._protocol.close_expected():
                    break
        except (OSError, ValueError, AgentError, ClientGone) as exc:
            log.debug("attach/ws input ended: %s", exc)
        finally:
            self.closed.set()


class AttachWsRoute:
    """The WebSocket attach handler."""

    def __init__(self, backend: EcsBackend) -> None:
        self._backend = backend
        # no-attach-ws: sockerless has no such route; Go's mux answers a plain-text 404.
        self._missing = "no-attach-ws" in backend.config.quirks

    def register(self, router: Router) -> None:
        """Add the route to ``router``."""
        router.add("GET", "/containers/{id}/attach/ws", self.attach)

    def attach(self, request: Request, exchange: Exchange) -> None:
        """404/409 as JSON before the handshake; then the relay until the process exits."""
        if self._missing:
            exchange.send(404, NOT_FOUND_PAGE, content_type="text/plain; charset=utf-8")
            return
        record = self._backend.resolve(request.params["id"])
        _snapshot, (agent_socket, token) = self._backend.agent_for(record)
        query = request.query
        wanted = {"stdout": query.flag("stdout"), "stderr": query.flag("stderr")}
        protocol = ServerProtocol(max_size=MAX_MESSAGE)
        # The protocol's parser reads the handshake request before any frame: it is handed the
        # request the HTTP server read, else it would take the client's frames for it (and no
        # stdin ever reached the process).
        handshake = WsRequest(request.target, Headers(request.headers.items()))
        protocol.receive_data(handshake.serialize())
        parsed = protocol.events_received()
        if len(parsed) != 1 or not isinstance(parsed[0], WsRequest):
            raise ApiError(400, "the WebSocket handshake request cannot be read")
        response = protocol.accept(parsed[0])
        if response.status_code != 101:
            raise ApiError(response.status_code, response.body.decode(errors="replace").strip())
        try:
            session = AgentClient(agent_socket, token, timeout=AGENT_TIMEOUT).attach()
        except AgentError as exc:
            raise ApiError(500, f"cannot attach: {exc}") from None
        with session:
            protocol.send_response(response)
            exchange.hijack(b"".join(protocol.data_to_send()))
            websocket = _WebSocket(exchange, protocol)
            if query.flag("logs"):
                self._replay_logs(websocket, record_id=record.id, wanted=wanted)
            reader = threading.Thread(
                target=websocket.pump_input,
                args=(session, query.flag("stdin")),
                name="attach-ws-input",
                daemon=True,
            )
            reader.start()
            try:
                self._relay(session, websocket, wanted)
            finally:
                websocket.close()
                # RFC 6455: wait (briefly) for the client's close frame before dropping TCP.
                reader.join(CLOSE_WAIT_SECONDS)
                with contextlib.suppress(OSError):
                    exchange.sock.shutdown(socket.SHUT_RDWR)
                reader.join(1.0)

    def _replay_logs(
        self, websocket: _WebSocket, *, record_id: str, wanted: dict[str, bool]
    ) -> None:
        record = self._backend.resolve(record_id)
        options = LogOptions(
            stdout=wanted["stdout"], stderr=wanted["stderr"], timestamps=False, follow=False,
            tail=None, since=None, until=None,
        )  # fmt: skip
        stdout_only = STDOUT_ONLY_QUIRK in self._backend.config.quirks
        for event in open_reader(self._backend, record, options).read_new():
            stream, text = split_event(event, stdout_only=stdout_only)
            if options.wants(stream):
                websocket.send((text if text.endswith("\n") else text + "\n").encode())

    def _relay(self, session: ExecSession, websocket: _WebSocket, wanted: dict[str, bool]) -> None:
        while not websocket.closed.is_set() and not self._backend.stopping.is_set():
            try:
                event = session.recv(RECV_TIMEOUT)
            except AgentError as exc:
                log.info("attach/ws: agent session ended: %s", exc)
                return
            if event is None:
                continue
            kind, value = event
            if kind == "exit":
                return
            if wanted.get(kind) and isinstance(value, bytes):
                try:
                    websocket.send(value)
                except ClientGone:
                    return
