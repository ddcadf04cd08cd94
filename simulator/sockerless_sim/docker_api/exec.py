"""Exec create / start / inspect; start hijacks the connection and relays the agent session."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from ..agent.client import AgentClient, AgentError, ExecSession, ExecStartError
from . import framing
from .backend import EcsBackend
from .create_options import console_size, refusal
from .errors import ApiError, bad_request, not_running
from .exchange import ClientGone, Exchange, Request
from .exec_store import ExecRecord, ExecStore
from .hijack import HIJACK_PAUSE_SECONDS, ClientInput, end_hijacked, hijack_head
from .params import size_query
from .routing import Router

log = logging.getLogger(__name__)

RECV_TIMEOUT = 0.5
AGENT_TIMEOUT = 10.0
START_FAILED_EXIT_CODE = 126  # Docker's code for an exec that could not be started
LOST_EXIT_CODE = 137  # the task went away under the exec (stopped, killed)
# Exec options the simulator cannot honour: refused when set (an exec answer has no Warnings).
UNSUPPORTED_EXEC_FIELDS = {
    "Privileged": "the command runs with the agent's privileges, no more",
    "DetachKeys": "the stream has no detach sequence: close the connection to detach",
}


class ExecRoutes:
    """``POST /containers/{id}/exec``, ``POST /exec/{id}/start``, ``GET /exec/{id}/json``."""

    def __init__(self, backend: EcsBackend, store: ExecStore) -> None:
        self._backend = backend
        self._store = store
        # The exec-exit-code-zero quirk: sockerless reads back 0 whatever the command returned.
        self._exit_code_zero = "exec-exit-code-zero" in backend.config.quirks
        # The tty-output-lost quirk: what an exec writes to its terminal never reaches the client.
        self._tty_output_lost = "tty-output-lost" in backend.config.quirks

    def register(self, router: Router) -> None:
        """Add the routes to ``router``."""
        router.add("POST", "/containers/{id}/exec", self.create)
        router.add("POST", "/exec/{id}/start", self.start)
        router.add("GET", "/exec/{id}/json", self.inspect)
        router.add("POST", "/exec/{id}/resize", self.resize)

    def create(self, request: Request, exchange: Exchange) -> None:
        """201 ``{"Id"}``; 400 without a command; 404 unknown container; 409 not running."""
        body = request.body_fields()
        cmd = body.get("Cmd")
        if cmd is None or cmd == []:
            raise bad_request("No exec command specified")
        if not isinstance(cmd, list) or not all(isinstance(a, str) for a in cmd):
            raise bad_request("invalid JSON: Cmd must be an array of strings")
        for name, why in UNSUPPORTED_EXEC_FIELDS.items():
            if body.get(name):
                raise refusal("exec", name, why)
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
            console_size=console_size(body, "exec"),
        )
        exchange.send_json(201, {"Id": record.id})

    def inspect(self, request: Request, exchange: Exchange) -> None:
        """The exec's state; ``ExitCode`` null while running (always 0 with the
        ``exec-exit-code-zero`` quirk)."""
        body = self._store.get(request.params["id"]).inspect()
        if self._exit_code_zero:
            body["ExitCode"] = 0
        exchange.send_json(200, body)

    def resize(self, request: Request, exchange: Exchange) -> None:
        """201 once the exec's terminal has the size ``h`` x ``w``; 409 when it does not run."""
        height, width = size_query(request.query)
        record = self._store.get(request.params["id"])
        session = record.session
        if session is None:
            raise ApiError(409, f"exec {record.id} is not running")
        try:
            session.resize(width, height)
        except AgentError as exc:
            raise ApiError(409, f"exec {record.id} is not running: {exc}") from None
        exchange.send(201)

    def start(self, request: Request, exchange: Exchange) -> None:
        """Body first (400), then 404/409, all before the hijack; then the stream."""
        body = request.body_fields()
        detach = body.boolean("Detach")
        tty = body.boolean("Tty")
        record = self._store.get(request.params["id"])
        if body.get("ConsoleSize") is not None:
            record.console_size = console_size(body, "exec start")
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
        client_input = ClientInput(exchange, forward=record.attach_stdin)
        time.sleep(HIJACK_PAUSE_SECONDS)
        try:
            self._run_attached(record, exchange, client_input, (agent_socket, token), tty)
        finally:
            end_hijacked(exchange, client_input)

    @staticmethod
    def _open(record: ExecRecord, agent_socket: str, token: str | None, tty: bool) -> ExecSession:
        client = AgentClient(agent_socket, token, timeout=AGENT_TIMEOUT)
        session = client.exec(
            record.cmd, env=list(record.env), workdir=record.working_dir or None,
            user=record.user or None, tty=tty,
            console_size=record.console_size if record.console_size != (0, 0) else None,
        )  # fmt: skip
        record.session = session
        return session

    def _finish_detached(self, record: ExecRecord, session: ExecSession) -> None:
        with session:
            with contextlib.suppress(AgentError):
                session.close_stdin()
            record.finish(self._drain(session, None, tty=False))

    def _run_attached(
        self, record: ExecRecord, exchange: Exchange, client_input: ClientInput,
        agent: tuple[str, str | None], tty: bool,
    ) -> None:  # fmt: skip
        if not record.claim():
            _send_in_band(exchange, f"exec {record.id} has already run", tty=tty)
            return
        try:
            session = self._open(record, agent[0], agent[1], tty)
        except AgentError as exc:
            record.finish(START_FAILED_EXIT_CODE)
            _send_in_band(exchange, str(exc), tty=tty)
            return
        with session:
            if record.attach_stdin:
                client_input.connect(session)
            else:
                with contextlib.suppress(AgentError):
                    session.close_stdin()
            code = self._drain(session, exchange, tty=tty)
            client_input.disconnect()
            # Recorded before the stream ends: a client inspects right after EOF.
            record.finish(code)

    def _drain(self, session: ExecSession, exchange: Exchange | None, *, tty: bool) -> int:
        """Relay output until the exit; keeps reading (to learn the exit code) if the client
        goes away, since an exec does not stop when its client leaves."""
        while True:
            try:
                event = session.recv(RECV_TIMEOUT)
            except ExecStartError as exc:
                # Docker reports a process runc could not start on the stream, and 126.
                if exchange is not None:
                    with contextlib.suppress(ClientGone):
                        _send_in_band(exchange, exec_start_failure(exc.reason), tty=tty)
                return START_FAILED_EXIT_CODE
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
            if exchange is None or not isinstance(value, bytes) or (tty and self._tty_output_lost):
                continue
            try:
                exchange.write_raw(framing.encode(framing.STREAM_TYPES[kind], value, tty=tty))
            except ClientGone:
                exchange = None


def exec_start_failure(runc_reason: str) -> str:
    """What Docker writes on the stream of an exec whose process runc could not start
    (measured on Docker 20.10: ``OCI runtime exec failed: exec failed: unable to start
    container process: exec: "bash": executable file not found in $PATH: unknown``)."""
    return (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        f"{runc_reason}: unknown"
    )


def _send_in_band(exchange: Exchange, text: str, *, tty: bool) -> None:
    """Docker reports errors found after the hijack as text on the stream."""
    exchange.write_raw(framing.encode(framing.STDOUT, (text + "\r\n").encode(), tty=tty))
