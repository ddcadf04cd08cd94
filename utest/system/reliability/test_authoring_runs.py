"""A QA engineer's own suites, run as robot runs them: the worked example, options that take
effect or fail, raw creates, --dryrun, the budget that fits what is selected, and the CI switch.

Runs against a standalone simulator go through the reliability harness, so what a run leaves
behind is counted through the daemon and with boto3 after robot has exited.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from reliability_harness import (
    FOREIGN_VARIABLES,
    ROBOT,
    ROOT,
    Inventory,
    Simulator,
    count_leaks,
    run_robot,
    statuses_in,
)

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

RESOURCES = ROOT / "resources"
RUN_LIMIT_SECONDS = 240
EXAMPLE_TESTS = 6
EXAMPLE_CREATES = 5  # the 404 test creates nothing
EXAMPLE_TASKS = 4  # the raw create is never started


def metadata(output: Path) -> dict[str, str]:
    return {str(m.get("name")): m.text or "" for m in ET.parse(output).getroot().iter("meta")}


def warnings(output: Path) -> list[str]:
    root = ET.parse(output).getroot()
    return [m.text or "" for m in root.iter("msg") if m.get("level") == "WARN"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in FOREIGN_VARIABLES and not k.startswith("AWS_") and k != "PYTHONPATH"
    }
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra)
    return env


def robot(arguments: list[str], env: dict[str, str], outdir: Path) -> int:
    completed = subprocess.run(
        [ROBOT, "--outputdir", str(outdir), "--consolecolors", "off", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=RUN_LIMIT_SECONDS,
        check=False,
    )
    assert (outdir / "output.xml").exists(), completed.stdout.decode()[-3000:]
    return completed.returncode


def test_the_example_suite_passes_leaves_nothing_and_counts_its_tasks(
    sim: Simulator, baseline: Inventory, tmp_path: Path
) -> None:
    run = run_robot(
        sim, tmp_path, run_id="example-run", arguments=["--include", "example", "suites"]
    )
    outcome = run.test_statuses()
    assert len(outcome) == EXAMPLE_TESTS
    assert {status for status, _ in outcome.values()} == {"PASS"}, outcome
    leaks = count_leaks(sim, baseline)
    assert leaks.total == 0, str(leaks)
    assert run.journal_pending() == 0 and run.journal_created() == EXAMPLE_CREATES
    assert sim.docker_requests("POST /containers/create") == EXAMPLE_CREATES
    launched = sim.stats()["aws"]["tasks_launched"]
    assert launched == EXAMPLE_TASKS
    meta = metadata(run.outdir / "output.xml")
    assert meta["Fargate tasks"] == str(launched)
    assert meta["Fargate task budget"].startswith(
        f"{EXAMPLE_CREATES} used, {EXAMPLE_CREATES} declared by the selected tests, not "
        "enforced: the target is the kit's simulator"
    )


OPTIONS_SUITE = """\
*** Settings ***
Resource          {resources}/ecs_suite.resource
Resource          {resources}/containers.resource
Resource          {resources}/cleanup.resource
Suite Setup       Prepare ECS Suite
Suite Teardown    Finish ECS Suite
Test Teardown     Clean Up And Verify Test Containers

*** Test Cases ***
Env And Working Dir Of Create Fargate Container Take Effect
    [Tags]    fargate-tasks:1
    VAR    &{{env}}=    FOO=bar
    ${{id}}=    Create Fargate Container    tail    -f    /dev/null    env=${{env}}
    ...    working_dir=/tmp
    ${{config}}=    Inspect Container    ${{id}}
    Should Contain    ${{config}}[Config][Env]    FOO=bar
    Should Be Equal    ${{config}}[Config][WorkingDir]    /tmp
    Should Not Contain    ${{config}}[Config][Labels]    env
    Start Fargate Container    ${{id}}
    ${{result}}=    Run Process In Container    ${{id}}    sh    -c    echo "$FOO"; pwd
    Should Be Equal    ${{result.stdout}}    bar\\n/tmp

The Issue's Working Dir Line Takes Effect
    [Tags]    fargate-tasks:1
    ${{id}}=    Create Container    alpine:latest    echo    hi    working_dir=/tmp
    ${{config}}=    Inspect Container    ${{id}}
    Should Be Equal    ${{config}}[Config][WorkingDir]    /tmp
    Should Be Equal    ${{config}}[Config][Cmd]    ${{{{ ["echo", "hi"] }}}}

A Misspelt Option Fails At The Call And Creates Nothing
    [Tags]    fargate-tasks:0
    Run Keyword And Expect Error    Create Fargate Container got unknown option 'workdir=/tmp'*
    ...    Create Fargate Container    echo    hi    workdir=/tmp
    Run Keyword And Expect Error    Create Container got unknown option 'envv=x'*valid options*
    ...    Create Container    alpine:latest    echo    hi    envv=x
    ${{created}}=    Get Created Containers
    Should Be Empty    ${{created}}

An Escaped Equals Sign Is A Command Word
    [Tags]    fargate-tasks:1
    ${{id}}=    Create Container    alpine:latest    env    FOO\\=bar
    ${{config}}=    Inspect Container    ${{id}}
    Should Be Equal    ${{config}}[Config][Cmd]    ${{{{ ["env", "FOO=bar"] }}}}

A Raw Create Left Running Is Still Cleaned
    [Tags]    fargate-tasks:1
    Create Sockerless Session
    VAR    &{{body}}=    Image=alpine:latest    Cmd=${{{{ ["tail", "-f", "/dev/null"] }}}}
    ${{answer}}=    POST On Session    sockerless    /containers/create    json=${{body}}
    POST On Session    sockerless    /containers/${{answer.json()}}[Id]/start
    [Teardown]    NONE
"""


def test_options_take_effect_or_fail_and_a_raw_create_leaves_nothing(
    sim: Simulator, baseline: Inventory, tmp_path: Path
) -> None:
    suite = tmp_path / "options.robot"
    suite.write_text(OPTIONS_SUITE.format(resources=RESOURCES))
    run = run_robot(sim, tmp_path, run_id="options-run", arguments=[str(suite)])
    outcome = run.test_statuses()
    assert {status for status, _ in outcome.values()} == {"PASS"}, outcome
    leaks = count_leaks(sim, baseline)
    assert leaks.total == 0, str(leaks)  # the raw container was labelled, registered, cleaned
    assert run.journal_pending() == 0 and run.journal_created() == 4
    messages = run.messages()
    assert any(m.startswith("Automatic cleanup at the end of the test: 1 ") for m in messages)


DRYRUN_SUITE = """\
*** Settings ***
Resource    {resources}/containers.resource
Resource    {resources}/exec.resource

*** Test Cases ***
Misspelt Option Of Create Container
    Create Container    alpine:latest    echo    hi    workdir=/tmp
Misspelt Option Of Create Fargate Container
    Create Fargate Container    tail    -f    /dev/null    envv=${{NONE}}
Misspelt Option Of An Exec Keyword
    Exec Should Return    ${{NONE}}    hi    echo    hi    workdir=/tmp
Misspelt Option Of Run Process In Container
    Run Process In Container    ${{NONE}}    pwd    cwd=/tmp
Valid Options And An Escaped Equals Sign
    Create Fargate Container    tail    -f    /dev/null    env=${{NONE}}    working_dir=/tmp
    ...    image=busybox    labels=${{NONE}}    name=mine
    Create Container    alpine:latest    env    FOO\\=bar    user=nobody
    Run Process In Container    ${{NONE}}    pwd    working_dir=/tmp
The Raw Session Resolves Without A Library Line Of Its Own
    Create Sockerless Session
    POST On Session    sockerless    /containers/create    json=${{NONE}}
    GET On Session    sockerless    /containers/json
"""


def test_dryrun_catches_misspelt_options_and_resolves_the_raw_session(tmp_path: Path) -> None:
    suite = tmp_path / "dry.robot"
    suite.write_text(DRYRUN_SUITE.format(resources=RESOURCES))
    code = robot(["--dryrun", str(suite)], clean_env(), tmp_path)
    outcome = statuses_in(tmp_path / "output.xml")
    assert code == 4
    assert outcome["Valid Options And An Escaped Equals Sign"][0] == "PASS"
    assert outcome["The Raw Session Resolves Without A Library Line Of Its Own"][0] == "PASS"
    expected = {
        "Misspelt Option Of Create Container": (
            "Create Container got unknown option 'workdir=/tmp' (did you mean working_dir?)"
        ),
        "Misspelt Option Of Create Fargate Container": (
            "Create Fargate Container got unknown option 'envv=${NONE}' (did you mean env?)"
        ),
        "Misspelt Option Of An Exec Keyword": (
            "Exec Should Return got unknown option 'workdir=/tmp' (did you mean working_dir?)"
        ),
        "Misspelt Option Of Run Process In Container": (
            "Run Process In Container got unknown option 'cwd=/tmp'"
        ),
    }
    for name, start in expected.items():
        status, message = outcome[name]
        assert status == "FAIL" and message.startswith(start), (name, message)
        assert "valid options are" in message


MINE = """\
*** Settings ***
Resource          ../../resources/ecs_suite.resource
Resource          ../../resources/containers.resource
Resource          ../../resources/cleanup.resource
Suite Setup       Prepare ECS Suite
Suite Teardown    Finish ECS Suite
Test Teardown     Clean Up And Verify Test Containers
Test Tags         ecs

*** Test Cases ***
Mine One
    Two Containers
Mine Two
    Two Containers
Mine Three
    Two Containers

*** Keywords ***
Two Containers
    FOR    ${i}    IN RANGE    2
        ${id}=    Create Fargate Container    echo    mine
        Start Fargate Container    ${id}
    END
"""


def copy_with_six_more_creates(tmp_path: Path) -> Path:
    """The shipped suites and resources, plus a suite of three undeclared tests that create two
    containers each: six more creates, as a QA engineer adds them."""
    copy = tmp_path / "kit"
    shutil.copytree(ROOT / "suites" / "ecs", copy / "suites" / "ecs")
    shutil.copytree(RESOURCES, copy / "resources")
    (copy / "suites" / "ecs" / "mine.robot").write_text(MINE)
    return copy


def test_six_more_creates_pass_on_the_simulator_under_robot_and_pabot(tmp_path: Path) -> None:
    copy = copy_with_six_more_creates(tmp_path)
    journal = str(tmp_path / "journal")
    suites = str(copy / "suites")
    # As `python3 tasks.py ecs` runs it: robot on the embedded simulator.
    robot_out = tmp_path / "robot"
    env = clean_env(SOCKERLESS_KIT_JOURNAL_DIR=journal)
    assert robot(["--include", "ecs", suites], env, robot_out) == 0
    assert {s for s, _ in statuses_in(robot_out / "output.xml").values()} == {"PASS"}
    assert metadata(robot_out / "output.xml")["Fargate task budget"].startswith(
        "10 used, 7 declared by the selected tests, not enforced: the target is the embedded "
        "simulator"
    )
    over = {w for w in warnings(robot_out / "output.xml") if "created 2 containers" in w}
    assert len(over) == 3, over  # each undeclared test that created two is named, once
    # As `python3 tasks.py pabot` runs it: three processes sharing one simulator and a budget.
    pabot_out = tmp_path / "pabot"
    pabot = [
        *[sys.executable, "-m", "sockerless_sim.with_simulator", "--"],
        *[str(Path(sys.executable).parent / "pabot"), "--processes", "3"],
        *["--outputdir", str(pabot_out), "--include", "ecs", suites],
    ]
    env = clean_env(SOCKERLESS_KIT_JOURNAL_DIR=journal, SOCKERLESS_KIT_BUDGET_ID="pabot-copy")
    completed = subprocess.run(
        pabot, cwd=ROOT, env=env, capture_output=True, timeout=RUN_LIMIT_SECONDS, check=False
    )
    assert completed.returncode == 0, completed.stdout.decode()[-3000:]
    assert {s for s, _ in statuses_in(pabot_out / "output.xml").values()} == {"PASS"}


@pytest.mark.parametrize(
    ("switch", "env_extra", "missing"),
    [
        (
            ["--variable", "REQUIRE_AWS_CREDENTIALS:true"],
            {},
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE: none is set",
        ),
        (
            [],
            {"SOCKERLESS_KIT_REQUIRE_CREDENTIALS": "true", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"},
            "set AWS_SECRET_ACCESS_KEY (the other half of the key pair is set)",
        ),
    ],
)
def test_the_ci_switch_turns_the_credentials_skip_into_a_failure_naming_the_variables(
    tmp_path: Path, switch: list[str], env_extra: dict[str, str], missing: str
) -> None:
    env = clean_env(SOCKERLESS_HOST="unix:///nonexistent/sockerless.sock", **env_extra)
    env["SOCKERLESS_KIT_JOURNAL_DIR"] = str(tmp_path / "journal")
    code = robot([*switch, "--include", "ecs", "suites"], env, tmp_path / "on")
    assert code != 0
    outcome = statuses_in(tmp_path / "on" / "output.xml")
    assert len(outcome) == 4
    for status, message in outcome.values():
        assert status == "FAIL"
        assert "AWS credentials not available, and this run requires them" in message
        assert missing in message
    # The default is unchanged: every test skipped with the spec's message, and rc 0.
    env.pop("SOCKERLESS_KIT_REQUIRE_CREDENTIALS", None)
    assert robot(["--include", "ecs", "suites"], env, tmp_path / "off") == 0
    skipped = statuses_in(tmp_path / "off" / "output.xml").values()
    assert {status for status, _ in skipped} == {"SKIP"}
    assert all("AWS credentials not available" in message for _, message in skipped)
