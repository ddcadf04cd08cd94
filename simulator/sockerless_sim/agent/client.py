"""Client for a task agent over its unix socket: health, exec and attach sessions.

Each session gets its own WebSocket connection (the protocol would allow sharing one; separate
connections keep a slow reader of one session from stalling another). A reader thread per
session turns incoming messages into a queue, so ``recv(timeout)`` is a bounded queue wait and
sending stdin never races a half-read frame. Every socket operation has a timeout.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import threading
import time
import uuid
from typing import Any

import websocket

from .protocol import (
    MessageType,
    ProtocolError,
    decode,
    decode_data,
    encode,
    encode_data,
)

WS_URL = "ws://localhost/ws"
CLOSE_REPLY_SECONDS = 1.0


class AgentError(Exception):
    """The agent refused, broke the protocol, or went away."""


class ExecStartError(AgentError):
    """The exec's process could not be started; ``reason`` is runc's (``exec: "bash":
    executable file not found in $PATH``)."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"agent error during {what}: {reason}")
        self.reason = reason


def _connect_unix(socket_path: str, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(socket_path)
    except OSError as exc:
        sock.close()
        raise AgentError(
            f"cannot connect to the agent at {socket_path}: {exc.strerror or exc} (agent gone?)"
        ) from exc
    return sock


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        self.sock = _connect_unix(self._socket_path, self.timeout or 10.0)


_Event = tuple[str, bytes | int]


class ExecSession:
    """One exec or attach session: read its output and exit code, send stdin and signals."""

    def __init__(self, ws: websocket.WebSocket, session_id: str, what: str) -> None:
        self._ws = ws
        self._id = session_id
        self._what = what
        self._events: queue.Queue[_Event | AgentError] = queue.Queue()
        self._exit: int | None = None
        self._failure: AgentError | None = None
        self._closed = threading.Event()
        self._send_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name=f"agent-{what}-reader", daemon=True)
        self._reader.start()

    @property
    def session_id(self) -> str:
        """The session's protocol id."""
        return self._id

    def _read(self) -> None:
        while not self._closed.is_set():
            try:
                raw = self._ws.recv()
            except websocket.WebSocketTimeoutException:
                continue  # idle, not broken: websocket-client resumes a partly read frame
            except (websocket.WebSocketException, OSError) as exc:
                if not self._closed.is_set():
                    self._events.put(
                        AgentError(f"agent connection lost during {self._what}: {exc or 'closed'}")
                    )
                return
            if not raw:
                if not self._closed.is_set():
                    self._events.put(AgentError(f"agent closed the connection during {self._what}"))
                return
            event = self._parse(raw)
            self._events.put(event)
            if isinstance(event, AgentError) or event[0] == MessageType.EXIT:
                return

    def _parse(self, raw: str | bytes) -> _Event | AgentError:
        try:
            message = decode(raw)
            kind = message["type"]
            if message.get("id", "") not in (self._id, ""):
                return AgentError(f"agent sent a message for unknown session {message['id']!r}")
            if kind in (MessageType.STDOUT, MessageType.STDERR):
                return (kind, decode_data(message))
            if kind == MessageType.EXIT:
                code = message.get("code")
                if not isinstance(code, int) or isinstance(code, bool):
                    raise ProtocolError("'exit' without an integer 'code'")
                return (kind, code)
            if kind == MessageType.SIGNALED:
                return (kind, int(message.get("delivered") is True))
            if kind == MessageType.ERROR:
                return self._error(message)
            raise ProtocolError(f"unexpected message type {kind!r}")
        except ProtocolError as exc:
            return AgentError(f"agent protocol error during {self._what}: {exc}")

    def _error(self, message: dict[str, Any]) -> AgentError:
        if message.get("start_failed") is True:
            return ExecStartError(self._what, str(message.get("message")))
        return AgentError(f"agent error during {self._what}: {message.get('message')}")

    def recv(self, timeout: float) -> tuple[str, bytes | int] | None:
        """The next ``("stdout", b)``, ``("stderr", b)`` or ``("exit", code)``; None on timeout.

        After the exit it keeps returning ``("exit", code)``. Raises ``AgentError`` on an agent
        ``error`` message, a protocol violation, or a lost connection.
        """
        if self._exit is not None:
            return (MessageType.EXIT.value, self._exit)
        if self._failure is not None:
            raise self._failure
        try:
            event = self._events.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        if isinstance(event, AgentError):
            self._failure = event
            raise event
        if event[0] == MessageType.EXIT:
            assert isinstance(event[1], int)
            self._exit = event[1]
            return (MessageType.EXIT.value, self._exit)
        return (str(event[0]), event[1])

    def _send(self, message: dict[str, Any]) -> None:
        with self._send_lock:
            if self._closed.is_set():
                raise AgentError(f"{self._what} session is closed")
            try:
                self._ws.send(encode(message))
            except (websocket.WebSocketException, OSError) as exc:
                raise AgentError(f"cannot send to the agent during {self._what}: {exc}") from exc

    def send_stdin(self, data: bytes) -> None:
        """Send ``data`` to the process's stdin."""
        self._send({"type": MessageType.STDIN.value, "id": self._id, "data": encode_data(data)})

    def close_stdin(self) -> None:
        """Close the process's stdin."""
        self._send({"type": MessageType.CLOSE_STDIN.value, "id": self._id})

    def signal(self, signum: int, *, ack: bool = False) -> None:
        """Send signal ``signum`` to the process; with ``ack`` the agent answers ``signaled``
        once it sent it (``recv`` returns ``("signaled", 1)``, or 0 when the process was gone)."""
        message: dict[str, Any] = {
            "type": MessageType.SIGNAL.value, "id": self._id, "signal": int(signum),
        }  # fmt: skip
        if ack:
            message["ack"] = True
        self._send(message)

    def resize(self, width: int, height: int) -> None:
        """Tell the agent the terminal size (used by tty execs)."""
        self._send(
            {"type": MessageType.RESIZE.value, "id": self._id, "width": width, "height": height}
        )

    def close(self) -> None:
        """Close the connection (the agent kills an exec that has not finished); idempotent.

        Waits (briefly) for the agent's reply to the close frame: closing the socket earlier
        could make the agent drop messages this session sent just before, such as a signal.
        """
        with self._send_lock:
            if self._closed.is_set():
                return
            self._closed.set()
            with contextlib.suppress(websocket.WebSocketException, OSError):
                self._ws.send_close()
        if self._reader.is_alive():
            self._reader.join(CLOSE_REPLY_SECONDS)  # it returns on the agent's close frame
        else:
            self._await_close_reply()
        sock = self._ws.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader if the agent never answered
        self._reader.join(CLOSE_REPLY_SECONDS)
        if sock is not None:
            sock.close()

    def _await_close_reply(self) -> None:
        deadline = time.monotonic() + CLOSE_REPLY_SECONDS
        with contextlib.suppress(websocket.WebSocketException, OSError):
            self._ws.settimeout(CLOSE_REPLY_SECONDS)
            while time.monotonic() < deadline:
                opcode, _frame = self._ws.recv_data_frame(True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    return

    def __enter__(self) -> ExecSession:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class AgentClient:
    """Talks to one task's agent over its unix socket; every call is bounded by ``timeout``."""

    def __init__(self, socket_path: str, token: str | None, timeout: float = 10.0) -> None:
        self._socket_path = socket_path
        self._token = token or None
        self._timeout = timeout

    def health(self) -> dict[str, Any]:
        """``GET /health``: ``{"status": "ok", "pid": <main pid>, "exited": bool}``."""
        connection = _UnixHTTPConnection(self._socket_path, self._timeout)
        try:
            connection.request("GET", "/health")
            response = connection.getresponse()
            body = response.read()
        except AgentError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            raise AgentError(f"agent health check failed: {exc or type(exc).__name__}") from exc
        finally:
            connection.close()
        if response.status != 200:
            raise AgentError(f"agent health check answered HTTP {response.status}")
        try:
            health = json.loads(body)
        except ValueError as exc:
            raise AgentError(f"agent health answer is not JSON: {body[:200]!r}") from exc
        if not isinstance(health, dict):
            raise AgentError(f"agent health answer is not an object: {body[:200]!r}")
        return health

    def _open(self, what: str) -> websocket.WebSocket:
        sock = _connect_unix(self._socket_path, self._timeout)
        header = [f"Authorization: Bearer {self._token}"] if self._token else []
        try:
            return websocket.create_connection(
                WS_URL, socket=sock, header=header, timeout=self._timeout, enable_multithread=True
            )
        except websocket.WebSocketBadStatusException as exc:
            sock.close()
            if exc.status_code == 401:
                raise AgentError(
                    f"agent refused the {what} connection: HTTP 401 Unauthorized "
                    "(missing or wrong agent token)"
                ) from None
            raise AgentError(
                f"agent refused the {what} connection: HTTP {exc.status_code}"
            ) from None
        except (websocket.WebSocketException, OSError) as exc:
            sock.close()
            raise AgentError(f"cannot open the {what} connection to the agent: {exc}") from None

    def _start(self, what: str, message: dict[str, Any]) -> ExecSession:
        ws = self._open(what)
        session = ExecSession(ws, message["id"], what)
        try:
            session._send(message)
        except AgentError:
            session.close()
            raise
        return session

    def exec(
        self,
        cmd: list[str],
        *,
        env: dict[str, str] | list[str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
        tty: bool = False,
        console_size: tuple[int, int] | None = None,
    ) -> ExecSession:
        """Start ``cmd`` in the task (``env``: names to set, or Docker's ``K=V`` list, where a
        bare ``K`` unsets K; ``workdir`` and ``user`` default to the container's; a ``tty``
        exec's terminal starts ``console_size`` (rows, columns) big); read its output and exit
        code from the session."""
        message: dict[str, Any] = {
            "type": MessageType.EXEC.value,
            "id": uuid.uuid4().hex,
            "cmd": list(cmd),
            "env": list(env) if isinstance(env, list) else dict(env or {}),
            "workdir": workdir,
            "user": user,
            "tty": tty,
        }
        if console_size is not None:
            message["console_size"] = list(console_size)
        return self._start("exec", message)

    def attach(self, *, replay: bool = False) -> ExecSession:
        """Follow the main process: its output from now on (with ``replay``: from its start, as
        far as the agent kept it), stdin, signals, exit code."""
        message: dict[str, Any] = {"type": MessageType.ATTACH.value, "id": uuid.uuid4().hex}
        if replay:
            message["replay"] = True
        return self._start("attach", message)

    def resize_main(self, width: int, height: int) -> None:
        """Set the main process's terminal size (a Tty container's; the agent ignores it
        otherwise). The agent handles a connection's messages in order, so it is applied
        before the session's end."""
        with self.attach() as session:
            session.resize(width, height)

    def signal_main(self, signum: int) -> bool:
        """Deliver ``signum`` to the main process (through a short attach session) and return
        once the agent sent it: True, or False when the main process had already ended.
        ``AgentError`` when the agent does not answer within the timeout."""
        deadline = time.monotonic() + self._timeout
        with self.attach() as session:
            session.signal(signum, ack=True)
            while True:
                event = session.recv(max(deadline - time.monotonic(), 0.0))
                if event is None:
                    raise AgentError(f"the agent did not confirm signal {signum} in time")
                kind, value = event
                if kind == MessageType.SIGNALED:
                    return bool(value)
                if kind == MessageType.EXIT:
                    return False  # the main process had ended before the signal
