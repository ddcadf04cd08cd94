"""Linux process helpers for the agent and the workload runner (reads ``/proc``)."""

from __future__ import annotations

import contextlib
import os
import pty
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .programs import ProgramNotFound, confine_path, find_executable, quoted
from .streams import set_window_size
from .users import ResolvedUser, UserError, popen_identity, resolve_user

PROC = Path("/proc")


class SpawnError(Exception):
    """A command could not be started; ``exit_code`` is what a shell would report (126/127)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def spawn_error(argv0: str, exc: OSError) -> SpawnError:
    """Translate an ``OSError`` from starting ``argv0`` (found by ``find_executable``, so it
    failed at ``execve``) into runc's wording."""
    if isinstance(exc, FileNotFoundError):  # e.g. a script whose interpreter is missing
        return SpawnError(f"exec: {quoted(argv0)}: no such file or directory", 127)
    if isinstance(exc, PermissionError):
        return SpawnError(f"exec: {quoted(argv0)}: permission denied", 126)
    return SpawnError(f"exec: {quoted(argv0)}: {(exc.strerror or str(exc)).lower()}", 126)


def user_to_run_as(spec: str) -> ResolvedUser:
    """A process's ``User`` (``name|uid[:group|gid]``) resolved; ``SpawnError`` (126) when it
    cannot be, as runc fails to start a process whose user is unknown."""
    try:
        return resolve_user(spec)
    except UserError as exc:
        raise SpawnError(str(exc), 126) from None


def check_cwd(cwd: str | None) -> None:
    """A working directory a process can be started in; ``SpawnError`` (126) in runc's words
    when it is missing (the simulator runs commands on this host and never creates it)."""
    if cwd is not None and not Path(cwd).is_dir():
        raise SpawnError(
            f"chdir to cwd ({cwd!r}) set in config.json failed: no such file or directory", 126
        )


@dataclass(frozen=True)
class Command:
    """What to start: the argv, its environment, working directory and user (None: the
    agent's own), and the directory of its image's programs (None: the image has no program
    list, the PATH is taken as it is)."""

    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: str | None = None
    user: ResolvedUser | None = None
    programs: str | None = None

    def spawn(self, stdin: int, stdout: int, stderr: int) -> subprocess.Popen[bytes]:
        """Start it on these descriptors; ``SpawnError`` when it cannot be started."""
        check_cwd(self.cwd)
        env = dict(self.env)
        if self.programs is not None:
            confine_path(env, self.programs)
        try:
            executable = find_executable(self.argv[0], env.get("PATH"), self.cwd)
        except ProgramNotFound as exc:
            raise SpawnError(exc.reason, exc.exit_code) from None
        try:
            # argv[0] stays the name: a busybox applet knows what to be from it.
            return subprocess.Popen(
                list(self.argv), executable=executable, stdin=stdin, stdout=stdout,
                stderr=stderr, env=env, cwd=self.cwd, **popen_identity(self.user),
            )  # fmt: skip
        except OSError as exc:
            raise spawn_error(self.argv[0], exc) from exc

    def spawn_with_pipes(
        self, *, stdin: bool
    ) -> tuple[subprocess.Popen[bytes], int | None, int, int]:
        """Start it on pipes: the process, the write end of its stdin (None with ``stdin``
        false: it reads ``/dev/null``) and the read ends of its stdout and stderr."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        in_r, in_w = os.pipe() if stdin else (subprocess.DEVNULL, None)
        try:
            proc = self.spawn(in_r, out_w, err_w)
        except SpawnError:
            for fd in (in_w, out_r, err_r):
                if fd is not None:
                    os.close(fd)
            raise
        finally:
            for fd in (in_r, out_w, err_w):
                if fd >= 0:
                    os.close(fd)
        return proc, in_w, out_r, err_r

    def spawn_on_terminal(
        self, size: tuple[int, int] | None
    ) -> tuple[subprocess.Popen[bytes], int]:
        """Start it with stdin, stdout and stderr on a new pseudo-terminal of ``size`` (rows,
        columns; None or ``(0, 0)``: the default): the process and the terminal's master."""
        master, slave = pty.openpty()
        if size is not None and size != (0, 0):
            set_window_size(master, *size)
        try:
            proc = self.spawn(slave, slave, slave)
        except SpawnError:
            os.close(master)
            raise
        finally:
            os.close(slave)
        return proc, master


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name, or None if the pid is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces and parentheses.
    return raw[raw.rfind(")") + 2 :].split()


def is_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in {"Z", "X"}


def parent_pid(pid: int) -> int | None:
    """The parent of ``pid``, or None if it is gone."""
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is ``pgid``."""
    members = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields and fields[0] not in {"Z", "X"} and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def kill_group_except_self() -> None:
    """SIGKILL every other member of this process's group, when this process leads the group.

    This is what ending a container does to whatever the main process left running.
    """
    me = os.getpid()
    if os.getpgrp() != me:
        return
    for pid in group_members(me):
        if pid != me:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


class Signaller:
    """Sends signals to one process without racing pid reuse once it has been reaped.

    Uses a pidfd (opened now, while the pid is known to be ours) when the kernel offers one;
    otherwise plain ``kill`` guarded by ``is_gone``, a check that the pid was not reaped yet.
    """

    def __init__(self, pid: int, is_gone: Callable[[], bool]) -> None:
        self.pid = pid
        self._is_gone = is_gone
        self._lock = threading.Lock()
        self._closed = False
        self._pidfd: int | None
        try:
            self._pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._pidfd = None

    @classmethod
    def for_child(cls, proc: subprocess.Popen[bytes]) -> Signaller:
        """A signaller for a child this process started (and will reap)."""
        return cls(proc.pid, lambda: proc.poll() is not None)

    def send(self, signum: int) -> bool:
        """Deliver ``signum``; False when the process is already gone."""
        with self._lock:
            if self._closed:
                return False
            try:
                if self._pidfd is not None:
                    signal.pidfd_send_signal(self._pidfd, signum)
                elif not self._is_gone():
                    os.kill(self.pid, signum)
                else:
                    return False
            except ProcessLookupError:
                return False
            return True

    def close(self) -> None:
        """Release the pidfd; later ``send`` calls report the process gone."""
        with self._lock:
            self._closed = True
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
