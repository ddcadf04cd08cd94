"""Docker API version negotiation: one unversioned ``GET /_ping``, then every path at the lower of
the daemon's ``API-Version`` and 1.44; a pinned version sends no ping.

The daemons here are the scripted unix-socket server of ``conftest.py``; the same contract is
checked against a real Docker Engine 20.10 (API 1.41) in ``utest/system/engine``.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from robot.api import logger

from SockerlessLibrary import SockerlessLibrary
from SockerlessLibrary.client import DockerClient
from SockerlessLibrary.errors import ConfigurationError, DaemonUnreachable, ProtocolError
from SockerlessLibrary.keywords.session import session_base_url
from SockerlessLibrary.transport import (
    AUTO,
    ApiVersion,
    Timeouts,
    Transport,
    negotiate_api_version,
    pinned_api_version,
)
from utest.wire_codecs import encode_frames

CID = "c" * 64
PING = "GET /_ping HTTP/1.1"
UPGRADE = (
    b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
    b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
)


def daemon(api_version: str | None):
    """A Docker-like responder whose every answer carries ``Api-Version: api_version``."""

    def respond(connection, request) -> None:
        if request.target == "/_ping" or request.path.endswith("/_ping"):
            connection.respond(200, "OK", b"OK", content_type="text/plain", api_version=api_version)
        elif request.path.endswith("/json"):
            connection.respond_json(200, "OK", {"Id": CID, "State": {"Status": "running"}})
        else:
            connection.respond(204, "No Content", api_version=api_version)

    return respond


def auto_client(server, heard: list[ApiVersion] | None = None) -> DockerClient:
    listener = heard.append if heard is not None else None
    transport = Transport(
        server.path, api_version=AUTO, timeouts=Timeouts(1, 2), on_negotiated=listener
    )
    return DockerClient(transport)


@pytest.mark.parametrize(
    ("header", "used"),
    [
        ("1.41", "1.41"),  # Docker 20.10
        ("1.45", "1.44"),  # a newer daemon: the library's maximum
        ("1.44", "1.44"),
        ("1.100", "1.44"),  # numerically above 1.44, though "1.100" < "1.44" as text
        ("2.0", "1.44"),
        ("1.24", "1.24"),  # the oldest accepted
        (None, "1.44"),  # no header: sockerless answers every version
    ],
)
def test_requests_use_the_lower_of_the_daemon_and_the_library(
    serve, keep_alive, header: str | None, used: str
) -> None:
    server = serve(keep_alive(daemon(header)))
    heard: list[ApiVersion] = []
    client = auto_client(server, heard)
    client.inspect_container(CID)
    client.start_container(CID)
    assert server.request_lines == [
        PING,
        f"GET /v{used}/containers/{CID}/json HTTP/1.1",
        f"POST /v{used}/containers/{CID}/start HTTP/1.1",
    ]
    assert heard == [ApiVersion(used, "negotiated", header)]
    assert client.transport.api == ApiVersion(used, "negotiated", header)
    assert client.request_count == 3  # the ping counts
    assert server.connections == 1  # and it kept the connection alive
    client.close()


def test_a_pinned_version_sends_no_ping(serve, keep_alive) -> None:
    server = serve(keep_alive(daemon("1.41")))
    transport = Transport(server.path, api_version="1.41", timeouts=Timeouts(1, 2))
    DockerClient(transport).inspect_container(CID)
    assert server.request_lines == [f"GET /v1.41/containers/{CID}/json HTTP/1.1"]
    assert transport.api == ApiVersion("1.41", "pinned")


def test_the_default_transport_stays_pinned_to_1_44(serve, keep_alive) -> None:
    server = serve(keep_alive(daemon("1.41")))
    Transport(server.path).request("GET", "/_ping", operation="ping")
    assert server.request_lines == ["GET /v1.44/_ping HTTP/1.1"]


def test_version_comparison_is_numeric() -> None:
    target = Transport("/tmp/x.sock").target
    assert negotiate_api_version("1.41", "x", target) == "1.41"
    assert negotiate_api_version("1.100", "x", target) == "1.44"
    assert negotiate_api_version("01.041", "x", target) == "1.41"
    with pytest.raises(ConfigurationError, match=r"API 1\.9 at most, older than 1\.24"):
        negotiate_api_version("1.9", "x", target)  # 1.9 < 1.41, and below the minimum


def test_a_garbage_header_is_a_clear_error_and_nothing_else_is_sent(serve, keep_alive) -> None:
    server = serve(keep_alive(daemon("one-point-four-one")))
    client = auto_client(server)
    with pytest.raises(ProtocolError) as raised:
        client.inspect_container(CID)
    assert str(raised.value) == (
        f"inspect container on unix://{server.path}: the daemon's /_ping answered API-Version "
        "'one-point-four-one', which is not a Docker API version (major.minor); pin the "
        "version (library argument api_version=1.41) to skip negotiation"
    )
    assert server.request_lines == [PING]


def test_a_daemon_older_than_1_24_names_both_versions(serve, keep_alive) -> None:
    server = serve(keep_alive(daemon("1.12")))
    with pytest.raises(ConfigurationError) as raised:
        auto_client(server).ping()
    assert str(raised.value) == (
        f"ping on unix://{server.path}: the daemon speaks Docker API 1.12 at most, older than "
        "1.24, the oldest this library supports (it speaks 1.24 to 1.44)"
    )


def test_negotiation_errors_read_as_the_callers_own(socket_dir: Path) -> None:
    missing = f"{socket_dir}/missing.sock"
    client = DockerClient(Transport(missing, api_version=AUTO, timeouts=Timeouts(1, 1)))
    with pytest.raises(DaemonUnreachable) as raised:
        client.inspect_container(CID)
    assert str(raised.value) == (
        f"inspect container: cannot connect to unix://{missing}: no socket at {missing}"
    )
    assert client.transport.api.source == "pending"  # the next call tries again


def test_negotiation_happens_once_across_threads(serve, keep_alive) -> None:
    server = serve(keep_alive(daemon("1.41")))
    client = auto_client(server)
    threads = [threading.Thread(target=client.inspect_container, args=(CID,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert server.request_lines.count(PING) == 1
    assert len(server.request_lines) == 9
    assert all(line.startswith("GET /v1.41/") for line in server.request_lines[1:])


def test_streams_hijack_and_attach_negotiate_too(serve) -> None:
    def handler(connection) -> None:
        request = connection.read_request()
        if request.target == "/_ping":
            connection.respond(200, "OK", b"OK", content_type="text/plain", api_version="1.41")
            request = connection.read_request()
        if request is None:
            return
        if request.path.endswith("/start"):
            connection.send(UPGRADE + encode_frames([(1, b"hi\n")]))
        else:
            connection.respond(200, "OK", b"", content_type=None, api_version="1.41")

    server = serve(handler)
    client = auto_client(server)
    assert client.start_exec("e1").output.stdout == b"hi\n"
    client.container_logs(CID)
    assert server.request_lines == [
        PING,
        "POST /v1.41/exec/e1/start HTTP/1.1",
        f"GET /v1.41/containers/{CID}/logs?stdout=true&stderr=true&timestamps=false"
        "&follow=false HTTP/1.1",
    ]


@pytest.mark.parametrize("answer", ["101 with bytes after it", "a body cut short"])
def test_a_ping_answered_with_101_or_a_cut_body_still_negotiates(serve, answer: str) -> None:
    """Only the head matters: the connection is dropped and the real request gets a new one."""

    def handler(connection) -> None:
        request = connection.read_request()
        if request is None:
            return
        if request.target != "/_ping":
            connection.respond_json(200, "OK", {"Id": CID})
        elif answer == "a body cut short":
            connection.respond(
                200, "OK", b"O", content_type="text/plain", api_version="1.41", content_length=2
            )
        else:
            connection.send(UPGRADE.replace(b"\r\n\r\n", b"\r\nApi-Version: 1.41\r\n\r\n") + b"x")
            connection.hold(2)  # an upgraded connection is never reused, even left open

    server = serve(handler)
    client = auto_client(server)
    assert client.inspect_container(CID) == {"Id": CID}
    assert server.request_lines == [PING, f"GET /v1.41/containers/{CID}/json HTTP/1.1"]
    assert server.connections == 2


def test_pinned_versions_are_checked() -> None:
    assert pinned_api_version("1.41") == "1.41"
    assert pinned_api_version("auto") == "auto"
    assert pinned_api_version(None) is None
    with pytest.raises(ConfigurationError, match=r"api_version 'v1\.41' is not a Docker API"):
        pinned_api_version("v1.41")


def test_session_base_url_carries_the_version() -> None:
    assert session_base_url("unix:///x.sock", "1.41") == ("http://sockerless/v1.41", "/x.sock")
    assert session_base_url("tcp://127.0.0.1:2375", "1.44") == (
        "http://127.0.0.1:2375/v1.44",
        None,
    )
    assert session_base_url("/x.sock", None) == ("http://sockerless", "/x.sock")


def test_session_base_url_brackets_an_ipv6_host() -> None:
    # Without the brackets requests reads "::1:2375" as a host "" and a port ":1:2375".
    assert session_base_url("tcp://[::1]:2375", "1.44") == ("http://[::1]:2375/v1.44", None)


# --- the keyword layer ---------------------------------------------------------------------


@pytest.fixture
def info_lines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    monkeypatch.setenv("SOCKERLESS_KIT_JOURNAL_DIR", str(tmp_path / "journal"))
    lines: list[str] = []
    monkeypatch.setattr(logger, "info", lambda message, *a, **k: lines.append(str(message)))
    return lines


def library_for(server: Any, **arguments: Any) -> SockerlessLibrary:
    return SockerlessLibrary(
        host=f"unix://{server.path}",
        connect_timeout=timedelta(seconds=1),
        read_timeout=timedelta(seconds=2),
        **arguments,
    )


def test_keywords_negotiate_once_log_it_once_and_report_it(
    serve, keep_alive, info_lines: list[str]
) -> None:
    server = serve(keep_alive(daemon("1.41")))
    library = library_for(server)
    try:
        info = library.get_target_info()
        assert (info["api_version"], info["api_version_source"]) == (None, "not negotiated yet")
        library.daemon_should_respond_to_ping()
        library.inspect_container(CID)
        library.disconnect_from_sockerless()  # a new client for the same daemon: no new ping
        library.inspect_container(CID)
        info = library.get_target_info()
    finally:
        library.close()
    assert (info["api_version"], info["api_version_source"]) == ("1.41", "negotiated")
    assert server.request_lines == [
        PING,
        "GET /v1.41/_ping HTTP/1.1",
        f"GET /v1.41/containers/{CID}/json HTTP/1.1",
        f"GET /v1.41/containers/{CID}/json HTTP/1.1",
    ]
    negotiated = [line for line in info_lines if "Docker API" in line]
    assert negotiated == [
        f"sockerless at unix://{server.path}: Docker API 1.41 (negotiated: the daemon's "
        "maximum; the library speaks up to 1.44)"
    ]


def test_the_import_argument_pins_the_version(serve, keep_alive, info_lines: list[str]) -> None:
    server = serve(keep_alive(daemon("1.41")))
    library = library_for(server, api_version="1.43")
    try:
        library.inspect_container(CID)
        info = library.get_target_info()
    finally:
        library.close()
    assert server.request_lines == [f"GET /v1.43/containers/{CID}/json HTTP/1.1"]
    assert (info["api_version"], info["api_version_source"]) == ("1.43", "pinned")
    assert not [line for line in info_lines if "Docker API" in line]


def test_connect_pins_or_negotiates_again(serve, keep_alive, info_lines: list[str]) -> None:
    server = serve(keep_alive(daemon("1.41")))
    library = library_for(server)
    try:
        library.connect_to_sockerless(api_version="1.40")
        library.inspect_container(CID)
        library.connect_to_sockerless(api_version="auto")
        library.inspect_container(CID)
    finally:
        library.close()
    assert server.request_lines == [
        f"GET /v1.40/containers/{CID}/json HTTP/1.1",
        PING,
        f"GET /v1.41/containers/{CID}/json HTTP/1.1",
    ]


def test_a_bad_import_argument_fails_at_import() -> None:
    with pytest.raises(ConfigurationError, match="api_version 'latest' is not a Docker API"):
        SockerlessLibrary(host="unix:///tmp/x.sock", api_version="latest")
