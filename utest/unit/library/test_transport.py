"""HTTP/1.1 over a unix socket: request shape, keep-alive, timeouts, error bodies."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from SockerlessLibrary.errors import (
    ConfigurationError,
    DaemonResponseError,
    DaemonTimeout,
    DaemonUnreachable,
    ProtocolError,
)
from SockerlessLibrary.transport import Target, Timeouts, Transport
from SockerlessLibrary.unix_adapter import UnixSocketAdapter

SLACK = 1.0


@pytest.mark.parametrize(
    ("text", "expected", "shown"),
    [
        (
            "unix:///var/run/sockerless.sock",
            Target("unix", socket_path="/var/run/sockerless.sock"),
            "unix:///var/run/sockerless.sock",
        ),
        ("/tmp/x.sock", Target("unix", socket_path="/tmp/x.sock"), "unix:///tmp/x.sock"),
        (
            " tcp://127.0.0.1:2375 ",
            Target("tcp", host="127.0.0.1", port=2375),
            "tcp://127.0.0.1:2375",
        ),
        (
            "http://localhost:3375/",
            Target("tcp", host="localhost", port=3375),
            "tcp://localhost:3375",
        ),
        ("tcp://[::1]:2375", Target("tcp", host="::1", port=2375), "tcp://[::1]:2375"),
    ],
)
def test_target_forms(text: str, expected: Target, shown: str) -> None:
    target = Target.parse(text)
    assert target == expected
    assert str(target) == shown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cannot parse daemon address"),
        ("sockerless.sock", "cannot parse daemon address"),
        ("unix://relative.sock", "absolute path"),
        ("tcp://127.0.0.1", "host and a port"),
        ("tcp://:2375", "host and a port"),
        ("tcp://127.0.0.1:notaport", "host and a port"),
        ("tcp://127.0.0.1:2375/v1.44", "only host and port"),
        ("https://127.0.0.1:2376", "TLS is not supported"),
        ("ssh://user@host", "cannot parse daemon address"),
    ],
)
def test_bad_targets_are_configuration_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Target.parse(text)


def test_host_header_is_localhost_over_unix_sockets() -> None:
    assert Target.parse("/tmp/a/b.sock").host_header == "localhost"
    assert Target.parse("tcp://127.0.0.1:2375").host_header == "127.0.0.1:2375"


def test_nothing_connects_at_construction(socket_dir: Path) -> None:
    transport = Transport(f"unix://{socket_dir}/missing.sock")
    assert transport.request_count == 0
    assert transport.timeouts == Timeouts(5.0, 60.0)


def test_request_shape(serve, keep_alive) -> None:
    def answer(connection, request):
        connection.respond_json(201, "Created", {"Id": "abc"})

    server = serve(keep_alive(answer))
    transport = Transport(server.path, timeouts=Timeouts(1, 2))
    response = transport.request(
        "POST",
        "/containers/create",
        operation="create container",
        query="name=web",
        body={"Image": "alpine"},
        expected=(201,),
    )
    assert response.json() == {"Id": "abc"}
    transport.request("POST", "/containers/abc/start", operation="start", expected=(201,))
    transport.request("GET", "/_ping", operation="ping", expected=(201,))
    first, second, third = server.requests
    assert first.request_line == "POST /v1.44/containers/create?name=web HTTP/1.1"
    assert first.headers["host"] == "localhost"
    assert first.headers["content-type"] == "application/json"
    assert first.headers["content-length"] == str(len(first.body))
    assert first.json() == {"Image": "alpine"}
    assert second.request_line == "POST /v1.44/containers/abc/start HTTP/1.1"
    assert second.headers["content-length"] == "0"
    assert "content-type" not in second.headers
    assert third.request_line == "GET /v1.44/_ping HTTP/1.1"
    assert "content-length" not in third.headers
    assert transport.request_count == 3


def test_api_version_is_configurable(serve, keep_alive) -> None:
    server = serve(keep_alive(lambda c, r: c.respond(200, "OK", b"OK", content_type="text/plain")))
    Transport(server.path, api_version="1.51").request("GET", "/_ping", operation="ping")
    Transport(server.path, api_version=None).request("GET", "/_ping", operation="ping")
    assert server.request_lines == ["GET /v1.51/_ping HTTP/1.1", "GET /_ping HTTP/1.1"]


def test_keep_alive_reuses_one_connection(serve, keep_alive) -> None:
    server = serve(keep_alive(lambda c, r: c.respond(200, "OK", b"OK", content_type="text/plain")))
    transport = Transport(server.path)
    for _ in range(3):
        assert transport.request("GET", "/_ping", operation="ping").body == b"OK"
    assert server.connections == 1
    assert transport.request_count == 3


def test_chunked_responses_keep_the_connection(serve, keep_alive) -> None:
    def answer(connection, request):
        connection.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
            b"3\r\n[{}\r\n1;ext=1\r\n]\r\n0\r\nTrailer: x\r\n\r\n"
        )

    server = serve(keep_alive(answer))
    transport = Transport(server.path)
    assert transport.request("GET", "/containers/json", operation="list").json() == [{}]
    assert transport.request("GET", "/containers/json", operation="list").json() == [{}]
    assert server.connections == 1


def test_reconnects_after_the_server_closed_an_idle_connection(serve) -> None:
    def answer_once(connection):
        connection.read_request()
        connection.respond(200, "OK", b"OK", content_type="text/plain")
        connection.close()

    server = serve(answer_once)
    transport = Transport(server.path)
    transport.request("GET", "/_ping", operation="ping")
    time.sleep(0.05)
    assert transport.request("GET", "/_ping", operation="ping").body == b"OK"
    assert server.connections == 2


def test_reconnects_once_when_a_reused_connection_closes_before_answering(serve) -> None:
    handled = []

    def handler(connection):
        handled.append(1)
        if len(handled) == 1:
            connection.read_request()
            connection.respond(200, "OK", b"first", content_type="text/plain")
            connection.read_request()  # the second request arrives ... and is never answered
            connection.close()
            return
        connection.read_request()
        connection.respond(200, "OK", b"second", content_type="text/plain")

    server = serve(handler)
    transport = Transport(server.path)
    assert transport.request("GET", "/_ping", operation="ping").body == b"first"
    assert transport.request("GET", "/_ping", operation="ping").body == b"second"
    assert server.connections == 2
    assert transport.request_count == 3  # the retried request counts: it was sent twice


def test_a_fresh_connection_closed_without_answer_is_not_retried(serve) -> None:
    def hang_up(connection):
        connection.read_request()
        connection.close()

    server = serve(hang_up)
    with pytest.raises(DaemonUnreachable, match="closed the connection without answering"):
        Transport(server.path).request("GET", "/_ping", operation="ping")
    assert server.connections == 1


@pytest.mark.timeout(10)
def test_a_server_that_never_answers_times_out(serve) -> None:
    def silent(connection):
        connection.read_request()
        connection.hold(5)

    server = serve(silent)
    transport = Transport(server.path, timeouts=Timeouts(connect=1, read=0.5))
    started = time.monotonic()
    with pytest.raises(DaemonTimeout, match=r"inspect container on unix://.*0\.5 s read timeout"):
        transport.request("GET", "/containers/x/json", operation="inspect container")
    assert time.monotonic() - started < 0.5 + SLACK


@pytest.mark.timeout(10)
def test_per_call_timeout_overrides_the_default(serve) -> None:
    server = serve(lambda connection: (connection.read_request(), connection.hold(5)))
    transport = Transport(server.path, timeouts=Timeouts(connect=1, read=30))
    started = time.monotonic()
    with pytest.raises(DaemonTimeout):
        transport.request("GET", "/x", operation="x", timeout=Timeouts(1, 0.3))
    assert time.monotonic() - started < 0.3 + SLACK


@pytest.mark.timeout(10)
def test_a_trickling_server_cannot_extend_the_deadline(serve) -> None:
    def trickle(connection):
        connection.read_request()
        connection.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(25):
            connection.send(b"x")
            connection.hold(0.1)

    server = serve(trickle)
    started = time.monotonic()
    with pytest.raises(DaemonTimeout):
        Transport(server.path, timeouts=Timeouts(1, 0.5)).request("GET", "/x", operation="x")
    assert time.monotonic() - started < 0.5 + SLACK


def test_missing_socket_names_the_path(socket_dir: Path) -> None:
    path = f"{socket_dir}/nope.sock"
    with pytest.raises(
        DaemonUnreachable, match=f"ping: cannot connect to unix://{path}: no socket at {path}"
    ):
        Transport(path).request("GET", "/_ping", operation="ping")


def test_refused_connection_names_the_path(socket_dir: Path) -> None:
    path = f"{socket_dir}/dead.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)  # the file exists, nobody listens
    try:
        with pytest.raises(DaemonUnreachable, match=f"connection refused at {path}"):
            Transport(path).request("GET", "/_ping", operation="ping")
    finally:
        dead.close()


def _error(serve, raw: bytes, **kwargs) -> DaemonResponseError:
    def answer(connection):
        connection.read_request()
        connection.send(raw)
        connection.close()

    server = serve(answer)
    with pytest.raises(DaemonResponseError) as caught:
        Transport(server.path).request(
            "POST", "/containers/x/start", operation="start container", expected=(204,), **kwargs
        )
    return caught.value


def test_json_error_message(serve) -> None:
    body = b'{"message":"No such container: x"}\n'
    error = _error(
        serve,
        b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (len(body), body),
    )
    assert (error.operation, error.status, error.reason) == ("start container", 404, "Not Found")
    assert error.message == "No such container: x"
    assert error.body == body
    assert error.target.startswith("unix:///")
    assert str(error) == (
        f"start container on {error.target} failed: HTTP 404 Not Found (expected 204): "
        "No such container: x"
    )


def test_plain_text_router_404(serve) -> None:
    error = _error(
        serve,
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: 19\r\n\r\n404 page not found\n",
    )
    assert error.message == "404 page not found"
    assert "plain-text body: 404 page not found" in str(error)


def test_plain_text_405(serve) -> None:
    error = _error(
        serve, b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 19\r\n\r\nMethod Not Allowed\n"
    )
    assert error.status == 405
    assert "HTTP 405 Method Not Allowed (expected 204): plain-text body: Method Not Allowed" in str(
        error
    )


def test_unexpected_304_says_empty_body(serve) -> None:
    error = _error(serve, b"HTTP/1.1 304 Not Modified\r\n\r\n")
    assert error.status == 304
    assert error.message == ""
    assert str(error).endswith("HTTP 304 Not Modified (expected 204): empty body")


def test_expected_304_is_fine_and_has_no_body(serve, keep_alive) -> None:
    server = serve(keep_alive(lambda c, r: c.respond(304, "Not Modified")))
    transport = Transport(server.path)
    for _ in range(2):
        response = transport.request(
            "POST", "/containers/x/start", operation="start", expected=(204, 304)
        )
        assert (response.status, response.body) == (304, b"")
    assert server.connections == 1


def test_json_without_message(serve) -> None:
    error = _error(
        serve,
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
        b'Content-Length: 15\r\n\r\n{"error":"bad"}',
    )
    assert error.message == ""
    assert 'JSON body without "message": {"error":"bad"}' in str(error)


def test_truncated_error_body(serve) -> None:
    error = _error(
        serve,
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"message":"cut',
    )
    assert "truncated body: expected 100 bytes, got 15" in str(error)
    assert error.body == b'{"message":"cut'


def test_truncated_success_body_is_a_protocol_error(serve) -> None:
    def answer(connection):
        connection.read_request()
        connection.respond(200, "OK", b'{"Id": "x"', content_length=50)
        connection.close()

    server = serve(answer)
    with pytest.raises(
        ProtocolError, match="HTTP 200 OK with a truncated body: expected 50 bytes, got 10"
    ):
        Transport(server.path).request("GET", "/containers/x/json", operation="inspect container")


def test_malformed_status_line_is_a_protocol_error(serve) -> None:
    def answer(connection):
        connection.read_request()
        connection.send(b"SPDY/3 200\r\n\r\n")

    server = serve(answer)
    with pytest.raises(ProtocolError, match="malformed status line 'SPDY/3 200'"):
        Transport(server.path).request("GET", "/_ping", operation="ping")


def test_connection_close_header_is_honoured(serve, keep_alive) -> None:
    server = serve(
        keep_alive(lambda c, r: c.respond(200, "OK", b"OK", headers={"Connection": "close"}))
    )
    transport = Transport(server.path)
    transport.request("GET", "/_ping", operation="ping")
    transport.request("GET", "/_ping", operation="ping")
    assert server.connections == 2


def test_close_delimited_body(serve) -> None:
    def answer(connection):
        connection.read_request()
        connection.send(b"HTTP/1.1 200 OK\r\n\r\nall of it")
        connection.close()

    server = serve(answer)
    assert Transport(server.path).request("GET", "/x", operation="x").body == b"all of it"


def test_stream_reads_incrementally(serve) -> None:
    def answer(connection):
        connection.read_request()
        connection.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        time.sleep(0.2)
        connection.send(b"6\r\nsecond\r\n0\r\n\r\n")

    server = serve(answer)
    transport = Transport(server.path)
    with transport.open_stream("GET", "/containers/x/logs", operation="container logs") as stream:
        pieces = []
        for chunk in stream.chunks():
            pieces.append((chunk, time.monotonic()))
    assert [piece for piece, _ in pieces] == [b"first", b"second"]
    assert (
        pieces[1][1] - pieces[0][1] > 0.1
    )  # the first piece was handed over before the second came


def test_stream_error_status_raises_with_the_message(serve) -> None:
    def answer(connection):
        connection.read_request()
        connection.respond_json(
            400,
            "Bad Request",
            {"message": "can not get logs from container which is dead or marked for removal"},
        )

    server = serve(answer)
    with pytest.raises(
        DaemonResponseError, match=r"container logs on .* HTTP 400 Bad Request .*dead or marked"
    ):
        Transport(server.path).open_stream("GET", "/containers/x/logs", operation="container logs")


def test_requests_from_threads_share_the_connection_safely(serve, keep_alive) -> None:
    server = serve(
        keep_alive(lambda c, r: c.respond(200, "OK", r.path.encode(), content_type="text/plain"))
    )
    transport = Transport(server.path)
    results: list[bool] = []

    def worker(index: int) -> None:
        for n in range(10):
            body = transport.request("GET", f"/t{index}/{n}", operation="x").body
            results.append(body == f"/v1.44/t{index}/{n}".encode())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == [True] * 40
    assert transport.request_count == 40


# --- requests too large: a true message, not "closed without answering" alone -----------------

BIG_ID = "x" * 1_000_000  # a path no daemon takes in one request line
BIG_URL = len(f"/v1.44/containers/{BIG_ID}/json")


def refuses_long_lines(limit: int, *, answer: bool):
    """A server that reads at most ``limit`` bytes of a request line, then (``answer``) says
    414 as Python's http.server does, and closes with the rest unread (the client's send
    breaks)."""

    def handle(connection):
        connection.sock.settimeout(5)
        data = b""
        while len(data) <= limit and b"\r\n" not in data:
            data += connection.sock.recv(limit + 1 - len(data))
        if answer:
            connection.respond(
                414, "Request-URI Too Long", b"bad request", content_type="text/plain"
            )
        connection.close()

    return handle


def test_a_request_too_large_that_the_daemon_refuses_says_its_size(serve) -> None:
    server = serve(refuses_long_lines(65536, answer=True))
    with pytest.raises(DaemonResponseError) as caught:
        Transport(server.path).request("GET", f"/containers/{BIG_ID}/json", operation="inspect")
    assert caught.value.status == 414
    assert str(caught.value) == (
        f"inspect on unix://{server.path} failed: HTTP 414 Request-URI Too Long (expected 200): "
        f"plain-text body: bad request (the request's URL was {BIG_URL:,} bytes, more than HTTP "
        "servers take in a request line: 8 KiB in nginx, 64 KiB in Python's http.server, 1 MiB "
        "of head in Go's net/http; is an ID, name or filter far too long?)"
    )


def test_a_request_too_large_that_the_daemon_drops_says_its_size(serve) -> None:
    server = serve(refuses_long_lines(65536, answer=False))
    with pytest.raises(DaemonUnreachable) as caught:
        Transport(server.path).request("GET", f"/containers/{BIG_ID}/json", operation="inspect")
    assert str(caught.value) == (
        f"inspect on unix://{server.path}: the daemon closed the connection without answering, "
        f"before reading all of the request (the request's URL was {BIG_URL:,} bytes, more than "
        "HTTP servers take in a request line: 8 KiB in nginx, 64 KiB in Python's http.server, "
        "1 MiB of head in Go's net/http; is an ID, name or filter far too long?)"
    )
    assert server.connections == 1  # a fresh connection: not sent again


def test_a_small_request_the_daemon_stops_reading_says_what_was_sent(serve) -> None:
    def reads_the_head_only(connection):
        head = b""
        while b"\r\n\r\n" not in head:
            head += connection.sock.recv(4096)
        connection.close()  # the 4 MB body is left unread

    server = serve(reads_the_head_only)
    body = {"Image": "alpine", "Env": ["X=" + "y" * 4_000_000]}
    with pytest.raises(DaemonUnreachable) as caught:
        Transport(server.path).request(
            "POST", "/containers/create", operation="create container", body=body, expected=(201,)
        )
    url, size = "/v1.44/containers/create", len(json.dumps(body))
    assert str(caught.value) == (
        f"create container on unix://{server.path}: the daemon closed the connection without "
        f"answering, before reading all of the request (a {len(url)}-byte URL and a {size:,}-byte "
        "body)"
    )


def test_a_small_request_without_answer_says_nothing_of_its_size(serve) -> None:
    server = serve(lambda connection: (connection.read_request(), connection.close()))
    with pytest.raises(DaemonUnreachable) as caught:
        Transport(server.path).request("GET", "/containers/abc/json", operation="inspect")
    assert str(caught.value) == (
        f"inspect on unix://{server.path}: the daemon closed the connection without answering"
    )


def test_requests_over_tcp_keep_their_connection() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def serve() -> None:
        connection, _ = listener.accept()
        accepted.append(connection)
        for _ in range(2):
            head = b""
            while b"\r\n\r\n" not in head:
                head += connection.recv(4096)
            assert head.startswith(b"GET /v1.44/_ping HTTP/1.1\r\n")
            assert f"Host: 127.0.0.1:{port}\r\n".encode() in head
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")

    port = listener.getsockname()[1]
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        transport = Transport(f"tcp://127.0.0.1:{port}", timeouts=Timeouts(1, 2))
        bodies = [transport.request("GET", "/_ping", operation="ping").body for _ in range(2)]
        thread.join(timeout=5)
        assert bodies == [b"OK", b"OK"]
        assert len(accepted) == 1
        transport.close()
    finally:
        listener.close()
        for connection in accepted:
            connection.close()


def test_the_requests_session_adapter_says_why_as_the_client_does(socket_dir: Path) -> None:
    """One stack: the RequestsLibrary session's sockets come from the transport's opener."""
    path = socket_dir / "dir.sock"
    path.mkdir()
    session = requests.Session()
    session.mount("http://sockerless/", UnixSocketAdapter(str(path), (1.0, 1.0)))
    reason = f"{path} is a directory, not a unix socket (is the path right?)"
    with pytest.raises(requests.ConnectionError, match=re.escape(reason)):
        session.get("http://sockerless/_ping")
    with pytest.raises(DaemonUnreachable, match=re.escape(reason)):
        Transport(str(path)).request("GET", "/_ping", operation="ping")


def test_a_small_request_to_a_daemon_that_closes_at_once_reads_the_same_every_time(serve) -> None:
    """Whether the daemon closed before or after the request was sent is a race: the message
    must not depend on it."""
    server = serve(lambda connection: connection.close())
    messages = set()
    for _ in range(20):
        with pytest.raises(DaemonUnreachable) as caught:
            Transport(server.path).request("GET", "/_ping", operation="ping")
        messages.add(str(caught.value))
    assert messages == {
        f"ping on unix://{server.path}: the daemon closed the connection without answering"
    }
