"""One ``exec`` command inside the task: its process, pipes (or pty), stdin, signals and exit.

Exec processes stay in the agent's process group, so a SIGKILL of that group (the runner's hard
stop) ends them too; when the main process ends, the agent kills whatever is left
(``ExecRegistry.kill_all``), so no exec outlives its task.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from .procutil import Command, Signaller, SpawnError
from .protocol import exit_code_from_returncode
from .streams import PTY_EOF, StdinFeeder, set_window_size, start_pump
from .users import ResolvedUser

OUTPUT_DRAIN_SECONDS = 2.0

log = logging.getLogger(__name__)

OutputHandler = Callable[[str, bytes], None]
ExitHandler = Callable[[int], None]


class ExecProcess:
    """A command started on behalf of a client session.

    Without a tty, stdout and stderr are separate pipes. With ``tty=True`` the command gets a
    pseudo-terminal: stdout and stderr arrive merged as "stdout", ``close_stdin`` sends the
    terminal's EOF character, and ``resize`` sets the window size.
    """

    def __init__(
        self,
        cmd: Sequence[str],
        env: Mapping[str, str],
        *,
        cwd: str | None,
        tty: bool,
        on_output: OutputHandler,
        on_exit: ExitHandler,
        user: ResolvedUser | None = None,
        terminal_size: tuple[int, int] | None = None,
        programs: str | None = None,
    ) -> None:
        self._cmd = list(cmd)
        self._programs = programs  # the image's program directory (None: no program list)
        self._terminal_size = terminal_size
        self._env = dict(env)
        self._cwd = cwd
        self._user = user
        self._tty = tty
        self._on_output = on_output
        self._on_exit = on_exit
        self._proc: subprocess.Popen[bytes] | None = None
        self._signaller: Signaller | None = None
        self._stdin: StdinFeeder | None = None
        self._pumps: list[threading.Thread] = []
        self._winsize_lock = threading.Lock()
        self._winsize_fd: int | None = None
        self.finished = threading.Event()
        self.exit_code: int | None = None

    @property
    def pid(self) -> int:
        """The command's pid (only after ``start``)."""
        if self._proc is None:
            raise RuntimeError("exec process not started")
        return self._proc.pid

    def start(self) -> None:
        """Start the command; raises ``SpawnError`` if it cannot run (missing cwd or binary)."""
        command = Command(self._cmd, self._env, self._cwd, self._user, self._programs)
        if self._tty:
            self._start_on_terminal(command)
        else:
            self._start_with_pipes(command)
        assert self._proc is not None
        self._signaller = Signaller.for_child(self._proc)
        log.info("exec started: pid %d, argv[0] %r, tty %s", self.pid, self._cmd[0], self._tty)
        threading.Thread(target=self._wait, name=f"exec-wait-{self.pid}", daemon=True).start()

    def _start_with_pipes(self, command: Command) -> None:
        self._proc, in_w, out_r, err_r = command.spawn_with_pipes(stdin=True)
        assert in_w is not None
        self._stdin = StdinFeeder(f"exec-stdin-{self._proc.pid}", in_w)
        self._pumps = [
            start_pump("exec-stdout", out_r, lambda chunk: self._on_output("stdout", chunk)),
            start_pump("exec-stderr", err_r, lambda chunk: self._on_output("stderr", chunk)),
        ]

    def _start_on_terminal(self, command: Command) -> None:
        self._proc, master = command.spawn_on_terminal(self._terminal_size)
        # Separate descriptors for reading, writing and resizing: each user closes its own.
        self._stdin = StdinFeeder(f"exec-stdin-{self._proc.pid}", os.dup(master), PTY_EOF)
        self._winsize_fd = os.dup(master)
        self._pumps = [
            start_pump("exec-pty", master, lambda chunk: self._on_output("stdout", chunk))
        ]

    def _wait(self) -> None:
        assert self._proc is not None
        returncode = self._proc.wait()
        if self._signaller is not None:
            self._signaller.close()
        for pump in self._pumps:
            # A background child of the command may hold the pipe open: do not wait forever.
            pump.join(OUTPUT_DRAIN_SECONDS)
        if self._stdin is not None:
            self._stdin.close()
        with self._winsize_lock:
            if self._winsize_fd is not None:
                os.close(self._winsize_fd)
                self._winsize_fd = None
        self.exit_code = exit_code_from_returncode(returncode)
        log.info("exec exited: pid %d, code %d", self._proc.pid, self.exit_code)
        try:
            self._on_exit(self.exit_code)
        finally:
            self.finished.set()

    def write_stdin(self, data: bytes) -> bool:
        """Queue ``data`` for the command's stdin; False once stdin is closed."""
        return self._stdin is not None and self._stdin.write(data)

    def close_stdin(self) -> None:
        """End the command's input."""
        if self._stdin is not None:
            self._stdin.close()

    def send_signal(self, signum: int) -> bool:
        """Signal the command; False if it already ended."""
        return self._signaller is not None and self._signaller.send(signum)

    def kill(self) -> None:
        """SIGKILL the command (no-op once it ended)."""
        self.send_signal(signal.SIGKILL)

    def resize(self, width: int, height: int) -> None:
        """Set the terminal size (ignored without a tty)."""
        with self._winsize_lock:
            if self._winsize_fd is None:
                return
            set_window_size(self._winsize_fd, height, width)


class ExecRegistry:
    """Every exec process the agent started that has not finished yet.

    Starting goes through the registry, under its lock, so an exec can never slip past
    ``kill_all`` by starting while the task ends: after ``kill_all`` new execs are refused.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[ExecProcess] = set()
        self._closed = False

    def start(self, process: ExecProcess) -> None:
        """Start ``process`` and track it until it finishes; ``SpawnError`` if it cannot run."""
        with self._lock:
            if self._closed:
                raise SpawnError("container is not running", 126)
            process.start()
            self._live.add(process)

    def discard(self, process: ExecProcess) -> None:
        """Stop tracking ``process``."""
        with self._lock:
            self._live.discard(process)

    def kill_all(self, timeout: float) -> None:
        """Refuse new execs, SIGKILL every live one, wait (bounded) until each reported its exit."""
        with self._lock:
            self._closed = True
            live = list(self._live)
        for process in live:
            process.kill()
        deadline = time.monotonic() + timeout
        for process in live:
            process.finished.wait(max(deadline - time.monotonic(), 0.0))
