"""``DockerClient`` against a real Docker Engine 20.10: the wire layer meets the reference.

Each test drives the library's client (negotiating its API version, as the keywords do) and
checks what the engine really answers: status codes, bodies, 9-digit timestamps, the hijacked
exec stream's framing, exit codes and the exact 404 messages.
"""

from __future__ import annotations

import ipaddress
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from SockerlessLibrary.client import DockerClient
from SockerlessLibrary.errors import DaemonResponseError
from SockerlessLibrary.keywords.streams import frame_problems
from SockerlessLibrary.transport import ApiVersion

pytestmark = pytest.mark.timeout(60)

UNKNOWN = "0123456789ab" * 3  # no container or exec has this id
LONG_RUNNING = ("tail", "-f", "/dev/null")  # PID 1 without a SIGTERM handler


def docker0_network() -> ipaddress.IPv4Network:
    """The subnet of the default bridge, as the kernel has it."""
    output = subprocess.run(
        ["ip", "-o", "-4", "addr", "show", "docker0"],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout.split()
    return ipaddress.ip_interface(output[output.index("inet") + 1]).network


def test_negotiation_chose_the_engines_1_41(make_client: Callable[..., DockerClient]) -> None:
    client = make_client()
    assert client.ping() == "OK"
    assert client.transport.api == ApiVersion("1.41", "negotiated", "1.41")
    assert client.version()["ApiVersion"] == "1.41"
    pinned = make_client(api_version="1.44")  # what the library sent before it negotiated
    with pytest.raises(DaemonResponseError) as raised:
        pinned.ping()
    assert (raised.value.status, raised.value.message) == (
        400,
        "client version 1.44 is too new. Maximum supported API version is 1.41",
    )


def test_create_with_name_labels_and_env(
    client: DockerClient, create: Callable[..., str], session_label: dict[str, str]
) -> None:
    name = f"kit-engine-{session_label['kit-engine-test']}-named"
    container_id = create(*LONG_RUNNING, name=name, labels={"team": "qa"}, env={"GREETING": "hi"})
    inspect = client.inspect_container(container_id)
    assert inspect["Id"] == container_id and len(container_id) == 64
    assert inspect["Name"] == f"/{name}"
    assert inspect["Config"]["Labels"] == {**session_label, "team": "qa"}
    assert "GREETING=hi" in inspect["Config"]["Env"]
    assert inspect["Config"]["Cmd"] == list(LONG_RUNNING)
    assert inspect["State"]["Status"] == "created"
    with pytest.raises(DaemonResponseError) as raised:
        create("true", name=name)
    assert raised.value.status == 409
    assert f'The container name "/{name}" is already in use' in raised.value.message


def test_start_gives_an_address_on_docker0(
    client: DockerClient, create: Callable[..., str]
) -> None:
    container_id = create(*LONG_RUNNING)
    assert client.start_container(container_id) == 204
    assert client.start_container(container_id, expected=(204, 304)) == 304
    inspect = client.inspect_container(container_id)
    assert inspect["State"]["Status"] == "running" and inspect["State"]["Running"] is True
    settings = inspect["NetworkSettings"]
    address = ipaddress.ip_address(settings["IPAddress"])
    assert settings["Networks"]["bridge"]["IPAddress"] == settings["IPAddress"]
    assert address in docker0_network() and address.is_private


def test_list_all_and_label_filters_in_both_shapes(
    client: DockerClient, create: Callable[..., str], session_label: dict[str, str]
) -> None:
    marker = f"{time.monotonic_ns()}"
    created = create("true", labels={"kit-engine-list": marker})
    running = [entry["Id"] for entry in client.list_containers()]
    assert created not in running  # never started: only all=true lists it
    listed = [entry["Id"] for entry in client.list_containers(all=True)]
    assert created in listed
    as_list = client.list_containers(all=True, filters={"label": [f"kit-engine-list={marker}"]})
    as_map = client.list_containers(
        all=True, filters={"label": {f"kit-engine-list={marker}": True}}
    )
    as_json = client.list_containers(all=True, filters=f'{{"label": ["kit-engine-list={marker}"]}}')
    assert [e["Id"] for e in as_list] == [e["Id"] for e in as_map] == [created]
    assert [e["Id"] for e in as_json] == [created]
    assert as_list[0]["Labels"] == {**session_label, "kit-engine-list": marker}
    assert as_list[0]["State"] == "created"
    nobody = client.list_containers(all=True, filters={"label": ["kit-engine-list=nobody"]})
    assert nobody == []


def finished(client: DockerClient, create: Callable[..., str], script: str) -> str:
    container_id = create("sh", "-c", script)
    client.start_container(container_id)
    assert client.wait_container(container_id)["StatusCode"] == 0
    return container_id


def test_logs_without_and_with_nine_digit_timestamps(
    client: DockerClient, create: Callable[..., str]
) -> None:
    container_id = finished(
        client, create, "echo out; sleep 0.1; echo err >&2; sleep 0.1; echo last"
    )
    plain = client.container_logs(container_id)
    assert plain.status == 200 and plain.output.multiplexed
    assert plain.output.lines("stdout") == ["out", "last"]
    assert plain.output.lines("stderr") == ["err"]
    assert [(f.stream, bytes(f.payload)) for f in plain.output.frames] == [
        (1, b"out\n"),
        (2, b"err\n"),
        (1, b"last\n"),
    ]
    assert [line.timestamp for line in plain.log_lines] == [None, None, None]
    stamped = client.container_logs(container_id, timestamps=True)
    texts = [(line.stream, line.text) for line in stamped.log_lines]
    assert texts == [("stdout", "out"), ("stderr", "err"), ("stdout", "last")]
    for line in stamped.log_lines:
        assert line.raw_timestamp is not None and line.timestamp is not None
        fraction = line.raw_timestamp.split(".")[1].rstrip("Z")
        assert len(fraction) == 9, line.raw_timestamp  # Docker's fixed 9-digit fraction
        assert line.timestamp.microsecond == int(fraction[:6])
    only_stderr = client.container_logs(container_id, stdout=False)
    assert only_stderr.output.lines("stderr") == ["err"] and not only_stderr.output.stdout
    assert client.container_logs(container_id, tail=1).output.lines("stdout") == ["last"]


def test_exec_reads_stdin_and_reports_exit_codes(
    client: DockerClient, create: Callable[..., str]
) -> None:
    container_id = create(*LONG_RUNNING)
    client.start_container(container_id)
    echo = client.create_exec(container_id, ["cat"], attach_stdin=True)
    stream = client.start_exec(echo, stdin=b"hello\nworld\n")
    assert stream.output.stdout == b"hello\nworld\n"
    assert client.inspect_exec(echo)["ExitCode"] == 0
    deaf = client.create_exec(container_id, ["cat"])  # no AttachStdin: Docker drops the stdin
    assert client.start_exec(deaf, stdin=b"lost\n").output.stdout == b""
    seven = client.create_exec(container_id, ["sh", "-c", "echo before; exit 7"])
    assert client.start_exec(seven).output.lines("stdout") == ["before"]
    inspect = client.inspect_exec(seven)
    assert (inspect["Running"], inspect["ExitCode"]) == (False, 7)
    with_env = client.create_exec(
        container_id, ["sh", "-c", "echo $WHO in $PWD"], env={"WHO": "exec"}, workdir="/tmp"
    )
    assert client.start_exec(with_env).output.lines("stdout") == ["exec in /tmp"]


def test_hijacked_exec_stream_framing(client: DockerClient, create: Callable[..., str]) -> None:
    container_id = create(*LONG_RUNNING)
    client.start_container(container_id)
    exec_id = client.create_exec(
        container_id, ["sh", "-c", "printf 'a\\nb'; sleep 0.1; echo oops >&2; sleep 0.1; echo c"]
    )
    stream = client.start_exec(exec_id)
    assert (stream.status, stream.reason) == (101, "UPGRADED")
    assert stream.headers["upgrade"] == "tcp" and stream.headers["connection"] == "Upgrade"
    # Below API 1.42 Docker labels even a framed stream raw: framing follows the TTY setting.
    assert stream.headers["content-type"] == "application/vnd.docker.raw-stream"
    frames = list(stream.output.frames)
    assert stream.output.multiplexed and frame_problems(frames) == []
    assert [(f.stream, bytes(f.payload)) for f in frames] == [
        (1, b"a\nb"),
        (2, b"oops\n"),
        (1, b"c\n"),
    ]
    assert stream.output.lines("stdout") == ["a", "bc"]  # lines are split after joining frames
    tty_exec = client.create_exec(container_id, ["echo", "raw"], tty=True)
    tty_stream = client.start_exec(tty_exec, tty=True)
    assert not tty_stream.output.multiplexed
    assert tty_stream.output.stdout == b"raw\r\n"


def test_wait_kill_and_stop(client: DockerClient, create: Callable[..., str]) -> None:
    exits = create("sh", "-c", "exit 3")
    client.start_container(exits)
    assert client.wait_container(exits) == {"StatusCode": 3, "Error": None}
    killed = create(*LONG_RUNNING)
    client.start_container(killed)
    assert client.kill_container(killed) == 204  # SIGKILL by default
    assert client.wait_container(killed)["StatusCode"] == 137
    assert client.inspect_container(killed)["State"]["ExitCode"] == 137
    with pytest.raises(DaemonResponseError) as raised:
        client.kill_container(killed)
    assert raised.value.status == 409 and "is not running" in raised.value.message
    stopped = create(*LONG_RUNNING)
    client.start_container(stopped)
    started = time.monotonic()
    assert client.stop_container(stopped, t=1) == 204  # SIGTERM ignored: SIGKILL after 1 s
    assert time.monotonic() - started < 10
    state = client.inspect_container(stopped)["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 137)
    assert client.stop_container(stopped, expected=(204, 304)) == 304


def test_remove_running_needs_force(client: DockerClient, create: Callable[..., str]) -> None:
    container_id = create(*LONG_RUNNING)
    client.start_container(container_id)
    with pytest.raises(DaemonResponseError) as raised:
        client.remove_container(container_id)
    assert raised.value.status == 409
    assert raised.value.message == (
        f"You cannot remove a running container {container_id}. Stop the container before "
        "attempting removal or force remove"
    )
    assert client.remove_container(container_id, force=True) == 204
    with pytest.raises(DaemonResponseError) as gone:
        client.inspect_container(container_id)
    assert (gone.value.status, gone.value.message) == (404, f"No such container: {container_id}")


CONTAINER_CALLS: list[tuple[str, Callable[[DockerClient], Any], str]] = [
    ("inspect container", lambda c: c.inspect_container(UNKNOWN), "No such container"),
    ("start container", lambda c: c.start_container(UNKNOWN), "No such container"),
    ("stop container", lambda c: c.stop_container(UNKNOWN), "No such container"),
    (
        "kill container",
        lambda c: c.kill_container(UNKNOWN),
        f"Cannot kill container: {UNKNOWN}: No such container",
    ),
    ("wait container", lambda c: c.wait_container(UNKNOWN), "No such container"),
    ("remove container", lambda c: c.remove_container(UNKNOWN), "No such container"),
    ("container logs", lambda c: c.container_logs(UNKNOWN), "No such container"),
    ("create exec", lambda c: c.create_exec(UNKNOWN, ["true"]), "No such container"),
    ("inspect exec", lambda c: c.inspect_exec(UNKNOWN), "No such exec instance"),
    ("exec start", lambda c: c.start_exec(UNKNOWN), "No such exec instance"),
]


@pytest.mark.parametrize(
    ("operation", "call", "message"), CONTAINER_CALLS, ids=[row[0] for row in CONTAINER_CALLS]
)
def test_unknown_ids_are_404_with_the_engines_message(
    client: DockerClient, operation: str, call: Callable[[DockerClient], Any], message: str
) -> None:
    with pytest.raises(DaemonResponseError) as raised:
        call(client)
    error = raised.value
    assert (error.operation, error.status, error.message) == (
        operation,
        404,
        f"{message}: {UNKNOWN}",
    )
    assert str(error).startswith(f"{operation} on {client.target} failed: HTTP 404 Not Found")


def test_a_reference_over_the_engines_head_limit_is_refused_by_the_engine_with_its_size(
    client: DockerClient,
) -> None:
    """Go's net/http takes 1 MiB of request head: the engine answers 431 and closes, while the
    library may still be sending. The answer is read, and the message says how large the URL
    was; the next call works on a new connection."""
    reference = "x" * (2 * 1024 * 1024)
    with pytest.raises(DaemonResponseError) as raised:
        client.inspect_container(reference)
    url = len(f"/v1.41/containers/{reference}/json")
    assert raised.value.status == 431
    assert str(raised.value).startswith(
        f"inspect container on {client.target} failed: HTTP 431 Request Header Fields Too Large"
    )
    assert str(raised.value).endswith(
        f"(the request's URL was {url:,} bytes, more than HTTP servers take in a request line: "
        "8 KiB in nginx, 64 KiB in Python's http.server, 1 MiB of head in Go's net/http; is an "
        "ID, name or filter far too long?)"
    )
    assert client.ping() == "OK"


def test_a_long_reference_under_the_engines_limit_is_the_engines_to_answer(
    client: DockerClient,
) -> None:
    """Docker sets no length limit on names: the library sends it, the engine looks it up."""
    reference = "y" * 100_000
    with pytest.raises(DaemonResponseError) as raised:
        client.inspect_container(reference)
    assert (raised.value.status, raised.value.message) == (404, f"No such container: {reference}")
