"""Exec create / start / inspect; start hijacks the connection and relays the agent session."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time

from ..agent.client import AgentClient, AgentError, ExecSession
from . import framing
from .backend import EcsBackend
from .errors import ApiError, bad_request, not_running
from .exchange import ClientGone, Exchange, Request
from .exec_store import ExecRecord, ExecStore
from .routing import Router

log = logging.getLogger(__name__)

# docker-py reads the 101 response through http.client's buffered reader and then switches to
# the raw socket, losing any stream bytes that arrived together with the headers
# (docker/docker-py#3332). Writing the head on its own and pausing briefly keeps the first
# frame out of that buffer. Our own client does not need this pause.
HIJACK_PAUSE_SECONDS = 0.02
RECV_TIMEOUT = 0.5
AGENT_TIMEOUT = 10.0
START_FAILED_EXIT_CODE = 126  # Docker's code for an exec that could not be started
LOST_EXIT_CODE = 137  # the task went away under the exec (stopped, killed)
STDIN_READ = 64 * 1024


def hijack_head(*, tty: bool, upgrade: bool) -> bytes:
    """The response head sockerless writes before the exec stream (200 without an upgrade)."""
    if not upgrade:
        return b"HTTP/1.1 200 OK\r\nContent-Type: " + framing.RAW_STREAM.encode() + b"\r\n\r\n"
    return (
        b"HTTP/1.1 101 UPGRADED\r\nContent-Type: "
        + framing.content_type(tty=tty).encode()
        + b"\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
    )


class StdinPump:
    """Copies the client's bytes to the session's stdin (an exec's, or the main process's for an
    attach); the client's half-close closes that stdin."""

    def __init__(self, exchange: Exchange, session: ExecSession) -> None:
        self._exchange = exchange
        self._session = session
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="exec-stdin", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                data = self._exchange.rfile.read1(STDIN_READ)
                if not data or self._done.is_set():
                    break
                self._session.send_stdin(data)
            if not self._done.is_set():
                self._session.close_stdin()
        except (OSError, ValueError, AgentError) as exc:
            log.debug("exec stdin pump ended: %s", exc)

    def stop(self) -> None:
        """Release the reader (its socket is shut down by now) and wait for it briefly."""
        self._done.set()
        self._thread.join(1.0)


class ExecRoutes:
    """``POST /containers/{id}/exec``, ``POST /exec/{id}/start``, ``GET /exec/{id}/json``."""

    def __init__(self, backend: EcsBackend, store: ExecStore) -> None:
        self._backend = backend
        self._store = store
        # The exec-exit-code-zero quirk: sockerless reads back 0 whatever the command returned.
        self._exit_code_zero = "exec-exit-code-zero" in backend.config.quirks

    def register(self, router: Router) -> None:
        """Add the routes to ``router``."""
        router.add("POST", "/containers/{id}/exec", self.create)
        router.add("POST", "/exec/{id}/start", self.start)
        router.add("GET", "/exec/{id}/json", self.inspect)

    def create(self, request: Request, exchange: Exchange) -> None:
        """201 ``{"Id"}``; 400 without a command; 404 unknown container; 409 not running."""
        body = request.body_fields()
        cmd = body.get("Cmd")
        if cmd is None or cmd == []:
            raise bad_request("No exec command specified")
        if not isinstance(cmd, list) or not all(isinstance(a, str) for a in cmd):
            raise bad_request("invalid JSON: Cmd must be an array of strings")
        container = self._backend.resolve(request.params["id"])
        if not self._backend.view(container).state.running:
            raise not_running(container.id)
        record = self._store.add(
            container_id=container.id,
            cmd=list(cmd),
            env=body.string_list("Env", allow_string=False) or [],
            working_dir=body.string("WorkingDir"),
            user=body.string("User"),
            tty=body.boolean("Tty"),
            privileged=body.boolean("Privileged"),
            attach_stdin=body.boolean("AttachStdin"),
            attach_stdout=body.boolean("AttachStdout"),
            attach_stderr=body.boolean("AttachStderr"),
        )
        exchange.send_json(201, {"Id": record.id})

    def inspect(self, request: Request, exchange: Exchange) -> None:
        """The exec's state; ``ExitCode`` null while running (always 0 with the
        ``exec-exit-code-zero`` quirk)."""
        body = self._store.get(request.params["id"]).inspect()
        if self._exit_code_zero:
            body["ExitCode"] = 0
        exchange.send_json(200, body)

    def start(self, request: Request, exchange: Exchange) -> None:
        """Body first (400), then 404/409, all before the hijack; then the stream."""
        body = request.body_fields()
        detach = body.boolean("Detach")
        tty = body.boolean("Tty")
        record = self._store.get(request.params["id"])
        container = self._backend.resolve(record.container_id)
        _snapshot, (agent_socket, token) = self._backend.agent_for(container)
        if detach:
            if not record.claim():
                raise ApiError(409, f"exec {record.id} has already run")
            try:
                session = self._open(record, agent_socket, token, tty)
            except AgentError as exc:
                record.finish(START_FAILED_EXIT_CODE)
                raise ApiError(500, f"cannot start exec {record.id}: {exc}") from None
            threading.Thread(
                target=self._finish_detached, args=(record, session), daemon=True
            ).start()
            exchange.send(200)
            return
        exchange.hijack(hijack_head(tty=tty, upgrade=request.wants_upgrade))
        time.sleep(HIJACK_PAUSE_SECONDS)
        try:
            self._run_attached(record, exchange, agent_socket, token, tty)
        finally:
            with contextlib.suppress(OSError):
                exchange.sock.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _open(record: ExecRecord, agent_socket: str, token: str | None, tty: bool) -> ExecSession:
        client = AgentClient(agent_socket, token, timeout=AGENT_TIMEOUT)
        return client.exec(
            record.cmd, env=record.env_map(), workdir=record.working_dir or None,
            user=record.user or None, tty=tty,
        )  # fmt: skip

    def _finish_detached(self, record: ExecRecord, session: ExecSession) -> None:
        with session:
            with contextlib.suppress(AgentError):
                session.close_stdin()
            record.finish(self._drain(session, None, tty=False))

    def _run_attached(
        self, record: ExecRecord, exchange: Exchange, agent_socket: str, token: str | None,
        tty: bool,
    ) -> None:  # fmt: skip
        if not record.claim():
            _send_in_band(exchange, f"exec {record.id} has already run", tty=tty)
            return
        try:
            session = self._open(record, agent_socket, token, tty)
        except AgentError as exc:
            record.finish(START_FAILED_EXIT_CODE)
            _send_in_band(exchange, str(exc), tty=tty)
            return
        with session:
            pump = None
            if record.attach_stdin:
                pump = StdinPump(exchange, session)
            else:
                with contextlib.suppress(AgentError):
                    session.close_stdin()
            code = self._drain(session, exchange, tty=tty)
            # Recorded before the stream ends: a client inspects right after EOF.
            record.finish(code)
            with contextlib.suppress(OSError):
                exchange.sock.shutdown(socket.SHUT_WR)
            if pump is not None:
                with contextlib.suppress(OSError):
                    exchange.sock.shutdown(socket.SHUT_RD)
                pump.stop()

    def _drain(self, session: ExecSession, exchange: Exchange | None, *, tty: bool) -> int:
        """Relay output until the exit; keeps reading (to learn the exit code) if the client
        goes away, since an exec does not stop when its client leaves."""
        while True:
            try:
                event = session.recv(RECV_TIMEOUT)
            except AgentError as exc:
                log.info("exec session ended without an exit code: %s", exc)
                if exchange is not None:
                    with contextlib.suppress(ClientGone):
                        _send_in_band(exchange, str(exc), tty=tty)
                return LOST_EXIT_CODE
            if event is None:
                if self._backend.stopping.is_set():
                    return LOST_EXIT_CODE
                continue
            kind, value = event
            if kind == "exit":
                assert isinstance(value, int)
                return value
            if exchange is None or not isinstance(value, bytes):
                continue
            try:
                exchange.write_raw(framing.encode(framing.STREAM_TYPES[kind], value, tty=tty))
            except ClientGone:
                exchange = None


def _send_in_band(exchange: Exchange, text: str, *, tty: bool) -> None:
    """Docker reports errors found after the hijack as text on the stream."""
    exchange.write_raw(framing.encode(framing.STDOUT, (text + "\r\n").encode(), tty=tty))
