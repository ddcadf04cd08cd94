"""The library object: side-effect-free import, skip rule, listener scopes, stream assertions."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from robot.api import SkipExecution

from SockerlessLibrary import SockerlessLibrary
from SockerlessLibrary.arguments import ArgumentError
from SockerlessLibrary.errors import ConfigurationError
from SockerlessLibrary.keywords.exec import ProcessResult
from SockerlessLibrary.keywords.proof import ProofKeywords
from SockerlessLibrary.logstream import LogLine
from SockerlessLibrary.mux import Frame, decode
from SockerlessLibrary.run.registry import (
    CleanupRegistry,
    everything,
    only,
    scope_of_suite,
    scope_of_test,
    within_suite,
)
from SockerlessLibrary.unix_adapter import UnixSocketAdapter
from utest.wire_codecs import encode_frames

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in (
        "SOCKERLESS_HOST",
        "SOCKERLESS_ECS_SOCKET",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "SOCKERLESS_KIT_RUN_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOCKERLESS_KIT_JOURNAL_DIR", str(tmp_path / "journal"))
    return tmp_path / "journal"


def test_import_starts_nothing_and_writes_nothing(clean_env: Path) -> None:
    library = SockerlessLibrary()
    assert library._context.connected_target() is None
    assert not clean_env.exists()
    library.skip_if_aws_credentials_are_missing()  # embedded simulator: never skipped
    assert library._context.connected_target() is None
    library.close()  # nothing to stop, nothing to clean


def test_real_target_without_credentials_is_skipped_before_connecting(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCKERLESS_HOST", "unix:///nonexistent/sockerless.sock")
    library = SockerlessLibrary()
    with pytest.raises(SkipExecution, match=r"^AWS credentials not available$"):
        library.skip_if_aws_credentials_are_missing()
    info = library.get_target_info()
    assert (info["kind"], info["host"], info["credentials"]) == (
        "sockerless",
        "unix:///nonexistent/sockerless.sock",
        "missing",
    )
    monkeypatch.setenv("AWS_PROFILE", "ci")
    library.skip_if_aws_credentials_are_missing()
    assert library._context.connected_target() is None


def test_run_id_from_environment_and_validated(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCKERLESS_KIT_RUN_ID", "ci-build-42")
    assert SockerlessLibrary().get_run_id() == "ci-build-42"
    monkeypatch.setenv("SOCKERLESS_KIT_RUN_ID", "not ok")
    with pytest.raises(ValueError, match="Invalid run id"):
        SockerlessLibrary().get_run_id()


def test_registry_scopes() -> None:
    registry = CleanupRegistry()
    registry.register("a", scope_of_test("Top.Suite.Test One"))
    registry.register("b", scope_of_suite("Top.Suite"))
    registry.register("c", scope_of_test("Top.Suite.Child.Test"))
    registry.register("d", scope_of_suite("Top.Other"))
    registry.register("a", scope_of_suite("Top.Other"))  # first scope wins
    assert registry.pending(only(scope_of_test("Top.Suite.Test One"))) == ["a"]
    assert sorted(registry.pending(within_suite("Top.Suite"))) == ["a", "b", "c"]
    assert registry.pending(within_suite("Top.Suit")) == []
    registry.mark_cleaned("a")
    assert not registry.is_pending("a")
    assert sorted(registry.pending(everything)) == ["b", "c", "d"]


class _Stream:
    def __init__(self, output: Any, log_lines: list[LogLine] | None = None) -> None:
        self.output = output
        if log_lines is not None:
            self.log_lines = log_lines


def test_whole_line_matching_and_frames(clean_env: Path) -> None:
    library = SockerlessLibrary()
    data = encode_frames(
        [(1, b"echo hello "), (1, b"from fargate\nhello from"), (1, b" fargate\n")]
    )
    exec_stream = _Stream(decode(data))
    library.output_should_contain_line(exec_stream, "hello from fargate")
    library.output_should_contain_line(exec_stream, "echo hello from fargate")
    echo_only = _Stream(decode(encode_frames([(1, b"echo hello from fargate\n")])))
    with pytest.raises(AssertionError, match=r"No stdout line equals 'hello from fargate'"):
        library.output_should_contain_line(echo_only, "hello from fargate")
    library.stream_should_be_multiplexed(exec_stream)
    library.frames_should_use_stream_type(exec_stream, "stdout")
    with pytest.raises(AssertionError, match=r"stream type 2 \(stderr\): frame 0: type 1"):
        library.frames_should_use_stream_type(exec_stream, "2")
    bad = _Stream(decode(data))
    bad.output.frames = [Frame(1, b"abc", b"\x01\x00\x01\x00\x00\x00\x00\x04")]
    with pytest.raises(
        AssertionError, match=r"bytes 1-3 are 000100.*length field 4 but payload has 3"
    ):
        library.stream_should_be_multiplexed(bad)
    raw = _Stream(decode(b"plain\n", multiplexed=False))
    with pytest.raises(AssertionError, match="raw"):
        library.stream_should_be_multiplexed(raw)
    with pytest.raises(ValueError, match="Unknown stream 'stdlog'"):
        library.get_output_lines(exec_stream, stream="stdlog")


def test_timestamped_log_lines(clean_env: Path) -> None:
    library = SockerlessLibrary()
    moment = datetime(2026, 2, 22, 10, 11, 12, 300000, tzinfo=UTC)
    lines = [
        LogLine("stdout", "hello from fargate", moment, "2026-02-22T10:11:12.3Z"),
        LogLine("stdout", "second", moment, "2026-02-22T10:11:12.3Z"),
    ]
    result = _Stream(decode(b""), lines)
    assert library.log_lines_should_have_timestamps(result) == [moment, moment]
    library.output_should_contain_line(result, "hello from fargate")
    missing = _Stream(decode(b""), [LogLine("stdout", "no-stamp line", None, None)])
    with pytest.raises(AssertionError, match=r"1 of 1 log line\(s\) lack an RFC 3339 timestamp"):
        library.log_lines_should_have_timestamps(missing)


def test_ip_address_sources(clean_env: Path) -> None:
    library = SockerlessLibrary()
    top = {
        "NetworkSettings": {"IPAddress": "10.0.0.5", "Networks": {"x": {"IPAddress": "1.1.1.1"}}}
    }
    assert library.get_container_ip_address(top) == "10.0.0.5"
    nested = {
        "NetworkSettings": {
            "IPAddress": "",
            "Networks": {"a": {}, "default": {"IPAddress": "10.1.2.3"}},
        }
    }
    assert library.get_container_ip_address(nested) == "10.1.2.3"
    absent = {"NetworkSettings": {"Networks": {"default": {"IPAddress": ""}}}}
    with pytest.raises(AssertionError, match=r'NetworkSettings: \{"Networks"'):
        library.get_container_ip_address(absent)


@pytest.fixture
def http_unix_server(tmp_path: Path) -> Iterator[tuple[str, list[bytes]]]:
    """A one-shot HTTP server on a unix socket that records the request it got."""
    path = str(tmp_path / "d.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    seen: list[bytes] = []

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(4096)
            seen.append(data)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"
            )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path, seen
    thread.join(5)
    server.close()


def test_unix_socket_adapter_sends_path_only_with_default_timeout(
    http_unix_server: tuple[str, list[bytes]],
) -> None:
    path, seen = http_unix_server
    session = requests.Session()
    session.mount("http://sockerless/", UnixSocketAdapter(path, (2.0, 5.0)))
    answer = session.get("http://sockerless/v1.44/containers/json", params={"all": "true"})
    assert answer.status_code == 200 and answer.json() == []
    assert seen[0].startswith(b"GET /v1.44/containers/json?all=true HTTP/1.1\r\n")
    session.close()


def test_unix_socket_adapter_names_a_missing_socket(tmp_path: Path) -> None:
    session = requests.Session()
    session.mount("http://sockerless/", UnixSocketAdapter(str(tmp_path / "none.sock"), (1.0, 1.0)))
    with pytest.raises(requests.ConnectionError, match=r"none\.sock"):
        session.get("http://sockerless/_ping")


def test_connect_keeps_the_client_unless_something_changed(clean_env: Path) -> None:
    library = SockerlessLibrary()
    described = library.connect_to_sockerless("unix:///nonexistent/a.sock")
    assert described == "sockerless at unix:///nonexistent/a.sock"
    first = library._context.client()
    library.connect_to_sockerless()
    assert library._context.client() is first
    library.connect_to_sockerless(read_timeout=timedelta(seconds=7))
    second = library._context.client()
    assert second is not first
    assert second.transport.timeouts.read == 7
    library.connect_to_sockerless("/nonexistent/b.sock")
    assert str(library._context.client().target) == "unix:///nonexistent/b.sock"
    with pytest.raises(ConfigurationError, match="cannot parse daemon address"):
        library.connect_to_sockerless("ftp://nowhere")


@pytest.fixture
def proven(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proofs find the container proven at start (its evidence is checked before the logs)."""
    monkeypatch.setattr(ProofKeywords, "_evidence", lambda self, container_id, keyword: object())


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (
            lambda lib, value: lib.output_should_contain_line(value, "x"),
            "Output Should Contain Line",
        ),
        (
            lambda lib, value: lib.output_should_not_contain_line(value, "x"),
            "Output Should Not Contain Line",
        ),
        (lambda lib, value: lib.get_output_lines(value), "Get Output Lines"),
        (
            lambda lib, value: lib.stream_should_be_multiplexed(value),
            "Stream Should Be Multiplexed",
        ),
        (
            lambda lib, value: lib.frames_should_use_stream_type(value, "1"),
            "Frames Should Use Stream Type",
        ),
        (
            lambda lib, value: lib.log_lines_should_have_timestamps(value),
            "Log Lines Should Have Timestamps",
        ),
        (
            lambda lib, value: lib.log_lines_should_be_cloudwatch_events("0" * 64, value),
            "Log Lines Should Be CloudWatch Events",
        ),
    ],
)
def test_a_stream_keyword_given_something_else_names_what_it_takes(
    clean_env: Path, proven: None, call: Any, name: str
) -> None:
    # What a newcomer passes first: the lines instead of the read, or a Run Process result.
    library = SockerlessLibrary()
    process = ProcessResult(exec_id="e", rc=0, stdout="x\n", stderr="")
    for value, hint in (
        ([], "got list (pass the read itself, not a list of its lines)"),
        (process, "got ProcessResult (a `Run Process In Container` result: its lines are in"),
        ("x", "got str"),
    ):
        with pytest.raises(ArgumentError) as refused:
            call(library, value)
        assert str(refused.value).startswith(f"{name} takes what `Get Container Logs`")
        assert hint in str(refused.value)


def test_the_cloudwatch_proof_takes_a_logs_read_not_an_exec_stream(
    clean_env: Path, proven: None
) -> None:
    exec_stream = _Stream(decode(encode_frames([(1, b"hello\n")])))
    with pytest.raises(ArgumentError, match=r"or `Wait Until Logs Contain Line` returned, got"):
        SockerlessLibrary().log_lines_should_be_cloudwatch_events("0" * 64, exec_stream)
