"""``DockerClient.call_observer``: every call is reported with when it was sent and answered, so
the timeline needs no request of its own (scripted server, exact timings)."""

from __future__ import annotations

import json
import time

import pytest

from SockerlessLibrary.client import DockerCall, DockerClient
from SockerlessLibrary.errors import (
    DaemonDown,
    DaemonResponseError,
    DaemonTimeout,
    DaemonUnreachable,
)
from SockerlessLibrary.outage import Outages
from SockerlessLibrary.transport import Timeouts, Transport
from utest.wire_codecs import create_container, encode_frames

CID = "b" * 64
HOLD_SECONDS = 0.3


def test_a_call_is_reported_with_its_request_answer_and_times(
    serve, keep_alive, client_for
) -> None:
    def answer(connection, request) -> None:
        if request.path.endswith("/create"):
            connection.respond(201, "Created", json.dumps({"Id": CID}).encode())
        else:
            connection.hold(HOLD_SECONDS)  # a start that blocks until the task runs
            connection.respond(204, "No Content")

    client = client_for(serve(keep_alive(answer)))
    heard: list[DockerCall] = []
    client.call_observer = heard.append
    before = time.time()
    create_container(client, "alpine:latest", cmd=["echo", "hi"])
    client.start_container(CID)
    create, start = heard
    assert (create.operation, create.status, json.loads(create.response_body)) == (
        "create container",
        201,
        {"Id": CID},
    )
    assert create.request_body["Cmd"] == ["echo", "hi"]
    assert (start.operation, start.method, start.path) == (
        "start container",
        "POST",
        f"/containers/{CID}/start",
    )
    assert before <= create.sent <= create.answered <= start.sent  # type: ignore[operator]
    assert start.answered - start.sent >= HOLD_SECONDS - 0.01  # type: ignore[operator]


def test_an_error_answer_is_reported_with_its_status_then_raised(
    serve, keep_alive, client_for
) -> None:
    def answer(connection, request) -> None:
        connection.respond(500, "Internal Server Error", b'{"message": "task stopped"}')

    client = client_for(serve(keep_alive(answer)))
    heard: list[DockerCall] = []
    client.call_observer = heard.append
    with pytest.raises(DaemonResponseError):
        client.start_container(CID)
    (start,) = heard
    assert start.status == 500
    assert start.answered is not None


def test_a_call_without_an_answer_is_reported_without_one(serve, client_for) -> None:
    def silent(connection) -> None:
        connection.read_request()
        connection.hold(2.0)

    client = client_for(serve(silent), read=0.2)
    heard: list[DockerCall] = []
    client.call_observer = heard.append
    with pytest.raises(DaemonTimeout):
        client.stop_container(CID)
    (stop,) = heard
    assert (stop.answered, stop.status) == (None, None)


def test_a_logs_read_reports_when_its_first_line_arrived(serve, client_for) -> None:
    body = encode_frames([(1, b"hello from fargate\n")])

    def answer(connection) -> None:
        connection.read_request()
        connection.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        connection.hold(HOLD_SECONDS)  # the line comes later than the head
        connection.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))

    client = client_for(serve(answer))
    heard: list[DockerCall] = []
    client.call_observer = heard.append
    client.container_logs(CID, follow=True)
    (logs,) = heard
    assert logs.first_line == "hello from fargate"
    assert logs.first_output is not None
    assert logs.first_output - logs.sent >= HOLD_SECONDS - 0.01


def test_a_call_to_a_daemon_marked_down_is_not_reported_since_it_was_never_sent(
    tmp_path,
) -> None:
    # A daemon that never answered is marked down at its first failure; the calls after it are
    # refused unsent (DaemonDown) and must not be drawn as requests that got no answer.
    transport = Transport(
        f"unix://{tmp_path}/gone.sock", timeouts=Timeouts(0.5, 0.5), outages=Outages()
    )
    client = DockerClient(transport)
    heard: list[DockerCall] = []
    client.call_observer = heard.append
    with pytest.raises(DaemonUnreachable) as first:
        client.start_container(CID)
    assert not isinstance(first.value, DaemonDown)
    with pytest.raises(DaemonDown):
        client.stop_container(CID)
    assert [(call.operation, call.answered) for call in heard] == [("start container", None)]
