"""Independent clients against the simulator: docker-py (the SDK) and a WebSocket attach."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator

import docker
import pytest
import websocket
from wire_helpers import RawClient

from sockerless_sim.launcher import SimulatorProcess

pytestmark = pytest.mark.timeout(60)

DOCKER_TS_LINE = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (.*)$")


@pytest.fixture
def sdk(sim: SimulatorProcess) -> Iterator[docker.DockerClient]:
    client = docker.DockerClient(
        base_url=f"unix://{sim.info.socket_path}", version="1.44", timeout=10
    )
    yield client
    for container in client.containers.list(all=True, filters={"label": "suite=docker-py"}):
        container.remove(force=True)
    client.close()


def _logs_with(container: docker.models.containers.Container, text: bytes) -> bytes:
    deadline = time.monotonic() + 10
    while True:
        logs = bytes(container.logs(timestamps=True))
        if text in logs:
            return logs
        assert time.monotonic() < deadline, logs
        time.sleep(0.1)


def test_docker_py_create_start_logs_exec_stop_remove(sdk: docker.DockerClient) -> None:
    assert sdk.ping() is True
    assert sdk.version()["ApiVersion"] == "1.44"
    container = sdk.containers.create(
        "alpine:latest",
        ["sh", "-c", "echo hello from fargate; exec tail -f /dev/null"],
        name="docker-py-flow",
        labels={"suite": "docker-py"},
    )
    container.start()
    container.reload()
    assert container.status == "running"
    assert container.name == "docker-py-flow"
    logs = _logs_with(container, b"hello from fargate")
    lines = logs.splitlines()
    assert all(DOCKER_TS_LINE.match(line) for line in lines), logs
    assert [DOCKER_TS_LINE.match(line).group(1) for line in lines] == [b"hello from fargate"]  # type: ignore[union-attr]
    assert container.exec_run(["echo", "exec-works"]) == (0, b"exec-works\n")
    assert container.exec_run(["sh", "-c", "exit 7"]).exit_code == 7
    demuxed = container.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
    assert demuxed == (0, (b"out\n", b"err\n"))
    listed = sdk.containers.list(filters={"label": "suite=docker-py"})
    assert [c.id for c in listed] == [container.id]
    container.stop(timeout=1)
    container.reload()
    assert container.status == "exited"
    assert container.wait() == {"StatusCode": 143, "Error": None}
    container.remove()
    with pytest.raises(docker.errors.NotFound):
        sdk.containers.get(container.id)


def test_docker_py_follow_logs_and_errors(sdk: docker.DockerClient) -> None:
    container = sdk.containers.run(
        "alpine:latest",
        ["sh", "-c", "echo one; sleep 0.5; echo two"],
        detach=True,
        labels={"suite": "docker-py"},
    )
    streamed = b"".join(container.logs(stream=True, follow=True))
    assert streamed == b"one\ntwo\n"
    with pytest.raises(docker.errors.APIError) as conflict:
        sdk.containers.create("alpine:latest", ["true"], name=container.name)
    assert conflict.value.status_code == 409
    with pytest.raises(docker.errors.NotFound):
        sdk.api.inspect_container("does-not-exist")


def test_attach_ws_relays_the_main_process_output(client: RawClient) -> None:
    container_id = client.run(
        ["sh", "-c", "sleep 0.5; echo hello; echo world; echo oops >&2; sleep 0.2"]
    )
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(client.socket_path)
    ws = websocket.create_connection(
        f"ws://localhost/v1.44/containers/{container_id}/attach/ws?stream=1&stdout=1&stderr=1",
        socket=sock,
        timeout=10,
    )
    received = b""
    opcodes = set()
    try:
        while True:
            opcode, data = ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                break
            opcodes.add(opcode)
            received += data
    finally:
        ws.close()
    # stdout and stderr are merged (never framed); their relative order is not defined.
    assert sorted(received.splitlines()) == [b"hello", b"oops", b"world"]
    assert received.replace(b"oops\n", b"") == b"hello\nworld\n"
    assert opcodes == {websocket.ABNF.OPCODE_BINARY}


def test_attach_ws_messages_reach_the_main_process_stdin(client: RawClient) -> None:
    container_id = client.create(
        ["sh", "-c", 'read line; echo "got $line"; read more; echo "then $more"'], OpenStdin=True
    )
    assert client.request("POST", f"/containers/{container_id}/start").status == 204
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(client.socket_path)
    query = "stream=1&stdout=1&stderr=1&stdin=1"
    ws = websocket.create_connection(
        f"ws://localhost/v1.44/containers/{container_id}/attach/ws?{query}", socket=sock, timeout=10
    )
    received = b""
    try:
        ws.send_binary(b"hello\n")  # a binary message and a text one, as Docker takes both
        ws.send("world\n")
        while True:
            opcode, data = ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                break
            received += data
    finally:
        ws.close()
    assert received == b"got hello\nthen world\n"


def test_attach_ws_errors_come_before_the_handshake(client: RawClient) -> None:
    assert client.request("GET", "/containers/nope/attach/ws").status == 404
    created = client.create(["true"])
    response = client.request(
        "GET",
        f"/containers/{created}/attach/ws",
        headers={"Upgrade": "websocket"},
    )
    assert response.status == 409
    running = client.run(["tail", "-f", "/dev/null"])
    not_websocket = client.request("GET", f"/containers/{running}/attach/ws")
    assert not_websocket.status == 426
    assert not_websocket.headers["content-type"] == "application/json"
