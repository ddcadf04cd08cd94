"""Daemon requests per full ECS run, and each flow's kit overhead, on the simulator's delays.

Run: ``.venv/bin/python benchmarks/kit_overhead.py`` (``--rounds N``: medians of N rounds, default
3; ``--seed``, default 7; ``--profile``/``--time-scale``: the simulator's latency, default
``fargate`` at ``0.1``; ``--tree DIR``: run the suites, resources and library of another checkout,
e.g. ``git worktree add /tmp/before af097e2`` then ``--tree /tmp/before``, against this checkout's
simulator, so a library change is measured on equal terms; ``--baseline DIR``: measure that
checkout too, in alternate rounds, so both see the same machine load).

Each round starts a fresh simulator of this checkout (it records the delays it draws) with the seed,
hands it to ``robot --include ecs suites`` as an external target (``SOCKERLESS_HOST`` plus its AWS
endpoint, as ``utest/system/performance/test_full_run.py`` does), and reads ``GET /_sim/stats``
before and after the run:

* **requests per run**: the Docker API requests the simulator counted during the run, its own
  ``/_sim`` routes left out (the count ``test_full_run.py`` takes from the request log);
* **AWS calls per run**, for information: the calls the simulator's AWS side counted from outside
  (the daemon's, e.g. the ``DescribeTasks`` behind an inspect or a blocking wait, and the kit's
  proofs and cleanup), in total and for ``DescribeTasks``;
* **per flow** (each suite of ``output.xml``, one sequential flow from setup to teardown):
  ``wall`` is the suite's elapsed time; ``delays`` is the total length of the union of the
  intervals ``[started, started + seconds]`` of every delay the simulator drew (PROVISIONING,
  PENDING, DEPROVISIONING, CloudWatch delivery; ``/_sim/stats`` ``delays``), clipped to the
  suite's own start and end; ``overhead = wall - delays`` is the time during which the flow was
  not waiting on any deliberate delay: the kit's own work (its requests, the time its waits take
  to notice what they wait for, the AWS proofs, cleanup, Robot itself) plus the daemon's reaction
  time (the simulator polls its tasks too). It is what a faster kit can take away; the delays
  are what no kit can.

Delay draws are seeded, but threads draw them in an order that can vary slightly, and the machine
may be shared: quote medians of three rounds or more. The exit status is 1 when a run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "simulator"))
sys.path.insert(0, str(ROOT / "libraries"))
sys.path.insert(0, str(ROOT))

from suite_timing import BIN, timed  # noqa: E402 - this script's own directory

from sockerless_sim.launcher import SimulatorProcess  # noqa: E402 - after the path set-up
from sockerless_sim.unix_http import UnixHTTPConnection  # noqa: E402
from utest.intervals import union_length  # noqa: E402 - after the path set-up

CONTROL_ROUTE = " /_sim/"


@dataclass(frozen=True)
class Flow:
    """One suite of the run: where it ran on the clock."""

    name: str
    start: float  # epoch seconds
    end: float


@dataclass(frozen=True)
class Round:
    """One run: requests per route, AWS calls per operation, and per flow (wall, delays,
    overhead) in seconds."""

    requests: dict[str, int]
    aws_calls: dict[str, int]
    flows: dict[str, tuple[float, float, float]]
    failures: tuple[str, ...]

    @property
    def total_requests(self) -> int:
        """Docker API requests of the run."""
        return sum(self.requests.values())


def robot_time(text: str) -> float:
    """Epoch seconds of a Robot timestamp (``2026-11-30T10:00:00.123456`` in RF 7, or the
    older ``20261130 10:00:00.123``), both in local time."""
    if "T" in text:
        return datetime.fromisoformat(text).timestamp()
    return datetime.strptime(text, "%Y%m%d %H:%M:%S.%f").timestamp()


def flows_of(output_xml: Path) -> list[Flow]:
    """The suites that hold tests, with their start and end."""
    root = ET.parse(output_xml).getroot()  # noqa: S314 - written by our own run just now
    flows = []
    for suite in root.iter("suite"):
        status = suite.find("status")
        if suite.find("test") is None or status is None:
            continue
        if status.get("start") is not None:
            start = robot_time(str(status.get("start")))
            end = start + float(status.get("elapsed", "0"))
        else:
            start = robot_time(str(status.get("starttime")))
            end = robot_time(str(status.get("endtime")))
        flows.append(Flow(str(suite.get("name")), start, end))
    return flows


def sim_stats(simulator: SimulatorProcess) -> dict[str, Any]:
    """``GET /_sim/stats``."""
    connection = UnixHTTPConnection(simulator.info.socket_path)
    try:
        connection.request("GET", "/_sim/stats")
        response = connection.getresponse()
        stats: dict[str, Any] = json.loads(response.read())
    finally:
        connection.close()
    return stats


def robot_environment(simulator: SimulatorProcess, tree: Path, workdir: Path) -> dict[str, str]:
    """The simulator as a real target; ``tree``'s library first on the path."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SOCKERLESS_", "AWS_")) and k != "PYTHONPATH"
    }
    env.update(simulator.info.target_environment())
    env["SOCKERLESS_KIT_JOURNAL_DIR"] = str(workdir / "journal")
    env["PYTHONPATH"] = str(tree / "libraries")
    return env


def library_source(env: dict[str, str]) -> str:
    """Where ``SockerlessLibrary`` is imported from with ``env`` (to say which kit ran)."""
    completed = subprocess.run(
        [str(BIN / "python"), "-c", "import SockerlessLibrary; print(SockerlessLibrary.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return completed.stdout.strip()


def one_round(workdir: Path, tree: Path, options: argparse.Namespace) -> tuple[Round, str]:
    """Start a simulator, run the suites against it, measure."""
    simulator = SimulatorProcess.start(
        profile=options.profile,
        time_scale=options.time_scale,
        extra_args=("--seed", str(options.seed)),
        ready_timeout=60.0,
    )
    try:
        env = robot_environment(simulator, tree, workdir)
        source = library_source(env)
        before = sim_stats(simulator)
        run = timed(
            [str(BIN / "robot"), "--include", "ecs", str(tree / "suites")],
            workdir / "robot",
            env,
        )
        after = sim_stats(simulator)
    finally:
        simulator.stop()
    output_xml = workdir / "robot" / "output.xml"
    counts = Counter(after["docker"]["requests"])
    counts.subtract(before["docker"]["requests"])
    requests = {route: n for route, n in counts.items() if n and CONTROL_ROUTE not in route}
    calls = Counter(after["aws"]["calls"])
    calls.subtract(before["aws"]["calls"])
    intervals = [(d["started"], d["started"] + d["seconds"]) for d in after["delays"]]
    flows = {}
    for flow in flows_of(output_xml):
        wall = flow.end - flow.start
        delays = union_length(intervals, flow.start, flow.end)
        flows[flow.name] = (wall, delays, wall - delays)
    return Round(requests, dict(calls), flows, run.failures), source


def report(source: str, rounds: list[Round]) -> None:
    """The medians of one kit's rounds."""
    print(f"\nkit {source}: median of {len(rounds)} round(s)")
    print(f"daemon requests per run: {statistics.median(r.total_requests for r in rounds):g}")
    aws = statistics.median(sum(r.aws_calls.values()) for r in rounds)
    described = statistics.median(r.aws_calls.get("DescribeTasks", 0) for r in rounds)
    print(f"AWS calls per run (daemon and kit): {aws:g}, of them DescribeTasks {described:g}")
    print(f"{'flow':<16} {'wall s':>7} {'delays s':>9} {'overhead s':>11}")
    for name in rounds[-1].flows:
        wall, delays, overhead = (
            statistics.median(r.flows[name][index] for r in rounds if name in r.flows)
            for index in range(3)
        )
        print(f"{name:<16} {wall:7.2f} {delays:9.2f} {overhead:11.2f}")
    total = statistics.median(sum(o for _, _, o in r.flows.values()) for r in rounds)
    print(f"{'all flows':<16} {'':7} {'':9} {total:11.2f}")
    routes = json.dumps(dict(sorted(rounds[-1].requests.items())))
    print(f"requests per route (last round): {routes}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are shown")
    parser.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")
    parser.add_argument("--profile", default="fargate", help="simulator profile (default fargate)")
    parser.add_argument("--time-scale", type=float, default=0.1, help="default 0.1")
    parser.add_argument(
        "--tree", type=Path, default=ROOT, help="checkout whose suites and library run"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a second checkout, measured in alternate rounds (baseline, tree, baseline...)",
    )
    options = parser.parse_args()
    trees = [options.tree.resolve()]
    if options.baseline is not None:
        trees.insert(0, options.baseline.resolve())
    rounds: dict[Path, list[Round]] = {tree: [] for tree in trees}
    sources: dict[Path, str] = {}
    print(
        f"profile {options.profile}, time scale {options.time_scale:g}, seed {options.seed}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="kit-overhead-") as workdir:
        for number in range(options.rounds):
            for index, tree in enumerate(trees):
                folder = Path(workdir) / f"{number}-{index}"
                result, sources[tree] = one_round(folder, tree, options)
                shown = ", ".join(f"{n} {o:.2f} s" for n, (_, _, o) in result.flows.items())
                print(
                    f"round {number + 1} {tree}: {result.total_requests} requests, "
                    f"{result.aws_calls.get('DescribeTasks', 0)} DescribeTasks; overhead {shown}"
                    + (f"; FAILED: {'; '.join(result.failures)}" if result.failures else ""),
                    flush=True,
                )
                rounds[tree].append(result)
    for tree in trees:
        report(sources[tree], rounds[tree])
    return 1 if any(r.failures for runs in rounds.values() for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
