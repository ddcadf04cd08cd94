"""Issue 26: reports that add up under plain pabot, as a team runs it.

Eight tests in four suite files, each test creating and starting one container, run by plain
``pabot --processes 2`` (each process with its own embedded simulator, no kit tooling around
it) and by ``robot``. pabot merges the processes' outputs keeping one process's metadata, so
before this the merged report said ``Fargate tasks = 1`` for three tasks, and each process wrote
its own ``timeline.json`` that nothing merged. Now both reports say 8 Fargate tasks, the budget
used 8, and 8 containers created, cleaned and proven gone; pabot's output directory holds one
``timeline.json`` with all 8 containers.
"""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from reliability_harness import FOREIGN_VARIABLES, VENV_BIN

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

RUN_TIME_LIMIT_SECONDS = 240
SUITE = """\
*** Settings ***
Resource          sockerless_ecs_acceptance/resources/ecs_suite.resource
Resource          sockerless_ecs_acceptance/resources/containers.resource
Resource          sockerless_ecs_acceptance/resources/cleanup.resource
Suite Setup       Prepare ECS Suite
Suite Teardown    Finish ECS Suite
Test Teardown     Clean Up And Verify Test Containers
Test Tags         fargate-tasks:1

*** Test Cases ***
First Job Of {name}
    ${{id}}=    Create Fargate Container    echo    first
    Start Fargate Container    ${{id}}
    Container Should Have Exited With Code    ${{id}}    0

Second Job Of {name}
    ${{id}}=    Create Fargate Container    echo    second
    Start Fargate Container    ${{id}}
    Container Should Have Exited With Code    ${{id}}    0
"""


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("team")
    suites = root / "suites"
    suites.mkdir()
    (suites / "__init__.robot").write_text(
        "*** Settings ***\nResource    sockerless_ecs_acceptance/resources/sockerless.resource\n"
    )
    for name in ("Alpha", "Beta", "Gamma", "Delta"):
        (suites / f"{name.lower()}.robot").write_text(SUITE.format(name=name))
    return root


def run(command: list[str], cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_VARIABLES}
    env = {k: v for k, v in env.items() if not k.startswith(("SOCKERLESS_KIT_", "ROBOT_"))}
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIME_LIMIT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]


def metadata(output_xml: Path) -> dict[str, str]:
    top = ET.parse(output_xml).getroot().find("suite")
    assert top is not None
    return {m.get("name", ""): m.text or "" for m in top.findall("meta")}


@pytest.mark.parametrize("runner", ["pabot", "robot"])
def test_eight_creates_make_eight_fargate_tasks_in_the_report(team: Path, runner: str) -> None:
    outdir = team / f"results-{runner}"
    parallel = ["--processes", "2"] if runner == "pabot" else []
    run([str(VENV_BIN / runner), *parallel, "--outputdir", str(outdir), "suites"], team)

    data = metadata(outdir / "output.xml")
    assert data["Fargate tasks"] == "8", data
    assert data["Fargate task budget"].startswith("8 used, 8 declared"), data
    processes = " (over 4 processes)" if runner == "pabot" else ""
    assert data["Cleanup"] == (
        f"8 containers created, 8 cleaned, 8 proven gone on AWS, 0 left{processes}"
    ), data
    assert "Cleanup left" not in data and "Down during the run" not in data

    timeline = json.loads((outdir / "timeline.json").read_text())
    containers = [c["container_id"] for test in timeline["tests"] for c in test["containers"]]
    assert len(containers) == len(set(containers)) == 8
    if runner == "pabot":
        assert len(timeline["run"]["processes"]) == 4
        assert len({test["run_id"] for test in timeline["tests"]}) == 4
        # each process's own file is still there, beside pabot's merge of them
        assert len(list((outdir / "pabot_results").glob("*/timeline.json"))) == 4
        # Each process put its last account in the ledger this pabot run agreed on, so the one
        # writing the totals could stop waiting before the others had exited.
        budget = data["Fargate task budget"]
        assert budget.endswith(", shared by the run's pabot processes)"), budget
        budget_id = budget.rsplit("(budget id ", 1)[1].split(",")[0]
        lines = (team / ".kit-journal" / f"{budget_id}.budget").read_text().splitlines()
        done = [json.loads(line).get("done_pabot_index") for line in lines]
        assert sorted(i for i in done if i is not None) == [0, 1, 2, 3]
