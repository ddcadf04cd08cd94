"""Least privilege, proven: ``iam/sockerless-kit-policy.json`` is sufficient and necessary.

Each run is what a real target sees (target 2): a simulator in IAM mode (moto checks every
signature and policy; ECS and Logs actions against the resource AWS names, conditions evaluated),
the kit signing as the IAM user ``sockerless-kit`` that holds only the policy under test, with
its keys in the kit's environment and nowhere else. A run is the full ECS suites
(``robot --include ecs suites``), then the sweeper (``python -m SockerlessLibrary.sweep
--run-id``) on a run that left a container behind whose daemon lost track of it while its task
still runs, so the sweeper itself has to stop the task, deregister the task definition and delete
the log stream. The simulator records, server side, every action the kit's user called and every
one it was denied.

* Sufficient: with the repository's policy, every test passes, the sweeper exits 0 having cleaned
  the leftover, the kit's user was denied nothing, and the actions it called are exactly the ones
  the policy grants (plus ``sts:GetCallerIdentity``, which needs no permission on AWS).
* Necessary: for every action the policy grants, a run with that one action taken out fails,
  the simulator denied exactly that action, and the failure names the missing permission.

Runs go two at a time (one per core); each takes about 10 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sockerless_sim.launcher import SimulatorProcess
from sockerless_sim.unix_http import UnixHTTPConnection
from sockerless_sim.with_simulator import fetch_stats
from SockerlessLibrary.aws.resources import PROJECT, PROJECT_LABEL, RUN_ID_LABEL
from SockerlessLibrary.journal import RunJournal
from SockerlessLibrary.target import SOCKERLESS

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "iam" / "sockerless-kit-policy.json"
BIN = Path(sys.executable).parent
KIT_USER = "sockerless-kit"
# AWS: "No permissions are required to perform this operation" (STS GetCallerIdentity).
PERMISSION_FREE = frozenset({"sts:GetCallerIdentity"})
# The policy names the kit's defaults: cluster "sockerless", log group "/sockerless".
SIMULATOR_ENV = {"SOCKERLESS_ECS_CLUSTER": "sockerless", "SOCKERLESS_ECS_LOG_GROUP": "/sockerless"}
PARALLEL_RUNS = 2
STEP_TIME_LIMIT_SECONDS = 150
HTTP_TIMEOUT_SECONDS = 30.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def actions_of(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def granted_actions(document: dict[str, Any]) -> set[str]:
    """Every action an Allow statement of the policy names (no wildcards in this policy)."""
    return {a for s in statements(document) if s["Effect"] == "Allow" for a in actions_of(s)}


def policy_without(action: str, directory: Path) -> Path:
    """The repository's policy with ``action`` taken out (and a statement left empty dropped)."""
    document = json.loads(POLICY.read_text())
    kept = []
    for statement in statements(document):
        remaining = [a for a in actions_of(statement) if a != action]
        if remaining:
            kept.append({**statement, "Action": remaining})
    document["Statement"] = kept
    path = directory / f"without-{action.replace(':', '-')}.json"
    path.write_text(json.dumps(document, indent=2))
    return path


@dataclass
class KitRun:
    """What one run did: robot, the sweeper, and what the simulator recorded for the kit."""

    policy: Path
    robot_code: int
    robot_text: str  # output.xml and the console
    sweep_code: int
    sweep_text: str
    sweep_summary: dict[str, Any]
    leftover: str
    calls: dict[str, int]
    denied: dict[str, int]
    rejected: dict[str, int]
    seconds: float
    keys_leaked: bool  # the kit user's key ID or secret in robot's or the sweeper's output

    @property
    def failed(self) -> bool:
        return self.robot_code != 0 or self.sweep_code != 0

    def names(self, text: str) -> bool:
        return text in self.robot_text or text in self.sweep_text


def _request(socket_path: str, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
    connection = UnixHTTPConnection(socket_path, HTTP_TIMEOUT_SECONDS)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {} if body is None else {"Content-Type": "application/json"}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def leave_a_container(simulator: SimulatorProcess, journal_dir: Path, run_id: str) -> str:
    """What a killed run leaves: a running container, in its journal, with a log stream; and a
    daemon that has lost track of it (it answers 404 to the sweeper's remove, as a restarted
    daemon would), so the sweeper must clean its AWS side itself."""
    info = simulator.info
    socket_path = info.socket_path
    status, body = _request(
        socket_path,
        "POST",
        "/containers/create",
        {
            "Image": "alpine:latest",
            "Cmd": ["sh", "-c", "echo left behind; exec tail -f /dev/null"],
            "Labels": {RUN_ID_LABEL: run_id, PROJECT_LABEL: PROJECT},
        },
    )
    assert status == 201, body
    container_id = str(json.loads(body)["Id"])
    RunJournal(journal_dir, run_id).record_created(
        container_id,
        target=f"unix://{socket_path}",
        target_kind=SOCKERLESS,
        region=info.region,
        cluster=info.cluster,
        endpoint_url=info.aws_endpoint_url,
        log_group=info.log_group,
    )
    status, body = _request(socket_path, "POST", f"/containers/{container_id}/start")
    assert status == 204, body
    deadline = time.monotonic() + 20
    while (
        b"left behind"
        not in _request(socket_path, "GET", f"/containers/{container_id}/logs?stdout=1")[1]
    ):  # the line is on CloudWatch: its stream exists
        assert time.monotonic() < deadline, "the leftover's log line never reached CloudWatch"
        time.sleep(0.2)
    status, body = _request(
        socket_path,
        "POST",
        "/_sim/faults",
        {"target": "docker", "route": "DELETE /containers/{id}", "status": 404, "count": 1},
    )
    assert status == 201, body
    return container_id


def kit_environment(simulator: SimulatorProcess, journal_dir: Path) -> dict[str, str]:
    """The kit's environment for the simulator as a real target; nothing of ours leaks in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SOCKERLESS_", "AWS_")) and k != "PYTHONPATH"
    }
    env.update(simulator.info.target_environment())  # the kit user's keys: this env only
    env["SOCKERLESS_KIT_JOURNAL_DIR"] = str(journal_dir)
    return env


def step(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One command of a run, from the repository root, bounded in time."""
    return subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_TIME_LIMIT_SECONDS,
        check=False,
    )


def run_kit(policy: Path, workdir: Path) -> KitRun:
    """One run under ``policy`` (see the module docstring)."""
    began = time.monotonic()
    workdir.mkdir(parents=True)
    journal_dir = workdir / "journal"
    simulator = SimulatorProcess.start(iam_policy=str(policy), ready_timeout=60.0)
    try:
        env = kit_environment(simulator, journal_dir)
        robot = step(
            [
                *[str(BIN / "robot"), "--outputdir", str(workdir / "robot")],
                *["--console", "dotted", "--include", "ecs", "suites"],
            ],
            {**env, "SOCKERLESS_KIT_RUN_ID": f"iam-robot-{uuid.uuid4().hex[:8]}"},
        )
        output_xml = workdir / "robot" / "output.xml"
        robot_text = robot.stdout + robot.stderr
        if output_xml.exists():
            robot_text += output_xml.read_text(encoding="utf-8")
        sweep_run = f"iam-sweep-{uuid.uuid4().hex[:8]}"
        leftover = leave_a_container(simulator, journal_dir, sweep_run)
        sweep = step(
            [
                *[str(BIN / "python"), "-m", "SockerlessLibrary.sweep"],
                *["--run-id", sweep_run, "--journal-dir", str(journal_dir)],
            ],
            env,
        )
        lines = sweep.stdout.strip().splitlines()
        summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
        kit = fetch_stats(simulator.info.socket_path)["aws"]["iam"]["users"].get(KIT_USER, {})
        keys = simulator.info.kit_credentials() or ()
        reports = [robot_text, sweep.stdout, sweep.stderr]
        reports += [p.read_text("utf-8") for p in (workdir / "robot").glob("*.html")]
        keys_leaked = any(key in text for key in keys for text in reports)
    finally:
        simulator.stop()
    return KitRun(
        policy=policy,
        robot_code=robot.returncode,
        robot_text=robot_text,
        sweep_code=sweep.returncode,
        sweep_text=sweep.stdout + sweep.stderr,
        sweep_summary=summary,
        leftover=leftover,
        calls=dict(kit.get("calls", {})),
        denied=dict(kit.get("denied", {})),
        rejected=dict(kit.get("rejected", {})),
        seconds=time.monotonic() - began,
        keys_leaked=keys_leaked,
    )


POLICY_ACTIONS = sorted(granted_actions(json.loads(POLICY.read_text())))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[KitRun]]]:
    """Every run of this module, started at once, two at a time: the repository's policy under
    ``"policy"``, and the policy without one action under that action's name."""
    base = tmp_path_factory.mktemp("least-privilege")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SIMULATOR_ENV.items():  # read by the simulators as they start
            patch.setenv(name, value)
        patch.delenv("SOCKERLESS_SIM_IAM_POLICY", raising=False)
        with ThreadPoolExecutor(PARALLEL_RUNS, thread_name_prefix="kit-run") as pool:
            futures = {"policy": pool.submit(run_kit, POLICY, base / "policy")}
            for action in POLICY_ACTIONS:
                name = action.replace(":", "-")
                policy = policy_without(action, base)
                futures[action] = pool.submit(run_kit, policy, base / name)
            try:
                yield futures
            finally:
                for future in futures.values():
                    future.cancel()


def result_of(runs: dict[str, Future[KitRun]], name: str) -> KitRun:
    return runs[name].result(timeout=STEP_TIME_LIMIT_SECONDS * 4)


def test_the_policy_grants_only_named_actions_and_no_permission_free_ones() -> None:
    document = json.loads(POLICY.read_text())
    for statement in statements(document):
        assert statement["Effect"] == "Allow", statement
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        for action in actions_of(statement):
            assert "*" not in action, f"{action}: name every action, no wildcards"
    assert not granted_actions(document) & PERMISSION_FREE, (
        "sts:GetCallerIdentity needs no permission on AWS: granting it means nothing"
    )


def test_the_policy_is_sufficient(runs: dict[str, Future[KitRun]]) -> None:
    run = result_of(runs, "policy")
    assert run.robot_code == 0, f"robot failed under the policy:\n{run.robot_text[-3000:]}"
    assert run.sweep_code == 0, f"the sweeper failed under the policy:\n{run.sweep_text[-3000:]}"
    assert run.sweep_summary.get("cleaned") == [run.leftover], run.sweep_summary
    assert run.denied == {}, f"the kit's user was denied: {run.denied}"
    assert run.rejected == {}, f"the kit's signatures were refused: {run.rejected}"
    assert not run.keys_leaked, "the kit user's keys are in robot's or the sweeper's output"
    # The preflight asks who the credentials are: allowed to anyone on AWS, so not granted.
    assert set(run.calls) >= PERMISSION_FREE, run.calls
    called = set(run.calls) - PERMISSION_FREE
    granted = granted_actions(json.loads(POLICY.read_text()))
    assert called == granted, (
        "the actions the kit called differ from those the policy grants:\n"
        f"  called, not granted: {sorted(called - granted) or 'none'}\n"
        f"  granted, never called: {sorted(granted - called) or 'none'}\n"
        f"  every call: {run.calls}"
    )


@pytest.mark.parametrize("action", POLICY_ACTIONS)
def test_each_action_of_the_policy_is_necessary(
    runs: dict[str, Future[KitRun]], action: str
) -> None:
    run = result_of(runs, action)
    assert run.failed, (
        f"without {action} the run still passed: robot {run.robot_code}, sweeper "
        f"{run.sweep_code}; denied {run.denied} (a denial swallowed?)"
    )
    assert set(run.denied) == {action}, f"denied {run.denied}, expected only {action}"
    # The library says "lacks the IAM permission <action>", the preflight "AWS denied <action>".
    assert run.names(f"lacks the IAM permission {action}") or run.names(f"AWS denied {action}"), (
        f"no failure names the missing permission {action}:\n{run.robot_text[-2000:]}\n"
        f"{run.sweep_text[-2000:]}"
    )
