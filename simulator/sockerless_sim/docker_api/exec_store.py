"""Exec instances: what was asked at create time and what happened when it ran."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from ..agent.client import ExecSession
from . import naming
from .errors import no_such_exec


@dataclass
class ExecRecord:
    """One exec instance (``POST /containers/{id}/exec``)."""

    id: str
    container_id: str
    cmd: list[str]
    env: list[str]
    working_dir: str
    user: str
    tty: bool
    privileged: bool
    attach_stdin: bool
    attach_stdout: bool
    attach_stderr: bool
    console_size: tuple[int, int] = (0, 0)  # rows, columns of a tty exec's terminal
    started: bool = False
    running: bool = False
    exit_code: int | None = None
    session: ExecSession | None = field(default=None, repr=False)  # while it runs
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def claim(self) -> bool:
        """Mark the exec started; False when it had already been started."""
        with self.lock:
            if self.started:
                return False
            self.started = True
            self.running = True
            return True

    def finish(self, exit_code: int) -> None:
        """Record the exit code (before the client can see the stream end)."""
        with self.lock:
            self.exit_code = exit_code
            self.running = False
            self.session = None

    def inspect(self) -> dict[str, Any]:
        """``GET /exec/{id}/json``: ``ExitCode`` is null until the command has exited."""
        with self.lock:
            return {
                "ID": self.id,
                "Running": self.running,
                "ExitCode": self.exit_code,
                "ProcessConfig": {
                    "tty": self.tty,
                    "entrypoint": self.cmd[0],
                    "arguments": self.cmd[1:],
                    "privileged": self.privileged,
                    "user": self.user,
                },
                "OpenStdin": self.attach_stdin,
                "OpenStderr": self.attach_stderr,
                "OpenStdout": self.attach_stdout,
                "CanRemove": False,
                "ContainerID": self.container_id,
                "DetachKeys": "",
                "Pid": 0,
            }


class ExecStore:
    """Every exec instance, by ID."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._execs: dict[str, ExecRecord] = {}

    def add(self, **fields: Any) -> ExecRecord:
        """A new exec with a fresh 64-hex ID."""
        record = ExecRecord(id=naming.new_id(), **fields)
        with self._lock:
            self._execs[record.id] = record
        return record

    def get(self, exec_id: str) -> ExecRecord:
        """The exec, or 404 ``No such exec instance``."""
        with self._lock:
            record = self._execs.get(exec_id)
        if record is None:
            raise no_such_exec(exec_id)
        return record

    def forget_container(self, container_id: str) -> None:
        """Drop the execs of a removed container."""
        with self._lock:
            for exec_id in [e.id for e in self._execs.values() if e.container_id == container_id]:
                del self._execs[exec_id]
