"""The Docker conformance suite on the simulator's ``sockerless`` profile, each probe as in its
expected matrix ``docs/conformance/expected-sockerless-profile.json``: the one measured on
sockerless (``docs/conformance/sockerless-*.json``) but for what the profile cannot reproduce
(docs/conformance.md). At half time: sockerless' stop grace and follow tail (10 s, 18 s) are most
of the run, and the statuses do not depend on their length."""

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

EXPECTED = expected("expected-sockerless-profile.json")
SOCKERLESS_PROFILE_SCALE = "0.5"

# Bounded as tasks.py bounds the step that runs this module.
pytestmark = pytest.mark.timeout(RUN_TIME_LIMIT_SECONDS)


@pytest.fixture(scope="module")
def profile_run() -> ConformanceRun:
    env = tasks.embedded_environment(
        SOCKERLESS_SIM_QUIRKS="sockerless", SOCKERLESS_SIM_TIME_SCALE=SOCKERLESS_PROFILE_SCALE
    )
    options = simulator_options("Docker Conformance On The Sockerless Profile")
    return conformance_run("conformance-sockerless-profile", options, env)


@pytest.mark.parametrize("probe", EXPECTED)
def test_the_probe_ends_as_measured_on_sockerless(profile_run: ConformanceRun, probe: str) -> None:
    problem = probe_problem(profile_run, probe, EXPECTED[probe])
    assert problem is None, problem


def test_the_matrix_has_no_other_probe_and_says_what_the_run_said(
    profile_run: ConformanceRun,
) -> None:
    assert matrix_problems(profile_run, EXPECTED) == []
