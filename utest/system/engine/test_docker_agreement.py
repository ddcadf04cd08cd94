"""The simulator answers as a real Docker Engine does, where it copies Docker: the same requests
sent to both, the answers compared. The figures in simulator/README.md ("Programs, messages and
refusals") were measured with this module:

    .venv/bin/python -m pytest -p no:xdist utest/system/engine/test_docker_agreement.py

The engine is the session's private Docker Engine (``conftest.py``: the one the other engine
tests use, or the one ``python -m peers.docker_engine run`` hands over in
``KIT_DOCKER_ENGINE_HOST``), the simulator one of this module's own. Where the two differ by
design (the simulator's start answers 500 with the Fargate task's stopped reason, Docker's 400
with runc's error) the test compares what both carry: runc's reason, exit codes.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator

import pytest

from peers.docker_engine import EngineInfo
from sockerless_sim.launcher import SimulatorProcess
from utest.system.sim_docker.wire_helpers import RawClient, parse_frames

pytestmark = pytest.mark.timeout(120)

# As utest/system/sim_docker's simulators: the instant profile at a fifth of its delays.
TIME_SCALE = 0.2


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    process = SimulatorProcess.start(time_scale=TIME_SCALE, ready_timeout=20.0)
    yield process
    process.stop()


@pytest.fixture
def both(engine: EngineInfo, sim: SimulatorProcess) -> Iterator[tuple[RawClient, RawClient]]:
    """Raw clients of the engine and of the simulator; their containers go after the test."""
    docker, simulator = RawClient(engine.socket_path), RawClient(sim.info.socket_path)
    yield docker, simulator
    docker.cleanup()
    simulator.cleanup()


def _create(client: RawClient, cmd: list[str], **config: object) -> str:
    """Create without an API version in the path (the engine is Docker 20.10, API 1.41)."""
    body = {"Image": "alpine:latest", "Cmd": cmd, **config}
    response = client.request("POST", "/containers/create", body)
    assert response.status == 201, response.raw
    container_id = str(response.json()["Id"])
    client.created.append(container_id)
    return container_id


def _run(client: RawClient, cmd: list[str], **config: object) -> str:
    container_id = _create(client, cmd, **config)
    assert client.request("POST", f"/containers/{container_id}/start").status == 204
    return container_id


def _filters(client: RawClient, path: str, filters: object) -> tuple[int, object]:
    query = urllib.parse.quote(json.dumps(filters))
    response = client.request("GET", f"{path}?all=1&filters={query}")
    return response.status, response.json()


@pytest.mark.parametrize(
    ("path", "filters"),
    [
        ("/containers/json", {"lable": ["x"]}),
        ("/containers/json", {"lable": {"x": True}}),
        ("/containers/json", {"status": ["bogus"]}),
        ("/images/json", {"lable": ["x"]}),
    ],
)
def test_unknown_filters_are_refused_alike(
    both: tuple[RawClient, RawClient], path: str, filters: object
) -> None:
    docker, simulator = both
    assert _filters(simulator, path, filters) == _filters(docker, path, filters)


def test_an_env_entry_without_a_name_is_refused_alike(both: tuple[RawClient, RawClient]) -> None:
    body = {"Image": "alpine:latest", "Cmd": ["env"], "Env": ["=x"]}
    answers = [client.request("POST", "/containers/create", body) for client in both]
    assert [(a.status, a.json()) for a in answers] == [
        (400, {"message": "invalid environment variable: =x"})
    ] * 2


NOT_IN_PATH = 'exec: "bash": executable file not found in $PATH'
NO_SUCH_FILE = 'exec: "/does/not/exist": stat /does/not/exist: no such file or directory'
NOT_EXECUTABLE = 'exec: "/etc/passwd": permission denied'


@pytest.mark.parametrize(
    ("cmd", "reason", "exit_code"),
    [
        (["bash", "-c", "echo $BASH_VERSION"], NOT_IN_PATH, 127),
        (["/does/not/exist"], NO_SUCH_FILE, 127),
        (["/etc/passwd"], NOT_EXECUTABLE, 126),
    ],
)
def test_a_command_that_cannot_start_gives_runcs_reason_and_exit_code_alike(
    both: tuple[RawClient, RawClient], cmd: list[str], reason: str, exit_code: int
) -> None:
    for client in both:
        container_id = _create(client, cmd)
        start = client.request("POST", f"/containers/{container_id}/start")
        assert start.status in (400, 500)  # Docker 400, the simulator (as sockerless) 500
        assert f"{reason}: unknown" in start.json()["message"]
        state = client.inspect(container_id)["State"]
        assert state["ExitCode"] == exit_code
        assert f"{reason}: unknown" in state["Error"]


def _logs(client: RawClient, container_id: str, last: bytes) -> list[tuple[int, bytes]]:
    response = client.logs_when(container_id, "stdout=1&stderr=1", lambda body: last in body)
    return parse_frames(response.body)


def test_a_shell_that_does_not_find_bash_says_so_alike(both: tuple[RawClient, RawClient]) -> None:
    outputs = []
    for client in both:
        container_id = _run(client, ["sh", "-c", "bash -c 'echo hi'; echo after=$?"])
        outputs.append(sorted(_logs(client, container_id, b"after=")))
    assert outputs[0] == outputs[1] == [(1, b"after=127\n"), (2, b"sh: bash: not found\n")]


def _exec(
    client: RawClient, container_id: str, cmd: list[str], env: list[str]
) -> tuple[list[tuple[int, bytes]], int]:
    exec_id = client.create_exec(container_id, cmd, AttachStdout=True, AttachStderr=True, Env=env)
    frames = parse_frames(client.exec_stream(exec_id).partition(b"\r\n\r\n")[2])
    return frames, client.request("GET", f"/exec/{exec_id}/json").json()["ExitCode"]


@pytest.mark.parametrize(
    ("cmd", "env"),
    [(["bash"], []), (["/does/not/exist"], []), (["/etc/passwd"], []), (["env"], ["=x"])],
)
def test_an_exec_that_cannot_start_is_reported_alike(
    both: tuple[RawClient, RawClient], cmd: list[str], env: list[str]
) -> None:
    answers = []
    for client in both:
        container_id = _run(client, ["sleep", "30"])
        answers.append(_exec(client, container_id, cmd, env))
    assert answers[0] == answers[1]
    assert answers[0][1] == 126


def test_a_bare_env_name_in_an_exec_unsets_alike(both: tuple[RawClient, RawClient]) -> None:
    seen = []
    for client in both:
        container_id = _run(client, ["sleep", "30"], Env=["FOO=container", "KEEP=k"])
        frames, code = _exec(client, container_id, ["env"], ["FOO", "NEW", "KEEP="])
        names = dict(line.split("=", 1) for f in frames for line in f[1].decode().splitlines())
        seen.append((code, "FOO" in names, "NEW" in names, names.get("KEEP")))
    assert seen == [(0, False, False, "")] * 2


def test_a_bare_env_name_at_create_is_kept_and_sets_nothing_alike(
    both: tuple[RawClient, RawClient],
) -> None:
    for client in both:
        container_id = _run(client, ["env"], Env=["FOO", "BAZ=1"])
        frames = _logs(client, container_id, b"BAZ=1")
        assert not any(payload.startswith(b"FOO") for _s, payload in frames)
        assert client.inspect(container_id)["Config"]["Env"][:2] == ["FOO", "BAZ=1"]
