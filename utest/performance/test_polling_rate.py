"""No idle polling: during long waits the keywords back off to at most one request per 0.5 s.

Each wait below lasts several seconds on the external simulator (instant profile, so the length
is the workload's own ``sleep``). The simulator logs every request it answers; the probes of the
waited-for resource are taken from that log, so the rate is measured where a daemon would feel it.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from SockerlessLibrary import SockerlessLibrary
from SockerlessLibrary.client import DockerClient
from SockerlessLibrary.transport import Transport

from .conftest import ExternalSimulator

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

MIN_STEADY_GAP_SECONDS = 0.5
# The first gaps of a wait may be shorter (exec waits start at 0.2 s); steady state is after them.
RAMP_GAPS = 2
CLOCK_SLACK_SECONDS = 0.002  # the simulator logs with millisecond resolution
WAIT_SECONDS = 4


@pytest.fixture
def library(
    simulator: ExternalSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[SockerlessLibrary]:
    for name in list(os.environ):
        if name.startswith(("SOCKERLESS_", "AWS_")):
            monkeypatch.delenv(name)
    for name, value in simulator.robot_environment(tmp_path, "perf-polling").items():
        if name.startswith(("SOCKERLESS_", "AWS_")):
            monkeypatch.setenv(name, value)
    lib = SockerlessLibrary(logs_timeout=timedelta(seconds=30))
    try:
        yield lib
    finally:
        lib.close()


def probe_times(simulator: ExternalSimulator, resource: str, mark: int) -> list[float]:
    """Start times of the requests on ``resource`` answered after the log position ``mark``."""
    simulator.sync()
    return [
        request.started for request in simulator.log.since(mark) if request.resource == resource
    ]


def assert_backs_off(starts: list[float], what: str) -> None:
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert len(starts) >= 3, f"{what}: the wait was too short to show a rate: {gaps}"
    duration = starts[-1] - starts[0]
    rate = (len(starts) - 1) / duration
    print(f"{what}: {len(starts)} requests over {duration:.1f} s ({rate:.2f}/s), gaps {gaps}")
    steady = gaps[RAMP_GAPS:]
    assert all(gap >= MIN_STEADY_GAP_SECONDS - CLOCK_SLACK_SECONDS for gap in steady), gaps
    assert gaps[-1] >= 2 * gaps[0] - CLOCK_SLACK_SECONDS, f"{what}: no back-off: {gaps}"
    assert rate <= 1 / MIN_STEADY_GAP_SECONDS


def test_logs_and_status_waits_back_off(
    library: SockerlessLibrary, simulator: ExternalSimulator
) -> None:
    lib = library
    container = lib.create_container(
        "alpine:latest",
        "sh",
        "-c",
        f"sleep {WAIT_SECONDS}; echo late-line; sleep {2 * WAIT_SECONDS}",
    )
    lib.start_container(container)
    began, mark = time.time(), simulator.sync()
    lib.wait_until_logs_contain_line(container, "late-line")
    assert time.time() - began >= WAIT_SECONDS - 1
    assert_backs_off(probe_times(simulator, f"GET /containers/{container}/logs", mark), "logs wait")
    began, mark = time.time(), simulator.sync()
    lib.wait_until_container_status_is(container, "exited", timeout=timedelta(seconds=30))
    assert time.time() - began >= WAIT_SECONDS - 2
    assert_backs_off(
        probe_times(simulator, f"GET /containers/{container}/json", mark), "status wait"
    )
    lib.clean_up_container(container)


def test_exec_wait_backs_off(library: SockerlessLibrary, simulator: ExternalSimulator) -> None:
    lib = library
    container = lib.create_container("alpine:latest", "tail", "-f", "/dev/null")
    lib.start_container(container)
    exec_id = lib.create_exec(container, "sleep", str(WAIT_SECONDS))
    # The hijacked stream blocks until the exec ends: run it on its own connection meanwhile.
    runner = DockerClient(Transport(f"unix://{simulator.process.info.socket_path}"))
    started = threading.Thread(target=runner.start_exec, args=(exec_id,), daemon=True)
    started.start()
    deadline = time.monotonic() + 10
    while not lib.inspect_exec(exec_id)["Running"]:  # the wait must begin on a running exec
        assert time.monotonic() < deadline, "the exec never started"
        time.sleep(0.05)
    began, mark = time.time(), simulator.sync()
    lib.wait_until_exec_finishes(exec_id)
    started.join(10)
    runner.close()
    assert time.time() - began >= WAIT_SECONDS - 1
    assert_backs_off(probe_times(simulator, f"GET /exec/{exec_id}/json", mark), "exec wait")
    lib.clean_up_container(container)
