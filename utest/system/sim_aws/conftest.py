"""Fixtures for the AWS-plane tests: a real plane per module, seen through separate clients."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sockerless_sim.aws.plane import AwsPlane

# The tests import their helpers as a plain module (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from aws_helpers import Aws, start_plane


@pytest.fixture(scope="module")
def plane(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AwsPlane]:
    """One plane per test module; a module may set ``PLANE_SETTINGS`` (SimConfig fields).

    Default: instant profile x3 (0.15 s per state, 1.5 s log delivery), command-echo quirk.
    """
    settings = {"time_scale": 3.0, "quirks": frozenset({"command-echo-event"})}
    settings.update(getattr(request.module, "PLANE_SETTINGS", {}))
    started = start_plane(tmp_path_factory, **settings)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def aws(plane: AwsPlane) -> Aws:
    return Aws(plane)
