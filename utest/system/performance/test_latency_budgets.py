"""Latency budgets end to end: a budget below what the phase takes on the simulator fails the
test, naming the phase and the figure; one it keeps is not mentioned; a misspelt one fails."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import run_robot

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

# fargate at 0.05: PROVISIONING lasts 0.25-1 s, so a 0.1 s budget cannot hold.
TIME_SCALE = "0.05"
PROVISIONING_MINIMUM = 5.0 * float(TIME_SCALE)


def embedded_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The default target (the embedded simulator), with its own journal."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SOCKERLESS_", "AWS_")) and k != "PYTHONPATH"
    }
    env["SOCKERLESS_KIT_JOURNAL_DIR"] = str(tmp_path / "journal")
    env.update(extra)
    return env


def test_a_budget_below_the_simulators_provisioning_fails_the_test_naming_it(
    tmp_path: Path,
) -> None:
    env = embedded_environment(
        tmp_path, SOCKERLESS_SIM_PROFILE="fargate", SOCKERLESS_SIM_TIME_SCALE=TIME_SCALE
    )
    arguments = [
        "--include",
        "lifecycle",
        "--exclude",
        "exec",
        "--variable",
        "LATENCY_BUDGET_PROVISIONING:0.1s",
        "--variable",
        "LATENCY_BUDGET_LOG_DELIVERY:1 min",
        "suites",
    ]
    output = run_robot(arguments, env, tmp_path / "robot")
    (test,) = ET.parse(output).getroot().iter("test")
    status = test.find("status")
    assert status is not None
    message = status.text or ""
    assert status.get("status") == "FAIL", message
    assert "provisioning (ECS createdAt -> pullStartedAt) took" in message
    assert "over LATENCY_BUDGET_PROVISIONING = 0.10 s" in message
    assert "log delivery" not in message
    timeline = json.loads((tmp_path / "robot" / "timeline.json").read_text())
    (entry,) = timeline["tests"]
    (violation,) = entry["budget_violations"]
    assert violation["figure"] == "provisioning"
    assert violation["seconds"] >= PROVISIONING_MINIMUM
    assert timeline["run"]["budgets"] == {
        "LATENCY_BUDGET_PROVISIONING": 0.1,
        "LATENCY_BUDGET_LOG_DELIVERY": 60.0,
    }


def test_a_misspelt_budget_variable_fails_loudly(tmp_path: Path) -> None:
    arguments = ["--include", "config", "--variable", "LATENCY_BUDGET_PROVISION:1s", "suites"]
    output = run_robot(arguments, embedded_environment(tmp_path), tmp_path / "robot")
    (test,) = ET.parse(output).getroot().iter("test")
    status = test.find("status")
    assert status is not None
    assert status.get("status") == "FAIL"
    assert (status.text or "").startswith(
        "Unknown latency budget variable LATENCY_BUDGET_PROVISION: the budgets are "
        "LATENCY_BUDGET_PROVISIONING, LATENCY_BUDGET_PULL, LATENCY_BUDGET_START_TO_RUNNING"
    )
