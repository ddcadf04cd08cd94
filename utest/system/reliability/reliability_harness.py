"""Reliability harness: a standalone simulator as an external target, robot as a subprocess
against it, and a leak count taken both through the daemon and with plain boto3.

The simulator plays target 2 of the README ("sockerless with its own AWS simulator"): robot sees
only ``SOCKERLESS_HOST`` and the AWS endpoint, exactly as it would with real sockerless, so the
library's own embedded simulator is never started and everything the run creates outlives robot
for the harness to count.

A *leak* is anything created since the baseline snapshot and still there:

- a container known to the daemon that carries the kit's project label,
- an ECS task whose ``lastStatus`` is not ``STOPPED``,
- a task definition of family ``sockerless-*`` still ``ACTIVE``,
- a log stream (every container of the run is removed, so each new stream belongs to a removed
  container),
- a log group.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from sockerless_sim.launcher import SimulatorProcess
from sockerless_sim.unix_http import UnixHTTPConnection
from SockerlessLibrary.aws.resources import PROJECT, PROJECT_LABEL
from SockerlessLibrary.journal import RunJournal
from SockerlessLibrary.listeners.report_guard import INERT

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
ROBOT = str(VENV_BIN / "robot")
ECS_SUITES = str(ROOT / "suites")
VICTIMS = str(ROOT / "atest" / "reliability")
VICTIM_TAG_VARIABLE = "VICTIM_TAG:reliability-victim"
ROBOT_TIMEOUT = 150.0
SWEEP_TIMEOUT = 90.0
CREDENTIAL = "testing"
# Real-target variables that must not leak into robot from the developer's shell.
FOREIGN_VARIABLES = (
    "SOCKERLESS_HOST",
    "SOCKERLESS_ECS_SOCKET",
    "SOCKERLESS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "SOCKERLESS_SIM_PROFILE",
    "SOCKERLESS_SIM_TIME_SCALE",
    "SOCKERLESS_SIM_QUIRKS",
)


class Simulator:
    """A standalone simulator process, its control endpoints and boto3 clients on its AWS."""

    def __init__(self, process: SimulatorProcess) -> None:
        self.process = process
        self.info = process.info
        self._clients: dict[str, Any] = {}

    @classmethod
    def start(
        cls, *, profile: str = "instant", time_scale: float = 1.0, iam_policy: Path | None = None
    ) -> Simulator:
        """``iam_policy``: IAM mode, the kit's environment then holds that user's keys."""
        return cls(
            SimulatorProcess.start(
                profile=profile,
                time_scale=time_scale,
                extra_args=("--seed", "7"),
                ready_timeout=30.0,
                iam_policy=None if iam_policy is None else str(iam_policy),
            )
        )

    def stop(self) -> None:
        self.process.stop(timeout=10.0)

    # Docker API over the unix socket, with plain http.client.

    def docker(
        self, method: str, path: str, body: Any = None, timeout: float = 30.0
    ) -> tuple[int, Any]:
        connection = UnixHTTPConnection(self.info.socket_path, timeout)
        try:
            payload = None if body is None else json.dumps(body).encode()
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            connection.request(method, path, body=payload, headers=headers)
            answer = connection.getresponse()
            raw = answer.read()
        finally:
            connection.close()
        text = raw.decode("utf-8", errors="replace")
        try:
            return answer.status, json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            return answer.status, text

    def stats(self) -> dict[str, Any]:
        status, body = self.docker("GET", "/_sim/stats", timeout=10.0)
        assert status == 200, body
        return dict(body)

    def docker_requests(self, route: str) -> int:
        return int(self.stats()["docker"]["requests"].get(route, 0))

    def aws_calls(self, operation: str) -> int:
        """Calls of ``operation`` made from outside the AWS plane (the daemon's and the kit's)."""
        return int(self.stats()["aws"]["calls"].get(operation, 0))

    def fault(self, **fault: Any) -> None:
        status, body = self.docker("POST", "/_sim/faults", fault, timeout=10.0)
        assert status == 201, body

    def clear_faults(self) -> None:
        status, body = self.docker("DELETE", "/_sim/faults", timeout=10.0)
        assert status == 204, body

    def containers(self) -> list[dict[str, Any]]:
        status, body = self.docker("GET", "/containers/json?all=1", timeout=10.0)
        assert status == 200, body
        return list(body)

    def client(self, service: str) -> Any:
        """A plain boto3 client on the simulator's AWS endpoint (generous standard retries)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.info.aws_endpoint_url,
                region_name=self.info.region,
                aws_access_key_id=CREDENTIAL,
                aws_secret_access_key=CREDENTIAL,
                config=Config(
                    retries={"mode": "standard", "total_max_attempts": 10},
                    connect_timeout=5,
                    read_timeout=30,
                ),
            )
        return self._clients[service]

    # What a run sees.

    def robot_env(self, run_id: str, journal_dir: Path, **extra: str) -> dict[str, str]:
        """Target 2: the daemon's socket, its AWS endpoint and static credentials."""
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN_VARIABLES}
        info = self.info
        env.update(info.target_environment())
        env.update(
            AWS_DEFAULT_REGION=info.region,
            SOCKERLESS_KIT_RUN_ID=run_id,
            SOCKERLESS_KIT_JOURNAL_DIR=str(journal_dir),
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env


# ---------------------------------------------------------------- AWS and daemon inventory


def _paged(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page[key])
    return items


@dataclass(frozen=True)
class Inventory:
    """Everything that exists on the daemon and on AWS at one moment."""

    containers: dict[str, dict[str, Any]]  # id -> list entry (every container, labelled or not)
    tasks: dict[str, str]  # task ARN -> lastStatus
    task_definitions: dict[str, str]  # ARN -> status (ACTIVE ones only)
    log_groups: frozenset[str]
    log_streams: frozenset[tuple[str, str]]  # (group, stream)

    @classmethod
    def take(cls, sim: Simulator) -> Inventory:
        ecs, logs = sim.client("ecs"), sim.client("logs")
        cluster = sim.info.cluster
        arns: list[str] = []
        for desired in ("RUNNING", "STOPPED"):
            arns += _paged(ecs, "list_tasks", "taskArns", cluster=cluster, desiredStatus=desired)
        tasks: dict[str, str] = {}
        for start in range(0, len(arns), 100):
            described = ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + 100])
            tasks.update({t["taskArn"]: t["lastStatus"] for t in described["tasks"]})
        definitions = _paged(ecs, "list_task_definitions", "taskDefinitionArns", status="ACTIVE")
        groups = [g["logGroupName"] for g in _paged(logs, "describe_log_groups", "logGroups")]
        streams = {
            (group, s["logStreamName"])
            for group in groups
            for s in _paged(logs, "describe_log_streams", "logStreams", logGroupName=group)
        }
        return cls(
            containers={c["Id"]: c for c in sim.containers()},
            tasks=tasks,
            task_definitions=dict.fromkeys(definitions, "ACTIVE"),
            log_groups=frozenset(groups),
            log_streams=frozenset(streams),
        )


@dataclass
class Leaks:
    """What a run left behind, by kind."""

    containers: list[str] = field(default_factory=list)
    tasks_not_stopped: list[str] = field(default_factory=list)
    active_task_definitions: list[str] = field(default_factory=list)
    log_streams: list[str] = field(default_factory=list)
    log_groups: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(v) for v in vars(self).values())

    def __str__(self) -> str:
        kinds = {k: v for k, v in vars(self).items() if v}
        return f"{self.total} leak(s): {json.dumps(kinds, indent=1)}" if kinds else "0 leaks"


def count_leaks(sim: Simulator, baseline: Inventory) -> Leaks:
    """Leaks since ``baseline`` (faults are cleared first so the count itself is not throttled)."""
    sim.clear_faults()
    now = Inventory.take(sim)
    leaks = Leaks()
    for cid, entry in now.containers.items():
        labelled = (entry.get("Labels") or {}).get(PROJECT_LABEL) == PROJECT
        if labelled and cid not in baseline.containers:
            leaks.containers.append(f"{cid[:12]} {entry.get('State')} {entry.get('Names')}")
    leaks.tasks_not_stopped = sorted(
        f"{arn} {status}"
        for arn, status in now.tasks.items()
        if status != "STOPPED" and arn not in baseline.tasks
    )
    leaks.active_task_definitions = sorted(
        arn
        for arn in now.task_definitions
        if arn not in baseline.task_definitions and arn.rsplit("/", 1)[-1].startswith("sockerless-")
    )
    leaks.log_streams = sorted(f"{g}:{s}" for g, s in now.log_streams - baseline.log_streams)
    leaks.log_groups = sorted(now.log_groups - baseline.log_groups)
    return leaks


# ---------------------------------------------------------------- robot runs


def as_read(text: str) -> str:
    """A message as a reader sees it: without the report guard's invisible marks (``INERT``
    before a ``unix://`` address, so that the report shows it as text, not as a link)."""
    return text.replace(INERT, "")


def statuses_in(output_xml: Path) -> dict[str, tuple[str, str]]:
    """Test name -> (status, message as read), from a robot run's output.xml."""
    result = {}
    for test in ET.parse(output_xml).getroot().iter("test"):
        status = test.find("status")
        assert status is not None
        result[test.get("name", "")] = (status.get("status", ""), as_read(status.text or ""))
    return result


@dataclass
class RobotRun:
    """One robot subprocess and its output directory."""

    process: subprocess.Popen[bytes]
    outdir: Path
    run_id: str
    journal_dir: Path
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0

    @property
    def console(self) -> str:
        return (self.outdir / "console.txt").read_text(errors="replace")

    def wait(self, timeout: float = ROBOT_TIMEOUT) -> int:
        """Wait for robot to exit (bounded; killed and failed when it overruns)."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"robot did not exit within {timeout:.0f} s") from None
        self.elapsed = time.monotonic() - self.started
        return code

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def output(self) -> ET.Element:
        return ET.parse(self.outdir / "output.xml").getroot()

    def messages(self) -> list[str]:
        """Every log message in output.xml, as read (``as_read``)."""
        return [as_read(m.text or "") for m in self.output().iter("msg")]

    def test_statuses(self) -> dict[str, tuple[str, str]]:
        """Test name -> (status, message)."""
        return statuses_in(self.outdir / "output.xml")

    def test_elapsed(self) -> dict[str, float]:
        """Test name -> seconds, from output.xml."""
        result = {}
        for test in self.output().iter("test"):
            status = test.find("status")
            assert status is not None
            result[test.get("name", "")] = float(status.get("elapsed", "0"))
        return result

    def journal_pending(self) -> int:
        return len(RunJournal(self.journal_dir, self.run_id).pending())

    def journal_created(self) -> int:
        records = RunJournal(self.journal_dir, self.run_id).records()
        return sum(1 for r in records if r["event"] == "created")


def start_robot(
    sim: Simulator,
    workdir: Path,
    *,
    run_id: str,
    arguments: Sequence[str],
    name: str = "run",
    extra_env: Mapping[str, str] | None = None,
) -> RobotRun:
    """Start ``robot <arguments>`` against ``sim``; console output in ``<outdir>/console.txt``."""
    outdir = workdir / name
    outdir.mkdir(parents=True, exist_ok=True)
    journal_dir = workdir / "journal"
    env = sim.robot_env(run_id, journal_dir, **(extra_env or {}))
    with (outdir / "console.txt").open("wb") as console:
        process = subprocess.Popen(
            [ROBOT, "--outputdir", str(outdir), "--consolecolors", "off", *arguments],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
        )
    return RobotRun(process, outdir, run_id, journal_dir)


def run_robot(
    sim: Simulator, workdir: Path, *, run_id: str, arguments: Sequence[str], **kwargs: Any
) -> RobotRun:
    run = start_robot(sim, workdir, run_id=run_id, arguments=arguments, **kwargs)
    run.wait()
    return run


def wait_for(
    condition: Callable[[], bool], *, timeout: float, interval: float = 0.05, what: str
) -> float:
    """Poll until ``condition()``; returns the seconds waited, fails after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - started


def sweep(
    sim: Simulator, run: RobotRun, *, run_id: str | None = "", extra: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """The documented sweep command, with the endpoint environment.

    ``run_id``: "" (default) this run's id, ``None`` every run (no ``--run-id``).
    """
    chosen = run.run_id if run_id == "" else run_id
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "SockerlessLibrary.sweep",
            *(["--run-id", chosen] if chosen else []),
            "--host",
            f"unix://{sim.info.socket_path}",
            "--journal-dir",
            str(run.journal_dir),
            *extra,
        ],
        cwd=ROOT,
        env=sim.robot_env(run.run_id, run.journal_dir),
        capture_output=True,
        text=True,
        timeout=SWEEP_TIMEOUT,
        check=False,
    )


def interrupted_keywords(run: RobotRun) -> list[str]:
    """Library keywords that failed with robot's stop-signal message, in order."""
    names = []
    for kw in run.output().iter("kw"):
        status = kw.find("status")
        if (
            status is not None
            and status.get("status") == "FAIL"
            and kw.get("owner") == "SockerlessLibrary"
            and "Execution terminated by signal" in (status.text or "")
        ):
            names.append(kw.get("name", ""))
    return names
