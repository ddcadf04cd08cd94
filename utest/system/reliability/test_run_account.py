"""Issue 24 item 2: the end-of-run account in every way a run is started.

The daemon and its AWS endpoint die together (SIGKILL to a standalone simulator) while the first
flow starts its task, in the documented run (``robot --include ecs suites``: its top suite is
``suites/__init__.robot``), in a run of one suite file, in a run of two files (robot makes a top
suite of its own that loads nothing) and under pabot. Each must end within 30 s of the fault
and say what may be left and how to sweep it: the sweep command with the run id on the console
(robot) or in the merged report (pabot, whose processes' consoles are files), the report
metadata (``Cleanup left`` with that command, ``Down during the run``, ``Cleanup`` counting what
is left), and a ``left`` journal line for each container the run could not clean. Before this,
the documented run printed only ``Automatic cleanup incomplete``: its top suite did not load the
library, and only the top suite accounted.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from reliability_harness import ROOT, VENV_BIN, RobotRun, Simulator, start_robot, wait_for

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

MAX_AFTER_FAULT = 30.0
FIRST_START = "POST /containers/{id}/start"
SWEEP = re.compile(r"python -m SockerlessLibrary\.sweep --run-id (\S+) --journal-dir \S+")
RUNS = {
    "the suites directory": ["--include", "ecs", str(ROOT / "suites")],
    "one suite file": [str(ROOT / "suites" / "ecs" / "exec.robot")],
    "two suite files": [
        str(ROOT / "suites" / "ecs" / "exec.robot"),
        str(ROOT / "suites" / "ecs" / "lifecycle.robot"),
    ],
}


def kill_at_the_first_start(
    sim: Simulator, process: subprocess.Popen[bytes], console: Path
) -> float:
    """SIGKILL the simulator (daemon and AWS together) once a start is in flight."""
    wait_for(
        lambda: process.poll() is not None or sim.docker_requests(FIRST_START) >= 1,
        timeout=90,
        interval=0.02,
        what="the first start",
    )
    assert process.poll() is None, (
        "the run ended before its first start:\n" + console.read_text(errors="replace")[-3000:]
    )
    os.kill(sim.process.pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: not sim.process.is_running(), timeout=10, what="the simulator's end")
    return killed


def metadata_of(output_xml: Path) -> dict[str, str]:
    top = ET.parse(output_xml).getroot().find("suite")
    assert top is not None
    return {m.get("name", ""): m.text or "" for m in top.findall("meta")}


def journal_of(journal_dir: Path, run_id: str) -> tuple[set[str], set[str]]:
    """(pending, left): 12-character IDs created and not cleaned, and those with a left line."""
    records = [json.loads(line) for line in (journal_dir / f"{run_id}.jsonl").open()]
    ids = {e: {r["container_id"][:12] for r in records if r["event"] == e} for e in ("created",)}
    cleaned = {r["container_id"][:12] for r in records if r["event"] == "cleaned"}
    left = {r["container_id"][:12] for r in records if r["event"] == "left"}
    return ids["created"] - cleaned, left


def robot_case(name: str, workdir: Path) -> dict[str, object]:
    run_id = "account-" + re.sub(r"\W+", "-", name)
    sim = Simulator.start(profile="fargate", time_scale=0.1)
    try:
        run: RobotRun = start_robot(sim, workdir, run_id=run_id, arguments=RUNS[name])
        killed = kill_at_the_first_start(sim, run.process, run.outdir / "console.txt")
        run.wait(MAX_AFTER_FAULT + 60)
        after = time.monotonic() - killed
    finally:
        sim.stop()
    console = run.console
    context = f"{name}:\n{console[-4000:]}"
    assert after <= MAX_AFTER_FAULT, context

    # The console's last lines name the sweep for this run, after the last test's result.
    commands = SWEEP.findall(console)
    assert commands and set(commands) == {run_id}, context
    last_test = max(console.rfind(test[:40]) for test in run.test_statuses())
    assert console.rfind("python -m SockerlessLibrary.sweep") > last_test, context

    metadata = metadata_of(run.outdir / "output.xml")
    pending, left = journal_of(run.journal_dir, run_id)
    assert pending and left == pending, (pending, left)
    assert f"--run-id {run_id} " in metadata["Cleanup left"], metadata
    assert all(container in metadata["Cleanup left"] for container in pending), metadata
    assert "down since" in metadata["Down during the run"], metadata
    assert f", {len(pending)} left: see Cleanup left" in metadata["Cleanup"], metadata
    return {"run": name, "after_fault": round(after, 1), "left": len(pending)}


def test_every_robot_run_ends_with_the_sweep_command_when_the_target_dies(
    tmp_path: Path,
) -> None:
    with ThreadPoolExecutor(len(RUNS)) as pool:
        results = list(pool.map(lambda n: robot_case(n, tmp_path / n.replace(" ", "-")), RUNS))
    print("\n" + json.dumps(results))


def test_a_pabot_run_reports_every_processs_leftovers_in_the_merged_report(
    tmp_path: Path,
) -> None:
    """pabot: each process has its own run id; the merged report names the sweep of each one
    that left something, and what went down."""
    sim = Simulator.start(profile="fargate", time_scale=0.1)
    journal_dir = tmp_path / "journal"
    env = sim.robot_env("unused", journal_dir)
    env.pop("SOCKERLESS_KIT_RUN_ID")  # a pabot run: one run id per process
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    outdir = tmp_path / "pabot"
    try:
        with (tmp_path / "console.txt").open("wb") as console:
            process = subprocess.Popen(
                [
                    *(str(VENV_BIN / "pabot"), "--processes", "2", "--outputdir", str(outdir)),
                    *("--include", "ecs", str(ROOT / "suites")),
                ],
                cwd=tmp_path,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
            )
        killed = kill_at_the_first_start(sim, process, tmp_path / "console.txt")
        process.wait(MAX_AFTER_FAULT + 60)
        after = time.monotonic() - killed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        sim.stop()
    console_text = (tmp_path / "console.txt").read_text(errors="replace")
    assert after <= MAX_AFTER_FAULT + 10, console_text[-3000:]  # pabot merges after the runs
    metadata = metadata_of(outdir / "output.xml")
    run_ids = {path.stem for path in journal_dir.glob("*.jsonl")}
    left_by_run = {run_id: journal_of(journal_dir, run_id) for run_id in run_ids}
    leaving = {run_id for run_id, (pending, _) in left_by_run.items() if pending}
    assert leaving, left_by_run
    for run_id, (pending, left) in left_by_run.items():
        assert left == pending, (run_id, pending, left)
    named = set(SWEEP.findall(metadata["Cleanup left"]))
    assert named == leaving, metadata
    assert "down since" in metadata["Down during the run"], metadata
    total = sum(len(pending) for pending, _ in left_by_run.values())
    assert re.search(
        rf", {total} left \(over [2-9] processes\): see Cleanup left$", metadata["Cleanup"]
    ), metadata
    print(f"\npabot: ended {after:.1f} s after the fault; {total} left in {len(leaving)} runs")
