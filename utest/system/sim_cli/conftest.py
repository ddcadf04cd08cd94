"""Fixtures for the Docker CLI scenario: one simulator per module, the real ``docker`` binary
pointed at it, and boto3 clients to its moto."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sockerless_sim.launcher import SimulatorProcess

# The tests import their helpers as a plain module (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from cli_helpers import DOCKER_BINARY, TIME_SCALE, DockerCli


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    """A simulator (instant profile, scaled down) for the whole module."""
    if not Path(DOCKER_BINARY).exists():
        pytest.skip(f"the Docker CLI is not at {DOCKER_BINARY}")
    process = SimulatorProcess.start(time_scale=TIME_SCALE, ready_timeout=20.0)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def docker_cli(sim: SimulatorProcess, tmp_path_factory: pytest.TempPathFactory) -> DockerCli:
    """The Docker CLI against the simulator (with its own empty config directory)."""
    return DockerCli(sim.info.socket_path, tmp_path_factory.mktemp("docker-config"))


@pytest.fixture(scope="module")
def ecs(sim: SimulatorProcess) -> Any:
    """A boto3 ECS client to the simulator's moto, made independently of the daemon."""
    return boto3.client(
        "ecs", endpoint_url=sim.info.aws_endpoint_url, region_name=sim.info.region,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
