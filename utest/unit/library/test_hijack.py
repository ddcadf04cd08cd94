"""Exec start over a hijacked connection: leftover bytes, stdin + half-close, errors, deadline."""

from __future__ import annotations

import time

import pytest

from SockerlessLibrary.errors import DaemonResponseError, DaemonTimeout, DaemonUnreachable
from utest.wire_codecs import encode_frames

UPGRADED = (
    b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
    b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
)
OUTPUT = encode_frames([(1, b"exec-"), (1, b"works\n"), (2, b"warn\n"), (1, b"")])


def test_headers_and_first_frames_in_one_write_lose_nothing(serve, client_for) -> None:
    def answer(connection):
        connection.read_request()
        connection.send(UPGRADED + OUTPUT)  # one write: what docker-py loses
        connection.shutdown_write()

    server = serve(answer)
    stream = client_for(server).start_exec("e1")
    assert (stream.status, stream.reason) == (101, "UPGRADED")
    assert stream.headers["upgrade"] == "tcp"
    assert stream.output.lines("stdout") == ["exec-works"]
    assert stream.output.lines("stderr") == ["warn"]
    assert len(stream.output.frames) == 4
    request = server.requests[0]
    assert request.request_line == "POST /v1.44/exec/e1/start HTTP/1.1"
    assert request.headers["connection"] == "Upgrade"
    assert request.headers["upgrade"] == "tcp"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"Detach": False, "Tty": False}


@pytest.mark.parametrize(
    "split", [1, 9, 20, len(UPGRADED) - 1, len(UPGRADED) + 3, len(UPGRADED) + 12]
)
def test_head_and_frames_split_anywhere(serve, client_for, split) -> None:
    data = UPGRADED + OUTPUT

    def answer(connection):
        connection.read_request()
        connection.send(data[:split])
        connection.hold(0.05)
        connection.send(data[split:])
        connection.close()

    server = serve(answer)
    assert client_for(server).start_exec("e1").output.stdout == b"exec-works\n"


def test_stdin_is_sent_then_half_closed_and_output_keeps_flowing(serve, client_for) -> None:
    def echo_stdin(connection):
        connection.read_request()
        connection.send(UPGRADED)
        connection.send(encode_frames([(1, b"ready\n")]))
        received = connection.read_until_eof()  # returns only once the client half-closed
        connection.hold(0.1)  # output after the client's half-close must still be read
        connection.send(encode_frames([(1, b"got:" + received)]))
        connection.shutdown_write()

    server = serve(echo_stdin)
    stream = client_for(server).start_exec("e1", stdin=b"line one\nline two\n")
    assert stream.output.lines() == ["ready", "got:line one", "line two"]


def test_large_stdin_while_the_daemon_writes_output_does_not_deadlock(serve, client_for) -> None:
    blob = b"x" * (4 * 1024 * 1024)

    def busy(connection):
        connection.read_request()
        connection.send(UPGRADED)
        chunk = encode_frames([(1, b"o" * 60000)])
        for _ in range(40):  # 2.4 MB of output before reading any stdin
            connection.send(chunk)
        received = connection.read_until_eof()
        connection.send(encode_frames([(2, str(len(received)).encode())]))
        connection.shutdown_write()

    server = serve(busy)
    stream = client_for(server, read=10).start_exec("e1", stdin=blob)
    assert len(stream.output.stdout) == 40 * 60000
    assert stream.output.stderr == str(len(blob)).encode()


def test_empty_stdin_half_closes_at_once(serve, client_for) -> None:
    def answer(connection):
        connection.read_request()
        connection.send(UPGRADED)
        connection.send(
            encode_frames([(1, b"eof after %d bytes" % len(connection.read_until_eof()))])
        )
        connection.close()

    server = serve(answer)
    assert client_for(server).start_exec("e1", stdin=b"").output.stdout == b"eof after 0 bytes"


def test_tty_exec_is_raw(serve, client_for) -> None:
    def answer(connection):
        request = connection.read_request()
        assert request.json() == {"Detach": False, "Tty": True}
        connection.send(UPGRADED.replace(b"multiplexed", b"raw") + b"$ echo\r\nraw\r\n")
        connection.close()

    server = serve(answer)
    stream = client_for(server).start_exec("e1", tty=True)
    assert not stream.output.multiplexed
    assert stream.output.lines() == ["$ echo", "raw"]


def test_a_plain_200_answer_is_accepted(serve, client_for) -> None:
    def answer(connection):
        connection.read_request()
        connection.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n" + OUTPUT
        )
        connection.close()

    server = serve(answer)
    stream = client_for(server).start_exec("e1")
    assert stream.status == 200
    assert stream.output.stdout == b"exec-works\n"


@pytest.mark.parametrize(
    ("status", "reason", "message"),
    [
        (404, "Not Found", "No such exec instance: e1"),
        (409, "Conflict", "Container x is not running"),
    ],
)
def test_errors_before_the_hijack_are_json_errors(
    serve, client_for, status, reason, message
) -> None:
    def answer(connection):
        connection.read_request()
        connection.respond_json(status, reason, {"message": message})

    server = serve(answer)
    with pytest.raises(DaemonResponseError) as caught:
        client_for(server).start_exec("e1")
    assert (caught.value.status, caught.value.message) == (status, message)
    assert caught.value.operation == "exec start"
    assert f"HTTP {status} {reason} (expected 101, 200): {message}" in str(caught.value)


@pytest.mark.timeout(10)
def test_a_stream_that_never_ends_times_out_naming_exec_start(serve, client_for) -> None:
    def endless(connection):
        connection.read_request()
        connection.send(UPGRADED + encode_frames([(1, b"partial\n")]))
        connection.hold(5)

    server = serve(endless)
    started = time.monotonic()
    with pytest.raises(
        DaemonTimeout, match=r"exec start on unix://.*0\.5 s read timeout"
    ) as caught:
        client_for(server, read=0.5).start_exec("e1")
    assert time.monotonic() - started < 0.5 + 1.0
    assert caught.value.partial is not None
    assert caught.value.partial.stdout == b"partial\n"


@pytest.mark.timeout(10)
def test_no_upgrade_answer_times_out(serve, client_for) -> None:
    server = serve(lambda connection: (connection.read_request(), connection.hold(5)))
    with pytest.raises(DaemonTimeout, match="exec start"):
        client_for(server, read=0.3).start_exec("e1")


def test_closed_without_an_answer(serve, client_for) -> None:
    server = serve(lambda connection: (connection.read_request(), connection.close()))
    with pytest.raises(
        DaemonUnreachable, match=r"exec start .* closed the connection without answering"
    ):
        client_for(server).start_exec("e1")


def test_each_exec_counts_as_a_request(serve, client_for) -> None:
    def answer(connection):
        connection.read_request()
        connection.send(UPGRADED)
        connection.close()

    server = serve(answer)
    client = client_for(server)
    client.start_exec("e1")
    client.start_exec("e2")
    assert client.request_count == 2
