"""Runs each RUNNING task's command as a real process on this host, under a per-task agent.

There is no image filesystem: the command runs on the host, so ``tail -f /dev/null``,
``echo ...``, ``sh -c "exit 7"`` and ``sleep N`` behave as on Linux. A task of an image with a
program list (``image_programs``: ``alpine``, ``busybox``) finds only that image's programs on
its PATH (``bash`` is not found); any other image's command finds this host's.

For every task, ``WorkloadRunner.launch`` starts ``python -m sockerless_sim.agent`` (the
stand-in for ``/sockerless-agent``) in a new session, in a per-task directory under the
runner's workdir, with a clean environment (PATH, HOME, LANG and the task's own variables; never
the simulator's AWS credentials). The agent runs the command and tees its output to its own
stdout/stderr, which two reader threads here split into lines for ``on_output``.

Process hygiene:
* ``terminate(grace)``: SIGTERM to the agent (it forwards it to the command, as Fargate's stop
  does), then SIGKILL to the whole process group after ``grace`` seconds.
* The agent's exit is observed without reaping it (``waitid(WNOWAIT)``) until ``close``, so its
  pid, which is also the group id, cannot be reused while we may still signal that group.
* Each agent holds one end of a socket pair whose other end lives only in this process: if the
  simulator dies, even by SIGKILL, the agent sees end-of-file and kills its process group.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .agent.client import AgentClient, AgentError
from .agent.procutil import Signaller, group_members, parent_pid
from .agent.programs import IMAGE_PATH
from .agent.protocol import TOKEN_ENV, exit_code_from_returncode
from .image_programs import ProgramDirectories

OutputCallback = Callable[[str, str, bytes, int], None]
"""``(task_arn, "stdout" | "stderr", line without "\\n", timestamp in ms)``."""

SIMULATOR_ROOT = str(Path(__file__).resolve().parent.parent)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes; keep a margin
MAX_LINE_BYTES = 262_144 - 26  # CloudWatch's largest event; longer lines are split
READ_SIZE = 64 * 1024
OUTPUT_DRAIN_SECONDS = 5.0
REAP_SECONDS = 5.0
LOG_TAIL_LINES = 20

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessOptions:
    """How the agent runs the container's command: its WorkingDir, User, OpenStdin,
    StopSignal, Tty and ConsoleSize, as the task definition carries them."""

    working_dir: str | None = None  # None: the task's own directory
    user: str | None = None  # None: the simulator's own user
    open_stdin: bool = False  # a stdin pipe fed by attach sessions
    stop_signal: str | None = None  # what a stop delivers to the command (None: SIGTERM)
    tty: bool = False  # the command runs on a pseudo-terminal
    console_size: str | None = None  # that terminal's ROWSxCOLUMNS (None: the default)

    def agent_flags(self) -> list[str]:
        """The agent's command-line flags that carry these options."""
        flags = []
        if self.working_dir:
            flags += ["--workdir", self.working_dir]
        if self.user:
            flags += ["--user", self.user]
        if self.open_stdin:
            flags.append("--open-stdin")
        if self.stop_signal:
            flags += ["--stop-signal", self.stop_signal]
        if self.tty:
            flags.append("--tty")
            if self.console_size:
                flags += ["--console-size", self.console_size]
        return flags


@dataclass(frozen=True)
class WorkloadSpec:
    """What to run for one task's container."""

    task_arn: str
    task_id: str
    container_name: str
    argv: list[str]
    env: dict[str, str]
    agent_token: str | None
    process: ProcessOptions = field(default_factory=ProcessOptions)
    image: str = ""  # the task definition's image: which programs the command finds


class WorkloadStartError(Exception):
    """The agent or the command could not be started (the message says why).

    ``spawn_reason`` is set when the agent ran but the command could not be executed: runc's
    words for it (``exec: "bash": executable file not found in $PATH``)."""

    def __init__(self, message: str, spawn_reason: str | None = None) -> None:
        super().__init__(message)
        self.spawn_reason = spawn_reason


def _base_env(*, with_home: bool, image_path: bool) -> dict[str, str]:
    env = {
        "PATH": IMAGE_PATH if image_path else os.environ.get("PATH", DEFAULT_PATH),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    if with_home:  # with a User, the agent sets the user's own home
        env["HOME"] = os.environ.get("HOME", "/root")
    return env


def _read_lines(stream: IO[bytes], emit: Callable[[bytes, int], None], name: str) -> None:
    """Split ``stream`` into lines for ``emit``; a partial last line is emitted at EOF."""
    fd = stream.fileno()
    pending = b""
    try:
        while True:
            chunk = os.read(fd, READ_SIZE)
            if not chunk:
                break
            now_ms = int(time.time() * 1000)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                emit(line, now_ms)
            while len(pending) >= MAX_LINE_BYTES:
                emit(pending[:MAX_LINE_BYTES], now_ms)
                pending = pending[MAX_LINE_BYTES:]
    except OSError as exc:
        log.warning("reading %s failed: %s", name, exc)
    finally:
        if pending:
            emit(pending, int(time.time() * 1000))
        stream.close()


class Workload:
    """One task's agent process and the command it runs."""

    def __init__(
        self,
        spec: WorkloadSpec,
        proc: subprocess.Popen[bytes],
        control: socket.socket,
        *,
        agent_socket: str,
        log_path: Path,
        task_dir: Path,
        socket_dir: Path | None,
        on_output: OutputCallback,
    ) -> None:
        self.task_arn = spec.task_arn
        self.pid = proc.pid
        self.agent_socket = agent_socket
        self.agent_token = spec.agent_token
        self.main_pid: int | None = None
        # When the command was launched and when it exited (ECS's startedAt and
        # executionStoppedAt), as they happened rather than when the lifecycle driver looked.
        self.started_at: datetime | None = None
        self.exited_at: datetime | None = None
        self.log_path = log_path
        self.task_dir = task_dir
        self._spec = spec
        self._proc = proc
        self._control = control
        self._socket_dir = socket_dir
        self._on_output = on_output
        self._lock = threading.Lock()
        self._agent_exited = threading.Event()
        self._done = threading.Event()
        self._exit_code: int | None = None
        self._reaped = False
        self._closed = False
        self._timers: list[threading.Timer] = []
        self._main_signaller: Signaller | None = None
        assert proc.stdout is not None and proc.stderr is not None
        self._readers = [
            self._start_reader(proc.stdout, "stdout"),
            self._start_reader(proc.stderr, "stderr"),
        ]
        self._waiter = threading.Thread(
            target=self._wait, name=f"workload-wait-{self.pid}", daemon=True
        )
        self._waiter.start()

    def _start_reader(self, stream: IO[bytes], name: str) -> threading.Thread:
        def emit(line: bytes, ts_ms: int) -> None:
            try:
                self._on_output(self.task_arn, name, line, ts_ms)
            except Exception:
                log.exception("on_output failed for %s %s", self.task_arn, name)

        thread = threading.Thread(
            target=_read_lines, args=(stream, emit, name), name=f"workload-{name}", daemon=True
        )
        thread.start()
        return thread

    def _wait(self) -> None:
        try:
            result = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:
            result = None
        exited_at = datetime.now(UTC)
        if result is None:
            code = exit_code_from_returncode(self._proc.wait())
        elif result.si_code == os.CLD_EXITED:
            code = result.si_status
        else:
            code = 128 + result.si_status
        self._agent_exited.set()
        for reader in self._readers:
            reader.join(OUTPUT_DRAIN_SECONDS)
        with self._lock:
            self.exited_at = exited_at
            self._exit_code = code
        log.info("task %s: agent %d exited with %d", self.task_arn, self.pid, code)
        self._done.set()

    def await_start(self, timeout: float) -> None:
        """Wait for the agent's start report and health; raises ``WorkloadStartError``."""
        deadline = time.monotonic() + timeout
        event = self._read_start_event(deadline)
        if event.get("event") != "started":
            message = str(event.get("message") or "the agent did not start")
            spawn_reason = message if event.get("event") == "failed" else None
            raise WorkloadStartError(self._failure(message), spawn_reason)
        pid = event.get("pid")
        if not isinstance(pid, int):
            raise WorkloadStartError(self._failure(f"agent reported a bad start: {event}"))
        self.main_pid = pid
        started_at_ms = event.get("started_at_ms")
        if isinstance(started_at_ms, int) and not isinstance(started_at_ms, bool):
            self.started_at = datetime.fromtimestamp(started_at_ms / 1000, UTC)
        signaller = Signaller(pid, self._agent_exited.is_set)
        if parent_pid(pid) == self.pid:  # still the agent's child, not a reused pid
            self._main_signaller = signaller
        else:
            signaller.close()
        if self._agent_exited.is_set():
            return  # the command already finished: a valid (short) task
        remaining = max(deadline - time.monotonic(), 0.1)
        try:
            AgentClient(self.agent_socket, self.agent_token, timeout=remaining).health()
        except AgentError as exc:
            if not self._agent_exited.wait(0.2):
                raise WorkloadStartError(self._failure(f"agent is not healthy: {exc}")) from None

    def _read_start_event(self, deadline: float) -> dict[str, Any]:
        buffer = b""
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkloadStartError(self._failure("the agent did not start in time"))
            self._control.settimeout(remaining)
            try:
                chunk = self._control.recv(4096)
            except TimeoutError:
                continue
            except OSError as exc:
                raise WorkloadStartError(self._failure(f"agent control channel: {exc}")) from None
            if not chunk:
                self._done.wait(REAP_SECONDS)
                raise WorkloadStartError(
                    self._failure(f"the agent exited before starting (code {self._exit_status()})")
                )
            buffer += chunk
        try:
            event = json.loads(buffer.split(b"\n", 1)[0])
        except ValueError:
            event = None
        if not isinstance(event, dict):
            raise WorkloadStartError(self._failure(f"agent sent a bad start report: {buffer!r}"))
        return event

    def _exit_status(self) -> str:
        code = self._exit_code
        return "unknown" if code is None else str(code)

    def _failure(self, reason: str) -> str:
        tail = _tail(self.log_path, LOG_TAIL_LINES)
        text = f"task {self._spec.task_id}: {reason}"
        return f"{text}\nagent log (last lines):\n{tail}" if tail else text

    def exit_code(self) -> int | None:
        """None while running; the exit code (128+N when killed by signal N) afterwards.

        Set only after the output was read to the end, so ``on_output`` has seen every line.
        """
        with self._lock:
            return self._exit_code

    def wait(self, timeout: float) -> int | None:
        """Block up to ``timeout`` seconds for the exit code."""
        self._done.wait(timeout)
        return self.exit_code()

    def signal(self, signum: int) -> None:
        """Deliver ``signum`` to the main command (no-op once it ended)."""
        if self._main_signaller is not None:
            self._main_signaller.send(signum)

    def terminate(self, grace_seconds: float) -> None:
        """SIGTERM now (forwarded to the command), SIGKILL to the group after the grace."""
        with self._lock:
            if self._closed or self._agent_exited.is_set():
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            if grace_seconds <= 0:
                self._kill_group_locked()
                return
            timer = threading.Timer(grace_seconds, self._kill_group)
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def _kill_group(self) -> None:
        with self._lock:
            self._kill_group_locked()

    def _kill_group_locked(self) -> None:
        # Safe while the agent is not reaped: its zombie keeps the group id from being reused.
        if not self._reaped:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    @property
    def closed(self) -> bool:
        """True once ``close`` was called."""
        return self._closed

    def close(self) -> None:
        """Kill whatever is left, reap the agent, remove the socket; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for timer in self._timers:
                timer.cancel()
            self._kill_group_locked()
        self._control.close()
        self._agent_exited.wait(REAP_SECONDS)
        # SIGKILL is delivered when the process next runs, which on a busy machine is a while
        # after kill() returned: wait for the group to be gone, before reaping the agent (its
        # zombie keeps the group id from being reused meanwhile).
        deadline = time.monotonic() + REAP_SECONDS
        while group_members(self.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            self._proc.wait(REAP_SECONDS)
        except subprocess.TimeoutExpired:
            log.error("task %s: agent %d did not die", self.task_arn, self.pid)
        else:
            with self._lock:
                self._reaped = True
        self._done.wait(OUTPUT_DRAIN_SECONDS)
        if self._main_signaller is not None:
            self._main_signaller.close()
        with contextlib.suppress(OSError):
            Path(self.agent_socket).unlink()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:40] or "task"


class WorkloadRunner:
    """Starts and tracks the workloads of the simulator's tasks."""

    def __init__(self, workdir: str, on_output: OutputCallback) -> None:
        self._workdir = Path(workdir)
        self._on_output = on_output
        self._lock = threading.Lock()
        self._workloads: list[Workload] = []
        self._shut_down = False
        self._programs = ProgramDirectories(self._workdir / "programs")

    def launch(self, spec: WorkloadSpec, timeout: float = 5.0) -> Workload:
        """Start the agent and the command; returns once the agent is healthy.

        Raises ``WorkloadStartError`` (with the agent's log tail) when the command cannot be
        started, e.g. ``exec: nosuch: executable file not found in $PATH``; nothing is left
        running then.
        """
        with self._lock:
            if self._shut_down:
                raise WorkloadStartError("the workload runner is shut down")
        if not spec.argv:
            raise WorkloadStartError(f"task {spec.task_id}: no command to run")
        self._workdir.mkdir(parents=True, exist_ok=True)
        task_dir = Path(tempfile.mkdtemp(prefix=f"{_safe_name(spec.task_id)}-", dir=self._workdir))
        # The command's default working directory: readable by any User, writable by root only,
        # as an image's "/" is (the agent's socket and log inside keep their own 0600 modes).
        task_dir.chmod(0o755)
        socket_dir: Path | None = None
        socket_path = task_dir / "agent.sock"
        if len(os.fsencode(socket_path)) > MAX_SOCKET_PATH:
            socket_dir = Path(tempfile.mkdtemp(prefix="sks-"))
            socket_path = socket_dir / "agent.sock"
        log_path = task_dir / "agent.log"
        programs = self._programs.directory_for(spec.image)
        env, env_flags = self._agent_env(spec, image_path=programs is not None)
        if programs is not None:
            env_flags += ["--programs", str(programs)]
        ours, theirs = socket.socketpair()
        command = [
            sys.executable,
            "-m",
            "sockerless_sim.agent",
            "--socket",
            str(socket_path),
            "--log-file",
            str(log_path),
            "--control-fd",
            str(theirs.fileno()),
            *env_flags,
            *spec.process.agent_flags(),
            "--",
            *spec.argv,
        ]
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=task_dir,
                env=env,
                start_new_session=True,
                pass_fds=(theirs.fileno(),),
            )
        except OSError as exc:
            ours.close()
            raise WorkloadStartError(f"task {spec.task_id}: cannot start the agent: {exc}") from exc
        finally:
            theirs.close()
        workload = Workload(
            spec,
            proc,
            ours,
            agent_socket=str(socket_path),
            log_path=log_path,
            task_dir=task_dir,
            socket_dir=socket_dir,
            on_output=self._on_output,
        )
        with self._lock:
            self._workloads = [w for w in self._workloads if not w.closed]
            self._workloads.append(workload)
        try:
            workload.await_start(timeout)
        except WorkloadStartError:
            workload.close()
            raise
        log.info("task %s: agent %d runs main pid %s", spec.task_arn, proc.pid, workload.main_pid)
        return workload

    @staticmethod
    def _agent_env(spec: WorkloadSpec, *, image_path: bool) -> tuple[dict[str, str], list[str]]:
        """The agent's environment, and the flags that give its children the task's own (with
        ``image_path``, the image's PATH, which the agent confines to the image's programs)."""
        env = _base_env(with_home=not spec.process.user, image_path=image_path)
        env.update(spec.env)
        env.pop(TOKEN_ENV, None)
        if spec.agent_token:
            env[TOKEN_ENV] = spec.agent_token
        # The agent must import this package; its children must see the task's PYTHONPATH.
        task_pythonpath = spec.env.get("PYTHONPATH")
        if task_pythonpath is None:
            env["PYTHONPATH"] = SIMULATOR_ROOT
            return env, ["--unset-env", "PYTHONPATH"]
        env["PYTHONPATH"] = os.pathsep.join([SIMULATOR_ROOT, task_pythonpath])
        return env, ["--set-env", f"PYTHONPATH={task_pythonpath}"]

    def shutdown(self) -> None:
        """Close every workload (no child process is left); idempotent."""
        with self._lock:
            self._shut_down = True
            workloads, self._workloads = self._workloads, []
        for workload in workloads:
            workload.close()
