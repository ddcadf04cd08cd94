"""Item 6: cleanup only touches what carries this project's labels; and the leak count can fail.

Resources made beforehand without the kit's labels or tags (a task definition, a running task, a
log group with a stream, a stream in the shared group, a container created and started through the
daemon) must all still be there after a full run and after the widest sweep (no ``--run-id``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from reliability_harness import (
    ECS_SUITES,
    Inventory,
    Simulator,
    count_leaks,
    run_robot,
    sweep,
    wait_for,
)

pytestmark = pytest.mark.timeout(240)

FOREIGN_GROUP = "/foreign/app"
FOREIGN_STREAM = "app/main/0001"
SHARED_GROUP_STREAM = "foreign/main/0002"
LOOKALIKE_FAMILY = "sockerless-0123456789ab"  # sockerless' naming, but no container of this run


def _register(sim: Simulator, family: str) -> str:
    answer = sim.client("ecs").register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "main", "image": "alpine:latest", "command": ["sleep", "300"]}
        ],
    )
    return str(answer["taskDefinition"]["taskDefinitionArn"])


def _task_status(sim: Simulator, arn: str) -> str:
    tasks = sim.client("ecs").describe_tasks(cluster=sim.info.cluster, tasks=[arn])["tasks"]
    return str(tasks[0]["lastStatus"]) if tasks else "MISSING"


def _make_foreign(sim: Simulator) -> dict[str, Any]:
    ecs, logs = sim.client("ecs"), sim.client("logs")
    foreign_definition = _register(sim, "foreign-app")
    lookalike_definition = _register(sim, LOOKALIKE_FAMILY)
    task = ecs.run_task(
        cluster=sim.info.cluster,
        taskDefinition=foreign_definition,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": sim.info.subnets,
                "securityGroups": sim.info.security_groups,
            }
        },
    )["tasks"][0]["taskArn"]
    logs.create_log_group(logGroupName=FOREIGN_GROUP)
    logs.create_log_stream(logGroupName=FOREIGN_GROUP, logStreamName=FOREIGN_STREAM)
    logs.create_log_stream(logGroupName=sim.info.log_group, logStreamName=SHARED_GROUP_STREAM)
    # A container of someone else on the same daemon: labels, but not the kit's.
    status, created = sim.docker(
        "POST",
        "/containers/create?name=foreign-worker",
        {"Image": "alpine:latest", "Cmd": ["sleep", "300"], "Labels": {"team": "other"}},
    )
    assert status == 201, created
    container_id = str(created["Id"])
    status, body = sim.docker("POST", f"/containers/{container_id}/start")
    assert status == 204, body
    wait_for(
        lambda: _task_status(sim, task) == "RUNNING", timeout=20, what="the foreign task RUNNING"
    )
    return {
        "task_definitions": [foreign_definition, lookalike_definition],
        "task": task,
        "container": container_id,
    }


def _assert_foreign_intact(sim: Simulator, foreign: dict[str, Any], when: str) -> None:
    ecs, logs = sim.client("ecs"), sim.client("logs")
    for arn in foreign["task_definitions"]:
        status = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"]
        assert status == "ACTIVE", f"{when}: task definition {arn} is {status}"
    assert _task_status(sim, foreign["task"]) == "RUNNING", f"{when}: foreign task stopped"
    status, inspect = sim.docker("GET", f"/containers/{foreign['container']}/json")
    assert status == 200, f"{when}: foreign container gone: {inspect}"
    assert inspect["State"]["Status"] == "running", f"{when}: {inspect['State']}"
    family = "sockerless-" + foreign["container"][:12]
    assert ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
    streams = {
        s["logStreamName"]
        for s in logs.describe_log_streams(logGroupName=FOREIGN_GROUP)["logStreams"]
    }
    assert streams == {FOREIGN_STREAM}, f"{when}: {streams}"
    shared = logs.describe_log_streams(
        logGroupName=sim.info.log_group, logStreamNamePrefix="foreign/"
    )["logStreams"]
    assert [s["logStreamName"] for s in shared] == [SHARED_GROUP_STREAM], when


def test_foreign_resources_survive_a_run_and_the_widest_sweep(
    sim: Simulator, tmp_path: Path
) -> None:
    foreign = _make_foreign(sim)
    baseline = Inventory.take(sim)
    run = run_robot(sim, tmp_path, run_id="rel-safety", arguments=["--include", "ecs", ECS_SUITES])
    assert run.process.returncode == 0, run.console[-3000:]
    _assert_foreign_intact(sim, foreign, "after the run")
    assert count_leaks(sim, baseline).total == 0

    # A leftover of the run for the sweep to clean next to the foreign resources: a started
    # container carrying the kit's labels (as a killed run would leave it).
    status, created = sim.docker(
        "POST",
        "/containers/create",
        {
            "Image": "alpine:latest",
            "Cmd": ["sleep", "300"],
            "Labels": {
                "sockerless-kit.project": "sockerless-ecs-acceptance",
                "sockerless-kit.run-id": "rel-safety",
            },
        },
    )
    assert status == 201, created
    assert sim.docker("POST", f"/containers/{created['Id']}/start")[0] == 204
    assert count_leaks(sim, baseline).total == 3  # container, task, task definition

    # The widest sweep: every run in the journal and every kit-labelled container on the daemon.
    result = sweep(sim, run, run_id=None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sweep: 1 found, 1 cleaned, 0 failed" in result.stdout
    _assert_foreign_intact(sim, foreign, "after the sweep")
    assert count_leaks(sim, baseline).total == 0


def test_leak_count_sees_every_kind_of_leak(sim: Simulator, baseline: Inventory) -> None:
    """The harness itself: one leak of each kind is counted (so a 0 above means something)."""
    status, created = sim.docker(
        "POST",
        "/containers/create",
        {
            "Image": "alpine:latest",
            "Cmd": ["sleep", "300"],
            "Labels": {"sockerless-kit.project": "sockerless-ecs-acceptance"},
        },
    )
    assert status == 201, created
    status, _ = sim.docker("POST", f"/containers/{created['Id']}/start")
    assert status == 204
    sim.client("logs").create_log_group(logGroupName="/leaked/group")
    sim.client("logs").create_log_stream(
        logGroupName=sim.info.log_group, logStreamName=created["Id"][:12] + "/main/x"
    )
    time.sleep(0.2)
    leaks = count_leaks(sim, baseline)
    assert len(leaks.containers) == 1
    assert len(leaks.tasks_not_stopped) == 1
    assert len(leaks.active_task_definitions) == 1
    assert leaks.log_streams == [f"{sim.info.log_group}:{created['Id'][:12]}/main/x"]
    assert leaks.log_groups == ["/leaked/group"]
