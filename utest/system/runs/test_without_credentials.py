"""The ECS suites against a real target without AWS credentials (spec AC 1): every test is
skipped saying so, none fails, and nothing even tries to reach the target (it is not there)."""

from __future__ import annotations

import os

import pytest
from robot_runs import ECS_TEST_IDS, RESULTS, RUN_TIME_LIMIT_SECONDS, ecs_robot, output_of, run

import tasks
from utest.outcomes import Expected, Outcome, by_name, mismatch

OUTPUT_DIR = RESULTS / "ecs-no-credentials"
SKIPPED = Expected("SKIP", r"(?m)^AWS credentials not available$")

# Bounded as tasks.py bounds the step that runs this module.
pytestmark = pytest.mark.timeout(RUN_TIME_LIMIT_SECONDS)


@pytest.fixture(scope="module")
def run_without_credentials() -> dict[str, Outcome]:
    env = {k: v for k, v in os.environ.items() if k not in tasks.AWS_CREDENTIAL_VARIABLES}
    env["SOCKERLESS_HOST"] = "unix:///var/run/sockerless.sock"  # a real target, not there
    finished = run(ecs_robot(OUTPUT_DIR, "ECS Without Credentials"), env, OUTPUT_DIR)
    return by_name(output_of(finished, OUTPUT_DIR))


@pytest.mark.parametrize("test", ECS_TEST_IDS, ids=ECS_TEST_IDS.get)
def test_every_test_is_skipped_for_want_of_credentials(
    run_without_credentials: dict[str, Outcome], test: str
) -> None:
    problem = mismatch(run_without_credentials, test, SKIPPED)
    assert problem is None, problem


def test_no_other_test_ran(run_without_credentials: dict[str, Outcome]) -> None:
    assert sorted(run_without_credentials) == sorted(ECS_TEST_IDS)
