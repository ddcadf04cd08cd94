"""DockerClient against the scripted server: exact requests, parsed answers, logs decoding."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
import requests

from SockerlessLibrary.errors import (
    ConfigurationError,
    DaemonResponseError,
    DaemonStreamError,
    DaemonTimeout,
    ProtocolError,
)
from utest.wire_codecs import create_container, encode_frames, find_uppercase_booleans

CID = "a" * 64
REMOVE_RUNNING = "stop the container before removing or force remove"


def docker_like(connection, request) -> None:
    """Minimal Docker answers for every call the client makes."""
    path = request.path.removeprefix("/v1.44")
    if path == "/_ping":
        connection.respond(200, "OK", b"OK", content_type="text/plain")
    elif path == "/version":
        connection.respond_json(200, "OK", {"ApiVersion": "1.44", "Version": "sim"})
    elif path == "/containers/create":
        connection.respond_json(201, "Created", {"Id": CID, "Warnings": []})
    elif path == "/containers/json":
        connection.respond_json(200, "OK", [{"Id": CID, "Names": ["/web"]}])
    elif path.endswith("/json") and path.startswith("/exec/"):
        connection.respond_json(200, "OK", {"ID": "e1", "Running": False, "ExitCode": 0})
    elif path.endswith("/json"):
        connection.respond_json(200, "OK", {"Id": CID, "State": {"Status": "running"}})
    elif path.endswith("/exec"):
        connection.respond_json(201, "Created", {"Id": "e1"})
    elif path.endswith("/wait"):
        connection.respond_json(200, "OK", {"StatusCode": 0, "Error": None})
    elif path.endswith("/logs"):
        connection.respond(200, "OK", b"", content_type=None)
    else:
        connection.respond(204, "No Content")


def test_every_call_sends_lowercase_booleans(serve, keep_alive, client_for) -> None:
    server = serve(keep_alive(docker_like))
    client = client_for(server)
    client.list_containers(all=True)
    client.list_containers(all=False)
    client.remove_container(CID, force=True)
    client.remove_container(CID, force=False)
    client.container_logs(CID, stdout=True, stderr=True, timestamps=True, follow=True)
    client.container_logs(CID, stdout=False, stderr=True, timestamps=False, follow=False)
    lines = server.request_lines
    assert all(not find_uppercase_booleans(line.split(" ")[1]) for line in lines), lines
    queries = [request.query for request in server.requests]
    assert queries[0]["all"] == ["true"]
    assert queries[1]["all"] == ["false"]
    assert queries[2]["force"] == ["true"]
    assert queries[3]["force"] == ["false"]
    assert {k: queries[4][k] for k in ("stdout", "stderr", "timestamps", "follow")} == {
        "stdout": ["true"],
        "stderr": ["true"],
        "timestamps": ["true"],
        "follow": ["true"],
    }
    assert {k: queries[5][k] for k in ("stdout", "stderr", "timestamps", "follow")} == {
        "stdout": ["false"],
        "stderr": ["true"],
        "timestamps": ["false"],
        "follow": ["false"],
    }


def test_the_uppercase_detector_would_catch_requests_style_encoding(serve, keep_alive) -> None:
    """The check above can fail: what `requests` sends for Python booleans is flagged."""
    prepared = requests.Request("GET", "http://x/containers/json", params={"all": True}).prepare()
    assert find_uppercase_booleans(prepared.url or "") == ["all=True"]


@pytest.mark.parametrize(
    "filters",
    [{"label": ["test-run=ecs-integration"]}, {"label": {"test-run=ecs-integration": True}}],
)
def test_filters_are_sent_as_url_encoded_json(serve, keep_alive, client_for, filters) -> None:
    server = serve(keep_alive(docker_like))
    assert client_for(server).list_containers(all=True, filters=filters) == [
        {"Id": CID, "Names": ["/web"]}
    ]
    request = server.requests[0]
    assert "%7B%22label%22" in request.query_string
    assert json.loads(request.query["filters"][0]) == filters


def test_filters_that_are_not_json_fail_before_sending(serve, keep_alive, client_for) -> None:
    server = serve(keep_alive(docker_like))
    with pytest.raises(ConfigurationError, match="filters is not valid JSON"):
        client_for(server).list_containers(filters="label=x")
    assert server.requests == []


def test_create_container_body_and_name(serve, keep_alive, client_for) -> None:
    server = serve(keep_alive(docker_like))
    created = create_container(
        client_for(server),
        "alpine:latest",
        cmd=["echo", "hello from fargate"],
        entrypoint=["/bin/sh", "-c"],
        env={"A": "1"},
        labels={"test-run": "ecs-integration"},
        name="web-1",
        tty=False,
    )
    assert created == {"Id": CID, "Warnings": []}
    request = server.requests[0]
    assert request.request_line == "POST /v1.44/containers/create?name=web-1 HTTP/1.1"
    assert request.json() == {
        "Image": "alpine:latest",
        "Cmd": ["echo", "hello from fargate"],
        "Entrypoint": ["/bin/sh", "-c"],
        "Env": ["A=1"],
        "Labels": {"test-run": "ecs-integration"},
        "Tty": False,
        "AttachStdout": True,
        "AttachStderr": True,
    }


def test_lifecycle_calls(serve, keep_alive, client_for) -> None:
    server = serve(keep_alive(docker_like))
    client = client_for(server)
    assert client.ping() == "OK"
    assert client.version()["ApiVersion"] == "1.44"
    assert client.start_container(CID) == 204
    assert client.inspect_container(CID)["State"] == {"Status": "running"}
    assert client.stop_container(CID, t=5) == 204
    assert client.kill_container(CID, signal="SIGKILL") == 204
    assert client.wait_container(CID) == {"StatusCode": 0, "Error": None}
    assert client.create_exec(CID, ["echo", "exec-works"], env=["X=1"], workdir="/tmp") == "e1"
    assert client.inspect_exec("e1")["ExitCode"] == 0
    assert server.request_lines == [
        "GET /v1.44/_ping HTTP/1.1",
        "GET /v1.44/version HTTP/1.1",
        f"POST /v1.44/containers/{CID}/start HTTP/1.1",
        f"GET /v1.44/containers/{CID}/json HTTP/1.1",
        f"POST /v1.44/containers/{CID}/stop?t=5 HTTP/1.1",
        f"POST /v1.44/containers/{CID}/kill?signal=SIGKILL HTTP/1.1",
        f"POST /v1.44/containers/{CID}/wait?condition=not-running HTTP/1.1",
        f"POST /v1.44/containers/{CID}/exec HTTP/1.1",
        "GET /v1.44/exec/e1/json HTTP/1.1",
    ]
    assert server.requests[7].json() == {
        "AttachStdin": False,
        "AttachStdout": True,
        "AttachStderr": True,
        "Tty": False,
        "Cmd": ["echo", "exec-works"],
        "Env": ["X=1"],
        "WorkingDir": "/tmp",
    }
    assert server.connections == 1
    assert client.request_count == 9


def test_exec_cmd_given_as_a_string_is_sent_as_a_list(serve, keep_alive, client_for) -> None:
    server = serve(keep_alive(docker_like))
    client_for(server).create_exec(CID, "sh -c 'exit 7'")
    assert server.requests[0].json()["Cmd"] == ["sh", "-c", "exit 7"]


def test_expected_statuses_are_a_collection(serve, keep_alive, client_for) -> None:
    server = serve(keep_alive(lambda c, r: c.respond(304, "Not Modified")))
    client = client_for(server)
    assert client.start_container(CID, expected=(204, 304)) == 304
    assert client.stop_container(CID, expected={204, 304}) == 304
    with pytest.raises(
        DaemonResponseError,
        match=r"start container .* HTTP 304 Not Modified \(expected 204\): empty body",
    ):
        client.start_container(CID)


def test_error_message_names_operation_target_status_and_message(
    serve, keep_alive, client_for
) -> None:
    server = serve(
        keep_alive(
            lambda c, r: c.respond_json(
                409,
                "Conflict",
                {"message": f"container is running: {REMOVE_RUNNING}"},
            )
        )
    )
    with pytest.raises(DaemonResponseError) as caught:
        client_for(server).remove_container(CID)
    error = caught.value
    assert str(error) == (
        f"remove container on unix://{server.path} failed: HTTP 409 Conflict (expected 204): "
        "container is running: stop the container before removing or force remove"
    )


def logs_server(body: bytes, content_type: str | None, *, chunked: bool = True):
    def answer(connection):
        connection.read_request()
        head = "HTTP/1.1 200 OK\r\n" + (f"Content-Type: {content_type}\r\n" if content_type else "")
        if chunked:
            connection.send(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
            for offset in range(0, len(body), 7):  # frames split across chunks on purpose
                piece = body[offset : offset + 7]
                connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            connection.send(b"0\r\n\r\n")
        else:
            connection.send(f"{head}\r\n".encode() + body)
            connection.close()

    return answer


MUX = "application/vnd.docker.multiplexed-stream"
RAW = "application/vnd.docker.raw-stream"


def test_logs_are_decoded_as_mux_with_timestamps(serve, client_for) -> None:
    body = encode_frames(
        [
            (1, b"2026-02-22T10:11:12.345Z echo hello from fargate\n"),
            (1, b"2026-02-22T10:11:12.4Z hello from fargate\n"),
            (2, b"2026-02-22T10:11:13Z warn"),
            (2, b"ing\n"),
        ]
    )
    server = serve(logs_server(body, MUX))
    result = client_for(server).container_logs(CID, timestamps=True)
    assert result.status == 200
    assert result.headers["content-type"] == MUX
    assert result.output.multiplexed
    assert [frame.header[0] for frame in result.output.frames] == [1, 1, 2, 2]
    assert [(line.stream, line.text) for line in result.log_lines] == [
        ("stdout", "echo hello from fargate"),
        ("stdout", "hello from fargate"),
        ("stderr", "warning"),
    ]
    assert all(line.timestamp is not None for line in result.log_lines)
    assert not result.timed_out


def test_logs_of_a_tty_container_are_raw(serve, client_for) -> None:
    server = serve(logs_server(b"plain\r\nlines\r\n", RAW, chunked=False))
    result = client_for(server).container_logs(CID, tty=True)
    assert not result.output.multiplexed
    assert result.output.lines() == ["plain", "lines"]


def test_a_multiplexed_content_type_wins_over_tty(serve, client_for) -> None:
    server = serve(logs_server(encode_frames([(1, b"framed\n")]), MUX))
    result = client_for(server).container_logs(CID, tty=True)
    assert result.output.multiplexed
    assert result.output.lines() == ["framed"]


def test_raw_stream_content_type_without_tty_is_still_framed(serve, client_for) -> None:
    """Below API 1.42 daemons label framed logs raw-stream; the caller's tty decides."""
    server = serve(logs_server(encode_frames([(1, b"framed\n")]), RAW))
    assert client_for(server).container_logs(CID).output.lines() == ["framed"]


def test_empty_logs(serve, client_for) -> None:
    server = serve(logs_server(b"", MUX))
    result = client_for(server).container_logs(CID)
    assert (result.output.stdout, list(result.output.frames), result.log_lines) == (b"", [], [])


def test_type_3_in_logs_raises_with_the_daemon_text(serve, client_for) -> None:
    body = encode_frames([(1, b"ok\n"), (3, b"Error grabbing logs: log file is gone\n")])
    server = serve(logs_server(body, MUX))
    with pytest.raises(DaemonStreamError, match="Error grabbing logs: log file is gone") as caught:
        client_for(server).container_logs(CID)
    assert caught.value.partial is not None
    assert caught.value.partial.stdout == b"ok\n"


def test_truncated_log_frame_is_a_protocol_error(serve, client_for) -> None:
    body = encode_frames([(1, b"complete\n")]) + b"\x01\x00\x00\x00\x00\x00\x00\x20short"
    server = serve(logs_server(body, MUX, chunked=False))
    with pytest.raises(ProtocolError, match="truncated frame"):
        client_for(server).container_logs(CID)


@pytest.mark.timeout(10)
def test_follow_is_bounded_by_the_read_timeout(serve, client_for) -> None:
    def follow(connection):
        connection.read_request()
        connection.send(
            f"HTTP/1.1 200 OK\r\nContent-Type: {MUX}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        frame = encode_frames([(1, b"tick\n")])
        for _ in range(50):
            connection.send(b"%x\r\n%s\r\n" % (len(frame), frame))
            connection.hold(0.05)

    server = serve(follow)
    started = time.monotonic()
    result = client_for(server, read=0.6).container_logs(CID, follow=True)
    assert time.monotonic() - started < 0.6 + 1.0
    assert result.timed_out
    assert result.output.lines()[:3] == ["tick", "tick", "tick"]


@pytest.mark.timeout(10)
def test_logs_without_follow_time_out_with_an_error(serve, client_for) -> None:
    def stall(connection):
        connection.read_request()
        connection.send(
            f"HTTP/1.1 200 OK\r\nContent-Type: {MUX}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        connection.hold(5)

    server = serve(stall)
    with pytest.raises(DaemonTimeout, match="container logs"):
        client_for(server, read=0.4).container_logs(CID)


def test_logs_query_parameters(serve, client_for) -> None:
    server = serve(logs_server(b"", MUX))
    client_for(server).container_logs(CID, tail=10, since=1700000000, until="2024-01-01T00:00:00Z")
    query = server.requests[0].query
    assert query["tail"] == ["10"]
    assert query["since"] == ["1700000000"]
    assert query["until"] == ["1704067200"]


# --- references that can name nothing are refused before anything is sent ---------------------

REFERENCE_CALLS = {
    "start container": lambda client, ref: client.start_container(ref),
    "inspect container": lambda client, ref: client.inspect_container(ref),
    "stop container": lambda client, ref: client.stop_container(ref),
    "kill container": lambda client, ref: client.kill_container(ref),
    "wait container": lambda client, ref: client.wait_container(ref),
    "remove container": lambda client, ref: client.remove_container(ref),
    "container logs": lambda client, ref: client.container_logs(ref),
    "create exec": lambda client, ref: client.create_exec(ref, ["true"]),
    "exec start": lambda client, ref: client.start_exec(ref),
    "inspect exec": lambda client, ref: client.inspect_exec(ref),
    "attach container over WebSocket": lambda client, ref: client.attach_websocket(ref),
}


@pytest.mark.parametrize("operation", list(REFERENCE_CALLS))
@pytest.mark.parametrize(
    "reference", ["", " " + CID, CID + "\n", "web app", "a/b", "../json", "-web", "{{id}}"]
)
def test_a_reference_no_id_or_name_can_be_is_refused_unsent(
    serve, keep_alive, client_for, operation: str, reference: str
) -> None:
    server = serve(keep_alive(docker_like))
    with pytest.raises(ConfigurationError) as caught:
        REFERENCE_CALLS[operation](client_for(server), reference)
    assert str(caught.value) == (
        f"{operation}: {reference!r} ({len(reference)} characters) cannot name a container or an "
        "exec: Docker IDs are hex digits, names match [a-zA-Z0-9][a-zA-Z0-9_.-]* (with an "
        "optional leading /); nothing was sent"
    )
    assert server.requests == []


@pytest.mark.parametrize("reference", [CID, "a1b2c3", "/web", "web_app-2.1", "W"])
def test_ids_prefixes_and_names_are_sent_as_given(
    serve, keep_alive, client_for, reference: str
) -> None:
    server = serve(keep_alive(docker_like))
    client_for(server).inspect_container(reference)
    assert server.requests[-1].path == f"/v1.44/containers/{quote(reference, safe='')}/json"


def test_a_reference_is_not_refused_for_its_length_alone(serve, keep_alive, client_for) -> None:
    """Docker sets no limit on a name's length: a long one goes to the daemon, which decides."""
    server = serve(keep_alive(docker_like))
    client_for(server).inspect_container("n" * 20_000)
    assert server.requests[-1].path == f"/v1.44/containers/{'n' * 20_000}/json"


def test_a_refused_reference_is_shown_cut_short(serve, keep_alive, client_for) -> None:
    server = serve(keep_alive(docker_like))
    with pytest.raises(
        ConfigurationError,
        match=r"\.\.\. \(999920 more characters\)' \(1,000,000 characters\) cannot",
    ):
        client_for(server).inspect_container("bad name " * 111_111 + "x")
    assert server.requests == []
