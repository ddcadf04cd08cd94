"""The budget end to end: the ECS suites with ``FARGATE_TASK_BUDGET:2``, under robot and pabot.

A full run creates four containers (lifecycle makes a second one it never starts) and launches
three Fargate tasks. With a budget of 2, the third and fourth creates must fail with the budget
message, before the daemon is asked, and only two containers may ever be made:

* robot on its embedded simulator: the run's own AWS-side count (report metadata) is 2;
* pabot with three processes on one shared simulator, sharing the budget through PabotLib (no
  ``SOCKERLESS_KIT_BUDGET_ID``): the simulator received two creates in total, and ECS shows one
  task per process that won a slot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from reliability_harness import Inventory, Simulator

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
RUN_TIME_LIMIT_SECONDS = 240
EXHAUSTED = (
    "Fargate task budget exhausted: this run (budget id {}) already created 2 containers of "
    "its budget of 2; raise FARGATE_TASK_BUDGET (or SOCKERLESS_KIT_TASK_BUDGET) if the suite "
    "really needs more (nothing was sent to the daemon)"
)
TESTS = {
    "ECS Cluster And VPC Configuration Come From The Environment": "config",
    "Long-Running Container Serves Exec Through The Agent And Stops On Request": "exec",
    "Short-Lived Container Runs To Completion, Is Listed, Logs To CloudWatch And Is Removed": (
        "lifecycle"
    ),
    "Start Of An Unpullable Image Fails With An Error Instead Of Hanging": "start-timeout",
}


def clean_environment(journal: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any kit, target or AWS setting, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SOCKERLESS_", "AWS_")) and k != "PYTHONPATH"
    }
    env.update(SOCKERLESS_KIT_JOURNAL_DIR=str(journal), **extra)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    return env


def run(command: list[str], env: dict[str, str], output: Path) -> ET.Element:
    completed = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=RUN_TIME_LIMIT_SECONDS,
        check=False,
    )
    assert output.exists(), completed.stdout.decode()[-3000:] + completed.stderr.decode()[-3000:]
    return ET.parse(output).getroot()


def results(root: ET.Element) -> dict[str, tuple[str, str]]:
    """Test -> (status, message)."""
    found: dict[str, tuple[str, str]] = {}
    for test in root.iter("test"):
        status = test.find("status")
        assert status is not None
        found[TESTS[str(test.get("name"))]] = (str(status.get("status")), status.text or "")
    return found


def metadata(root: ET.Element) -> dict[str, str]:
    return {str(meta.get("name")): meta.text or "" for meta in root.iter("meta")}


def create_statuses(root: ET.Element) -> list[str]:
    """The status of every ``Create Container`` call of the run, in the order they ran."""
    calls: list[tuple[str, str]] = []
    for keyword in root.iter("kw"):
        status = keyword.find("status")
        if keyword.get("name") == "Create Container" and status is not None:
            calls.append((str(status.get("start")), str(status.get("status"))))
    return [status for _, status in sorted(calls)]


def ledger(journal: Path) -> tuple[str, list[dict[str, Any]]]:
    """The run's one budget file: its id and its events."""
    (path,) = journal.glob("*.budget")
    return path.stem, [json.loads(line) for line in path.read_text().splitlines()]


def test_robot_with_a_budget_of_two_fails_the_third_create(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    root = run(
        [
            str(BIN / "robot"),
            "--outputdir",
            str(tmp_path / "robot"),
            "--include",
            "ecs",
            "--variable",
            "FARGATE_TASK_BUDGET:2",
            "suites",
        ],
        clean_environment(journal),
        tmp_path / "robot" / "output.xml",
    )
    budget_id, events = ledger(journal)
    run_id = metadata(root)["Run Id"]
    assert budget_id == run_id  # one process: the budget is the run's

    assert create_statuses(root) == ["PASS", "PASS", "FAIL", "FAIL"]
    outcome = results(root)
    assert outcome["config"][0] == outcome["exec"][0] == "PASS"
    assert outcome["lifecycle"] == ("FAIL", EXHAUSTED.format(run_id))
    assert outcome["start-timeout"] == ("FAIL", EXHAUSTED.format(run_id))
    # The budget's own events; the file also carries the run's account (run/group.py).
    budget_events = [e["event"] for e in events if e["event"] not in ("usage", "account")]
    assert budget_events == ["reserved", "reserved", "denied", "denied"]
    (account,) = [e for e in events if e["event"] == "account"]
    assert (account["run_id"], account["created"], account["left_count"]) == (run_id, 2, 0)
    meta = metadata(root)
    assert meta["Fargate tasks"] == "2", meta  # counted on the AWS side: ListTasks per container
    assert meta["Fargate task budget"] == f"2 of 2 used, 2 creates denied (budget id {run_id})"


def test_pabot_processes_share_one_budget_of_two(sim: Simulator, tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    root = run(
        [
            str(BIN / "pabot"),
            "--processes",
            "3",
            "--outputdir",
            str(tmp_path / "pabot"),
            "--include",
            "ecs",
            "--variable",
            "FARGATE_TASK_BUDGET:2",
            "suites",
        ],
        clean_environment(journal, **sim.info.target_environment()),
        tmp_path / "pabot" / "output.xml",
    )
    budget_id, events = ledger(journal)  # one budget file for all processes
    assert budget_id.startswith("pabot-")  # agreed through PabotLib
    reserved = [event for event in events if event["event"] == "reserved"]
    denied = [event for event in events if event["event"] == "denied"]
    assert (len(reserved), len(denied)) == (2, 2)
    run_ids = {event["run_id"] for event in events}
    assert len(run_ids) >= 3, run_ids  # several processes, each with its own run id

    # The denied creates never reached the daemon; only two containers were ever made.
    assert sim.docker_requests("POST /containers/create") == 2
    created = [
        json.loads(line)["container_id"]
        for path in journal.glob("*.jsonl")
        for line in path.read_text().splitlines()
        if json.loads(line)["event"] == "created"
    ]
    assert len(created) == 2
    tasks = Inventory.take(sim).tasks  # ListTasks (RUNNING and STOPPED), DescribeTasks
    described = sim.client("ecs").describe_tasks(cluster=sim.info.cluster, tasks=list(tasks))
    families = {
        task["taskDefinitionArn"].split("/")[-1].split(":")[0] for task in described["tasks"]
    }
    assert families <= {f"sockerless-{container_id[:12]}" for container_id in created}
    # Every suite starts the first container it creates; only lifecycle creates a second one,
    # which it never starts. So each process that won a slot launched exactly one task: two,
    # unless the lifecycle process won both slots.
    winners = {event["pid"] for event in reserved}
    assert len(tasks) == sim.stats()["aws"]["tasks_launched"] == len(winners)
    print(f"\npabot, budget 2: {len(tasks)} Fargate task(s) launched, {len(denied)} creates denied")

    outcome = results(root)
    failed = {name: message for name, (status, message) in outcome.items() if status == "FAIL"}
    assert len(failed) == 2, outcome
    for message in failed.values():
        assert message == EXHAUSTED.format(budget_id).replace(
            f"budget id {budget_id})",
            f"budget id {budget_id}, shared by the run's pabot processes)",
        )
