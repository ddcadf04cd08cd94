"""Wall time of the full ECS run: sequential robot, pabot, and the floor (the slowest suite alone).

Run: ``.venv/bin/python benchmarks/suite_timing.py`` (``--repeat N``: median of N rounds, default 1;
``--processes N``: pabot processes, default 4; ``--profile``/``--time-scale``: the simulator's
latency profile, default ``fargate`` at ``0.1``).

Every run is on the embedded simulator (``SOCKERLESS_HOST`` and friends are removed from the
environment), timed from process start to exit, so each includes what a user waits for: Python and
Robot start-up, the simulator's own start-up (~2 s, once per robot process), the flows, cleanup and
the report. A round runs:

* ``robot --include ecs suites`` (sequential: one process, one simulator);
* ``pabot --processes N --include ecs suites`` (one robot process and simulator per suite);
* each suite alone, ``robot --include ecs --suite <name> suites``; the slowest of them is the floor
  for any parallel run, since a suite is one sequential flow;
* for information, pabot against one shared simulator (started here, handed to the suites as a
  sockerless target with its AWS endpoint), timed from the simulator's start to its stop: it shows
  how much of pabot's excess is N simulators starting at once (~2.5 s of CPU each, on few cores).

The table shows the medians, both ratios to the floor and the seconds over it. Target: pabot <= 1.5x
the floor; the exit status is 1 when it is missed or when a run fails. Profile delays are random
draws; with ``SOCKERLESS_SIM_SEED`` set they repeat per workload (the simulator keys each task's
draws by what it runs), so a suite sees the same delays alone, in a sequential run and beside the
others on one shared simulator. The machine may be shared, so use ``--repeat 3`` or more for
figures you quote.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "simulator"))
BIN = ROOT / ".venv" / "bin"
SUITES = ROOT / "suites"
RUN_TIME_LIMIT_SECONDS = 600
TARGET_RATIO = 1.5
REAL_TARGET_VARIABLES = ("SOCKERLESS_HOST", "SOCKERLESS_ECS_SOCKET", "SOCKERLESS_ENDPOINT_URL")


@dataclass(frozen=True)
class Timed:
    """One timed run: wall seconds and the counts robot reported."""

    seconds: float
    passed: int
    failed: int
    fargate_tasks: str
    failures: tuple[str, ...] = ()


def suite_names() -> list[str]:
    """Robot's names of the ECS suites ("start_timeout.robot" -> "Start Timeout")."""
    return [
        path.stem.replace("_", " ").title()
        for path in sorted((SUITES / "ecs").glob("*.robot"))
        if path.name != "__init__.robot"
    ]


def environment(profile: str, time_scale: float) -> dict[str, str]:
    """The embedded simulator with the chosen latency; ``robot`` on PATH for pabot's children."""
    env = {k: v for k, v in os.environ.items() if k not in REAL_TARGET_VARIABLES}
    env["SOCKERLESS_SIM_PROFILE"] = profile
    env["SOCKERLESS_SIM_TIME_SCALE"] = repr(time_scale)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    return env


def read_output(output_xml: Path) -> tuple[int, int, str, tuple[str, ...]]:
    """(passed, failed, "Fargate tasks" metadata, failed tests) from robot's output.xml."""
    root = ET.parse(output_xml).getroot()  # noqa: S314 - written by our own run just now
    total = root.find("./statistics/total/stat")
    passed = int(total.get("pass", 0)) if total is not None else 0
    failed = int(total.get("fail", 0)) if total is not None else 0
    tasks = next(
        (meta.text or "" for meta in root.iter("meta") if meta.get("name") == "Fargate tasks"),
        "-",
    )
    failures = tuple(
        f"{test.get('name')}: {(status.text or '')[:300]}"
        for test in root.iter("test")
        if (status := test.find("status")) is not None and status.get("status") == "FAIL"
    )
    return passed, failed, tasks, failures


def timed(command: list[str], outdir: Path, env: dict[str, str]) -> Timed:
    """Run ``command`` with ``--outputdir outdir`` and time it from spawn to exit."""
    argv = [command[0], "--outputdir", str(outdir), *command[1:]]
    started = time.perf_counter()
    completed = subprocess.run(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=RUN_TIME_LIMIT_SECONDS,
        check=False,
    )
    seconds = time.perf_counter() - started
    output_xml = outdir / "output.xml"
    if not output_xml.exists():
        tail = completed.stderr.decode(errors="replace")[-2000:]
        raise SystemExit(
            f"{' '.join(argv)} wrote no output.xml (exit {completed.returncode})\n{tail}"
        )
    passed, failed, tasks, failures = read_output(output_xml)
    return Timed(seconds, passed, failed, tasks, failures)


def shared_simulator_pabot(
    workdir: Path, processes: int, env: dict[str, str], profile: str, time_scale: float
) -> Timed:
    """pabot against one simulator for all its processes; the simulator's start/stop included."""
    from sockerless_sim.launcher import SimulatorProcess  # noqa: PLC0415 - loads moto

    started = time.perf_counter()
    simulator = SimulatorProcess.start(profile=profile, time_scale=time_scale, ready_timeout=60)
    try:
        info = simulator.info
        target_env = {k: v for k, v in env.items() if not k.startswith(("SOCKERLESS_", "AWS_"))}
        target_env.update(info.target_environment())
        run = timed(
            [str(BIN / "pabot"), "--processes", str(processes), "--include", "ecs", "suites"],
            workdir,
            target_env,
        )
    finally:
        simulator.stop()
    return Timed(time.perf_counter() - started, run.passed, run.failed, run.fargate_tasks)


def one_round(
    workdir: Path,
    processes: int,
    env: dict[str, str],
    names: list[str],
    *,
    profile: str,
    time_scale: float,
) -> dict[str, Timed]:
    """Every run once; keys: "sequential", "pabot", and each suite name."""
    robot, pabot = str(BIN / "robot"), str(BIN / "pabot")
    runs: dict[str, Timed] = {
        "sequential": timed([robot, "--include", "ecs", "suites"], workdir / "sequential", env),
        "pabot": timed(
            [pabot, "--processes", str(processes), "--include", "ecs", "suites"],
            workdir / "pabot",
            env,
        ),
    }
    runs["shared"] = shared_simulator_pabot(workdir / "shared", processes, env, profile, time_scale)
    for name in names:
        slug = name.lower().replace(" ", "_")
        runs[name] = timed(
            [robot, "--include", "ecs", "--suite", name, "suites"], workdir / slug, env
        )
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds; medians are shown")
    parser.add_argument("--processes", type=int, default=4, help="pabot --processes (default 4)")
    parser.add_argument("--profile", default="fargate", help="simulator profile (default fargate)")
    parser.add_argument("--time-scale", type=float, default=0.1, help="default 0.1")
    options = parser.parse_args()
    env = environment(options.profile, options.time_scale)
    names = suite_names()
    rounds: list[dict[str, Timed]] = []
    with tempfile.TemporaryDirectory(prefix="suite-timing-") as workdir:
        for number in range(options.repeat):
            runs = one_round(
                Path(workdir) / str(number),
                options.processes,
                env,
                names,
                profile=options.profile,
                time_scale=options.time_scale,
            )
            floor = max(runs[name].seconds for name in names)
            print(
                f"round {number + 1}: sequential {runs['sequential'].seconds:.1f} s, "
                f"pabot {runs['pabot'].seconds:.1f} s, pabot with one simulator "
                f"{runs['shared'].seconds:.1f} s, floor {floor:.1f} s",
                flush=True,
            )
            rounds.append(runs)
    failures = [
        f"{key} (round {n + 1}): {run.failed} failed: {'; '.join(run.failures)}"
        for n, runs in enumerate(rounds)
        for key, run in runs.items()
        if run.failed or not run.passed
    ]

    def median(key: str) -> float:
        return statistics.median(runs[key].seconds for runs in rounds)

    floor = statistics.median(max(runs[name].seconds for name in names) for runs in rounds)
    sequential, parallel = median("sequential"), median("pabot")
    ratio = parallel / floor
    print(
        f"\nprofile {options.profile}, time scale {options.time_scale:g}, "
        f"median of {options.repeat} round(s)"
    )
    print(f"{'run':<34} {'wall s':>7} {'x floor':>8} {'+ s':>6}  Fargate tasks")

    def row(label: str, seconds: float, key: str) -> None:
        print(
            f"{label:<34} {seconds:7.1f} {seconds / floor:7.2f}x {seconds - floor:+6.1f}  "
            f"{rounds[-1][key].fargate_tasks}"
        )

    row("sequential robot", sequential, "sequential")
    row(f"pabot --processes {options.processes}", parallel, "pabot")
    row(f"pabot --processes {options.processes}, 1 sim", median("shared"), "shared")
    print(f"{'floor: slowest suite alone':<34} {floor:7.1f} {1:7.2f}x")
    for name in names:
        print(f"{'  alone: ' + name:<34} {median(name):7.1f} {median(name) / floor:7.2f}x")
    ok = ratio <= TARGET_RATIO and not failures
    for failure in failures:
        print(f"FAILED run: {failure}")
    print(
        f"pabot/floor {ratio:.2f}x, target <= {TARGET_RATIO}x: "
        + ("met" if ratio <= TARGET_RATIO else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
