"""Fault runs: the daemon, the AWS endpoint or both die (or AWS goes silent) mid-flow.

One *case* is one fault at one point of the victim flow (``atest/reliability/outages.robot``),
run by robot against a standalone simulator (``fargate`` profile, time scale 0.1, seed 7):

| fault | how | what the run talks to |
| --- | --- | --- |
| ``daemon`` | SIGKILL to a proxy in front of the daemon's socket | the proxy; AWS directly |
| ``aws`` | SIGKILL to a loopback TCP proxy in front of the AWS endpoint | the daemon; the proxy |
| ``both`` | SIGKILL to the simulator process (daemon and its AWS die together) | both directly |
| ``aws-silent`` | the AWS proxy keeps accepting and never answers again | the daemon; the proxy |

The daemon keeps its own way to AWS in ``aws`` and ``aws-silent``: the kit lost its endpoint,
the daemon did not. Points: ``start`` (the start request is in flight: the profile makes it block
1-4.5 s), ``exec`` (an exec of ``sleep`` is running), ``teardown`` (the cleanup is deleting the
log stream; five throttled attempts keep it there for a few seconds).

``python utest/system/reliability/outage_harness.py [--library-root DIR]`` runs the whole matrix and
prints the wall-time table of docs/reliability.md; ``--library-root`` runs robot with another
checkout's ``libraries/`` first on ``PYTHONPATH`` (the kit before a change). ``--full-run``
instead measures the issue's own scenario: the ECS suites on the ``fargate`` profile at time
scale 0.3, the simulator killed while the first flow (exec) starts its task.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).parent))

from fault_proxy import FaultProxy
from reliability_harness import (
    ECS_SUITES,
    ROOT,
    Inventory,
    Leaks,
    RobotRun,
    Simulator,
    count_leaks,
    start_robot,
    wait_for,
)

FAULTS = ("daemon", "aws", "both", "aws-silent")
POINTS = ("start", "exec", "teardown")
VICTIMS = str(ROOT / "atest" / "reliability" / "outages.robot")
FLOW = "Long-Running Flow Through Start, Exec And Teardown"
LATER = "Later Flow On The Same Target"
TEARDOWN_THROTTLES = 5
POINT_TIMEOUT = 60.0
# A run that does not end this long after the fault is killed and reported as such.
ROBOT_TIMEOUT = 120.0
# Which request marks each point: a Docker route, or "aws:<Operation>".
POINT_MARKERS = {
    "start": "POST /containers/{id}/start",
    "exec": "POST /exec/{id}/start",
    "teardown": "aws:DeleteLogStream",
}


@dataclass
class Case:
    """One fault run: the simulator, the proxies, robot, and when the fault landed."""

    fault: str
    point: str
    sim: Simulator
    workdir: Path
    baseline: Inventory
    daemon_proxy: FaultProxy | None = None
    aws_proxy: FaultProxy | None = None
    run: RobotRun | None = None
    fault_at: float = 0.0
    ended_after_fault: float = 0.0
    overran: bool = False  # robot was killed at the time limit
    proxies: list[FaultProxy] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return f"outage-{self.fault}-{self.point}"

    @property
    def simulator_alive(self) -> bool:
        return self.fault != "both"

    def leaks(self) -> Leaks:
        return count_leaks(self.sim, self.baseline)

    def restart_proxy(self, which: str) -> FaultProxy:
        """The daemon (or AWS endpoint) back at the address the run knew it by."""
        old = self.daemon_proxy if which == "daemon" else self.aws_proxy
        assert old is not None
        old.kill()
        upstream = (
            f"unix://{self.sim.info.socket_path}"
            if which == "daemon"
            else self.sim.info.aws_endpoint_url.replace("http://", "tcp://", 1)
        )
        proxy = FaultProxy.start(old.address, upstream)
        self.proxies.append(proxy)
        return proxy


@contextlib.contextmanager
def fault_case(
    fault: str,
    point: str,
    workdir: Path,
    *,
    library_root: Path | None = None,
    robot_timeout: float = ROBOT_TIMEOUT,
) -> Iterator[Case]:
    """Run one case to robot's end; the simulator and proxies live until the block ends."""
    assert fault in FAULTS and point in POINTS
    workdir.mkdir(parents=True, exist_ok=True)
    sim = Simulator.start(profile="fargate", time_scale=0.1)
    case = Case(fault, point, sim, workdir, Inventory.take(sim))
    try:
        extra = _wire(case)
        extra.update(library_path(library_root))
        if point == "teardown":
            sim.fault(target="aws", operation="DeleteLogStream", count=TEARDOWN_THROTTLES)
        case.run = start_robot(
            sim,
            workdir,
            run_id=case.run_id,
            name="run",
            extra_env=extra,
            arguments=[
                *("--variable", "VICTIM_TAG:reliability-victim", "--include", "outage-flow"),
                VICTIMS,
            ],
        )
        _await_point(case)
        _inject(case)
        try:
            case.run.wait(robot_timeout)
        except AssertionError:  # killed at the limit; the checks see how long it ran
            case.overran = True
        case.ended_after_fault = time.monotonic() - case.fault_at
        yield case
    finally:
        for proxy in case.proxies:
            proxy.stop()
        if case.run is not None and case.run.process.poll() is None:
            case.run.process.kill()
            case.run.process.wait(10)
        sim.stop()


def library_path(library_root: Path | None) -> dict[str, str]:
    """``PYTHONPATH`` that makes robot import the kit from ``library_root`` (if given)."""
    if library_root is None:
        return {}
    return {
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(library_root), os.environ.get("PYTHONPATH", "")) if p
        )
    }


def _wire(case: Case) -> dict[str, str]:
    """Put the proxies the fault needs between robot and the simulator."""
    info = case.sim.info
    extra: dict[str, str] = {}
    if case.fault == "daemon":
        case.daemon_proxy = FaultProxy.start(
            f"unix://{case.workdir}/daemon.sock", f"unix://{info.socket_path}"
        )
        case.proxies.append(case.daemon_proxy)
        extra["SOCKERLESS_HOST"] = case.daemon_proxy.address
    if case.fault in ("aws", "aws-silent"):
        case.aws_proxy = FaultProxy.start(
            "tcp://127.0.0.1:0", info.aws_endpoint_url.replace("http://", "tcp://", 1)
        )
        case.proxies.append(case.aws_proxy)
        extra["SOCKERLESS_ENDPOINT_URL"] = case.aws_proxy.url
    return extra


def _await_point(case: Case) -> None:
    assert case.run is not None
    marker = POINT_MARKERS[case.point]
    sim, run = case.sim, case.run

    def reached() -> bool:
        if marker.startswith("aws:"):
            return sim.aws_calls(marker.removeprefix("aws:")) >= 1
        return sim.docker_requests(marker) >= 1

    wait_for(
        lambda: reached() or run.process.poll() is not None,
        timeout=POINT_TIMEOUT,
        interval=0.02,
        what=f"{marker} in {case.run_id}",
    )
    if run.process.poll() is not None:
        raise AssertionError(f"robot ended before {case.point}:\n{run.console[-3000:]}")


def _inject(case: Case) -> None:
    if case.fault == "daemon":
        assert case.daemon_proxy is not None
        case.daemon_proxy.kill()
    elif case.fault == "aws":
        assert case.aws_proxy is not None
        case.aws_proxy.kill()
    elif case.fault == "aws-silent":
        assert case.aws_proxy is not None
        case.aws_proxy.silence()
    else:
        os.kill(case.sim.process.pid, signal.SIGKILL)
        wait_for(lambda: not case.sim.process.is_running(), timeout=10, what="the simulator's end")
    case.fault_at = time.monotonic()


def measure(
    cases: list[tuple[str, str]],
    workdir: Path,
    *,
    library_root: Path | None,
    parallel: int,
    robot_timeout: float,
) -> list[dict[str, object]]:
    """Run cases (``parallel`` at a time); print each row as it ends, return them all."""

    def one(fault: str, point: str) -> dict[str, object]:
        with fault_case(
            fault,
            point,
            workdir / f"{fault}-{point}",
            library_root=library_root,
            robot_timeout=robot_timeout,
        ) as case:
            assert case.run is not None
            later = "(robot killed)" if case.overran else case.run.test_statuses()[LATER][1]
            row: dict[str, object] = {
                "fault": fault,
                "point": point,
                "wall": round(time.monotonic() - case.run.started, 1),
                "after_fault": round(case.ended_after_fault, 1),
                "overran": case.overran,
                "later": later[:300],
            }
        print(json.dumps(row), flush=True)
        return row

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda c: one(*c), cases))


def full_run(
    workdir: Path, *, library_root: Path | None, robot_timeout: float
) -> dict[str, object]:
    """The issue's scenario: ECS suites, ``fargate`` x 0.3, the simulator killed at the first
    start (the issue killed it 6 s in, which was during that start)."""
    sim = Simulator.start(profile="fargate", time_scale=0.3)
    try:
        run = start_robot(
            sim,
            workdir,
            run_id="outage-full-run",
            name="full",
            extra_env=library_path(library_root),
            arguments=["--include", "ecs", ECS_SUITES],
        )
        # As in the measurement, the kill lands while the first flow starts its task.
        wait_for(
            lambda: sim.docker_requests(POINT_MARKERS["start"]) >= 1,
            timeout=POINT_TIMEOUT,
            what="the first start",
        )
        os.kill(sim.process.pid, signal.SIGKILL)
        killed = time.monotonic()
        overran = False
        try:
            run.wait(robot_timeout)
        except AssertionError:
            overran = True
        ended = time.monotonic()
        suites = {}
        if not overran:
            for suite in run.output().iter("suite"):
                status = suite.find("status")
                if status is not None and suite.get("source", "").endswith(".robot"):
                    suites[suite.get("name", "")] = float(status.get("elapsed", "0"))
        return {
            "wall": round(ended - run.started, 1),
            "after_fault": round(ended - killed, 1),
            "overran": overran,
            "suites": suites,
        }
    finally:
        sim.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the fault matrix and print its timings.")
    parser.add_argument("--library-root", type=Path, help="robot imports the kit from here")
    parser.add_argument("--parallel", type=int, default=3)
    parser.add_argument("--fault", action="append", choices=FAULTS)
    parser.add_argument("--point", action="append", choices=POINTS)
    parser.add_argument("--robot-timeout", type=float, default=ROBOT_TIMEOUT)
    parser.add_argument("--full-run", action="store_true", help="the issue's scenario instead")
    parser.add_argument("--json", type=Path, help="also write the results here")
    arguments = parser.parse_args()
    with TemporaryDirectory(prefix="kit-outages-") as tmp:
        if arguments.full_run:
            results: object = full_run(
                Path(tmp),
                library_root=arguments.library_root,
                robot_timeout=arguments.robot_timeout,
            )
            print(json.dumps(results), flush=True)
        else:
            cases = [(f, p) for f in arguments.fault or FAULTS for p in arguments.point or POINTS]
            results = measure(
                cases,
                Path(tmp),
                library_root=arguments.library_root,
                parallel=arguments.parallel,
                robot_timeout=arguments.robot_timeout,
            )
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
