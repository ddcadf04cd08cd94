"""The agent's life: start the main process, serve, forward signals, end with its exit code.

Output discipline: the agent's own stdout/stderr carry only the main process's output (see
``main_process``). Right at start the agent keeps private duplicates of fds 1 and 2 for that tee
and points fds 1 and 2 at its log file (or ``/dev/null``), so nothing the agent or a library
prints (tracebacks included) can leak into the container's output. Every log line is passed
through a formatter that masks the agent token.

Control channel (``--control-fd``, used by the workload runner): one stream socket inherited from
the runner. The agent writes one JSON line once it serves,
``{"event": "started", "pid": <main pid>, "started_at_ms": <launch, epoch ms>}``, or
``{"event": "failed", "message": ..., "exit_code": ...}``. The runner never writes; when the agent
reads end-of-file, the simulator is gone (or closed the workload), and the agent kills its whole
process group at once: no task outlives the simulator, even after a SIGKILL.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from .connection import ExecDefaults
from .exec_process import ExecRegistry
from .main_process import MainProcess
from .procutil import SpawnError, kill_group_except_self, user_to_run_as
from .server import AgentServer
from .users import set_home

FORWARDED_SIGNALS = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
)
EXEC_KILL_WAIT_SECONDS = 2.0
OUTPUT_DRAIN_SECONDS = 2.0
CLIENT_FLUSH_SECONDS = 1.0
SERVER_STOP_SECONDS = 2.0
FAILED_START_EXIT_CODE = 1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentOptions:
    """Everything the agent needs; built from the command line and the environment."""

    socket_path: str
    argv: Sequence[str]
    token: str | None = None
    log_file: str | None = None
    open_stdin: bool = False
    control_fd: int | None = None
    child_env_unset: Sequence[str] = ()
    child_env_set: Mapping[str, str] = field(default_factory=dict)
    # The container's WorkingDir and User (main process and exec default); None: the agent's.
    workdir: str | None = None
    user: str | None = None
    # What a stop (SIGTERM to the agent: ECS StopTask) delivers to the main process: the
    # container's StopSignal, as Docker's stop sends it.
    stop_signal: int = int(signal.SIGTERM)
    # The container's Tty: the main process's terminal (rows, columns; (0, 0) the default).
    terminal: tuple[int, int] | None = None
    # The directory of the image's programs, the only ones its PATH reaches (None: the image
    # has no program list and the PATH is taken as it is).
    programs: str | None = None


class RedactingFormatter(logging.Formatter):
    """Formats records and masks a secret wherever it appears, tracebacks included."""

    def __init__(self, fmt: str, secret: str | None) -> None:
        super().__init__(fmt)
        self._secret = secret

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record with the secret replaced by ``***``."""
        text = super().format(record)
        return text.replace(self._secret, "***") if self._secret else text


def _isolate_output(log_file: str | None, token: str | None) -> tuple[int, int]:
    """Keep private copies of stdout/stderr for the tee; send fds 1 and 2 to the log."""
    tee_out, tee_err = os.dup(1), os.dup(2)
    target = log_file or os.devnull
    log_fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter(
            "%(asctime)s agent[%(process)d] %(levelname)s %(name)s: %(message)s", token
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("sockerless_sim.agent.websockets").setLevel(logging.WARNING)
    return tee_out, tee_err


def _wait_for_exit(pid: int) -> None:
    """Block until child ``pid`` has exited (without reaping it), running signal handlers.

    A signal sent to the agent may be delivered to any of its threads; Python then runs the
    handler only when the main thread next executes bytecode. A main thread parked in
    ``waitpid`` would not, so it waits in ``select`` on a pidfd and the signal wakeup pipe.
    """
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    previous = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except OSError:
        pidfd = None  # no pidfd support: look at the child a few times a second instead
    try:
        watched = [wake_read] if pidfd is None else [wake_read, pidfd]
        while True:
            readable, _, _ = select.select(watched, [], [], None if pidfd is not None else 0.2)
            if wake_read in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_read, 512)
            if pidfd is not None and pidfd in readable:
                return
            if pidfd is None and os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                return
    finally:
        signal.set_wakeup_fd(previous)
        for fd in (wake_read, wake_write, pidfd):
            if fd is not None:
                os.close(fd)


class Agent:
    """Runs one task: see the module docstring."""

    def __init__(self, options: AgentOptions) -> None:
        self._options = options
        self._control: socket.socket | None = None
        self._main: MainProcess | None = None
        self._pending_signals: list[int] = []
        self._registry = ExecRegistry()
        self._server: AgentServer | None = None

    def run(self) -> int:
        """Run until the main process ended; returns its exit code (128+N if signal N)."""
        options = self._options
        tee_out, tee_err = _isolate_output(options.log_file, options.token)
        if options.control_fd is not None:
            self._control = socket.socket(fileno=options.control_fd)
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, self._forward_signal)
        child_env = dict(os.environ)
        for name in options.child_env_unset:
            child_env.pop(name, None)
        child_env.update(options.child_env_set)
        # ECS's startedAt is when the container started, not when anyone noticed: stamp the
        # launch itself and report it.
        started_at_ms = int(time.time() * 1000)
        try:
            user = user_to_run_as(options.user) if options.user else None
            set_home(child_env, user)
            main = MainProcess(
                options.argv,
                child_env,
                stdout_fd=tee_out,
                stderr_fd=tee_err,
                open_stdin=options.open_stdin,
                cwd=options.workdir,
                user=user,
                terminal=options.terminal,
                programs=options.programs,
            )
            main.start()
        except SpawnError as exc:
            log.error("cannot start the main process: %s", exc.message)
            self._report({"event": "failed", "message": exc.message, "exit_code": exc.exit_code})
            return exc.exit_code
        self._main = main
        for pending in self._pending_signals:
            main.send_signal(pending)

        self._server = AgentServer(
            options.socket_path, options.token, main, self._registry, child_env,
            defaults=ExecDefaults(workdir=options.workdir, user=user, programs=options.programs),
        )  # fmt: skip
        try:
            self._server.start()
        except OSError as exc:
            message = f"cannot listen on {options.socket_path}: {exc.strerror or exc}"
            log.error("%s", message)
            self._report({"event": "failed", "message": message, "exit_code": 1})
            main.send_signal(signal.SIGKILL)
            main.wait()
            return FAILED_START_EXIT_CODE
        self._report({"event": "started", "pid": main.pid, "started_at_ms": started_at_ms})
        self._watch_control()

        _wait_for_exit(main.pid)
        main.wait()
        return self._finish(main)

    def _finish(self, main: MainProcess) -> int:
        # A container ends with its main process: execs and leftovers go with it.
        self._registry.kill_all(EXEC_KILL_WAIT_SECONDS)
        kill_group_except_self()
        code = main.finish(OUTPUT_DRAIN_SECONDS)
        if self._server is not None:
            self._server.drain(CLIENT_FLUSH_SECONDS)
            self._server.stop(SERVER_STOP_SECONDS)
        log.info("agent exiting with code %d", code)
        return code

    def _forward_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGTERM:
            signum = self._options.stop_signal  # a stop: the container's StopSignal
        log.info("forwarding signal %d to the main process", signum)
        if self._main is None:
            self._pending_signals.append(signum)
        else:
            self._main.send_signal(signum)

    def _report(self, event: dict[str, object]) -> None:
        if self._control is None:
            return
        try:
            self._control.sendall(json.dumps(event).encode() + b"\n")
        except OSError as exc:
            log.warning("cannot report %s to the runner: %s", event.get("event"), exc)

    def _watch_control(self) -> None:
        if self._control is None:
            return
        threading.Thread(target=self._control_watcher, name="control-watch", daemon=True).start()

    def _control_watcher(self) -> None:
        assert self._control is not None
        with contextlib.suppress(OSError):
            while self._control.recv(64):
                pass
        log.error("control channel closed: the simulator is gone; killing the task")
        with contextlib.suppress(OSError):
            Path(self._options.socket_path).unlink()
        for handler in logging.getLogger().handlers:
            handler.flush()
        if os.getpgrp() == os.getpid():
            os.killpg(0, signal.SIGKILL)
        if self._main is not None:
            self._main.send_signal(signal.SIGKILL)
        self._registry.kill_all(0)
        os._exit(128 + signal.SIGKILL)
