"""Item 1 and 6: a passing run and a run failing mid-flow leave nothing; foreign resources survive.

Each run is robot as a subprocess against a standalone simulator (target 2); leaks are counted
through the daemon and with plain boto3 afterwards (see ``reliability_harness``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_harness import (
    ECS_SUITES,
    VICTIM_TAG_VARIABLE,
    VICTIMS,
    Inventory,
    Simulator,
    count_leaks,
    run_robot,
)

pytestmark = pytest.mark.timeout(240)


def test_passing_ecs_run_leaves_nothing(
    sim: Simulator, baseline: Inventory, tmp_path: Path
) -> None:
    run = run_robot(sim, tmp_path, run_id="rel-pass", arguments=["--include", "ecs", ECS_SUITES])
    assert run.process.returncode == 0, run.console[-3000:]
    stats = sim.stats()
    assert stats["aws"]["tasks_launched"] == 3  # the run really did launch its three tasks
    assert run.journal_created() == 4
    assert run.journal_pending() == 0
    leaks = count_leaks(sim, baseline)
    assert leaks.total == 0, str(leaks)


def test_run_failing_mid_flow_leaves_nothing(
    sim: Simulator, baseline: Inventory, tmp_path: Path
) -> None:
    run = run_robot(
        sim,
        tmp_path,
        run_id="rel-fail",
        arguments=["--variable", VICTIM_TAG_VARIABLE, "--include", "fails-midway", VICTIMS],
    )
    assert run.process.returncode == 2, run.console[-3000:]  # both victims failed, nothing else
    statuses = run.test_statuses()
    assert statuses["Assertion Fails In The Middle Of A Flow"] == (
        "FAIL",
        "Failing on purpose in the middle of the flow",
    )
    assert statuses["Assertion Fails Mid Flow With No Test Teardown"] == (
        "FAIL",
        "Failing on purpose after start: running != failing",
    )
    stats = sim.stats()
    assert stats["aws"]["tasks_launched"] == 2
    assert stats["aws"]["tasks_active"] == 0
    # Without a test teardown, the library's listener cleaned the second container.
    assert any("Automatic cleanup at the end of the test" in m for m in run.messages())
    assert run.journal_created() == 2
    assert run.journal_pending() == 0
    leaks = count_leaks(sim, baseline)
    assert leaks.total == 0, str(leaks)
