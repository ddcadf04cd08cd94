"""The calls the Docker CLI's ``run`` depends on, on the wire: wait flushes its head before it
blocks, attach before start, auto-remove, and images without a registry."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

from wire_helpers import RawClient, build_request, dechunk, parse_frames, recv_all

HEAD_TIMEOUT = 2.0


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The response head (up to the blank line) and whatever followed it in the same reads."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed before the end of the head: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def test_wait_sends_its_head_before_the_condition_holds(client: RawClient) -> None:
    container_id = client.create(["sh", "-c", "sleep 0.3; exit 4"])
    with client.connect() as sock:
        sock.sendall(
            build_request("POST", f"/v1.44/containers/{container_id}/wait?condition=next-exit")
        )
        sock.settimeout(HEAD_TIMEOUT)
        head, rest = _read_head(sock)  # before start, as the Docker CLI's run reads it
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"Content-Type: application/json\r\n" in head
        assert b"Transfer-Encoding: chunked\r\n" in head
        assert client.request("POST", f"/containers/{container_id}/start").status == 204
        sock.settimeout(15.0)
        body = dechunk(rest + recv_all(sock))
    assert body == b'{"StatusCode": 4, "Error": null}\n'


def test_wait_answers_whole_when_the_condition_already_holds(client: RawClient) -> None:
    container_id = client.create(["true"])
    response = client.request("POST", f"/containers/{container_id}/wait")
    assert response.status == 200
    assert response.headers["content-length"] == str(len(response.body))
    assert response.json() == {"StatusCode": 0, "Error": None}


def _attach(
    client: RawClient, container_id: str, *, stdin: bool = False
) -> tuple[socket.socket, bytes]:
    """A hijacked attach: the socket and what came with the head (the head included without
    ``stdin``; with it, only what followed the head). Without stdin the client half-closes at
    once, as the Docker CLI does."""
    sock = client.connect()
    query = "stream=1&stdout=1&stderr=1" + ("&stdin=1" if stdin else "")
    path = f"/v1.44/containers/{container_id}/attach?{query}"
    sock.sendall(build_request("POST", path, headers={"Connection": "Upgrade", "Upgrade": "tcp"}))
    sock.settimeout(HEAD_TIMEOUT)
    head, rest = _read_head(sock)
    if stdin:
        assert head.startswith(b"HTTP/1.1 101 UPGRADED\r\n")
        return sock, rest
    sock.shutdown(socket.SHUT_WR)
    return sock, head + rest


def test_attach_before_start_streams_until_the_exit(client: RawClient) -> None:
    container_id = client.create(["sh", "-c", "echo out; sleep 0.3; echo err >&2; exit 3"])
    sock, received = _attach(client, container_id)
    with sock:
        head, _, rest = received.partition(b"\r\n\r\n")
        assert head.split(b"\r\n")[0] == b"HTTP/1.1 101 UPGRADED"
        assert b"Content-Type: application/vnd.docker.multiplexed-stream" in head
        assert client.request("POST", f"/containers/{container_id}/start").status == 204
        sock.settimeout(15.0)
        frames = parse_frames(rest + recv_all(sock))
    assert frames == [(1, b"out\n"), (2, b"err\n")]
    waited = client.request("POST", f"/containers/{container_id}/wait")
    assert waited.json() == {"StatusCode": 3, "Error": None}


def test_attach_of_a_fast_command_still_gets_its_output(client: RawClient) -> None:
    container_id = client.create(["echo", "quick"])
    sock, received = _attach(client, container_id)
    with sock:
        assert client.request("POST", f"/containers/{container_id}/start").status == 204
        sock.settimeout(15.0)
        rest = received.partition(b"\r\n\r\n")[2]
        frames = parse_frames(rest + recv_all(sock))
    assert frames == [(1, b"quick\n")]


def test_attach_to_an_unknown_container_is_404_before_any_hijack(client: RawClient) -> None:
    response = client.request("POST", "/containers/nope/attach?stream=1&stdout=1")
    assert response.status == 404
    assert response.json() == {"message": "No such container: nope"}


def test_auto_remove_removes_the_container_and_deregisters(
    client: RawClient, aws: Callable[[str], Any]
) -> None:
    container_id = client.create(["sleep", "0.3"], HostConfig={"AutoRemove": True})
    # As `docker run --rm` does: the wait is in place (its head came) before the start, so the
    # removal cannot come first however slowly this test runs.
    with client.connect() as sock:
        path = f"/v1.44/containers/{container_id}/wait?condition=removed"
        sock.sendall(build_request("POST", path))
        sock.settimeout(HEAD_TIMEOUT)
        head, rest = _read_head(sock)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert client.request("POST", f"/containers/{container_id}/start").status == 204
        sock.settimeout(15.0)
        body = dechunk(rest + recv_all(sock))
    assert json.loads(body) == {"StatusCode": 0, "Error": None}
    assert client.request("GET", f"/containers/{container_id}/json").status == 404
    family = f"sockerless-{container_id[:12]}"
    listed = aws("ecs").list_task_definitions(familyPrefix=family, status="INACTIVE")
    assert listed["taskDefinitionArns"]


def test_pull_records_the_reference_and_images_lists_it(client: RawClient) -> None:
    pulled = client.request(
        "POST", "/v1.44/images/create?fromImage=docker.io%2Flibrary%2Fbusybox&tag=1.36"
    )
    assert pulled.status == 200
    assert pulled.headers["content-type"] == "application/json"
    lines = [json.loads(line) for line in pulled.body.decode().splitlines()]
    assert lines[0] == {"status": "Pulling from busybox"}
    assert lines[-1] == {"status": "Status: Downloaded newer image for busybox:1.36"}
    again = client.request("POST", "/images/create?fromImage=busybox&tag=1.36")
    assert json.loads(again.body.decode().splitlines()[-1]) == {
        "status": "Status: Image is up to date for busybox:1.36"
    }
    listed = client.request("GET", "/images/json").json()
    entry = next(image for image in listed if image["RepoTags"] == ["busybox:1.36"])
    assert entry["Id"].startswith("sha256:")
    inspected = client.request("GET", "/images/busybox:1.36/json").json()
    assert inspected["Id"] == entry["Id"]
    missing = client.request("GET", "/images/never-pulled:1/json")
    assert missing.status == 404
    assert missing.json() == {"message": "No such image: never-pulled:1"}
    namespaced = client.request("POST", "/images/create?fromImage=ghcr.io%2Forg%2Fapp&tag=1")
    assert namespaced.status == 200
    inspected = client.request("GET", "/images/ghcr.io/org/app:1/json").json()
    assert inspected["RepoTags"] == ["ghcr.io/org/app:1"]
    refused = client.request("POST", "/images/create?fromImage=registry.invalid%2Fx&tag=1")
    assert refused.status == 500


def test_create_records_its_image_as_sockerless_pulls_it(client: RawClient) -> None:
    client.create(["true"], Image="alpine:3.19")
    tags = [image["RepoTags"] for image in client.request("GET", "/images/json").json()]
    assert ["alpine:3.19"] in tags


def test_attach_ends_when_the_task_stops_without_running(client: RawClient) -> None:
    container_id = client.create(["true"], Image="registry.invalid/nope:1")
    sock, received = _attach(client, container_id)
    with sock:
        started = client.request("POST", f"/containers/{container_id}/start")
        assert started.status == 500
        sock.settimeout(5.0)
        rest = received.partition(b"\r\n\r\n")[2]
        assert rest + recv_all(sock) == b""  # the stream ends, with nothing on it


def _read_until(
    sock: socket.socket, received: bytes, wanted: bytes, timeout: float = 10.0
) -> bytes:
    sock.settimeout(timeout)
    while wanted not in b"".join(p for _, p in parse_frames(received)):
        chunk = sock.recv(65536)
        assert chunk, f"the stream ended before {wanted!r}: {received!r}"
        received += chunk
    return received


def test_attach_stdin_with_stdin_once_ends_the_input_at_the_clients_end(
    client: RawClient,
) -> None:
    container_id = client.create(["cat"], OpenStdin=True, StdinOnce=True, AttachStdin=True)
    sock, rest = _attach(client, container_id, stdin=True)
    with sock:
        sock.sendall(b"before the start\n")  # kept until the task runs
        assert client.request("POST", f"/containers/{container_id}/start").status == 204
        sock.sendall(b"after it\n")
        sock.shutdown(socket.SHUT_WR)  # cat reads the end of its input and exits
        sock.settimeout(15.0)
        received = rest + recv_all(sock)
    assert parse_frames(received) and {stream for stream, _ in parse_frames(received)} == {1}
    assert b"".join(p for _, p in parse_frames(received)) == b"before the start\nafter it\n"
    assert client.wait_status(container_id, "exited")["State"]["ExitCode"] == 0


def test_attach_stdin_without_stdin_once_keeps_the_input_open(client: RawClient) -> None:
    container_id = client.run(["cat"], OpenStdin=True, StdinOnce=False)
    first, rest = _attach(client, container_id, stdin=True)
    with first:
        first.sendall(b"one\n")
        first.shutdown(socket.SHUT_WR)
        _read_until(first, rest, b"one\n")
    assert client.inspect(container_id)["State"]["Running"] is True  # its stdin is still open
    second, rest = _attach(client, container_id, stdin=True)
    with second:
        second.sendall(b"two\n")
        _read_until(second, rest, b"two\n")


def test_stdin_nobody_reads_never_resets_the_connection(client: RawClient) -> None:
    """Docker drops stdin when the container has no OpenStdin; the bytes are still read, so the
    end of the stream is a clean end of file, never ECONNRESET."""
    for open_stdin in (False, True):
        container_id = client.create(["echo", "fast"], OpenStdin=open_stdin, StdinOnce=True)
        sock, rest = _attach(client, container_id, stdin=True)
        with sock:
            sock.sendall(b"x" * 100_000)
            assert client.request("POST", f"/containers/{container_id}/start").status == 204
            sock.settimeout(15.0)
            received = rest + recv_all(sock)  # raises ConnectionResetError on a reset
        assert b"".join(p for _, p in parse_frames(received)) == b"fast\n"
