"""The kit at the lower bounds of its requirements (``requirements.txt``): the newest release of
each bound's line, installed without the simulator extra (``python3 tasks.py boto3-range`` and a
step of ``python3 tasks.py test``). A bound that no longer holds turns this red: pip cannot
resolve, ``pip check`` complains, the team's suites fail under ``robot`` or ``pabot``, or a kit
keyword no longer refuses an unknown ``name=value`` (the argument check relies on Robot honouring
a listener's ``implementation.error``: ``utest/system/library/test_argument_check.py`` runs here
with the lowest Robot Framework).
"""

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

import tasks
from utest.kit_environment import INSTALL_TIME_LIMIT_SECONDS, kit_wheel, run, succeed

LOWER_BOUNDS = {
    "robotframework": "7.1.*",
    "robotframework-pythonlibcore": "4.4.*",
    "robotframework-requests": "0.9.7",
    "robotframework-pabot": "4.0.*",
    "requests": "2.31.*",
    "websocket-client": "1.7.*",
    "boto3": "1.40.*",
}
ARGUMENT_CHECK = "utest/system/library/test_argument_check.py"

# Bounded as tasks.py bounds the step that runs this module.
pytestmark = pytest.mark.timeout(RUN_TIME_LIMIT_SECONDS)


@pytest.fixture(scope="module")
def beside() -> Iterator[Beside]:
    with tempfile.TemporaryDirectory(prefix="kit-lower-bounds-") as scratch:
        work = Path(scratch)
        yield install_beside(work, kit_wheel(work), LOWER_BOUNDS)


def test_each_requirement_has_its_lower_bound_pinned_here() -> None:
    """A bound added to or raised in requirements.txt is pinned here too (at its line)."""
    bounds = {}
    for line in (tasks.ROOT / "requirements.txt").read_text().splitlines():
        name, _, version = line.partition(">=")
        if version and not line.startswith("#"):
            bounds[name.strip()] = version.strip()
    bounds.pop("botocore")  # boto3's own, installed with it
    assert {name: pin.rstrip(".*") for name, pin in LOWER_BOUNDS.items()} == bounds


def test_pip_check_is_clean(beside: Beside) -> None:
    ran = pip_check(beside)
    assert ran.code == 0, ran.said()


def test_the_lower_bounds_are_what_is_installed(beside: Beside) -> None:
    ran = versions_check(beside)
    assert ran.code == 0, ran.said()


def test_the_team_suites_pass_under_robot(beside: Beside) -> None:
    problems = team_suites_problems(
        beside, [beside.command, "--outputdir", "results", "suites"], "results"
    )
    assert problems == []


def test_the_team_suites_pass_under_pabot(beside: Beside) -> None:
    pabot = [str(beside.kit.bin / "pabot"), "--processes", "2", "--outputdir", "results-pabot"]
    problems = team_suites_problems(beside, [*pabot, "suites"], "results-pabot")
    assert problems == []


def test_the_embedded_simulator_is_refused_naming_the_extra(beside: Beside) -> None:
    problem = refused_run_problem(beside)
    assert problem is None, problem


def test_every_kit_keyword_refuses_an_unknown_option_on_the_lowest_robot(beside: Beside) -> None:
    succeed(
        "pytest for the argument check",
        beside.pip("install", "-q", "pytest", "pytest-timeout"),
        beside.kit.env(),
        time_limit=INSTALL_TIME_LIMIT_SECONDS,
    )
    ran = run(
        "the argument check on this environment's Robot Framework",
        [beside.python, "-m", "pytest", ARGUMENT_CHECK, "-q", "-p", "no:cacheprovider"],
        beside.kit.env(),
    )
    assert ran.code == 0, ran.said()
    assert " passed" in ran.output and " skipped" not in ran.output, ran.said()
