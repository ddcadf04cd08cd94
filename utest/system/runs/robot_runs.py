"""A robot run whose outcomes a module here judges: its command, environment and time limit.

The run writes to ``results/<dir>`` (the CI jobs keep ``results/`` as their artifact) and prints
its console whole when it is over; ``tasks.py`` runs these modules with ``-s``, so the console
reads in the check's log as the step's own.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from utest import kit_environment
from utest.kit_environment import RUN_TIME_LIMIT_SECONDS, Ran

ROOT = Path(__file__).resolve().parents[3]
RESULTS = ROOT / "results"
BIN = Path(sys.executable).parent
# `python -m peers.docker_engine run`: no Docker Engine could be had (its one line says why).
ENGINE_UNAVAILABLE = 77
UNAVAILABLE_LINE = re.compile(r"^docker engine: unavailable: .*$", re.MULTILINE)

CONFIG_TEST = "ECS Cluster And VPC Configuration Come From The Environment"
LIFECYCLE_TEST = (
    "Short-Lived Container Runs To Completion, Is Listed, Logs To CloudWatch And Is Removed"
)
EXEC_TEST = "Long-Running Container Serves Exec Through The Agent And Stops On Request"
START_TIMEOUT_TEST = "Start Of An Unpullable Image Fails With An Error Instead Of Hanging"
# Short ids for the parametrized judgements of the four ECS tests.
ECS_TEST_IDS = {
    CONFIG_TEST: "configuration",
    LIFECYCLE_TEST: "lifecycle",
    EXEC_TEST: "exec",
    START_TIMEOUT_TEST: "start-timeout",
}
PEER_ENGINE = (
    *(str(BIN / "python"), "-m", "peers.docker_engine", "run"),
    *("--env-var", "SOCKERLESS_HOST", "--"),
)
WITH_SIMULATOR = (str(BIN / "python"), "-m", "sockerless_sim.with_simulator", "--")


def ecs_robot(output_dir: Path, suite_name: str, *options: str) -> list[str]:
    """``robot`` on the ECS suites into ``output_dir`` under a top-level suite name."""
    return [
        *(str(BIN / "robot"), "--outputdir", str(output_dir), "--xunit", "xunit.xml"),
        *("--include", "ecs", "--name", suite_name, *options, "suites"),
    ]


def run(
    command: list[str],
    env: dict[str, str],
    output_dir: Path,
    *,
    time_limit: float = RUN_TIME_LIMIT_SECONDS,
) -> Ran:
    """Run ``command`` (writing to ``output_dir``, emptied first) from the checkout, bounded;
    prints the command, then the console."""
    shutil.rmtree(output_dir, ignore_errors=True)
    return kit_environment.run(output_dir.name, command, env, cwd=ROOT, time_limit=time_limit)


def output_of(finished: Ran, output_dir: Path) -> Path:
    """The run's output.xml; skips when no Docker Engine could be had for it (the engine's own
    sentence says why), fails when the run wrote none."""
    output_xml = output_dir / "output.xml"
    if finished.code == ENGINE_UNAVAILABLE and not output_xml.exists():
        said = UNAVAILABLE_LINE.search(finished.output)
        pytest.skip(said.group(0) if said else "docker engine: unavailable")
    assert output_xml.is_file(), (
        f"the run wrote no output.xml (exit {finished.code}):\n{finished.output[-3000:]}"
    )
    return output_xml
