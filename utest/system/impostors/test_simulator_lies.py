"""Each simulator lie makes the ECS suites fail, at the AWS-side proof made for it.

A lie (``SOCKERLESS_SIM_LIES``) makes the embedded simulator answer every Docker call as before
while AWS shows something else. Only the positive AWS proofs can tell; these runs prove that they
do, and that the failure message names what AWS lacked. The flows a lie does not touch must still
pass, so a proof that fails everything (crying wolf) is caught as well.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from utest.outcomes import outcomes as read_outcomes

ROOT = Path(__file__).resolve().parents[3]
ROBOT = str(Path(sys.executable).parent / "robot")
ROBOT_TIMEOUT_SECONDS = 150
LIFECYCLE = "Short-Lived Container Runs To Completion, Is Listed, Logs To CloudWatch And Is Removed"
EXEC = "Long-Running Container Serves Exec Through The Agent And Stops On Request"
START_TIMEOUT = "Start Of An Unpullable Image Fails With An Error Instead Of Hanging"
# A run with one of these in the environment would not be on the embedded simulator.
FOREIGN_VARIABLES = (
    "SOCKERLESS_HOST",
    "SOCKERLESS_ECS_SOCKET",
    "SOCKERLESS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL",
    "SOCKERLESS_SIM_QUIRKS",
    "SOCKERLESS_SIM_PROFILE",
    "SOCKERLESS_SIM_TIME_SCALE",
)

pytestmark = pytest.mark.timeout(ROBOT_TIMEOUT_SECONDS + 30)


@dataclass(frozen=True)
class Lie:
    """A lie and what the suites must say about it: test name -> message fragment."""

    name: str
    fails: dict[str, str]

    def __str__(self) -> str:
        return self.name


LIES = (
    Lie("ip-not-eni", {EXEC: "which is not its task's ENI address"}),
    Lie(
        "logs-not-cloudwatch",
        {LIFECYCLE: "log lines for container"},
    ),
    Lie(
        "log-timestamps-not-cloudwatch",
        {LIFECYCLE: "timestamps the daemon prints are not the CloudWatch event timestamps"},
    ),
    Lie(
        "no-task-definition",
        {
            LIFECYCLE: "not launched from the container's task definition",
            EXEC: "not launched from the container's task definition",
            START_TIMEOUT: "not launched from the container's task definition",
        },
    ),
    Lie(
        "start-before-running",
        {
            LIFECYCLE: "start returned before RUNNING",
            EXEC: "start returned before RUNNING",
        },
    ),
)


def run_suites(outdir: Path, lie: str) -> dict[str, tuple[str, str]]:
    """The Fargate flows on an embedded simulator that tells ``lie``: test -> (status, message)."""
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_VARIABLES}
    env.update(
        SOCKERLESS_SIM_LIES=lie,
        SOCKERLESS_KIT_JOURNAL_DIR=str(outdir / "journal"),
    )
    subprocess.run(
        [
            *[ROBOT, "--outputdir", str(outdir), "--include", "slow", "--console", "none"],
            *["--name", f"ECS on a simulator that lies: {lie}", str(ROOT / "suites")],
        ],
        env=env,
        cwd=ROOT,
        check=False,
        timeout=ROBOT_TIMEOUT_SECONDS,
    )
    return {test.name: (test.status, test.message) for test in read_outcomes(outdir / "output.xml")}


@pytest.mark.slow
@pytest.mark.parametrize("lie", LIES, ids=str)
def test_the_suites_catch_the_lie_and_only_where_it_is_told(lie: Lie, tmp_path: Path) -> None:
    outcomes = run_suites(tmp_path, lie.name)
    assert set(outcomes) == {LIFECYCLE, EXEC, START_TIMEOUT}, outcomes
    for test, (status, message) in outcomes.items():
        if test in lie.fails:
            assert status == "FAIL", f"{lie}: {test} passed; the proof did not catch the lie"
            assert lie.fails[test] in message, f"{lie}: {test} failed for another reason: {message}"
            assert "expected on AWS:" in message and "looked with:" in message, message
        else:
            assert status == "PASS", f"{lie}: {test} is not about this lie but failed: {message}"
