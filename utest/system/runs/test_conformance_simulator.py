"""The Docker conformance suite on the simulator's default profile, each probe as in its expected
matrix ``docs/conformance/expected-simulator.json`` (``python3 tasks.py conformance`` and a step
of ``python3 tasks.py test``)."""

from __future__ import annotations

import pytest
from conformance_runs import (
    ConformanceRun,
    conformance_run,
    expected,
    matrix_problems,
    probe_problem,
    simulator_options,
)
from robot_runs import RUN_TIME_LIMIT_SECONDS

import tasks

EXPECTED = expected("expected-simulator.json")

# Bounded as tasks.py bounds the step that runs this module.
pytestmark = pytest.mark.timeout(RUN_TIME_LIMIT_SECONDS)


@pytest.fixture(scope="module")
def simulator_run() -> ConformanceRun:
    options = simulator_options("Docker Conformance On The Simulator")
    return conformance_run("conformance-simulator", options, tasks.embedded_environment())


@pytest.mark.parametrize("probe", EXPECTED)
def test_the_probe_ends_as_expected_on_the_simulator(
    simulator_run: ConformanceRun, probe: str
) -> None:
    problem = probe_problem(simulator_run, probe, EXPECTED[probe])
    assert problem is None, problem


def test_the_matrix_has_no_other_probe_and_says_what_the_run_said(
    simulator_run: ConformanceRun,
) -> None:
    assert matrix_problems(simulator_run, EXPECTED) == []
