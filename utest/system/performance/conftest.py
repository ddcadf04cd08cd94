"""An external simulator whose request log (method, path, status, end time, duration) we can read.

The simulator runs with ``--log-level DEBUG``, which logs one line per Docker API request; the
launcher re-logs every stderr line of the child on its own logger, and a handler here parses them.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from sockerless_sim.launcher import SimulatorProcess
from sockerless_sim.unix_http import UnixHTTPConnection

ROOT = Path(__file__).resolve().parents[3]
ROBOT_TIME_LIMIT_SECONDS = 300

# "2026-11-23 22:36:50,624 DEBUG sockerless_sim.docker_api.app: GET /v1.44/x/json -> 200 (1.2 ms)"
REQUEST_LINE = re.compile(
    r"^simulator: (?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) DEBUG "
    r"sockerless_sim\.docker_api\.app: (?P<method>[A-Z]+) (?P<target>\S+) -> (?P<status>\d+) "
    r"\((?P<ms>[\d.]+) ms\)$"
)
VERSION_PREFIX = re.compile(r"^/v\d+\.\d+(\.\d+)?(?=/)")
ID_SEGMENT = re.compile(r"/(containers|exec)/(?!(json|create)$)[^/]+")
ID_TEMPLATE = r"/\1/{id}"


@dataclass(frozen=True)
class Request:
    """One Docker API request as the simulator logged it."""

    method: str
    path: str  # without version prefix and query: "/containers/<id>/json"
    target: str  # as sent, with the query
    status: int
    started: float  # seconds since the epoch (simulator clock, millisecond resolution)

    @property
    def route(self) -> str:
        """The route template, e.g. ``GET /containers/{id}/json``."""
        return f"{self.method} {ID_SEGMENT.sub(ID_TEMPLATE, self.path)}"

    @property
    def resource(self) -> str:
        """The concrete resource polled, e.g. ``GET /containers/0123abcd/json``."""
        return f"{self.method} {self.path}"


class RequestLog(logging.Handler):
    """Collects the simulator's per-request DEBUG lines."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self._lock_requests = threading.Lock()
        self._requests: list[Request] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = REQUEST_LINE.match(record.getMessage())
        if match is None:
            return
        ended = datetime.strptime(match["at"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        path = VERSION_PREFIX.sub("", match["target"].split("?", 1)[0])
        started = ended - float(match["ms"]) / 1000
        request = Request(match["method"], path, match["target"], int(match["status"]), started)
        with self._lock_requests:
            self._requests.append(request)

    def requests(self) -> list[Request]:
        """Every request so far, in start order."""
        with self._lock_requests:
            return sorted(self._requests, key=lambda r: r.started)

    def position_after(self, target: str) -> int | None:
        """The log position just after the request sent as ``target``, once it is logged."""
        with self._lock_requests:
            for index, request in enumerate(self._requests):
                if request.target == target:
                    return index + 1
        return None

    def since(self, position: int) -> list[Request]:
        """The requests logged (answered) after ``position``, in start order."""
        with self._lock_requests:
            return sorted(self._requests[position:], key=lambda r: r.started)

    def clear(self) -> None:
        """Forget what was collected."""
        with self._lock_requests:
            self._requests.clear()


@dataclass
class ExternalSimulator:
    """A running simulator and its request log."""

    process: SimulatorProcess
    log: RequestLog

    def sync(self, timeout: float = 10.0) -> int:
        """Wait until every request answered so far is in the log (it arrives through a pipe).

        Returns the log position after the marker request: what ``log.since`` that position
        returns was answered after this call.
        """
        marker = f"/_ping?sync={uuid.uuid4().hex}"
        connection = UnixHTTPConnection(self.process.info.socket_path)
        try:
            connection.request("GET", marker)
            connection.getresponse().read()
        finally:
            connection.close()
        deadline = time.monotonic() + timeout
        while True:
            position = self.log.position_after(marker)
            if position is not None:
                return position
            assert time.monotonic() < deadline, "the simulator's request log fell behind"
            time.sleep(0.01)

    def robot_environment(self, journal_dir: Path, run_id: str) -> dict[str, str]:
        """Environment for ``robot`` against this simulator as a real sockerless target."""
        info = self.process.info
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SOCKERLESS_", "AWS_")) and k != "PYTHONPATH"
        }
        env.update(info.target_environment())
        env.update(
            SOCKERLESS_KIT_JOURNAL_DIR=str(journal_dir),
            SOCKERLESS_KIT_RUN_ID=run_id,
        )
        return env


def start_external_simulator(
    profile: str = "instant", time_scale: float = 1.0
) -> ExternalSimulator:
    """Start a simulator that logs every request; stop it with ``stop_external_simulator``."""
    handler = RequestLog()
    launcher_log = logging.getLogger("sockerless_sim.launcher")
    launcher_log.addHandler(handler)
    launcher_log.setLevel(logging.DEBUG)
    process = SimulatorProcess.start(
        profile=profile,
        time_scale=time_scale,
        extra_args=("--log-level", "DEBUG"),
        ready_timeout=60.0,
    )
    return ExternalSimulator(process, handler)


def stop_external_simulator(simulator: ExternalSimulator) -> None:
    """Stop the process and detach the log handler."""
    simulator.process.stop()
    logging.getLogger("sockerless_sim.launcher").removeHandler(simulator.log)


@pytest.fixture(scope="module")
def simulator() -> Iterator[ExternalSimulator]:
    """A simulator with the instant profile, for the whole module."""
    started = start_external_simulator()
    try:
        yield started
    finally:
        stop_external_simulator(started)


def run_robot(arguments: list[str], env: dict[str, str], outdir: Path) -> Path:
    """Run ``robot`` from the repository root; returns its output.xml (which must exist)."""
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "robot"), "--outputdir", str(outdir), *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=ROBOT_TIME_LIMIT_SECONDS,
        check=False,
    )
    output = outdir / "output.xml"
    assert output.exists(), completed.stdout.decode()[-3000:] + completed.stderr.decode()[-3000:]
    return output
