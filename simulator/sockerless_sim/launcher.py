"""Start the simulator as a child process and wait for its ready line (library -> simulator).

The child is tied to its parent twice: ``PR_SET_PDEATHSIG`` makes the kernel send it SIGTERM
when the parent dies, and it watches its stdin (a pipe only the parent holds) and shuts down on
end-of-file. The first alone is not enough, because the kernel fires it when the *thread* that
started the child exits, not the process; the second alone would miss nothing but is slower.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

SIMULATOR_ROOT = str(Path(__file__).resolve().parent.parent)
PR_SET_PDEATHSIG = 1
STDERR_TAIL_LINES = 200
SOCKET_NAME = "docker.sock"
EXIT_GRACE_SECONDS = 2.0


class SimulatorStartError(RuntimeError):
    """The simulator exited, or said nothing, before it was ready (message has its stderr tail)."""


@dataclass(frozen=True)
class SimulatorInfo:
    """What the ready line reports."""

    socket_path: str
    aws_endpoint_url: str
    region: str
    cluster: str
    subnets: list[str]
    security_groups: list[str]
    log_group: str
    pid: int
    tcp_port: int | None = None
    lies: tuple[str, ...] = ()  # the faults the simulator was started with (see its README)
    # IAM mode: the kit's IAM user and the 0600 file with its keys (read by kit_credentials)
    iam_kit_user: str | None = None
    iam_credentials_file: str | None = None

    @classmethod
    def from_ready_line(cls, line: str) -> SimulatorInfo:
        """Parse the ready JSON line; ``ValueError`` when it is not one."""
        data = json.loads(line)
        if not isinstance(data, dict) or data.get("event") != "ready":
            raise ValueError(f"not a ready line: {line!r}")
        iam = data.get("iam")
        return cls(
            socket_path=str(data["socket_path"]),
            aws_endpoint_url=str(data["aws_endpoint_url"]),
            region=str(data["region"]),
            cluster=str(data["cluster"]),
            subnets=[str(s) for s in data["subnets"]],
            security_groups=[str(s) for s in data["security_groups"]],
            log_group=str(data["log_group"]),
            pid=int(data["pid"]),
            tcp_port=int(data["tcp_port"]) if data.get("tcp_port") is not None else None,
            lies=tuple(str(lie) for lie in data.get("lies", [])),
            iam_kit_user=str(iam["kit_user"]) if iam else None,
            iam_credentials_file=str(iam["credentials_file"]) if iam else None,
        )

    def kit_credentials(self) -> tuple[str, str] | None:
        """In IAM mode the kit user's (access key ID, secret key), read from the simulator's
        0600 file; ``None`` otherwise (any key works then)."""
        if self.iam_credentials_file is None:
            return None
        data = json.loads(Path(self.iam_credentials_file).read_text(encoding="utf-8"))
        return str(data["aws_access_key_id"]), str(data["aws_secret_access_key"])

    def target_environment(self) -> dict[str, str]:
        """The variables that hand this simulator to the kit as an external target.

        That is target 2, "sockerless with its own AWS simulator": the daemon's socket, the AWS
        endpoint, the fake credentials moto accepts (in IAM mode the kit user's keys: put this
        environment only in a child process's environment, never in a log), and the ECS
        settings the simulator uses.
        """
        access_key, secret_key = self.kit_credentials() or ("testing", "testing")
        return {
            "SOCKERLESS_HOST": f"unix://{self.socket_path}",
            "SOCKERLESS_ENDPOINT_URL": self.aws_endpoint_url,
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_REGION": self.region,
            "SOCKERLESS_ECS_CLUSTER": self.cluster,
            "SOCKERLESS_ECS_SUBNETS": ",".join(self.subnets),
            "SOCKERLESS_ECS_SECURITY_GROUPS": ",".join(self.security_groups),
            "SOCKERLESS_ECS_LOG_GROUP": self.log_group,
        }


def _death_signal_setter() -> Callable[[], None]:
    """A ``preexec_fn`` that asks for SIGTERM when the parent dies (resolved before the fork)."""
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    parent = os.getpid()

    def set_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return set_death_signal


class _LineTail:
    """Drains a pipe on a thread: keeps the last lines and logs each at DEBUG."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self._stream = stream
        self._lines: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            for raw in iter(self._stream.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                self._lines.append(line)
                log.debug("simulator: %s", line)

    def text(self) -> str:
        """The last lines, joined."""
        return "\n".join(self._lines)

    def join(self, timeout: float) -> None:
        """Wait for end-of-file."""
        self._thread.join(timeout)


def _read_ready_line(process: subprocess.Popen[bytes], timeout: float) -> tuple[str | None, bool]:
    """(the first stdout line, None when there is none yet; whether stdout reached its end)."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    buffer = b""
    while b"\n" not in buffer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, False
        readable, _, _ = select.select([fd], [], [], min(remaining, 0.1))
        if not readable:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            return None, True
        buffer += chunk
    return buffer.split(b"\n", 1)[0].decode("utf-8", errors="replace"), False


class SimulatorProcess:
    """A running simulator child process; ``stop()`` ends it and everything it started."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        info: SimulatorInfo,
        stderr: _LineTail,
        stdout: _LineTail,
        tempdir: str | None,
    ) -> None:
        self._process = process
        self.info = info
        self._stderr = stderr
        self._stdout = stdout
        self._tempdir = tempdir
        self._stop_lock = threading.Lock()
        self._stopped = False

    @property
    def pid(self) -> int:
        """The simulator's process ID."""
        return self._process.pid

    @classmethod
    def start(
        cls,
        socket_path: str | None = None,
        *,
        profile: str = "instant",
        time_scale: float = 1.0,
        quirks: Iterable[str] = (),
        lies: Iterable[str] = (),
        iam_policy: str | None = None,
        extra_args: Iterable[str] = (),
        ready_timeout: float = 15.0,
    ) -> SimulatorProcess:
        """Spawn ``python -m sockerless_sim`` and return once it printed its ready line.

        Without ``socket_path`` the socket goes in a fresh temporary directory, removed by
        ``stop()``. ``lies`` are faults (``--lie``): the daemon then claims AWS effects that did
        not happen. ``iam_policy`` (a policy file) starts it in IAM mode. Raises
        ``SimulatorStartError`` (with the simulator's stderr tail) when the
        child exits or stays silent for ``ready_timeout`` seconds.
        """
        tempdir = None
        workdir_args: list[str] = []
        if socket_path is None:
            tempdir = tempfile.mkdtemp(prefix="sockerless-sim-")
            socket_path = str(Path(tempdir) / SOCKET_NAME)
            # The agents' logs too: stop() removes them even after the simulator was killed.
            # Traversable (not listable), as the work directory's own parent was: a task run as
            # another User reaches its programs under it (image_programs.py).
            Path(tempdir).chmod(0o711)
            workdir_args = ["--workdir", str(Path(tempdir) / "work")]
        argv = [
            sys.executable, "-m", "sockerless_sim", "--socket", socket_path,
            "--profile", profile, "--time-scale", repr(float(time_scale)), "--exit-on-stdin-eof",
            *workdir_args,
        ]  # fmt: skip
        for quirk in quirks:
            argv += ["--quirk", quirk]
        for lie in lies:
            argv += ["--lie", lie]
        if iam_policy is not None:
            argv += ["--iam-policy", str(Path(iam_policy).resolve())]
        argv += list(extra_args)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (SIMULATOR_ROOT, env.get("PYTHONPATH", "")) if p
        )
        env["PYTHONUNBUFFERED"] = "1"
        began = time.monotonic()
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            preexec_fn=_death_signal_setter(),  # noqa: PLW1509 (only prctl and getppid)
            start_new_session=True,
        )
        assert process.stderr is not None and process.stdout is not None
        stderr = _LineTail(process.stderr, "sockerless-sim-stderr")
        line, ended = _read_ready_line(process, ready_timeout)
        if ended:
            # End of stdout means the child is exiting: give it a moment to be reaped.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(EXIT_GRACE_SECONDS)
        info = None
        if line is not None:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                info = SimulatorInfo.from_ready_line(line)
        if info is None:
            if line is None and process.poll() is None:
                what = f"did not report ready within {ready_timeout:.1f} s"
            elif line is None:
                what = f"exited with code {process.returncode} before it was ready"
            else:
                what = f"printed {line[:200]!r} instead of its ready line"
            cls._abort(process, stderr, tempdir)
            raise SimulatorStartError(
                f"the simulator ({' '.join(argv)}) {what}; its stderr ends with:\n{stderr.text()}"
            )
        log.info(
            "simulator pid %d ready on %s in %.2f s", process.pid, socket_path,
            time.monotonic() - began,
        )  # fmt: skip
        stdout = _LineTail(process.stdout, "sockerless-sim-stdout")
        return cls(process, info, stderr, stdout, tempdir)

    @staticmethod
    def _abort(process: subprocess.Popen[bytes], stderr: _LineTail, tempdir: str | None) -> None:
        _terminate(process, 3.0)
        stderr.join(2.0)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if tempdir is not None:
            shutil.rmtree(tempdir, ignore_errors=True)

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has ended (0 after a clean shutdown)."""
        return self._process.poll()

    def is_running(self) -> bool:
        """Whether the process is still alive."""
        return self._process.poll() is None

    def stderr_tail(self) -> str:
        """The last lines the simulator wrote to stderr."""
        return self._stderr.text()

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, wait up to ``timeout``, then SIGKILL; idempotent."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        _terminate(self._process, timeout)
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        self._stderr.join(2.0)
        self._stdout.join(2.0)
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
        log.info("simulator pid %d stopped (exit code %s)", self.pid, self._process.returncode)

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


def _terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("simulator pid %d ignored SIGTERM for %.1f s: killing it", process.pid, timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5.0)
