"""robot.toml: one RobotCode profile per target, run through ``robotcode -p <profile> robot``.

``python3 tasks.py test`` runs the embedded profile in full (4 passed, results/embedded/). Here
each profile is run as its users would run it, with robot's own ``--outputdir`` after ``robot``
(so the worktree's results/ stay untouched, and pass-through is shown to work):

* embedded: a SOCKERLESS_HOST left in the shell does not pull the run off the simulator;
* sockerless-sim: target 2, with the daemon and AWS endpoint of a simulator started as an
  external target, as sockerless' own would be; the report names it as code, never a link;
* aws: without credentials every test is skipped with the spec's message (AC 1).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
CONFIG = tomllib.loads((ROOT / "robot.toml").read_text())
RUN_TIME_LIMIT_SECONDS = 180
CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


def robotcode(
    profile: str, out: Path, *robot_options: str, env: dict[str, str], prefix: tuple[str, ...] = ()
) -> ET.Element:
    command = [*prefix, str(BIN / "robotcode"), "-p", profile, "robot"]
    completed = subprocess.run(
        [*command, "--outputdir", str(out), *robot_options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIME_LIMIT_SECONDS,
        check=False,
    )
    output = out / "output.xml"
    assert output.exists(), completed.stdout + completed.stderr
    return ET.parse(output).getroot()


def totals(root: ET.Element) -> tuple[str | None, str | None, str | None]:
    stat = root.find("./statistics/total/stat")
    assert stat is not None
    return stat.get("pass"), stat.get("fail"), stat.get("skip")


def metadata(root: ET.Element) -> dict[str, str]:
    top = root.find("suite")
    assert top is not None
    return {meta.get("name", ""): meta.text or "" for meta in top.findall("meta")}


def base_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SOCKERLESS_", "AWS_"))}


def test_there_is_a_profile_per_target_with_its_own_results_and_titles() -> None:
    profiles = CONFIG["profiles"]
    assert set(profiles) == {"embedded", "sockerless-sim", "aws"}
    assert CONFIG["default-profiles"] == ["embedded"]
    assert (CONFIG["paths"], CONFIG["includes"], CONFIG["xunit"]) == (
        ["suites"],
        ["ecs"],
        "xunit.xml",
    )
    assert len({p["output-dir"] for p in profiles.values()}) == 3
    for name, profile in profiles.items():
        assert profile["output-dir"].startswith("results/"), name
        assert profile["report-title"].startswith("Sockerless ECS Acceptance on "), name
        assert profile["log-title"] == profile["report-title"] + ": log", name
        assert profile["description"], name


def test_the_embedded_profile_ignores_a_daemon_address_left_in_the_shell(tmp_path: Path) -> None:
    env = {**base_environment(), "SOCKERLESS_HOST": "unix:///nonexistent/sockerless.sock"}
    root = robotcode("embedded", tmp_path, "--exclude", "slow", env=env)
    assert totals(root) == ("1", "0", "0")
    assert metadata(root)["Target"] == "embedded simulator"
    assert metadata(root)["Daemon"].startswith("embedded simulator (API ")


def test_the_sockerless_sim_profile_runs_target_2_against_an_external_daemon(
    tmp_path: Path,
) -> None:
    with_simulator = (str(BIN / "python"), "-m", "sockerless_sim.with_simulator", "--")
    root = robotcode("sockerless-sim", tmp_path, env=base_environment(), prefix=with_simulator)
    assert totals(root) == ("4", "0", "0")
    meta = metadata(root)
    assert meta["Target"] == "sockerless"
    assert meta["Daemon"].startswith("``unix:///")
    assert meta["AWS endpoint"].startswith("``http://127.0.0.1:")


def test_the_aws_profile_without_credentials_skips_every_test(tmp_path: Path) -> None:
    env = {**base_environment(), "SOCKERLESS_HOST": "unix:///nonexistent/sockerless.sock"}
    root = robotcode("aws", tmp_path, env=env)
    assert totals(root) == ("0", "0", "4")
    messages = {status.text for status in root.iter("status") if status.get("status") == "SKIP"}
    assert any(message and "AWS credentials not available" in message for message in messages)
