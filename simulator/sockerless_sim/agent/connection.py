"""One WebSocket connection to the agent: reads client messages, runs their sessions.

A connection carries any number of sessions, each named by the client's ``id``. An ``exec``
session owns a new process; an ``attach`` session follows the main process. When the connection
goes away, its exec processes are killed and its attach sessions detached.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .exec_process import ExecProcess, ExecRegistry
from .main_process import MainProcess
from .outbound import Outbound
from .procutil import SpawnError, user_to_run_as
from .programs import quoted
from .protocol import (
    MessageType,
    ProtocolError,
    decode,
    decode_data,
    error_message,
    exit_message,
    output_message,
    parse_signal,
    signaled_message,
)
from .users import ResolvedUser, set_home

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExecDefaults:
    """What an exec inherits from its container unless it names its own: the container's
    ``WorkingDir`` and ``User`` (Docker's defaults for ``docker exec``); and what it cannot
    change, the image's program directory (None: the image has no program list)."""

    workdir: str | None = None
    user: ResolvedUser | None = None
    programs: str | None = None

    def user_for(self, spec: object) -> ResolvedUser | None:
        """The exec's own ``user`` (a ``name|uid[:group|gid]`` string), else the container's;
        ``SpawnError`` (126) when it cannot be resolved."""
        if spec is None or spec == "":
            return self.user
        if not isinstance(spec, str):
            raise ProtocolError("'user' must be a string")
        return user_to_run_as(spec)


class Session(ABC):
    """What every session accepts from the client after it started."""

    @abstractmethod
    def write_stdin(self, data: bytes) -> None:
        """Forward ``data`` to the process's stdin."""

    @abstractmethod
    def close_stdin(self) -> None:
        """End the process's input."""

    @abstractmethod
    def send_signal(self, signum: int) -> bool:
        """Deliver ``signum`` to the process; False when it is gone."""

    @abstractmethod
    def resize(self, width: int, height: int) -> None:
        """Terminal size change (accepted; only a tty exec uses it)."""

    @abstractmethod
    def abandon(self) -> None:
        """The connection went away, or the session broke the protocol: stop it, silently."""


class ExecSessionRunner(Session):
    """Runs one ``exec`` request: a new process whose output goes to this connection."""

    def __init__(
        self, session_id: str, outbound: Outbound, registry: ExecRegistry, ended: _Ending
    ) -> None:
        self._id = session_id
        self._outbound = outbound
        self._registry = registry
        self._ended = ended
        self._process: ExecProcess | None = None
        self._abandoned = False

    def start(
        self, request: Mapping[str, Any], base_env: Mapping[str, str], defaults: ExecDefaults
    ) -> None:
        """Start the command; raises ``ProtocolError`` or ``SpawnError``."""
        cmd = request.get("cmd")
        if not isinstance(cmd, list) or not cmd or not all(isinstance(a, str) for a in cmd):
            raise ProtocolError("'cmd' must be a non-empty list of strings")
        workdir = request.get("workdir") or defaults.workdir
        if workdir is not None and not isinstance(workdir, str):
            raise ProtocolError("'workdir' must be a string")
        user = defaults.user_for(request.get("user"))
        size = request.get("console_size")
        if size is not None and (
            not isinstance(size, list)
            or len(size) != 2
            or not all(isinstance(n, int) for n in size)
        ):
            raise ProtocolError("'console_size' must be [rows, columns]")
        env = dict(base_env)
        apply_env(env, request.get("env"))
        set_home(env, user)
        self._process = ExecProcess(
            cmd,
            env,
            cwd=workdir,
            tty=bool(request.get("tty", False)),
            on_output=self._on_output,
            on_exit=self._on_exit,
            user=user,
            terminal_size=(size[0], size[1]) if size else None,
            programs=defaults.programs,
        )
        self._registry.start(self._process)

    def _on_output(self, stream: str, data: bytes) -> None:
        self._outbound.put_data(output_message(stream, self._id, data), block=True)

    def _on_exit(self, code: int) -> None:
        if self._process is not None:
            self._registry.discard(self._process)
        self._ended(self._id)
        if not self._abandoned:
            self._outbound.put_control(exit_message(self._id, code))

    def _require_process(self) -> ExecProcess:
        if self._process is None:
            raise ProtocolError("exec session has no process")
        return self._process

    def write_stdin(self, data: bytes) -> None:
        """Forward ``data`` to the command (dropped once its stdin was closed, as by Docker)."""
        if not self._require_process().write_stdin(data):
            log.info("exec %r: stdin already closed; %d bytes dropped", self._id, len(data))

    def close_stdin(self) -> None:
        """Close the command's stdin."""
        self._require_process().close_stdin()

    def send_signal(self, signum: int) -> bool:
        """Signal the command."""
        return self._require_process().send_signal(signum)

    def resize(self, width: int, height: int) -> None:
        """Resize the command's terminal (tty only)."""
        self._require_process().resize(width, height)

    def abandon(self) -> None:
        """Nobody will read the output any more: kill the command."""
        self._abandoned = True
        if self._process is not None:
            self._process.kill()


class AttachSession(Session):
    """Follows the main process: its output from now on, stdin and signals, then its exit."""

    def __init__(
        self, session_id: str, outbound: Outbound, main: MainProcess, ended: _Ending,
        *, replay: bool = False,
    ) -> None:  # fmt: skip
        self._id = session_id
        self._replay = replay
        self._outbound = outbound
        self._main = main
        self._ended = ended
        self._detached = threading.Event()

    def start(self) -> None:
        """Subscribe to the main process's output (from its start with ``replay``)."""
        self._main.subscribe(self, replay=self._replay)

    def on_output(self, stream: str, data: bytes) -> None:
        """Called by the main process's tee; never blocks it."""
        if self._detached.is_set():
            return
        if not self._outbound.put_data(output_message(stream, self._id, data), block=False):
            if self._outbound.closed:
                return
            log.warning("attach session %r cannot keep up; detaching it", self._id)
            self._detach(error_message(self._id, "attach client too slow; output dropped"))

    def on_exit(self, code: int) -> None:
        """The main process ended."""
        self._detach(exit_message(self._id, code))

    def _detach(self, final_message: dict[str, Any]) -> None:
        if self._detached.is_set():
            return
        self._detached.set()
        self._main.unsubscribe(self)
        self._ended(self._id)
        self._outbound.put_control(final_message)

    def write_stdin(self, data: bytes) -> None:
        """Forward ``data`` to the main process; dropped, as by Docker, when its stdin is
        not open (the runner starts it on /dev/null)."""
        if not self._main.write_stdin(data):
            log.info(
                "attach %r: main process stdin not open; %d bytes dropped", self._id, len(data)
            )

    def close_stdin(self) -> None:
        """Close the main process's stdin."""
        self._main.close_stdin()

    def send_signal(self, signum: int) -> bool:
        """Signal the main process."""
        return self._main.send_signal(signum)

    def resize(self, width: int, height: int) -> None:
        """Resize the main process's terminal (a Tty container's; ignored otherwise)."""
        self._main.resize(width, height)

    def abandon(self) -> None:
        """Stop following the main process."""
        self._detached.set()
        self._main.unsubscribe(self)


class _Ending:
    """Callable that forgets a finished session (so its id can be reused)."""

    def __init__(self, sessions: dict[str, Session], lock: threading.Lock) -> None:
        self._sessions = sessions
        self._lock = lock

    def __call__(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)


class ConnectionHandler:
    """Dispatches the messages of one connection to its sessions."""

    def __init__(
        self,
        outbound: Outbound,
        main: MainProcess,
        registry: ExecRegistry,
        child_env: Mapping[str, str],
        defaults: ExecDefaults | None = None,
    ) -> None:
        self._outbound = outbound
        self._main = main
        self._registry = registry
        self._child_env = dict(child_env)
        self._defaults = defaults or ExecDefaults()
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._ending = _Ending(self._sessions, self._lock)

    def serve(self, messages: Iterable[str | bytes]) -> None:
        """Handle every message until the connection ends, then abandon what is left."""
        try:
            for raw in messages:
                self.handle(raw)
        finally:
            with self._lock:
                left = list(self._sessions.values())
                self._sessions.clear()
            for session in left:
                session.abandon()

    def handle(self, raw: str | bytes) -> None:
        """Handle one client message; problems become ``error`` messages, never exceptions."""
        session_id = ""
        try:
            message = decode(raw)
            session_id = message.get("id", "")
            self._dispatch(message)
        except (ProtocolError, SpawnError) as exc:
            text = exc.message if isinstance(exc, SpawnError) else str(exc)
            log.info("session %r: error: %s", session_id, text)
            # An error ends the session it names, on both sides.
            with self._lock:
                broken = self._sessions.pop(session_id, None)
            if broken is not None:
                broken.abandon()
            self._outbound.put_control(
                error_message(session_id, text, start_failed=isinstance(exc, SpawnError))
            )

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        session_id = message.get("id", "")
        if kind in (MessageType.EXEC, MessageType.ATTACH):
            self._open(kind, session_id, message)
            return
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            raise ProtocolError(f"no such session: {session_id!r}")
        if kind == MessageType.STDIN:
            session.write_stdin(decode_data(message))
        elif kind == MessageType.CLOSE_STDIN:
            session.close_stdin()
        elif kind == MessageType.SIGNAL:
            delivered = session.send_signal(parse_signal(message.get("signal")))
            if message.get("ack") is True:
                self._outbound.put_control(signaled_message(session_id, delivered=delivered))
        elif kind == MessageType.RESIZE:
            width, height = message.get("width"), message.get("height")
            if not isinstance(width, int) or not isinstance(height, int):
                raise ProtocolError("'width' and 'height' must be integers")
            session.resize(width, height)
        else:
            raise ProtocolError(f"unknown message type: {kind!r}")

    def _open(self, kind: str, session_id: str, message: dict[str, Any]) -> None:
        if not session_id:
            raise ProtocolError(f"'{kind}' needs a session 'id'")
        session: ExecSessionRunner | AttachSession
        if kind == MessageType.EXEC:
            session = ExecSessionRunner(session_id, self._outbound, self._registry, self._ending)
        else:
            session = AttachSession(
                session_id, self._outbound, self._main, self._ending,
                replay=message.get("replay") is True,
            )  # fmt: skip
        with self._lock:
            if session_id in self._sessions:
                raise ProtocolError(f"session {session_id!r} already exists")
            # Registered before it starts, so an instant exit can unregister it.
            self._sessions[session_id] = session
        try:
            if isinstance(session, ExecSessionRunner):
                session.start(message, self._child_env, self._defaults)
            else:
                session.start()
        except (ProtocolError, SpawnError):
            self._ending(session_id)
            raise
        log.info("session %r: %s started", session_id, kind)


def apply_env(env: dict[str, str], value: object) -> None:
    """Apply an exec's env to the container's: a mapping sets its names; Docker's list of
    ``K=V`` strings sets them in order, and a bare ``K`` unsets K, as Docker's exec does
    (``ReplaceOrAppendEnvValues``; measured on Docker 20.10: ``Env ["FOO"]`` hides the
    container's FOO from the exec). A name that is empty cannot be started (``SpawnError``, in
    runc's words)."""
    if value is None:
        return
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        env.update(value)
        return
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ProtocolError("'env' must be an object of strings or a list of 'K=V' strings")
    for item in value:
        name, equals, setting = item.partition("=")
        if not name:
            raise SpawnError(f"environment variable name can't be empty: {quoted(item)}", 126)
        if equals:
            env[name] = setting
        else:
            env.pop(name, None)
