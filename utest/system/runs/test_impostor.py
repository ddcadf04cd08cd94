"""The ECS suites against a plain Docker Engine, the impostor (``python3 tasks.py impostor``).

A plain Docker Engine runs every container for real but launches nothing on ECS, with the
embedded simulator's moto as the AWS side: every Fargate flow must fail, and the two that get as
far as a task say what AWS lacked. The configuration test passes (it launches nothing); the
unpullable image is refused at create (Docker needs the image locally; a Fargate backend pulls at
RunTask). As root, ``peers.docker_engine`` installs Debian's ``docker.io`` when it is missing and
starts a private engine for the run; without one the module is skipped, saying why.
"""

from __future__ import annotations

import pytest
from robot_runs import (
    CONFIG_TEST,
    ECS_TEST_IDS,
    EXEC_TEST,
    LIFECYCLE_TEST,
    PEER_ENGINE,
    RESULTS,
    RUN_TIME_LIMIT_SECONDS,
    START_TIMEOUT_TEST,
    WITH_SIMULATOR,
    ecs_robot,
    output_of,
    run,
)

import tasks
from utest.outcomes import Expected, Outcome, by_name, mismatch

NO_TASK = r"no ECS task for the container[\s\S]*looked with: ECS"
EXPECTED = {
    CONFIG_TEST: Expected("PASS"),
    LIFECYCLE_TEST: Expected("FAIL", NO_TASK),
    EXEC_TEST: Expected("FAIL", NO_TASK),
    START_TIMEOUT_TEST: Expected("FAIL", r"No such image|expected on AWS"),
}
OUTPUT_DIR = RESULTS / "ecs-impostor"

# Bounded as tasks.py bounds the step that runs this module.
pytestmark = pytest.mark.timeout(RUN_TIME_LIMIT_SECONDS)


@pytest.fixture(scope="module")
def impostor_run() -> dict[str, Outcome]:
    command = [
        *WITH_SIMULATOR,
        *PEER_ENGINE,
        *ecs_robot(OUTPUT_DIR, "ECS Against A Plain Docker Engine"),
    ]
    finished = run(command, tasks.embedded_environment(), OUTPUT_DIR)
    return by_name(output_of(finished, OUTPUT_DIR))


@pytest.mark.parametrize("test", EXPECTED, ids=ECS_TEST_IDS.get)
def test_every_fargate_flow_fails_on_a_plain_docker_engine(
    impostor_run: dict[str, Outcome], test: str
) -> None:
    problem = mismatch(impostor_run, test, EXPECTED[test])
    assert problem is None, problem


def test_no_other_test_ran(impostor_run: dict[str, Outcome]) -> None:
    assert sorted(impostor_run) == sorted(EXPECTED)
