"""The project's tests leave no temporary directories: a simulator's configuration makes none,
and a simulator, stopped or killed, leaves none of its own (socket, agent sockets and logs).

A full check from a clean clone used to leave 34 ``sockerless-sim-*`` directories: every
``SimConfig`` made one when it was built (``utest/unit/sim_aws/test_config.py`` alone made 30), and
a simulator killed with SIGKILL could not remove its agents' logs. Each test here points
``TMPDIR`` (this process's and the simulator's) at a directory of its own and lists it after.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sockerless_sim.__main__ import main
from sockerless_sim.config import SimConfig
from sockerless_sim.launcher import SimulatorProcess
from sockerless_sim.unix_http import UnixHTTPConnection

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def private_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty TMPDIR for this process and its children; short, as /tmp is, so the agents'
    sockets fit in AF_UNIX's 108 bytes without a directory of their own (``sks-``)."""
    directory = Path(tempfile.mkdtemp(prefix="k", dir="/tmp"))
    monkeypatch.setenv("TMPDIR", str(directory))
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile reads TMPDIR again
    try:
        yield directory
    finally:
        tempfile.tempdir = None
        shutil.rmtree(directory, ignore_errors=True)


def left_in(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_a_configuration_makes_no_directory(private_tmp: Path) -> None:
    SimConfig()
    SimConfig.from_env({"SOCKERLESS_SIM_PROFILE": "fargate"})
    with pytest.raises(ValueError, match="unknown profile"):
        SimConfig(profile="bogus")
    assert main(["--socket", str(private_tmp / "x.sock"), "--time-scale", "-1"]) == 2
    assert left_in(private_tmp) == []


def run_a_task(simulator: SimulatorProcess) -> None:
    """One container that runs, so the simulator has an agent with a socket and a log."""
    connection = UnixHTTPConnection(simulator.info.socket_path, timeout=30)
    body = b'{"Image": "alpine:latest", "Cmd": ["tail", "-f", "/dev/null"]}'
    connection.request(
        "POST", "/containers/create", body, headers={"Content-Type": "application/json"}
    )
    answer = connection.getresponse()
    created = answer.read()
    assert answer.status == 201, created
    container_id = created.split(b'"Id": "')[1].split(b'"')[0].decode()
    connection.request("POST", f"/containers/{container_id}/start")
    started = connection.getresponse()
    assert started.status == 204, started.read()
    started.read()
    connection.close()


@pytest.mark.parametrize("end", ["stop", "SIGKILL"])
def test_a_simulator_leaves_nothing_behind(private_tmp: Path, end: str) -> None:
    simulator = SimulatorProcess.start(ready_timeout=30.0)
    try:
        run_a_task(simulator)
        made = left_in(private_tmp)
        assert len(made) == 1 and made[0].startswith("sockerless-sim-")
        work = private_tmp / made[0] / "work"
        assert any(work.glob("*/agent.log"))  # the agent's log is where stop() removes it
        if end == "SIGKILL":
            os.kill(simulator.pid, signal.SIGKILL)
    finally:
        simulator.stop()
    assert left_in(private_tmp) == []
