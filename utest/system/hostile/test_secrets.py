"""No secret reaches a report: the ECS suites run by robot with sentinel credentials, and every
agent token of the run is looked for in output.xml, log.html, report.html, xunit.xml and the
console, at the default log level and at ``--loglevel TRACE``; and the same for a suite that
prints a container's environment (exec, logs, a failure), where the kit masks what it knows.

Agent tokens are random per container; ``agent_token_listener.py`` reads each one back from its
ECS task definition during the run (with the library's boto3 client) into a side file, so the
test knows what to look for, and fails if it found fewer tokens than the run made containers.

Three runs of the suites:

1. the embedded simulator (the credentials are not used there, but must not show up either);
2. the *real-target* code path against a simulator this test starts (``SOCKERLESS_HOST`` plus
   ``SOCKERLESS_ENDPOINT_URL``): the library's boto3 clients sign every request with the sentinel
   secret and send the sentinel session token, as they would against AWS; the simulator logs at
   DEBUG and its stderr is searched too;
3. a real target from the environment (``SOCKERLESS_HOST`` and real credentials): skipped unless
   one is configured; the real secrets are then the sentinels.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from sockerless_sim.launcher import SimulatorProcess
from SockerlessLibrary.aws.credentials import credentials_available
from SockerlessLibrary.client import DockerClient
from SockerlessLibrary.masking import MASK
from SockerlessLibrary.transport import Transport
from utest.wire_codecs import create_container

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
ROBOT = Path(sys.executable).with_name("robot")
LISTENER = Path(__file__).resolve().with_name("agent_token_listener.py")
REPORTS = ("output.xml", "log.html", "report.html", "xunit.xml")
CONTAINERS_PER_RUN = 3  # lifecycle, exec, start-timeout: each gets its own task definition
ROBOT_TIME_LIMIT = 180
TARGET_VARIABLES = (
    "SOCKERLESS_HOST",
    "SOCKERLESS_ECS_SOCKET",
    "SOCKERLESS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL",
    "SOCKERLESS_ECS_CLUSTER",
    "SOCKERLESS_ECS_SUBNETS",
    "SOCKERLESS_ECS_SECURITY_GROUP",
    "SOCKERLESS_ECS_SECURITY_GROUPS",
    "SOCKERLESS_ECS_LOG_GROUP",
    "SOCKERLESS_KIT_RUN_ID",
    "AWS_PROFILE",
)


def sentinels() -> dict[str, str]:
    """Fresh, unmistakable credential values (long enough never to occur by chance)."""
    return {
        "AWS_ACCESS_KEY_ID": "AKIASENTINEL" + secrets.token_hex(4).upper(),
        "AWS_SECRET_ACCESS_KEY": "secret-sentinel-" + secrets.token_hex(16),
        "AWS_SESSION_TOKEN": "session-sentinel-" + secrets.token_hex(24),
    }


def run_suites(
    env: dict[str, str], out: Path, loglevel: str | None
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``robot --include ecs suites`` with the token listener; (process, agent tokens)."""
    tokens = out / "agent-tokens.txt"
    command = [
        str(ROBOT),
        "--outputdir", str(out),
        "--xunit", "xunit.xml",
        "--listener", f"{LISTENER}:{tokens}",
        *(["--loglevel", loglevel] if loglevel else []),
        "--include", "ecs",
        "suites",
    ]  # fmt: skip
    process = subprocess.run(
        command,
        cwd=ROOT,
        env={**env, "SOCKERLESS_KIT_JOURNAL_DIR": str(out / "journal")},
        capture_output=True,
        text=True,
        timeout=ROBOT_TIME_LIMIT,
        check=False,
    )
    found = tokens.read_text().split() if tokens.exists() else []
    return process, found


def leaks(secret_values: dict[str, str], out: Path, console: str) -> list[str]:
    """``"<name> in <where>"`` for every secret found in a report file or the console."""
    found = []
    places = {name: (out / name).read_text(errors="replace") for name in REPORTS}
    places["console"] = console
    for where, text in places.items():
        found.extend(f"{name} in {where}" for name, value in secret_values.items() if value in text)
    return found


def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in TARGET_VARIABLES}


def assert_clean_run(
    env: dict[str, str], out: Path, secret_values: dict[str, str], loglevel: str | None
) -> list[str]:
    process, tokens = run_suites(env, out, loglevel)
    console = process.stdout + process.stderr
    assert process.returncode == 0, console[-3000:]
    assert len(set(tokens)) >= CONTAINERS_PER_RUN, f"agent tokens read back: {len(tokens)}"
    watched = {**secret_values, **{f"agent token {t[:6]}...": t for t in tokens}}
    assert leaks(watched, out, console) == []
    return tokens


@pytest.mark.parametrize("loglevel", [None, "TRACE"])
def test_embedded_run_shows_no_secret(tmp_path: Path, loglevel: str | None) -> None:
    creds = sentinels()
    env = {**base_env(), **creds, "SOCKERLESS_SIM_LOG_LEVEL": "DEBUG"}
    secret_values = {k: creds[k] for k in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    assert_clean_run(env, tmp_path, secret_values, loglevel)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def debug_sim() -> Iterator[tuple[SimulatorProcess, _Lines]]:
    """A simulator logging every request at DEBUG; all its stderr lines are kept."""
    launcher_log = logging.getLogger("sockerless_sim.launcher")
    handler, old_level = _Lines(), launcher_log.level
    launcher_log.addHandler(handler)
    launcher_log.setLevel(logging.DEBUG)
    process = SimulatorProcess.start(extra_args=["--log-level", "DEBUG"], ready_timeout=20.0)
    try:
        yield process, handler
    finally:
        process.stop()
        launcher_log.removeHandler(handler)
        launcher_log.setLevel(old_level)


def real_target_env(sim: SimulatorProcess, creds: dict[str, str]) -> dict[str, str]:
    info = sim.info
    return {**base_env(), **info.target_environment(), **creds}


def test_real_target_path_shows_no_secret(
    tmp_path: Path, debug_sim: tuple[SimulatorProcess, _Lines]
) -> None:
    sim, stderr = debug_sim
    creds = sentinels()
    secret_values = {k: creds[k] for k in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    tokens = assert_clean_run(real_target_env(sim, creds), tmp_path, secret_values, "TRACE")
    simulator_log = "\n".join(stderr.lines)
    assert "GET /" in simulator_log or "POST /" in simulator_log  # it did log every request
    assert [t[:6] for t in tokens if t in simulator_log] == []


def test_agent_token_is_not_in_inspect_or_list(debug_sim: tuple[SimulatorProcess, _Lines]) -> None:
    sim, stderr = debug_sim
    client = DockerClient(Transport(f"unix://{sim.info.socket_path}"))
    container_id = create_container(client, "alpine:latest", cmd=["tail", "-f", "/dev/null"])["Id"]
    try:
        client.start_container(container_id)
        ecs = boto3.client(
            "ecs",
            endpoint_url=sim.info.aws_endpoint_url,
            region_name=sim.info.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        family = "sockerless-" + container_id[:12]
        definition = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
        environment = definition["containerDefinitions"][0]["environment"]
        token = next(p["value"] for p in environment if p["name"] == "SOCKERLESS_AGENT_TOKEN")
        assert len(token) >= 32
        inspect = client.inspect_container(container_id)
        assert not any(v.startswith("SOCKERLESS_AGENT_TOKEN=") for v in inspect["Config"]["Env"])
        assert token not in repr(inspect)
        assert token not in repr(client.list_containers(all=True))
        exec_id = client.create_exec(container_id, ["echo", "through-the-agent"])
        assert client.start_exec(exec_id).output.lines("stdout") == ["through-the-agent"]
    finally:
        client.remove_container(container_id, force=True)
        client.close()
    assert token not in "\n".join(stderr.lines)


@pytest.mark.skipif(
    not (os.environ.get("SOCKERLESS_HOST") and credentials_available(os.environ)),
    reason="needs a real target: SOCKERLESS_HOST and AWS credentials in the environment",
)
def test_real_target_shows_no_secret(tmp_path: Path) -> None:
    secret_values = {
        name: os.environ[name]
        for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        if os.environ.get(name)
    }
    process, tokens = run_suites(dict(os.environ), tmp_path, "TRACE")
    console = process.stdout + process.stderr
    watched = {**secret_values, **{f"agent token {t[:6]}...": t for t in tokens}}
    assert leaks(watched, tmp_path, console) == []
    assert len(set(tokens)) >= CONTAINERS_PER_RUN, f"agent tokens read back: {len(tokens)}"


# --- a test that prints the container's environment -----------------------------------------

ENVIRONMENT_SUITE = """\
*** Settings ***
Library    SockerlessLibrary

*** Test Cases ***
A Test That Prints The Container's Environment
    [Documentation]    The agent token is in the container's environment (sockerless puts it in
    ...    the task definition), and so is a key the test handed on.
    VAR    &{env}    HANDED_ON=%{AWS_SECRET_ACCESS_KEY}
    ${name}=    Generate Container Name
    ${id}=    Create Container    alpine:latest    sh    -c
    ...    env; echo "$SOCKERLESS_AGENT_TOKEN"; echo printed; exec tail -f /dev/null
    ...    env=${env}    name=${name}
    Start Container    ${id}
    # Read by its name first: the bare token in the logs is masked all the same.
    Wait Until Logs Contain Line    ${name}    printed
    ${by_name}=    Get Container Logs    ${name}
    Log Many    @{by_name.log_lines}
    ${result}=    Run Process In Container    ${id}    env
    Log    ${result.stdout}
    ${token}=    Run Process In Container    ${id}    sh    -c    echo "$SOCKERLESS_AGENT_TOKEN"
    Log    ${token.stdout}
    Wait Until Logs Contain Line    ${id}    printed
    ${logs}=    Get Container Logs    ${id}
    Log Many    @{logs.log_lines}
    Should Be Equal    ${token.stdout}    no token    msg=The token
"""


def test_printing_the_environment_through_exec_and_logs_shows_no_secret(tmp_path: Path) -> None:
    creds = sentinels()
    env = {**base_env(), **creds, "SOCKERLESS_KIT_JOURNAL_DIR": str(tmp_path / "journal")}
    suite = tmp_path / "environment.robot"
    suite.write_text(ENVIRONMENT_SUITE)
    tokens_file = tmp_path / "agent-tokens.txt"
    command = [
        str(ROBOT), "--outputdir", str(tmp_path), "--xunit", "xunit.xml", "--loglevel", "TRACE",
        "--listener", f"{LISTENER}:{tokens_file}", str(suite),
    ]  # fmt: skip
    process = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=ROBOT_TIME_LIMIT, check=False
    )
    console = process.stdout + process.stderr
    assert process.returncode == 1, console[-3000:]  # only the comparison with the token fails
    tokens = tokens_file.read_text().split() if tokens_file.exists() else []
    assert len(tokens) == 1, f"agent tokens read back: {len(tokens)}"
    watched = {
        "AWS_SECRET_ACCESS_KEY": creds["AWS_SECRET_ACCESS_KEY"],
        "AWS_SESSION_TOKEN": creds["AWS_SESSION_TOKEN"],
        "agent token": tokens[0],
    }
    assert leaks(watched, tmp_path, console) == []
    # The environment was printed, masked: in the exec output, the logs and the failure.
    output = (tmp_path / "output.xml").read_text()
    assert f"SOCKERLESS_AGENT_TOKEN={MASK}" in output
    assert f"HANDED_ON={MASK}" in output
    assert f"The token: {MASK} != no token" in output
