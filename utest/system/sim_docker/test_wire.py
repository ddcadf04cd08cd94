"""Exact bytes on the wire: status lines, headers, bodies, frames, hijack, keep-alive."""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.parse

import pytest
from wire_helpers import RawClient, build_request, parse_frames, parse_response, recv_all

pytestmark = pytest.mark.timeout(60)

DOCKER_TS = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z $")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def test_ping_get_and_head(client: RawClient) -> None:
    response = client.request("GET", "/_ping")
    assert response.status == 200
    assert response.body == b"OK"
    assert response.headers["api-version"] == "1.44"
    head = client.request("HEAD", "/v1.44/_ping")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["api-version"] == "1.44"


def test_version_reports_api_1_44(client: RawClient) -> None:
    for path in ("/version", "/v1.44/version", "/v1.41.1/version"):
        document = client.request("GET", path).json()
        assert document["ApiVersion"] == "1.44"
        assert document["MinAPIVersion"] == "1.24"


def test_an_endpoint_it_does_not_implement_is_501_naming_it(client: RawClient) -> None:
    response = client.request("POST", "/v1.44/containers/abc/restart?t=1")
    assert response.status == 501
    assert response.headers["content-type"] == "application/json"
    message = response.json()["message"]
    assert message.startswith(
        "POST /v1.44/containers/abc/restart is not supported by the embedded simulator"
    )
    wrong_method = client.request("PUT", "/containers/json")
    assert wrong_method.status == 501
    assert wrong_method.json()["message"].startswith("PUT /containers/json is not supported")


def test_create_answers_201_with_id_and_warnings(client: RawClient) -> None:
    response = client.request(
        "POST", "/v1.44/containers/create", {"Image": "alpine:latest", "Cmd": ["true"]}
    )
    assert response.status == 201
    document = response.json()
    client.created.append(document["Id"])
    assert HEX64.match(document["Id"])
    assert document["Warnings"] == []


def test_create_without_image_is_400_and_malformed_json_is_400(client: RawClient) -> None:
    missing = client.request("POST", "/containers/create", {"Cmd": ["true"]})
    assert missing.status == 400
    assert missing.headers["content-type"] == "application/json"
    assert "Image" in missing.json()["message"]
    malformed = client.request("POST", "/containers/create", b"{not json")
    assert malformed.status == 400


def test_duplicate_name_is_409_in_dockers_words(client: RawClient) -> None:
    first = client.create(["true"], name="dup-name")
    response = client.request(
        "POST", "/containers/create?name=dup-name", {"Image": "alpine:latest"}
    )
    assert response.status == 409
    assert response.json()["message"] == (
        f'Conflict. The container name "/dup-name" is already in use by container "{first}". '
        "You have to remove (or rename) that container to be able to reuse that name."
    )


def test_unknown_container_is_404_no_such_container(client: RawClient) -> None:
    for method, path in [
        ("GET", "/containers/nope/json"),
        ("POST", "/containers/nope/start"),
        ("POST", "/containers/nope/stop"),
        ("POST", "/containers/nope/kill"),
        ("DELETE", "/containers/nope"),
        ("GET", "/containers/nope/logs?stdout=1"),
        ("POST", "/containers/nope/wait"),
    ]:
        response = client.request(method, path)
        assert response.status == 404, (method, path)
        assert response.json() == {"message": "No such container: nope"}


def test_start_twice_gives_304_with_no_body(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    response = client.request("POST", f"/containers/{container_id}/start")
    assert response.status == 304
    assert response.body == b""
    assert "content-length" not in response.headers
    assert response.raw.endswith(b"\r\n\r\n")


def test_stop_then_stop_again_gives_204_then_304(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    stopped = client.request("POST", f"/containers/{container_id}/stop?t=1")
    assert stopped.status == 204
    assert stopped.body == b""
    assert client.inspect(container_id)["State"]["Status"] == "exited"
    again = client.request("POST", f"/containers/{container_id}/stop")
    assert again.status == 304
    assert again.body == b""


def test_kill_a_stopped_container_is_409(client: RawClient) -> None:
    container_id = client.create(["true"])
    response = client.request("POST", f"/containers/{container_id}/kill")
    assert response.status == 409
    assert response.json() == {"message": f"Container {container_id} is not running"}


def test_booleans_are_true_only_for_lowercase_true_and_1(client: RawClient) -> None:
    container_id = client.create(["true"])
    for value, listed in [("true", True), ("1", True), ("True", False), ("yes", False)]:
        entries = client.request("GET", f"/containers/json?all={value}").json()
        assert (container_id in [e["Id"] for e in entries]) is listed, value
    running = client.run(["tail", "-f", "/dev/null"])
    refused = client.request("DELETE", f"/containers/{running}?force=True")
    assert refused.status == 409
    assert refused.json()["message"] == (
        f"You cannot remove a running container {running}. Stop the container before "
        "attempting removal or force remove"
    )
    assert client.request("DELETE", f"/containers/{running}?force=true").status == 204


def test_label_filters_in_both_json_shapes_form_encoded(client: RawClient) -> None:
    labelled = client.create(["true"], Labels={"test-run": "wire", "extra": "x"})
    other = client.create(["true"], Labels={"test-run": "other"})
    shapes = [
        {"label": ["test-run=wire"]},
        {"label": {"test-run=wire": True}},
        {"label": ["test-run=wire", "extra"]},
    ]
    for shape in shapes:
        # json.dumps puts spaces after ":" and ","; quote_plus turns them into "+", as
        # requests does for docker-py.
        query = urllib.parse.urlencode({"all": "1", "filters": json.dumps(shape)})
        assert "+" in query
        ids = [e["Id"] for e in client.request("GET", f"/containers/json?{query}").json()]
        assert ids == [labelled], shape
    key_only = urllib.parse.quote(json.dumps({"label": ["test-run"]}))
    ids = {
        e["Id"] for e in client.request("GET", f"/containers/json?all=1&filters={key_only}").json()
    }
    assert {labelled, other} <= ids
    bad = client.request("GET", "/containers/json?filters=%7Bnot")
    assert bad.status == 400


def test_name_id_and_status_filters(client: RawClient) -> None:
    container_id = client.create(["true"], name="filter-me")
    cases = {
        json.dumps({"name": ["filter-me"]}): True,
        json.dumps({"name": ["/filter-me"]}): True,
        json.dumps({"name": ["filter"]}): True,  # part of a name, as in Docker
        json.dumps({"name": ["ter-m"]}): True,
        json.dumps({"name": ["/ter-me"]}): False,  # the "/" is where the name starts
        json.dumps({"name": ["filter.me"]}): False,  # a dot is a dot (sockerless' plain text)
        json.dumps({"name": ["filter-me-not"]}): False,
        json.dumps({"id": [container_id[:10]]}): True,
        json.dumps({"status": ["created"]}): True,
        json.dumps({"status": ["running"]}): False,
    }
    for filters, expected in cases.items():
        query = urllib.parse.urlencode({"all": "true", "filters": filters, "limit": "-1"})
        ids = [e["Id"] for e in client.request("GET", f"/containers/json?{query}").json()]
        assert (container_id in ids) is expected, filters


def test_list_entry_shape(client: RawClient) -> None:
    container_id = client.create(["echo", "hi"], name="shape-me", Labels={"a": "b"})
    query = urllib.parse.urlencode({"all": "1", "filters": json.dumps({"id": [container_id]})})
    (entry,) = client.request("GET", f"/containers/json?{query}&size=1&trunc_cmd=0&limit=-1").json()
    assert entry["Names"] == ["/shape-me"]
    assert entry["Image"] == "alpine:latest"
    assert entry["State"] == "created"
    assert entry["Status"] == "Created"
    assert entry["Labels"] == {"a": "b"}
    assert entry["Command"] == "echo hi"
    assert isinstance(entry["Created"], int)


def test_logs_are_framed_one_frame_per_line_with_docker_timestamps(client: RawClient) -> None:
    container_id = client.run(["sh", "-c", "echo one; echo two; echo err >&2"])
    response = client.logs_when(
        container_id,
        "stdout=1&stderr=1&timestamps=true",
        lambda body: all(word in body for word in (b"one", b"two", b"err")),
    )
    assert response.headers["content-type"] == "application/vnd.docker.multiplexed-stream"
    assert response.headers["transfer-encoding"] == "chunked"
    frames = parse_frames(response.body)
    assert len(frames) == 3  # one frame per log event
    texts = {}
    for stream, payload in frames:
        stamp, _, text = payload.partition(b" ")
        assert DOCKER_TS.match(stamp + b" "), stamp
        texts.setdefault(stream, []).append(text)
    # Order holds within a stream; stdout and stderr are read by different threads.
    assert texts == {1: [b"one\n", b"two\n"], 2: [b"err\n"]}


def test_logs_stream_selection_tail_and_no_stream_is_400(client: RawClient) -> None:
    container_id = client.run(["sh", "-c", "echo a; echo b; echo c; echo e >&2"])
    client.logs_when(container_id, "stdout=1&stderr=1", lambda body: b"e\n" in body)
    stdout_only = parse_frames(
        client.request("GET", f"/containers/{container_id}/logs?stdout=1").body
    )
    assert [p for _, p in stdout_only] == [b"a\n", b"b\n", b"c\n"]
    stderr_only = parse_frames(
        client.request("GET", f"/containers/{container_id}/logs?stderr=true").body
    )
    assert stderr_only == [(2, b"e\n")]
    tail = parse_frames(
        client.request("GET", f"/containers/{container_id}/logs?stdout=1&tail=2").body
    )
    assert [p for _, p in tail] == [b"b\n", b"c\n"]
    assert client.request("GET", f"/containers/{container_id}/logs?stdout=1&tail=0").body == b""
    future = int(time.time()) + 3600
    since = client.request("GET", f"/containers/{container_id}/logs?stdout=1&since={future}")
    assert since.body == b""
    neither = client.request("GET", f"/containers/{container_id}/logs?stdout=True")
    assert neither.status == 400
    assert neither.json()["message"] == "Bad parameters: you must choose at least one stream"


def test_logs_of_a_never_started_container_is_400(client: RawClient) -> None:
    container_id = client.create(["echo", "x"])
    response = client.request("GET", f"/containers/{container_id}/logs?stdout=1")
    assert response.status == 400
    assert response.json()["message"] == (
        "can not get logs from container which is dead or marked for removal"
    )


def test_logs_follow_streams_until_exit(client: RawClient) -> None:
    container_id = client.run(["sh", "-c", "echo first; sleep 1; echo second"])
    began = time.monotonic()
    response = client.request(
        "GET", f"/containers/{container_id}/logs?stdout=1&follow=1", timeout=20
    )
    assert time.monotonic() - began >= 0.9  # it waited for the container to finish
    assert [p for _, p in parse_frames(response.body)] == [b"first\n", b"second\n"]
    # Long after the exit, follow ends as soon as the logs are read.
    time.sleep(0.3)
    began = time.monotonic()
    again = client.request("GET", f"/containers/{container_id}/logs?stdout=1&follow=1")
    assert time.monotonic() - began < 1.0
    assert [p for _, p in parse_frames(again.body)] == [b"first\n", b"second\n"]


def test_tty_logs_are_raw(client: RawClient) -> None:
    container_id = client.run(["echo", "raw line"], Tty=True)
    response = client.logs_when(container_id, "stdout=1", lambda body: b"raw line" in body)
    assert response.headers["content-type"] == "application/vnd.docker.raw-stream"
    assert response.body == b"raw line\r\n"  # a terminal's line end, as Docker's Tty logs have


def test_exec_start_writes_the_101_head_alone_then_frames(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    exec_id = client.create_exec(container_id, ["sh", "-c", "echo out; echo err >&2"])
    with client.connect() as sock:
        sock.sendall(
            build_request(
                "POST",
                f"/exec/{exec_id}/start",
                {"Detach": False, "Tty": False},
                {"Connection": "Upgrade", "Upgrade": "tcp"},
            )
        )
        head = sock.recv(65536)
        rest = recv_all(sock)
    assert head == (
        b"HTTP/1.1 101 UPGRADED\r\n"
        b"Content-Type: application/vnd.docker.multiplexed-stream\r\n"
        b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
    )
    frames = parse_frames(rest)
    assert b"".join(p for s, p in frames if s == 1) == b"out\n"
    assert b"".join(p for s, p in frames if s == 2) == b"err\n"
    document = client.request("GET", f"/exec/{exec_id}/json").json()
    assert document["Running"] is False
    assert document["ExitCode"] == 0
    assert document["ProcessConfig"] == {
        "tty": False,
        "entrypoint": "sh",
        "arguments": ["-c", "echo out; echo err >&2"],
        "privileged": False,
        "user": "",
    }


def test_exec_exit_code_is_recorded_before_eof(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    for code in (0, 7):
        exec_id = client.create_exec(container_id, ["sh", "-c", f"exit {code}"])
        response = client.request(
            "POST", f"/exec/{exec_id}/start", {}, {"Connection": "Upgrade", "Upgrade": "tcp"}
        )
        assert response.status == 101
        # One inspect right after EOF must already see the code.
        document = client.request("GET", f"/exec/{exec_id}/json").json()
        assert (document["Running"], document["ExitCode"]) == (False, code)


def test_exec_without_upgrade_header_answers_200(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    exec_id = client.create_exec(container_id, ["echo", "plain"])
    response = client.request("POST", f"/exec/{exec_id}/start", {"Detach": False})
    assert response.status == 200
    assert response.headers["content-type"] == "application/vnd.docker.raw-stream"
    assert parse_frames(response.body) == [(1, b"plain\n")]


def test_detached_exec_answers_200_and_records_the_exit_code(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    exec_id = client.create_exec(container_id, ["sh", "-c", "sleep 0.2; exit 4"])
    response = client.request("POST", f"/exec/{exec_id}/start", {"Detach": True})
    assert (response.status, response.body) == (200, b"")
    deadline = time.monotonic() + 10
    while (document := client.request("GET", f"/exec/{exec_id}/json").json())["Running"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert document["ExitCode"] == 4
    again = client.request("POST", f"/exec/{exec_id}/start", {"Detach": True})
    assert again.status == 409


def test_exec_stdin_half_close_keeps_output_flowing(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    exec_id = client.create_exec(container_id, ["cat"], AttachStdin=True, AttachStdout=True)
    with client.connect() as sock:
        sock.sendall(
            build_request(
                "POST", f"/exec/{exec_id}/start", {"Tty": False},
                {"Connection": "Upgrade", "Upgrade": "tcp"},
            )
        )  # fmt: skip
        head = sock.recv(65536)
        assert head.startswith(b"HTTP/1.1 101 UPGRADED\r\n")
        sock.sendall(b"echoed back\n")
        sock.shutdown(socket.SHUT_WR)
        rest = recv_all(sock)
    assert b"".join(p for _, p in parse_frames(rest)) == b"echoed back\n"
    assert client.request("GET", f"/exec/{exec_id}/json").json()["ExitCode"] == 0


def test_exec_errors_before_the_hijack(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    assert client.request("POST", "/containers/nope/exec", {"Cmd": ["true"]}).status == 404
    empty = client.request("POST", f"/containers/{container_id}/exec", {"Cmd": []})
    assert (empty.status, empty.json()["message"]) == (400, "No exec command specified")
    missing = client.request("POST", f"/containers/{container_id}/exec", {})
    assert missing.status == 400
    as_string = client.request("POST", f"/containers/{container_id}/exec", {"Cmd": "echo hi"})
    assert as_string.status == 400
    unknown = client.request("POST", "/exec/nope/start", {}, {"Upgrade": "tcp"})
    assert (unknown.status, unknown.json()) == (404, {"message": "No such exec instance: nope"})
    exec_id = client.create_exec(container_id, ["true"])
    malformed = client.request("POST", f"/exec/{exec_id}/start", b"{", {"Upgrade": "tcp"})
    assert malformed.status == 400
    assert client.request("GET", "/exec/nope/json").status == 404
    stopped = client.create(["true"])
    refused = client.request("POST", f"/containers/{stopped}/exec", {"Cmd": ["true"]})
    assert (refused.status, refused.json()["message"]) == (
        409,
        f"Container {stopped} is not running",
    )


def test_exec_ids_differ_and_exit_code_is_null_before_start(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    first = client.create_exec(container_id, ["true"])
    second = client.create_exec(container_id, ["true"])
    assert first != second
    assert HEX64.match(first)
    document = client.request("GET", f"/exec/{first}/json").json()
    assert document["ExitCode"] is None
    assert document["ContainerID"] == container_id


def test_keep_alive_serves_several_requests_on_one_connection(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    with client.connect() as sock:
        reader = sock.makefile("rb")
        for path in ("/_ping", f"/containers/{container_id}/json", "/version"):
            sock.sendall(build_request("GET", path, headers={"Connection": "keep-alive"}))
            status_line = reader.readline()
            assert status_line.startswith(b"HTTP/1.1 200"), status_line
            length = 0
            while (line := reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            assert len(reader.read(length)) == length
        # A 304 carries no body, so the next response follows it directly.
        sock.sendall(
            build_request(
                "POST", f"/containers/{container_id}/start", headers={"Connection": "keep-alive"}
            )
        )
        sock.sendall(build_request("GET", "/_ping"))
        both = parse_response(recv_all(sock))
    assert both.status == 304
    assert both.body.startswith(b"HTTP/1.1 200 OK\r\n")


def test_inspect_shows_the_original_config_and_the_task_ip(client: RawClient) -> None:
    container_id = client.run(
        ["tail", "-f", "/dev/null"],
        name="inspect-me",
        Env=["A=1"],
        Labels={"k": "v"},
        Entrypoint=["/usr/bin/env"],
    )
    document = client.inspect(container_id)
    assert document["Id"] == container_id
    assert document["Name"] == "/inspect-me"
    assert document["Path"] == "/usr/bin/env"
    assert document["Args"] == ["tail", "-f", "/dev/null"]
    assert document["Config"]["Entrypoint"] == ["/usr/bin/env"]
    assert document["Config"]["Cmd"] == ["tail", "-f", "/dev/null"]
    assert document["Config"]["Env"] == ["A=1"]  # the agent token is never shown
    assert document["Config"]["Labels"] == {"k": "v"}
    assert document["Config"]["Tty"] is False
    assert document["HostConfig"]["LogConfig"]["Type"] == "awslogs"
    state = document["State"]
    assert (state["Status"], state["Running"], state["ExitCode"]) == ("running", True, 0)
    assert state["StartedAt"].endswith("Z")
    assert state["FinishedAt"] == "0001-01-01T00:00:00Z"
    ip = document["NetworkSettings"]["IPAddress"]
    assert ip.startswith(("10.", "172.", "192.168."))
    assert document["NetworkSettings"]["Networks"]["default"]["IPAddress"] == ip
    never_started = client.inspect(client.create(["true"]))
    assert never_started["State"]["Status"] == "created"
    assert never_started["NetworkSettings"]["IPAddress"] == ""


def test_lookup_by_name_and_unique_prefix(client: RawClient) -> None:
    container_id = client.create(["true"], name="by-name")
    assert client.inspect("by-name")["Id"] == container_id
    assert client.inspect("%2Fby-name")["Id"] == container_id
    assert client.inspect(container_id[:16])["Id"] == container_id


def test_wait_blocks_until_exit_and_reports_the_code(client: RawClient) -> None:
    container_id = client.run(["sh", "-c", "sleep 0.5; exit 3"])
    response = client.request("POST", f"/containers/{container_id}/wait?condition=not-running")
    assert response.status == 200
    assert response.json() == {"StatusCode": 3, "Error": None}
    bad = client.request("POST", f"/containers/{container_id}/wait?condition=sideways")
    assert bad.status == 400


def test_kill_delivers_the_signal_and_reports_128_plus_n(client: RawClient) -> None:
    container_id = client.run(["sleep", "60"])
    assert client.request("POST", f"/containers/{container_id}/kill").status == 204
    # A SIGKILL answers once the container is dead: the very next inspect reads it.
    state = client.inspect(container_id)["State"]
    assert (state["Status"], state["Running"], state["ExitCode"]) == ("exited", False, 137)
    # The signal reaches the process (it prints), then StopTask ends it (SIGTERM: 143). StopTask's
    # SIGTERM can follow so closely that both are pending at once; the default SIGTERM would then
    # end Python before its USR1 handler ran. Python runs pending handlers in signal-number order,
    # so a TERM handler that re-raises the default keeps the exit at 143 and the print first.
    script = (
        "import os, signal, time\n"
        "signal.signal(signal.SIGUSR1, lambda *_: print('got usr1', flush=True))\n"
        "def term(*_):\n"
        "    signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "signal.signal(signal.SIGTERM, term)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    # python3 is this host's: an image without a program list (alpine's PATH has no python3).
    trapped = client.run(["python3", "-c", script], Image="python:3.12-slim")
    client.logs_when(trapped, "stdout=1", lambda body: b"ready" in body)
    killed = client.request("POST", f"/containers/{trapped}/kill?signal=SIGUSR1")
    assert killed.status == 204  # answered once delivered: the handler runs before StopTask's
    assert client.wait_status(trapped, "exited")["State"]["ExitCode"] == 143
    client.logs_when(trapped, "stdout=1", lambda body: b"got usr1" in body)
    invalid = client.run(["sleep", "60"])
    assert client.request("POST", f"/containers/{invalid}/kill?signal=NOPE").status == 400


def test_remove_forgets_the_container(client: RawClient) -> None:
    container_id = client.create(["true"], name="gone-soon")
    assert client.request("DELETE", f"/containers/{container_id}").status == 204
    response = client.request("GET", f"/containers/{container_id}/json")
    assert (response.status, response.json()) == (
        404,
        {"message": f"No such container: {container_id}"},
    )
    client.create(["true"], name="gone-soon")  # the name is free again
