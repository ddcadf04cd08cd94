"""The task's main process, run by the agent with its output teed.

Design (why a tee): the workload runner reads the *agent's* stdout/stderr as the container's
output, and ``attach`` sessions need the same bytes. So the main process writes into pipes the
agent owns; one pump thread per stream writes each chunk through to the agent's own stdout or
stderr (the runner's pipes) first, then hands it to every attached listener. A slow runner
therefore slows the main process (as a full pipe would), while a slow attach client never does:
listeners must not block (see ``connection.AttachSession``).

Stdin: with ``open_stdin`` the main process gets a pipe fed by attach sessions; otherwise it
reads ``/dev/null``, as an ECS task's container does (the runner uses that default).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from typing import Protocol

from .procutil import Command, Signaller
from .protocol import exit_code_from_returncode
from .streams import PTY_EOF, StdinFeeder, set_window_size, start_pump, write_all
from .users import ResolvedUser

log = logging.getLogger(__name__)

# Output kept for an attach that asks for it from the start (Docker's attach-before-start: the
# daemon reaches the agent only once the task is RUNNING, after the process may have written).
HISTORY_BYTES = 1 << 20


class OutputListener(Protocol):
    """Receives the main process's output from the moment it subscribes, then its exit code."""

    def on_output(self, stream: str, data: bytes) -> None:
        """A chunk from ``stream`` ("stdout" or "stderr"); must not block."""

    def on_exit(self, code: int) -> None:
        """The main process ended and all its output was delivered."""


class MainProcess:
    """Starts ``argv`` with piped output, tees it to ``stdout_fd``/``stderr_fd`` and listeners."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        stdout_fd: int,
        stderr_fd: int,
        open_stdin: bool = False,
        cwd: str | None = None,
        user: ResolvedUser | None = None,
        terminal: tuple[int, int] | None = None,
        programs: str | None = None,
    ) -> None:
        self._argv = list(argv)
        self._programs = programs  # the image's program directory (None: no program list)
        # (rows, columns) of the pseudo-terminal the process gets (Tty); (0, 0): the default.
        self._terminal = terminal
        self._env = dict(env)
        self._cwd = cwd
        self._user = user
        self._destinations = {"stdout": stdout_fd, "stderr": stderr_fd}
        self._broken_destinations: set[str] = set()
        self._open_stdin = open_stdin
        self._lock = threading.Lock()
        self._listeners: list[OutputListener] = []
        self._pumps: list[threading.Thread] = []
        self._stdin: StdinFeeder | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._signaller: Signaller | None = None
        self._ended_code: int | None = None
        self._exit_code: int | None = None
        self._winsize_fd: int | None = None  # a duplicate of the terminal's master, for resize
        self._history: list[tuple[str, bytes]] = []
        self._history_bytes = 0

    @property
    def pid(self) -> int:
        """The main process's pid (only after ``start``)."""
        if self._proc is None:
            raise RuntimeError("main process not started")
        return self._proc.pid

    @property
    def exit_code(self) -> int | None:
        """None until the process ended and its output was delivered; 128+N if signal N."""
        return self._exit_code

    def start(self) -> None:
        """Start the process (in ``cwd``, as ``user``, on a terminal if asked, finding only
        the image's ``programs`` when given); raises ``SpawnError`` when it cannot be
        executed."""
        command = Command(self._argv, self._env, self._cwd, self._user, self._programs)
        if self._terminal is not None:
            self._start_on_terminal(command, self._terminal)
        else:
            self._start_with_pipes(command)
        assert self._proc is not None
        self._signaller = Signaller.for_child(self._proc)
        log.info("main process started: pid %d, argv[0] %r", self._proc.pid, self._argv[0])

    def _start_with_pipes(self, command: Command) -> None:
        self._proc, stdin_w, out_r, err_r = command.spawn_with_pipes(stdin=self._open_stdin)
        if stdin_w is not None:
            self._stdin = StdinFeeder("main-stdin", stdin_w)
        self._pumps = [
            start_pump("main-stdout", out_r, lambda chunk: self._tee("stdout", chunk)),
            start_pump("main-stderr", err_r, lambda chunk: self._tee("stderr", chunk)),
        ]

    def _start_on_terminal(self, command: Command, size: tuple[int, int]) -> None:
        """Stdin, stdout and stderr on one pseudo-terminal, as a Tty container's: its output
        is one stream (``stdout``), line ends ``\\r\\n``; with OpenStdin the input is written
        to it, and its end is the terminal's end-of-input character."""
        self._proc, master = command.spawn_on_terminal(size)
        if self._open_stdin:
            self._stdin = StdinFeeder("main-stdin", os.dup(master), PTY_EOF)
        self._winsize_fd = os.dup(master)
        self._pumps = [start_pump("main-pty", master, lambda chunk: self._tee("stdout", chunk))]

    def resize(self, width: int, height: int) -> None:
        """Set the terminal's size (ignored without one, or once the process ended)."""
        with self._lock:
            if self._winsize_fd is not None:
                set_window_size(self._winsize_fd, height, width)

    def _tee(self, stream: str, chunk: bytes) -> None:
        if stream not in self._broken_destinations:
            try:
                write_all(self._destinations[stream], chunk)
            except OSError as exc:
                # Nobody reads the agent's output any more; attach sessions still get it.
                if exc.errno != errno.EPIPE:
                    log.warning("tee of main %s failed: %s", stream, exc)
                self._broken_destinations.add(stream)
        with self._lock:
            # Kept and handed out under one lock: a replaying subscriber gets each chunk once.
            self._remember(stream, chunk)
            listeners = list(self._listeners)
        for listener in listeners:
            listener.on_output(stream, chunk)

    def _remember(self, stream: str, chunk: bytes) -> None:
        self._history.append((stream, chunk))
        self._history_bytes += len(chunk)
        while self._history_bytes > HISTORY_BYTES and self._history:
            _old_stream, old = self._history.pop(0)
            self._history_bytes -= len(old)

    def subscribe(self, listener: OutputListener, *, replay: bool = False) -> None:
        """Deliver output from now on (with ``replay``, first the output kept since the start,
        up to ``HISTORY_BYTES``); if the process already finished, report its exit now."""
        with self._lock:
            code = self._exit_code
            if replay:
                for stream, chunk in self._history:
                    listener.on_output(stream, chunk)  # never blocks (see OutputListener)
            if code is None:
                self._listeners.append(listener)
        if code is not None:
            listener.on_exit(code)

    def unsubscribe(self, listener: OutputListener) -> None:
        """Stop delivering to ``listener``; idempotent."""
        with self._lock, contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    @property
    def stdin_open(self) -> bool:
        """Whether the main process was started with a stdin pipe."""
        return self._stdin is not None

    def write_stdin(self, data: bytes) -> bool:
        """Queue ``data`` for the main process's stdin; False if it has no (open) stdin."""
        return self._stdin is not None and self._stdin.write(data)

    def close_stdin(self) -> None:
        """Close the main process's stdin (no-op without one)."""
        if self._stdin is not None:
            self._stdin.close()

    def send_signal(self, signum: int) -> bool:
        """Signal the main process; False if it is gone."""
        return self._signaller is not None and self._signaller.send(signum)

    def wait(self) -> int:
        """Block until the process ends (its output may still be in flight); its exit code."""
        if self._proc is None:
            raise RuntimeError("main process not started")
        if self._ended_code is None:
            returncode = self._proc.wait()
            if self._signaller is not None:
                self._signaller.close()
            self._ended_code = exit_code_from_returncode(returncode)
            log.info("main process exited: code %d", self._ended_code)
        return self._ended_code

    def finish(self, output_timeout: float) -> int:
        """After ``wait``: let the output drain (bounded), then tell listeners the exit code."""
        code = self.wait()
        for pump in self._pumps:
            pump.join(output_timeout)
            if pump.is_alive():
                log.warning("main output still open %.1fs after exit; not waiting", output_timeout)
        if self._stdin is not None:
            self._stdin.close()
        with self._lock:
            if self._winsize_fd is not None:
                os.close(self._winsize_fd)
                self._winsize_fd = None
            self._exit_code = code
            listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener.on_exit(code)
        return code
