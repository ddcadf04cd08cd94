"""The kit beside a newer boto3 than the simulator's pin (1.44.5), installed without the
simulator extra (``python3 tasks.py boto3-range`` and a step of ``python3 tasks.py test``)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from kit_beside import (
    Beside,
    install_beside,
    pip_check,
    refused_run_problem,
    team_suites_problems,
    versions_check,
)
from robot_runs import RUN_TIME_LIMIT_SECONDS

from utest.kit_environment import kit_wheel

NEWER_BOTO3 = {"boto3": "1.44.18"}

# Bounded as tasks.py bounds the step that runs this module.
pytestmark = pytest.mark.timeout(RUN_TIME_LIMIT_SECONDS)


@pytest.fixture(scope="module")
def beside() -> Iterator[Beside]:
    with tempfile.TemporaryDirectory(prefix="kit-newer-boto3-") as scratch:
        work = Path(scratch)
        yield install_beside(work, kit_wheel(work), NEWER_BOTO3)


def test_pip_check_is_clean(beside: Beside) -> None:
    ran = pip_check(beside)
    assert ran.code == 0, ran.said()


def test_the_newer_boto3_is_what_is_installed(beside: Beside) -> None:
    ran = versions_check(beside)
    assert ran.code == 0, ran.said()


def test_the_team_suites_pass_on_the_newer_boto3(beside: Beside) -> None:
    problems = team_suites_problems(
        beside, [beside.command, "--outputdir", "results", "suites"], "results"
    )
    assert problems == []


def test_the_embedded_simulator_is_refused_naming_the_extra(beside: Beside) -> None:
    problem = refused_run_problem(beside)
    assert problem is None, problem
