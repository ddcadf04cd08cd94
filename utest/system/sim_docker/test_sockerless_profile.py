"""The ``sockerless`` quirk profile: the simulator answers as sockerless 020b7fa4 (ECS backend with
its own AWS simulator) was observed to answer, through the Docker API on the socket and, where
AWS is involved, as boto3 sees it on the simulator's moto endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from wire_helpers import RawClient, aws_client, parse_frames

from sockerless_sim.docker_api.image_ref import public_gallery_reference
from sockerless_sim.launcher import SimulatorProcess

pytestmark = pytest.mark.timeout(60)

# The instant profile at half its delays: each task state 25 ms, log delivery 0.25 s, and an
# unpullable image RUNNING for 0.5 s while its pull is tried.
TIME_SCALE = 0.5
UNPULLABLE = "registry.invalid/sockerless-acceptance/does-not-exist:latest"
MIRRORED_ALPINE = "public.ecr.aws/docker/library/alpine:latest"
UPGRADE = {"Connection": "Upgrade", "Upgrade": "tcp"}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    process = SimulatorProcess.start(
        time_scale=TIME_SCALE, quirks=("sockerless",), ready_timeout=20.0
    )
    yield process
    process.stop()


@pytest.fixture(scope="module")
def task_of(sim: SimulatorProcess) -> Callable[[str], dict[str, Any]]:
    """The container's one task as ECS describes it (found by its family, independently of
    the daemon)."""
    ecs = aws_client(sim.info, "ecs")

    def describe(container_id: str) -> dict[str, Any]:
        arns: list[str] = []
        for status in ("RUNNING", "STOPPED"):
            arns += ecs.list_tasks(
                cluster=sim.info.cluster,
                family=f"sockerless-{container_id[:12]}",
                desiredStatus=status,
            )["taskArns"]
        assert len(arns) == 1, arns
        (task,) = ecs.describe_tasks(cluster=sim.info.cluster, tasks=arns)["tasks"]
        return dict(task)

    return describe


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


# -- running-before-pull -------------------------------------------------------------------


def test_an_unpullable_image_runs_first_then_exits_minus_one(
    client: RawClient, task_of: Callable[[str], dict[str, Any]]
) -> None:
    container_id = client.create(["echo", "never runs"], Image=UNPULLABLE)

    began = time.monotonic()
    response = client.request("POST", f"/containers/{container_id}/start")

    assert (response.status, response.body) == (204, b"")
    assert time.monotonic() - began < 5
    assert client.inspect(container_id)["State"]["Status"] == "running"
    state = client.wait_status(container_id, "exited")["State"]
    assert (state["ExitCode"], state["Error"]) == (-1, "")
    task = task_of(container_id)
    assert (task["lastStatus"], task["stopCode"]) == ("STOPPED", "EssentialContainerExited")
    assert task["startedAt"] is not None
    assert task["stoppedReason"].startswith(f"Container start failed: image pull {UNPULLABLE}: ")
    assert task["containers"][0]["exitCode"] == -1


def test_stopping_an_image_pull_in_progress_stops_its_task(
    client: RawClient, task_of: Callable[[str], dict[str, Any]]
) -> None:
    container_id = client.run(["echo", "never runs"], Image=UNPULLABLE)

    assert client.request("POST", f"/containers/{container_id}/stop").status == 204

    state = client.inspect(container_id)["State"]
    assert (state["Status"], state["ExitCode"], state["Error"]) == (
        "exited",
        1,
        "Container stopped via API",
    )
    task = task_of(container_id)
    assert (task["stopCode"], task["containers"][0]["exitCode"]) == ("UserInitiated", 0)


# -- stop-exit-code-one --------------------------------------------------------------------


def test_stop_reads_back_exit_code_one_while_ecs_says_zero(
    client: RawClient, task_of: Callable[[str], dict[str, Any]]
) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])

    assert client.request("POST", f"/containers/{container_id}/stop").status == 204

    state = client.inspect(container_id)["State"]
    assert {k: state[k] for k in ("Status", "ExitCode", "Error")} == {
        "Status": "exited",
        "ExitCode": 1,
        "Error": "Container stopped via API",
    }
    task = task_of(container_id)
    assert (task["lastStatus"], task["stopCode"]) == ("STOPPED", "UserInitiated")
    assert task["stoppedReason"] == "Container stopped via API"
    assert task["containers"][0]["exitCode"] == 0
    assert client.request("POST", f"/containers/{container_id}/stop").status == 304


def test_exits_of_their_own_and_kills_keep_their_codes(client: RawClient) -> None:
    ran = [client.run(["sh", "-c", f"exit {code}"]) for code in (0, 3)]
    killed = client.run(["tail", "-f", "/dev/null"])
    assert client.request("POST", f"/containers/{killed}/kill").status == 204

    for container_id, code in ((ran[0], 0), (ran[1], 3), (killed, 137)):
        state = client.wait_status(container_id, "exited")["State"]
        assert (state["ExitCode"], state["Error"]) == (code, "")


# -- image-rewritten -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("alpine:latest", MIRRORED_ALPINE),
        ("alpine", MIRRORED_ALPINE),
        ("node:20", "public.ecr.aws/docker/library/node:20"),
        ("myorg/app:1", "myorg/app:1"),
        ("ghcr.io/org/app:1", "ghcr.io/org/app:1"),
        (UNPULLABLE, UNPULLABLE),
        ("alpine@sha256:" + "a" * 64, "alpine@sha256:" + "a" * 64),
        ("sha256:" + "b" * 64, "sha256:" + "b" * 64),
        (MIRRORED_ALPINE, MIRRORED_ALPINE),
    ],
)
def test_only_library_references_are_rewritten(reference: str, expected: str) -> None:
    assert public_gallery_reference(reference) == expected


def test_the_image_reads_as_its_public_gallery_mirror_once_started(
    sim: SimulatorProcess, client: RawClient, task_of: Callable[[str], dict[str, Any]]
) -> None:
    container_id = client.create(["tail", "-f", "/dev/null"])

    def images() -> tuple[str, str, str]:
        document = client.inspect(container_id)
        listed = client.request("GET", "/containers/json?all=true").json()
        (entry,) = [e for e in listed if e["Id"] == container_id]
        return document["Config"]["Image"], document["Image"], entry["Image"]

    assert images() == ("alpine:latest",) * 3
    assert client.request("POST", f"/containers/{container_id}/start").status == 204
    assert images() == (MIRRORED_ALPINE,) * 3
    definition = aws_client(sim.info, "ecs").describe_task_definition(
        taskDefinition=task_of(container_id)["taskDefinitionArn"]
    )["taskDefinition"]
    assert definition["containerDefinitions"][0]["image"] == MIRRORED_ALPINE


# -- logs-stdout-only ----------------------------------------------------------------------


def test_logs_frame_every_line_as_stdout_as_cloudwatch_holds_it(
    sim: SimulatorProcess, client: RawClient, task_of: Callable[[str], dict[str, Any]]
) -> None:
    container_id = client.run(["sh", "-c", "echo out-line; echo err-line >&2"])
    client.wait_status(container_id, "exited")

    response = client.logs_when(
        container_id, "stdout=true&stderr=true", lambda body: body.count(b"-line\n") == 2
    )

    frames = parse_frames(response.body)
    assert {stream for stream, _ in frames} == {1}
    assert b"out-line\n" in [p for _, p in frames] and b"err-line\n" in [p for _, p in frames]
    only_stderr = client.request("GET", f"/containers/{container_id}/logs?stderr=true")
    assert (only_stderr.status, only_stderr.body) == (200, b"")
    stream = f"{container_id[:12]}/main/{task_of(container_id)['taskArn'].rsplit('/', 1)[-1]}"
    events = aws_client(sim.info, "logs").get_log_events(
        logGroupName=sim.info.log_group, logStreamName=stream, startFromHead=True
    )["events"]
    assert "err-line" in [e["message"] for e in events]  # shipped as is, no stream marker


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
