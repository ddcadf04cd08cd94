"""Issue 19: a target that dies mid-run. The daemon, the AWS endpoint or both are killed, or AWS
goes silent, while a flow starts, execs or is torn down (``outage_harness.py``); each run must end
within 30 s of the fault, every later test must fail naming the cause, the journal must hold what
was left, and the closing lines must name the sweep command, which then finishes the cleanup
once the target is back.

Each test runs the three points of one fault in parallel (three simulators, mostly idle while
they wait), to keep the matrix near a minute of wall time per fault.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from outage_harness import FAULTS, FLOW, LATER, POINTS, Case, fault_case
from reliability_harness import ROOT, SWEEP_TIMEOUT, Leaks

pytestmark = [pytest.mark.timeout(420), pytest.mark.slow]

MAX_AFTER_FAULT = 30.0
# A sweep against a target that is still down must give up quickly too: from the sweep's start
# (its main, after the interpreter has started and imported it) to its exit.
DEAD_SWEEP_SECONDS = 20.0
# The printed command as `python -m` runs it, but saying when the sweep itself starts: after
# the interpreter's start and the imports, which a loaded machine can stretch by seconds.
AS_PRINTED = (
    "import runpy, sys, time; import SockerlessLibrary.sweep; "
    "print(f'sweep-started-at {time.monotonic()}', file=sys.stderr, flush=True); "
    "runpy.run_module('SockerlessLibrary.sweep', run_name='__main__', alter_sys=True)"
)
STARTED_AT = re.compile(r"^sweep-started-at (\S+)$", re.MULTILINE)
SWEEP_COMMAND = re.compile(
    r"python -m SockerlessLibrary\.sweep (--run-id \S+ --journal-dir \S+(?: --host=\S+)?)"
)
CREDENTIALS = re.compile(r"needs this run's AWS credentials: (.+)\.$", re.MULTILINE)
# What the later test must say: that the target is down, and the first cause. Its create is
# refused at once when the address was marked down before; when the create is the first request
# after the fault, its own failure marks the address down and says so.
DOWN = re.compile(r"down since \S+ \(|marked down for the rest of the run")
CAUSES = {
    "daemon": ("connection refused",),
    "aws": ("Could not connect to the endpoint URL",),
    "aws-silent": ("Read timeout on endpoint URL",),
    "both": ("connection refused", "Could not connect to the endpoint URL"),
}


def leaked_ids(leaks: Leaks) -> set[str]:
    """The 12-character container IDs the leaked containers, definitions and streams belong to."""
    ids = {line.split()[0] for line in leaks.containers}
    ids |= {arn.rsplit("sockerless-", 1)[1].split(":")[0] for arn in leaks.active_task_definitions}
    ids |= {stream.split(":", 1)[1].split("/")[0] for stream in leaks.log_streams}
    return ids


def sweep_as_printed(case: Case, console: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """The closing lines' command, run with only the environment they name; and the seconds
    from the sweep's start to its exit (time.monotonic is one clock for every process)."""
    match = SWEEP_COMMAND.search(console)
    assert match, console[-3000:]
    named = CREDENTIALS.search(console)
    assert named, console[-3000:]
    source = case.sim.robot_env(case.run_id, case.workdir)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1"}
    env.update({name: source[name] for name in named.group(1).split(" and ")})
    swept = subprocess.run(
        [sys.executable, "-c", AS_PRINTED, *shlex.split(match.group(1))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SWEEP_TIMEOUT,
        check=False,
    )
    exited = time.monotonic()
    started = STARTED_AT.search(swept.stderr)
    assert started, swept.stdout + swept.stderr
    return swept, exited - float(started.group(1))


def check(case: Case) -> dict[str, object]:
    """Every promise of the issue for one case; returns its figures."""
    run = case.run
    assert run is not None
    context = f"{case.run_id}:\n{run.console[-4000:]}"
    assert not case.overran and case.ended_after_fault <= MAX_AFTER_FAULT, context

    statuses = run.test_statuses()
    # Killed in its teardown, the daemon is not needed by the flow any more: only later.
    flow_passes = (case.fault, case.point) == ("daemon", "teardown")
    assert statuses[FLOW][0] == ("PASS" if flow_passes else "FAIL"), context
    status, message = statuses[LATER]
    assert status == "FAIL", context
    assert DOWN.search(message), (message, context)
    assert any(cause in message for cause in CAUSES[case.fault]), (message, context)

    # The closing lines come after the last test's result and name the sweep for this run.
    console = run.console
    command = SWEEP_COMMAND.search(console)
    assert command and f"--run-id {case.run_id} " in command.group(0), context
    assert command.start() > console.index(LATER), context
    metadata = {m.get("name"): m.text or "" for m in run.output().iter("meta")}
    assert "down since" in metadata.get("Down during the run", ""), metadata

    # The journal holds what was left: a "left" line for each pending container.
    records = [json.loads(line) for line in (run.journal_dir / f"{case.run_id}.jsonl").open()]
    pending = {e["container_id"][:12] for e in records if e["event"] == "created"} - {
        e["container_id"][:12] for e in records if e["event"] == "cleaned"
    }
    left = {e["container_id"][:12] for e in records if e["event"] == "left"}
    assert left == pending, records
    assert bool(pending) == ("Cleanup left" in metadata), metadata
    if case.fault != "daemon" or case.point != "teardown":
        assert pending, context  # the fault cut a cleanup short: something stands in the journal

    if not case.simulator_alive:
        swept, seconds = sweep_as_printed(case, console)
        assert seconds < DEAD_SWEEP_SECONDS, (seconds, swept.stdout + swept.stderr)
        assert swept.returncode == 1, swept.stdout + swept.stderr
        assert "sweep: down: " in swept.stdout, swept.stdout
        return {
            "pending": len(pending),
            "leaks": "simulator dead",
            "sweep": swept.returncode,
            "sweep_seconds": round(seconds, 1),
        }

    leaks = case.leaks()
    assert leaked_ids(leaks) <= pending, (str(leaks), pending)
    if leaks.tasks_not_stopped:
        assert pending, str(leaks)
    # The target comes back where the run knew it; the printed command finishes the cleanup.
    case.restart_proxy("daemon" if case.fault == "daemon" else "aws")
    swept, _ = sweep_as_printed(case, console)
    assert swept.returncode == 0, swept.stdout + swept.stderr
    after = case.leaks()
    assert after.total == 0, str(after)
    return {"pending": len(pending), "leaks": leaks.total, "sweep": swept.returncode}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_target_that_dies_mid_flow_ends_the_run_in_seconds_and_names_the_sweep(
    tmp_path: Path, fault: str
) -> None:
    def one(point: str) -> dict[str, object]:
        with fault_case(fault, point, tmp_path / point) as case:
            figures = check(case)
            assert case.run is not None
            return {
                "point": point,
                "after_fault": round(case.ended_after_fault, 1),
                "wall": round(case.run.elapsed, 1),
                **figures,
            }

    with ThreadPoolExecutor(len(POINTS)) as pool:
        results = list(pool.map(one, POINTS))
    print(f"\n{fault}: " + json.dumps(results))
