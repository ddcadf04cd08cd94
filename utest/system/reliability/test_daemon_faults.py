"""Item 5: daemon 500s and connections dropped mid-stream (the simulator's Docker faults) fail
the affected test with a message naming the operation and the daemon's answer, within the
configured timeout, and leak nothing; the other tests of the run are unaffected.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
from reliability_harness import ECS_SUITES, Inventory, Simulator, count_leaks, run_robot

pytestmark = pytest.mark.timeout(180)

CONFIG = "ECS Cluster And VPC Configuration Come From The Environment"
LIFECYCLE = "Short-Lived Container Runs To Completion, Is Listed, Logs To CloudWatch And Is Removed"
EXEC = "Long-Running Container Serves Exec Through The Agent And Stops On Request"
START_TIMEOUT = "Start Of An Unpullable Image Fails With An Error Instead Of Hanging"
LOGS_TIMEOUT_SECONDS = 3.0
# Each failure is immediate; even a retrying keyword must end within its configured timeout.
TEST_BUDGET_SECONDS = 20.0

CASES = {
    "start 500, logs dropped mid-stream": (
        [
            {"route": "POST /containers/{id}/start", "status": 500, "count": 1},
            {"route": "GET /containers/{id}/logs", "drop_after_bytes": 20},
        ],
        {
            EXEC: "DaemonResponseError: start container on unix://*failed: HTTP 500 Internal "
            "Server Error (expected 204): injected fault",
            LIFECYCLE: "ProtocolError: container logs on unix://*: truncated chunked body: "
            "connection closed inside a chunk (got 20 bytes)",
        },
    ),
    "exec stream dropped, remove 500 in teardown": (
        [
            {"route": "POST /exec/{id}/start", "drop_after_bytes": 4, "count": 1},
            {"route": "DELETE /containers/{id}", "status": 500, "count": 1},
        ],
        {
            EXEC: "ProtocolError: exec start on unix://*: stream ended inside a frame header at "
            "byte offset 0: got 4 of 8 header bytes\n\nAlso teardown failed:\n*daemon: remove "
            "container on unix://*failed: HTTP 500 Internal Server Error (expected 204, 404): "
            "injected fault*",
        },
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_daemon_fault_fails_only_the_affected_test_clearly(
    sim: Simulator, baseline: Inventory, tmp_path: Path, case: str
) -> None:
    faults, failures = CASES[case]
    for fault in faults:
        sim.fault(target="docker", **fault)
    run = run_robot(
        sim,
        tmp_path,
        run_id="rel-daemon",
        arguments=[
            *("--variable", f"LOGS_TIMEOUT:{LOGS_TIMEOUT_SECONDS}s", "--include", "ecs"),
            ECS_SUITES,
        ],
    )
    injected = sim.stats()["docker"]["faults_injected"]
    assert set(injected) == {str(f["route"]) for f in faults}, injected

    statuses = run.test_statuses()
    assert set(statuses) == {CONFIG, LIFECYCLE, EXEC, START_TIMEOUT}
    for name, (status, message) in statuses.items():
        if name in failures:
            assert status == "FAIL", (name, message)
            assert glob_matches(message, failures[name]), (name, message)
        else:
            assert status == "PASS", (name, message)
    for name, elapsed in run.test_elapsed().items():
        assert elapsed < TEST_BUDGET_SECONDS, f"{name} took {elapsed:.1f} s"
    assert run.journal_pending() == 0
    leaks = count_leaks(sim, baseline)
    assert leaks.total == 0, str(leaks)


def glob_matches(text: str, pattern: str) -> bool:
    """Robot-style glob matching (``*`` matches anything, newlines included)."""
    return re.fullmatch(fnmatch.translate(pattern), text) is not None
