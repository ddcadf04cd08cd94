"""The ECS suites on the simulator's ``sockerless`` profile (``python3 tasks.py
sockerless-profile``): each test ends as it did on real sockerless 020b7fa4 with its own AWS
simulator (docs/sockerless.md), failures included, so the profile keeps reproducing them.
"""

from __future__ import annotations

import pytest
from robot_runs import (
    CONFIG_TEST,
    ECS_TEST_IDS,
    EXEC_TEST,
    LIFECYCLE_TEST,
    RESULTS,
    RUN_TIME_LIMIT_SECONDS,
    START_TIMEOUT_TEST,
    ecs_robot,
    output_of,
    run,
)

import tasks
from utest.outcomes import Expected, Outcome, by_name, mismatch

EXPECTED = {
    CONFIG_TEST: Expected("PASS"),
    LIFECYCLE_TEST: Expected("PASS"),
    EXEC_TEST: Expected("FAIL", r"^Exec [0-9a-f]+ exit code is 0, expected 7"),
    START_TIMEOUT_TEST: Expected(
        "FAIL", r"^Start answered 204 for an image that can never be pulled \("
    ),
}
OUTPUT_DIR = RESULTS / "ecs-sockerless-profile"

# Bounded as tasks.py bounds the step that runs this module.
pytestmark = pytest.mark.timeout(RUN_TIME_LIMIT_SECONDS)


@pytest.fixture(scope="module")
def profile_run() -> dict[str, Outcome]:
    finished = run(
        ecs_robot(OUTPUT_DIR, "ECS On The Sockerless Profile"),
        tasks.embedded_environment(SOCKERLESS_SIM_QUIRKS="sockerless"),
        OUTPUT_DIR,
    )
    return by_name(output_of(finished, OUTPUT_DIR))


@pytest.mark.parametrize("test", EXPECTED, ids=ECS_TEST_IDS.get)
def test_each_test_ends_as_measured_on_real_sockerless(
    profile_run: dict[str, Outcome], test: str
) -> None:
    problem = mismatch(profile_run, test, EXPECTED[test])
    assert problem is None, problem


def test_no_other_test_ran(profile_run: dict[str, Outcome]) -> None:
    assert sorted(profile_run) == sorted(EXPECTED)
