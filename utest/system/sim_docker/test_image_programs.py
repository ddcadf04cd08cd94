"""A task of a known image finds only that image's programs; what Docker, runc and Fargate say
when a command cannot be started (measured on Docker 20.10 with ``peers.docker_engine``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from wire_helpers import RawClient, parse_frames

from sockerless_sim.launcher import SimulatorProcess

pytestmark = pytest.mark.timeout(60)

FARGATE_PREFIX = (
    "CannotStartContainerError: ResourceInitializationError: failed to create new container "
    "runtime task: failed to create shim task: OCI runtime create failed: runc create failed: "
    "unable to start container process: "
)
BUSYBOX_SCRIPT = (
    "trap 'echo trapped; exit 3' USR1; echo one; printf '%s-%d\\n' two 2; sleep 0.1; "
    "echo three | cat; env | grep -c '^PATH=' ; tail -n 1 /etc/hostname > /dev/null; "
    "kill -USR1 $$; sleep 5"
)


def _stdout_lines(client: RawClient, container_id: str, last: bytes) -> list[bytes]:
    response = client.logs_when(container_id, "stdout=1&stderr=1", lambda body: last in body)
    return [payload for _stream, payload in parse_frames(response.body)]


def _stopped_reason(aws: Callable[[str], Any], sim: SimulatorProcess, container_id: str) -> str:
    ecs = aws("ecs")
    family = f"sockerless-{container_id[:12]}"
    (task_arn,) = ecs.list_tasks(cluster=sim.info.cluster, family=family, desiredStatus="STOPPED")[
        "taskArns"
    ]
    (task,) = ecs.describe_tasks(cluster=sim.info.cluster, tasks=[task_arn])["tasks"]
    return str(task["stoppedReason"])


@pytest.mark.parametrize("image", ["alpine:latest", "busybox:1.36", "docker.io/library/alpine"])
def test_bash_is_not_found_on_alpine_and_busybox_exit_127_with_fargate_reason(
    client: RawClient, aws: Callable[[str], Any], sim: SimulatorProcess, image: str
) -> None:
    reason = 'exec: "bash": executable file not found in $PATH'
    container_id = client.create(["bash", "-c", "echo $BASH_VERSION"], Image=image)

    response = client.request("POST", f"/containers/{container_id}/start")

    assert response.status == 500
    fargate = f"{FARGATE_PREFIX}{reason}: unknown"
    assert response.json()["message"] == f"task failed to start: task stopped: {fargate}"
    state = client.inspect(container_id)["State"]
    assert (state["Status"], state["ExitCode"], state["Error"]) == ("exited", 127, fargate)
    assert _stopped_reason(aws, sim, container_id) == fargate


def test_a_missing_absolute_path_is_stat_no_such_file_127(client: RawClient) -> None:
    container_id = client.create(["/does/not/exist"])

    response = client.request("POST", f"/containers/{container_id}/start")

    reason = 'exec: "/does/not/exist": stat /does/not/exist: no such file or directory'
    assert response.json()["message"].endswith(f"{reason}: unknown")
    assert "executable file not found" not in response.json()["message"]
    state = client.inspect(container_id)["State"]
    assert (state["ExitCode"], state["Error"]) == (127, f"{FARGATE_PREFIX}{reason}: unknown")


@pytest.mark.parametrize("path", ["/etc/passwd", "/"])
def test_a_file_that_cannot_be_executed_is_permission_denied_126(
    client: RawClient, path: str
) -> None:
    container_id = client.create([path])

    client.request("POST", f"/containers/{container_id}/start")

    state = client.inspect(container_id)["State"]
    reason = f'exec: "{path}": permission denied'
    assert (state["ExitCode"], state["Error"]) == (126, f"{FARGATE_PREFIX}{reason}: unknown")


def test_a_shell_on_alpine_does_not_find_bash_and_exits_127(client: RawClient) -> None:
    container_id = client.run(["sh", "-c", "bash -c 'echo hi'; echo after=$?"])

    lines = _stdout_lines(client, container_id, b"after=")

    assert b"after=127\n" in lines
    assert b"sh: bash: not found\n" in lines  # busybox ash's words, as on alpine


@pytest.mark.parametrize("image", ["alpine:3.19", "busybox:latest"])
def test_a_busybox_shell_script_runs_on_alpine_and_busybox(client: RawClient, image: str) -> None:
    container_id = client.run(["sh", "-c", BUSYBOX_SCRIPT], Image=image)

    document = client.wait_status(container_id, "exited")

    assert document["State"]["ExitCode"] == 3
    lines = _stdout_lines(client, container_id, b"trapped")
    assert lines == [b"one\n", b"two-2\n", b"three\n", b"1\n", b"trapped\n"]


def test_an_image_without_a_program_list_finds_host_programs_and_is_warned(
    client: RawClient,
) -> None:
    response = client.request(
        "POST", "/containers/create", {"Image": "python:3.12-slim", "Cmd": ["python3", "-V"]}
    )
    assert response.status == 201
    document = response.json()
    client.created.append(document["Id"])
    assert document["Warnings"] == [
        "Config.Image 'python:3.12-slim' has no program list in the embedded simulator: its "
        "command finds this host's programs on its PATH, which a Fargate task of that image may "
        "not have (only alpine, busybox images find just their own programs)"
    ]
    assert client.request("POST", f"/containers/{document['Id']}/start").status == 204
    assert client.wait_status(document["Id"], "exited")["State"]["ExitCode"] == 0


@pytest.mark.parametrize(
    "image", ["alpine", "busybox:1.36", "public.ecr.aws/docker/library/alpine:latest"]
)
def test_known_images_draw_no_warning(client: RawClient, image: str) -> None:
    response = client.request("POST", "/containers/create", {"Image": image, "Cmd": ["true"]})
    client.created.append(response.json()["Id"])
    assert response.json()["Warnings"] == []


def test_a_host_program_by_absolute_path_still_runs(client: RawClient) -> None:
    # No root filesystem: documented in docs/writing-suites.md ("What the simulator lets through").
    container_id = client.run(["/bin/sh", "-c", "echo absolute"])
    assert _stdout_lines(client, container_id, b"absolute") == [b"absolute\n"]


def test_a_path_set_by_the_test_still_reaches_only_the_image_programs(client: RawClient) -> None:
    container_id = client.run(
        ["sh", "-c", "command -v bash || echo no-bash; echo path=$PATH"],
        Env=["PATH=/usr/bin:/bin:/opt/tools/bin"],
    )
    lines = _stdout_lines(client, container_id, b"path=")
    assert lines[0] == b"no-bash\n"
    assert lines[1].startswith(b"path=/") and lines[1].endswith(b"/programs/busybox-applets\n")


MISSING = 'exec: "/does/not/exist": stat /does/not/exist: no such file or directory'


@pytest.mark.parametrize(
    ("cmd", "reason"),
    [
        (["bash"], 'exec: "bash": executable file not found in $PATH'),
        (["/does/not/exist"], MISSING),
        (["/etc/passwd"], 'exec: "/etc/passwd": permission denied'),
    ],
)
def test_an_exec_that_cannot_start_reports_runc_on_the_stream_and_126(
    client: RawClient, cmd: list[str], reason: str
) -> None:
    container_id = client.run(["sleep", "30"])
    exec_id = client.create_exec(container_id, cmd, AttachStdout=True, AttachStderr=True)

    raw = client.exec_stream(exec_id)

    _head, _, stream = raw.partition(b"\r\n\r\n")
    text = (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        f"{reason}: unknown\r\n"
    )
    assert parse_frames(stream) == [(1, text.encode())]
    assert client.request("GET", f"/exec/{exec_id}/json").json()["ExitCode"] == 126
