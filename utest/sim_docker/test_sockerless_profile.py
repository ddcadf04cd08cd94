"""The ``sockerless`` quirk profile: the simulator answers as sockerless 020b7fa4 (ECS backend with
its own AWS simulator) was observed to answer, through the Docker API on the socket and, where
AWS is involved, as boto3 sees it on the simulator's moto endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from wire_helpers import RawClient, parse_frames

from sockerless_sim.launcher import SimulatorProcess

pytestmark = pytest.mark.timeout(60)

# The instant profile at half its delays: each task state 25 ms, log delivery 0.25 s.
TIME_SCALE = 0.5
UPGRADE = {"Connection": "Upgrade", "Upgrade": "tcp"}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    process = SimulatorProcess.start(
        time_scale=TIME_SCALE, quirks=("sockerless",), ready_timeout=20.0
    )
    yield process
    process.stop()


# -- exec-exit-code-zero -------------------------------------------------------------------


def test_exec_reads_back_exit_code_zero_with_its_output_intact(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    exec_id = client.create_exec(container_id, ["sh", "-c", "echo out; echo err >&2; exit 7"])
    before = client.request("GET", f"/exec/{exec_id}/json").json()
    assert (before["Running"], before["ExitCode"]) == (False, 0)  # never null

    response = client.request("POST", f"/exec/{exec_id}/start", {}, UPGRADE)

    assert response.status == 101
    frames = parse_frames(response.body)
    assert b"".join(p for s, p in frames if s == 1) == b"out\n"
    assert b"".join(p for s, p in frames if s == 2) == b"err\n"  # exec keeps stream 2
    after = client.request("GET", f"/exec/{exec_id}/json").json()
    assert (after["Running"], after["ExitCode"]) == (False, 0)


# -- conflict-without-slash ----------------------------------------------------------------


def test_a_duplicate_name_is_409_without_the_slash(client: RawClient) -> None:
    client.create(["true"], name="dup-name")

    response = client.request(
        "POST", "/containers/create?name=dup-name", {"Image": "alpine:latest"}
    )

    assert (response.status, response.json()) == (
        409,
        {"message": 'Conflict. The container name "dup-name" is already in use'},
    )


# -- the profile through with_simulator ----------------------------------------------------


def test_with_simulator_accepts_the_profile(tmp_path: Path) -> None:
    seen = tmp_path / "conflict.json"
    probe = (
        "import json, os, sys; from sockerless_sim.unix_http import UnixHTTPConnection; "
        "path = os.environ['SOCKERLESS_HOST'].removeprefix('unix://'); answers = []\n"
        "for _ in range(2):\n"
        "    c = UnixHTTPConnection(path, 10); body = json.dumps({'Image': 'alpine:latest'})\n"
        "    c.request('POST', '/containers/create?name=twice', body,"
        " {'Content-Type': 'application/json'})\n"
        "    r = c.getresponse(); answers.append([r.status, json.loads(r.read())]); c.close()\n"
        "json.dump(answers, open(sys.argv[1], 'w'))"
    )
    command = [sys.executable, "-m", "sockerless_sim.with_simulator", "--quirk", "sockerless"]
    probe_command = [sys.executable, "-c", probe, str(seen)]
    completed = subprocess.run([*command, "--", *probe_command], timeout=50, check=False)
    assert completed.returncode == 0
    (created, refused) = json.loads(seen.read_text())
    assert created[0] == 201
    assert refused == [409, {"message": 'Conflict. The container name "twice" is already in use'}]
