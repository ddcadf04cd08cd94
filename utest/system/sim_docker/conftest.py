"""Fixtures for the Docker API tests: a real simulator per module and a raw HTTP client."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sockerless_sim.launcher import SimulatorProcess

# The tests import their helpers as a plain module (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from wire_helpers import RawClient, aws_client

# The instant profile at a fifth of its delays: log delivery 0.1 s, each task state 10 ms.
TIME_SCALE = 0.2


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    """A simulator (instant profile, scaled down) for the whole test module."""
    process = SimulatorProcess.start(time_scale=TIME_SCALE, ready_timeout=20.0)
    yield process
    process.stop()


@pytest.fixture
def client(sim: SimulatorProcess) -> Iterator[RawClient]:
    """A raw client whose containers are force-removed after the test."""
    raw = RawClient(sim.info.socket_path)
    yield raw
    raw.cleanup()


@pytest.fixture(scope="module")
def aws(sim: SimulatorProcess) -> Callable[[str], Any]:
    """boto3 clients to the simulator's moto, made independently of the daemon."""

    def make(service: str) -> Any:
        return aws_client(sim.info, service)

    return make
