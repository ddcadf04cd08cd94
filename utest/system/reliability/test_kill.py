"""Item 3: robot killed with SIGKILL mid-flow; the documented sweep command, or the next run's
suite setup, then leaves 0 leaks.

The kill lands while the victim's exec runs: a RUNNING task, its ACTIVE task definition, a log
stream and the container on the daemon all exist, and no teardown or listener ever runs.
"""

from __future__ import annotations

import json
import signal
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
    start_robot,
    sweep,
    wait_for,
)

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize("recovery", ["sweep command", "next run's suite setup"])
def test_sigkill_mid_run_then_recovery_leaves_nothing(
    sim: Simulator, baseline: Inventory, tmp_path: Path, recovery: str
) -> None:
    run_id = "rel-kill"
    run = start_robot(
        sim,
        tmp_path,
        run_id=run_id,
        arguments=["--variable", VICTIM_TAG_VARIABLE, "--include", "slow-flow", VICTIMS],
    )
    wait_for(
        lambda: sim.docker_requests("POST /exec/{id}/start") >= 1,
        timeout=60,
        what="the victim's exec",
    )
    wait_for(
        lambda: bool(count_leaks(sim, baseline).log_streams),
        timeout=10,
        what="the task's log stream",
    )
    run.send(signal.SIGKILL)
    assert run.wait(timeout=10) == -signal.SIGKILL

    left = count_leaks(sim, baseline)
    assert len(left.containers) == 1, str(left)
    assert len(left.tasks_not_stopped) == 1, str(left)
    assert len(left.active_task_definitions) == 1, str(left)
    assert len(left.log_streams) == 1, str(left)
    assert run.journal_pending() == 1

    if recovery == "sweep command":
        result = sweep(sim, run)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "sweep: 1 found, 1 cleaned, 0 failed" in result.stdout
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert summary["failed"] == {} and len(summary["cleaned"]) == 1
    else:
        # The same run id again: the configuration suite launches no task, but its suite setup
        # sweeps what the run id left.
        again = run_robot(
            sim, tmp_path, run_id=run_id, name="next", arguments=["--include", "config", ECS_SUITES]
        )
        assert again.process.returncode == 0, again.console[-3000:]
        assert any("1 found, 1 cleaned, 0 failed" in m for m in again.messages())
    assert run.journal_pending() == 0
    leaks = count_leaks(sim, baseline)
    assert leaks.total == 0, str(leaks)
