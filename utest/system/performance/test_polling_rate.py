"""No idle polling: the waits block where the API can (one request for the whole wait), and the
ones that poll back off to at most one request per 0.5 s.

Each wait below lasts several seconds on the external simulator (instant profile, so the length
is the workload's own ``sleep``). The simulator logs every request it answers; the requests on the
waited-for resource are taken from that log, so the cost is measured where a daemon would feel it.
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

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow, pytest.mark.timing]

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


def probe_times(
    simulator: ExternalSimulator, resource: str, mark: int, began: float = 0.0
) -> list[float]:
    """Start times of the requests on ``resource`` answered after the log position ``mark``
    that started at ``began`` or later (epoch seconds).

    The simulator logs a request once it has answered it, so a request the test itself made
    just before taking ``mark`` can still be logged after it; ``began`` leaves it out.
    """
    simulator.sync()
    return [
        request.started
        for request in simulator.log.since(mark)
        if request.resource == resource and request.started >= began
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


def requests_on(simulator: ExternalSimulator, resource: str, mark: int) -> list[str]:
    """The requests (as sent, with their query) on ``resource`` answered after ``mark``.

    A follow stream the client closed is logged once the simulator notices (its next poll of
    the stream, within 0.5 s): wait a little for at least one.
    """
    deadline = time.monotonic() + 5
    while True:
        simulator.sync()
        sent = [r.target for r in simulator.log.since(mark) if r.resource == resource]
        if sent or time.monotonic() > deadline:
            return sent
        time.sleep(0.1)


def test_logs_and_exit_waits_block_with_one_request(
    library: SockerlessLibrary, simulator: ExternalSimulator
) -> None:
    lib = library
    container = lib.create_container(
        "alpine:latest", "sh", "-c", f"sleep {WAIT_SECONDS}; echo late-line; sleep {WAIT_SECONDS}"
    )
    lib.start_container(container)
    began, mark = time.time(), simulator.sync()
    lib.wait_until_logs_contain_line(container, "late-line")
    waited = time.time() - began
    assert waited >= WAIT_SECONDS - 1
    logs = requests_on(simulator, f"GET /containers/{container}/logs", mark)
    print(f"logs wait: {len(logs)} request(s) over {waited:.1f} s: {logs}")
    assert len(logs) == 1 and "follow=true" in logs[0], logs
    began, mark = time.time(), simulator.sync()
    inspect = lib.wait_until_container_is_not_running(container, timeout=timedelta(seconds=30))
    waited = time.time() - began
    assert inspect["State"]["Status"] == "exited"
    assert waited >= WAIT_SECONDS - 2
    simulator.sync()
    sent = [r.route for r in simulator.log.since(mark) if "sync=" not in r.target]
    print(f"exit wait: {sent} over {waited:.1f} s")
    assert sent == ["POST /containers/{id}/wait", "GET /containers/{id}/json"], sent
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
    # The simulator logs in milliseconds: a probe sent at ``began`` may read 1 ms early.
    waited = probe_times(simulator, f"GET /exec/{exec_id}/json", mark, began - 0.001)
    assert_backs_off(waited, "exec wait")
    lib.clean_up_container(container)
