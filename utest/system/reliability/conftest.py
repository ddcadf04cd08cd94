"""Fixtures: a fresh standalone simulator per test, its baseline inventory, a work directory."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The tests import the harness as a plain module (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from reliability_harness import Inventory, Simulator


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """An instant-profile simulator, stopped (with every task process) after the test."""
    simulator = Simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def baseline(sim: Simulator) -> Inventory:
    """What exists before the run: the simulator's own cluster resources and log group."""
    return Inventory.take(sim)
