"""Item 2: SIGINT / SIGTERM sent to robot at several points of a flow, then 0 leaks.

The victim flow (``Slow Flow Through ...`` in atest/reliability) runs on a simulator with the
``fargate`` profile at time-scale 0.1, so start blocks for 1-4.5 s and logs lag. Each point is
detected by polling the simulator's ``/_sim/stats`` counts (Docker requests, or AWS calls for the
teardown); the signal is sent as soon as the call is seen, robot's exit is awaited (bounded), then
leaks are counted. Robot answers the first signal by failing the running keyword and running the
teardowns: whatever a signal cuts short, the library's listener or the suite's sweep must finish.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_harness import (
    VICTIM_TAG_VARIABLE,
    VICTIMS,
    Inventory,
    Simulator,
    count_leaks,
    interrupted_keywords,
    start_robot,
    wait_for,
)

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

EXIT_TIMEOUT = 60.0
FINISHED_BY = re.compile(
    r"Automatic cleanup at the end of the test|Sweep of run \S+: [1-9]\d* found, [1-9]"
)
CREATE_OR_NEXT = ("Create Container", "Container Id Should Be Valid", "Start Container")
VICTIM = "Slow Flow Through Create, Start, Exec, Logs And Teardown"

# Only the kit deletes log streams. Throttling the first five calls exhausts botocore's attempts,
# so the cleanup then waits its own 0.5 s backoff: a window the signal cannot miss. The signal goes
# after the fifth call, not the first: during botocore's own attempts a signal that lands inside
# its HTTP send is wrapped as HTTPClientError and retried, i.e. swallowed (seen on a clean clone).
TEARDOWN_THROTTLES = 5
# point -> (Docker route, or "aws:<Operation>", whose call count marks it, count, extra robot
# variables, the library keyword the signal must cut short)
POINTS = {
    "create": ("POST /containers/create", 1, (), "Create Container"),
    "start": ("POST /containers/{id}/start", 1, (), "Start Container"),
    "exec": ("POST /exec/{id}/start", 1, (), "Start Exec"),
    # The logs wait follows the logs: one request, open until the line or the logs timeout.
    "logs follow": ("GET /containers/{id}/logs", 1, (), "Wait Until Logs Contain Line"),
    "teardown": (
        "aws:DeleteLogStream",
        TEARDOWN_THROTTLES,
        ("LOGS_TIMEOUT:1s", "EXEC_SECONDS:0"),
        "Clean Up Container",
    ),
}
CASES = [
    ("create", signal.SIGINT),
    ("start", signal.SIGTERM),
    ("exec", signal.SIGINT),
    ("logs follow", signal.SIGTERM),
    ("teardown", signal.SIGINT),
    ("teardown", signal.SIGTERM),
]


@pytest.fixture
def fargate_sim() -> Iterator[Simulator]:
    simulator = Simulator.start(profile="fargate", time_scale=0.1)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.mark.parametrize(("point", "signum"), CASES, ids=[f"{p}-{s.name}" for p, s in CASES])
def test_signal_at_a_point_of_the_flow_leaves_nothing(
    fargate_sim: Simulator, tmp_path: Path, point: str, signum: signal.Signals
) -> None:
    sim = fargate_sim
    baseline = Inventory.take(sim)
    route, count, variables, interrupted = POINTS[point]
    if point == "create":
        # Slow the daemon's create down: its RegisterTaskDefinition is throttled twice and
        # retried by botocore, so the signal lands while create is still in progress.
        sim.fault(target="aws", operation="RegisterTaskDefinition", count=2)
    if point == "teardown":
        sim.fault(target="aws", operation="DeleteLogStream", count=TEARDOWN_THROTTLES)
    arguments = ["--variable", VICTIM_TAG_VARIABLE, "--include", "slow-flow"]
    for variable in variables:
        arguments += ["--variable", variable]
    run = start_robot(sim, tmp_path, run_id="rel-signal", arguments=[*arguments, VICTIMS])

    def calls() -> int:
        if route.startswith("aws:"):
            return sim.aws_calls(route.removeprefix("aws:"))
        return sim.docker_requests(route)

    wait_for(
        lambda: calls() >= count or run.process.poll() is not None,
        timeout=60,
        interval=0.02,
        what=f"{route} x{count}",
    )
    assert run.process.poll() is None, f"robot ended before {point}:\n{run.console[-3000:]}"
    run.send(signum)
    code = run.wait(timeout=EXIT_TIMEOUT)

    assert code != 0, run.console[-3000:]
    status, message = run.test_statuses()[VICTIM]
    assert status == "FAIL", message
    if point != "teardown":  # in teardown the body had already failed (logs never came)
        assert "Execution terminated by signal" in message, message
    # The signal landed where it was meant to, and cut that keyword short ...
    cut_short = interrupted_keywords(run)
    if point == "create":
        # botocore's jittered backoff can be a few ms: then create has just returned and the
        # signal cuts the very next library keyword of the flow instead.
        assert cut_short and cut_short[0] in CREATE_OR_NEXT, run.console[-3000:]
    else:
        assert cut_short == [interrupted], run.console[-3000:]
    if point == "teardown":
        # ... and the library's listener (end of test) or the suite's sweep finished the cleanup
        # the signal cut short (elsewhere the test teardown itself cleans everything).
        assert any(FINISHED_BY.search(m) for m in run.messages()), run.console[-3000:]
    assert run.journal_pending() == 0, run.console[-3000:]
    leaks = count_leaks(sim, baseline)
    assert leaks.total == 0, f"{leaks}\n{run.console[-3000:]}"
