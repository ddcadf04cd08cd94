"""Hostile daemons and bad user input, through the keyword layer: the exact text a Robot user
sees, and how long it took to see it.

Each row drives ``SockerlessLibrary`` keywords (by their Robot names, through ``run_keyword``)
against a scripted unix-socket daemon that misbehaves on purpose (``utest/scripted_daemon.py``)
and asserts the failure exactly as Robot renders it (``robot.utils.get_error_message``: the
exception name unless suppressed, then the message) and a wall-clock bound of the relevant
timeout plus at most one second. Rows that are the user's mistake also assert that no request
reached the daemon. The second table does the same against the real embedded simulator, with its
fault injection, for the daemon's own answers and for AWS failing under the verification
keywords (expired or missing credentials, throttling beyond every retry).

Placeholders in the expected texts: ``<target>`` (``unix:///...sock``), ``<path>`` (the socket
path), ``<dir>`` (its directory), ``<requests>`` (requests the daemon saw, the library's API
version negotiation, one unversioned ``GET /_ping``, aside), ``<attempts>``, and
``<elapsed>`` (any ``1.2``-style number of seconds: the only free part of a message).
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import botocore.retries.standard
import pytest
from robot.utils import get_error_message

from sockerless_sim.launcher import SimulatorProcess
from SockerlessLibrary import SockerlessLibrary
from SockerlessLibrary.keywords import aws as aws_keywords
from SockerlessLibrary.transport import Transport

pytestmark = pytest.mark.timeout(60)

MUX = "application/vnd.docker.multiplexed-stream"
READ_TIMEOUT = 0.5
SLACK = 1.0  # a failure must come within its timeout plus this
UPGRADE_HEAD = (
    b"HTTP/1.1 101 UPGRADED\r\nContent-Type: " + MUX.encode() + b"\r\n"
    b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
)

Kw = Callable[..., Any]


def frame(stream: int, payload: bytes) -> bytes:
    """One multiplexed frame with a valid header."""
    return struct.pack(">BxxxL", stream, len(payload)) + payload


# --- scripted daemon behaviours ------------------------------------------------------------


def never_answers(connection: Any) -> None:
    connection.read_request()
    connection.hold(30)


def trickles(connection: Any) -> None:
    """A valid status line, then one header byte every 0.1 s, forever."""
    connection.read_request()
    connection.send(b"HTTP/1.1 200 OK\r\n")
    while not connection.server.stopped.wait(0.1):
        try:
            connection.send(b"X")
        except OSError:
            return


def closes_at_once(connection: Any) -> None:
    """Accepts and closes without reading or writing anything."""


def sends(raw: bytes, *, hold: float = 0.0) -> Callable[[Any], None]:
    """Reads the request, writes ``raw``, optionally stays open, then closes."""

    def handler(connection: Any) -> None:
        connection.read_request()
        connection.send(raw)
        if hold:
            connection.hold(hold)

    return handler


def answers(
    status: int,
    reason: str,
    body: bytes = b"",
    *,
    content_type: str | None = "application/json",
    content_length: int | None = None,
) -> Callable[[Any], None]:
    """Every request on the connection gets this response (``content_length`` may lie)."""

    def handler(connection: Any) -> None:
        while connection.read_request() is not None:
            connection.respond(
                status, reason, body, content_type=content_type, content_length=content_length
            )
            if content_length is not None:
                return  # a lying length: close, so the client sees the body cut short

    return handler


def logs(body: bytes) -> Callable[[Any], None]:
    """200 multiplexed logs with exactly ``body`` (Content-Length matches it)."""
    return answers(200, "OK", body, content_type=MUX)


def exec_upgrade(after: bytes = b"", *, hold: float = 0.0) -> Callable[[Any], None]:
    """101 for exec start, then ``after`` in the same write, then close (or hold first)."""
    return sends(UPGRADE_HEAD + after, hold=hold)


# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One hostile behaviour or bad input, and what the user must see."""

    id: str
    act: Callable[[Kw], Any]
    expected: str
    handler: Callable[[Any], None] | None = None
    host: Callable[[Path], str] | None = None  # the daemon address when there is no server
    bound: float = READ_TIMEOUT + SLACK
    requests: int | None = None  # requests the daemon must have seen (0: rejected before)
    library: dict[str, float] = field(default_factory=dict)


def regular_file(directory: Path) -> str:
    path = directory / "file.sock"
    path.write_text("not a socket")
    return f"unix://{path}"


def directory_path(directory: Path) -> str:
    (directory / "dir.sock").mkdir()
    return f"unix://{directory}/dir.sock"


def stale_socket(directory: Path) -> str:
    """A socket file left behind by a daemon that died (bound, nobody listens)."""
    path = str(directory / "stale.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(path)
    return f"unix://{path}"


PING = ("Daemon Should Respond To Ping",)
NEGOTIATION_PING = "/_ping"  # the library's first request to a daemon: no version prefix
CID = "c0ffee"
NOT_RUNNING = b'{"Running": true, "ExitCode": null, "Pid": 0}'

CASES = [
    Case(
        "wrong socket path",
        lambda kw: kw(*PING),
        "DaemonUnreachable: ping: cannot connect to unix://<dir>/missing.sock: "
        "no socket at <dir>/missing.sock",
        host=lambda d: f"unix://{d}/missing.sock",
    ),
    Case(
        "path is a regular file",
        lambda kw: kw(*PING),
        "DaemonUnreachable: ping: cannot connect to unix://<dir>/file.sock: <dir>/file.sock "
        "is a regular file, not a unix socket (is the path right?)",
        host=regular_file,
    ),
    Case(
        "path is a directory",
        lambda kw: kw(*PING),
        "DaemonUnreachable: ping: cannot connect to unix://<dir>/dir.sock: <dir>/dir.sock "
        "is a directory, not a unix socket (is the path right?)",
        host=directory_path,
    ),
    Case(
        "stale socket, daemon not running",
        lambda kw: kw(*PING),
        "DaemonUnreachable: ping: cannot connect to unix://<dir>/stale.sock: connection "
        "refused at <dir>/stale.sock (is the daemon running?)",
        host=stale_socket,
    ),
    Case(
        "socket path too long for AF_UNIX",
        lambda kw: kw(*PING),
        f"DaemonUnreachable: ping: cannot connect to unix://<dir>/{'x' * 120}.sock: "
        "AF_UNIX path too long",
        host=lambda d: f"unix://{d}/{'x' * 120}.sock",
    ),
    Case(
        "accepts and never answers",
        lambda kw: kw(*PING),
        "DaemonTimeout: ping on <target>: no complete response within the 0.5 s read timeout",
        never_answers,
        requests=1,
    ),
    Case(
        "trickles header bytes forever",
        lambda kw: kw(*PING),
        "DaemonTimeout: ping on <target>: no complete response within the 0.5 s read timeout",
        trickles,
    ),
    Case(
        "closes at once",
        lambda kw: kw(*PING),
        "DaemonUnreachable: ping on <target>: the daemon closed the connection without answering",
        closes_at_once,
    ),
    Case(
        "HTTP garbage",
        lambda kw: kw(*PING),
        "ProtocolError: ping on <target>: malformed status line 'SSH-2.0-OpenSSH_9.6'",
        sends(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"),
    ),
    Case(
        "garbage, then close inside the head",
        lambda kw: kw(*PING),
        "ProtocolError: ping on <target>: connection closed inside the response head: "
        "'HTTP/1.1 200 OK\\r\\nContent-Ty'",
        sends(b"HTTP/1.1 200 OK\r\nContent-Ty"),
    ),
    Case(
        "malformed header line",
        lambda kw: kw(*PING),
        "ProtocolError: ping on <target>: malformed header line 'no colon here'",
        sends(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\nOK"),
    ),
    Case(
        "Content-Length that is not a number",
        lambda kw: kw(*PING),
        "ProtocolError: ping on <target>: bad Content-Length header 'ten'",
        sends(b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\nOK"),
    ),
    Case(
        "chunk size that is not hex",
        lambda kw: kw(*PING),
        "ProtocolError: ping on <target>: bad chunk size line 'zz'",
        sends(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nOK\r\n0\r\n\r\n"),
    ),
    Case(
        "truncated JSON body (200)",
        lambda kw: kw("Inspect Container", CID),
        "ProtocolError: inspect container on <target>: HTTP 200 OK with a truncated body: "
        "expected 80 bytes, got 14",
        answers(200, "OK", b'{"Id": "c0ffee', content_length=80),
    ),
    Case(
        "200 body that is not JSON",
        lambda kw: kw("Inspect Container", CID),
        "ProtocolError: inspect container on <target>: HTTP 200 body is not JSON: "
        "'<html>oops</html>'",
        answers(200, "OK", b"<html>oops</html>", content_type="text/html"),
    ),
    Case(
        "500 with a JSON message",
        lambda kw: kw("Start Container", CID),
        "DaemonResponseError: start container on <target> failed: HTTP 500 Internal Server "
        "Error (expected 204): task failed to start: task stopped: CannotPullContainerError",
        answers(
            500,
            "Internal Server Error",
            b'{"message": "task failed to start: task stopped: CannotPullContainerError"}',
        ),
    ),
    Case(
        "500 JSON without message",
        lambda kw: kw("Start Container", CID),
        "DaemonResponseError: start container on <target> failed: HTTP 500 Internal Server "
        'Error (expected 204): JSON body without "message": {"error": "boom"}',
        answers(500, "Internal Server Error", b'{"error": "boom"}'),
    ),
    Case(
        "plain-text 404",
        lambda kw: kw("Inspect Container", CID),
        "DaemonResponseError: inspect container on <target> failed: HTTP 404 Not Found "
        "(expected 200): plain-text body: 404 page not found",
        answers(404, "Not Found", b"404 page not found\n", content_type="text/plain"),
    ),
    Case(
        "405 with an empty body",
        lambda kw: kw("Stop Container", CID),
        "DaemonResponseError: stop container on <target> failed: HTTP 405 Method Not Allowed "
        "(expected 204): empty body",
        answers(405, "Method Not Allowed"),
    ),
    Case(
        "error body cut short",
        lambda kw: kw("Remove Container", CID),
        "DaemonResponseError: remove container on <target> failed: HTTP 409 Conflict "
        "(expected 204): truncated body: expected 90 bytes, got 23; received: body is not "
        'valid JSON: {"message": "You cannot',
        answers(409, "Conflict", b'{"message": "You cannot', content_length=90),
    ),
    Case(
        "logs: unknown stream type",
        lambda kw: kw("Get Container Logs", CID),
        "ProtocolError: container logs on <target>: unknown stream type 5 at byte offset 13",
        logs(frame(1, b"fine\n") + frame(5, b"what")),
    ),
    Case(
        "logs: non-zero header padding",
        lambda kw: kw("Get Container Logs", CID),
        "ProtocolError: container logs on <target>: frame header at byte offset 0 has non-zero "
        "bytes 1-3 (000100); they must be zero",
        logs(b"\x01\x00\x01\x00\x00\x00\x00\x03abc"),
    ),
    Case(
        "logs: frame length beyond the body",
        lambda kw: kw("Get Container Logs", CID),
        "ProtocolError: container logs on <target>: truncated frame at byte offset 0: the "
        "header announces 100 payload bytes, the stream ended after 5",
        logs(struct.pack(">BxxxL", 1, 100) + b"hello"),
    ),
    Case(
        "logs: systemerr frame",
        lambda kw: kw("Get Container Logs", CID),
        "DaemonStreamError: container logs on <target>: the daemon reported an error inside "
        "the stream (type 3 frame at byte offset 0): Error grabbing logs: stream gone",
        logs(frame(3, b"Error grabbing logs: stream gone\n")),
    ),
    Case(
        "logs of an unknown container (404 text)",
        lambda kw: kw("Get Container Logs", CID),
        "DaemonResponseError: container logs on <target> failed: HTTP 404 Not Found "
        "(expected 200): No such container: c0ffee",
        answers(404, "Not Found", b'{"message": "No such container: c0ffee"}'),
    ),
    Case(
        "logs never contain the line",
        lambda kw: kw("Wait Until Logs Contain Line", CID, "hello from fargate"),
        "Logs of container c0ffee had no stdout line equal to 'hello from "
        "fargate' within 1 s (<requests> request(s)). stdout lines in the last read (1):\n"
        "'echo hello from fargate'\nstderr lines in the last read (0):\nno lines",
        logs(frame(1, b"echo hello from fargate\n")),
        bound=1.0 + SLACK,
        library={"logs_timeout": 1.0},
    ),
    Case(
        "exec: 101 then immediate close",
        lambda kw: kw("Output Should Contain Line", kw("Start Exec", "e1"), "exec-works"),
        "No stdout line equals 'exec-works'. Lines seen (0):\nno lines",
        exec_upgrade(),
    ),
    Case(
        "exec: 101 then a frame cut short",
        lambda kw: kw("Start Exec", "e1"),
        "ProtocolError: exec start on <target>: truncated frame at byte offset 0: the header "
        "announces 64 payload bytes, the stream ended after 4",
        exec_upgrade(struct.pack(">BxxxL", 1, 64) + b"exec"),
    ),
    Case(
        "exec that never ends",
        lambda kw: kw("Start Exec", "e1"),
        "DaemonTimeout: exec start on <target>: no complete response within the 0.5 s read "
        "timeout (the exec stream had not ended)",
        exec_upgrade(frame(1, b"still running\n"), hold=30),
    ),
    Case(
        "exec start of an unknown exec (404)",
        lambda kw: kw("Start Exec", "e1"),
        "DaemonResponseError: exec start on <target> failed: HTTP 404 Not Found (expected 101, "
        "200): No such exec instance: e1",
        answers(404, "Not Found", b'{"message": "No such exec instance: e1"}'),
    ),
    Case(
        "exec exit code of an exec that never finishes",
        lambda kw: kw("Exec Should Have Exited With Code", "e1", 0),
        "Exec e1 did not finish, so its exit code is unknown: Exec e1 finished: not reached "
        "within 1 s (elapsed <elapsed> s, <requests> attempt(s)); last observed: "
        '{"Running": true, "ExitCode": null, "Pid": 0}',
        answers(200, "OK", NOT_RUNNING),
        bound=1.0 + SLACK,
        library={"exec_timeout": 1.0},
    ),
    Case(
        "attach to a daemon without WebSocket attach",
        lambda kw: kw("Attach To Container Over WebSocket", CID),
        "AttachNotSupported: this daemon does not support attach over WebSocket "
        "(GET /containers/c0ffee/attach/ws answered 404) on <target>",
        answers(404, "Not Found", b"404 page not found\n", content_type="text/plain"),
    ),
    Case(
        "bad filter JSON",
        lambda kw: kw("Container Should Be Listed", CID, filters="{label: x}"),
        "ConfigurationError: filters is not valid JSON (Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1)): '{label: x}'",
        answers(200, "OK", b"[]"),
        requests=0,
    ),
    Case(
        "filter JSON that is not an object",
        lambda kw: kw("Container Should Not Be Listed", CID, filters='["label=a"]'),
        "ConfigurationError: filters must be a JSON object, got: '[\"label=a\"]'",
        answers(200, "OK", b"[]"),
        requests=0,
    ),
    Case(
        "expected_status that does not parse",
        lambda kw: kw("Start Container", CID, expected_status="two hundred"),
        "Invalid expected_status 'two hundred': use an HTTP status code (204), a "
        "comma-separated list (204,304) or 'any'",
        answers(204, "No Content"),
        requests=0,
    ),
    Case(
        "expected_status out of range",
        lambda kw: kw("Inspect Container", CID, expected_status="200,700"),
        "Invalid expected_status '200,700': use an HTTP status code (204), a "
        "comma-separated list (204,304) or 'any'",
        answers(200, "OK", b"{}"),
        requests=0,
    ),
    Case(
        "logs since that is not a time",
        lambda kw: kw("Get Container Logs", CID, since="last tuesday"),
        "ConfigurationError: since must be a datetime, seconds since the epoch or an RFC 3339 "
        "timestamp, got 'last tuesday'",
        logs(b""),
        requests=0,
    ),
    Case(
        "exec without a command",
        lambda kw: kw("Create Exec", CID),
        "Create Exec needs a command, e.g. 'Create Exec    ${id}    echo    hi'",
        answers(201, "Created", b'{"Id": "e1"}'),
        requests=0,
    ),
    Case(
        "exec stdin for an exec created without attach_stdin",
        lambda kw: kw("Start Exec", kw("Create Exec", CID, "cat"), stdin="hello"),
        "Exec e1 was created without attach_stdin=${TRUE}, so the daemon would drop its stdin: "
        "create it with 'Create Exec    ${id}    <command>    attach_stdin=${TRUE}'",
        answers(201, "Created", b'{"Id": "e1"}'),
    ),
    Case(
        "unknown stream name",
        lambda kw: kw("Output Should Contain Line", kw("Start Exec", "e1"), "x", stream="stdrr"),
        "Unknown stream 'stdrr': use stdout, stderr (or 1, 2)",
        exec_upgrade(frame(1, b"x\n")),
    ),
    Case(
        "bad target string",
        lambda kw: kw(*PING),
        "ConfigurationError: cannot parse daemon address 'ftp://x': use unix:///path/to.sock, "
        "/path/to.sock, tcp://host:port or http://host:port",
        host=lambda _d: "ftp://x",
    ),
    Case(
        "relative unix socket path",
        lambda kw: kw(*PING),
        "ConfigurationError: daemon address 'unix://sockerless.sock': a unix socket needs an "
        "absolute path, e.g. unix:///var/run/sockerless.sock",
        host=lambda _d: "unix://sockerless.sock",
    ),
    Case(
        "TCP address without a port",
        lambda kw: kw(*PING),
        "ConfigurationError: daemon address 'tcp://127.0.0.1': a TCP address needs a host and "
        "a port, e.g. tcp://127.0.0.1:2375",
        host=lambda _d: "tcp://127.0.0.1",
    ),
]


def run_keyword(library: SockerlessLibrary) -> Kw:
    """``kw("Robot Name", *args, **kwargs)``: the keyword as Robot would call it."""
    names = {_normal(name): name for name in library.get_keyword_names()}

    def kw(name: str, /, *args: Any, **kwargs: Any) -> Any:
        return library.run_keyword(names[_normal(name)], list(args), kwargs)

    return kw


def _normal(name: str) -> str:
    return name.lower().replace(" ", "").replace("_", "")


def expected_text(template: str, values: dict[str, str]) -> re.Pattern[str]:
    """The exact message as a full-match pattern; only ``<elapsed>`` is free."""
    for key, value in values.items():
        template = template.replace(f"<{key}>", value)
    pieces = [re.escape(piece) for piece in template.split("<elapsed>")]
    return re.compile(r"\d+\.\d".join(pieces), re.DOTALL)


def library_for(host: str, **timeouts: float) -> SockerlessLibrary:
    settings = {"connect_timeout": 1.0, "read_timeout": READ_TIMEOUT, "exec_timeout": READ_TIMEOUT}
    settings.update(timeouts)
    return SockerlessLibrary(
        host=host, **{name: timedelta(seconds=value) for name, value in settings.items()}
    )


def failure_of(act: Callable[[Kw], Any], library: SockerlessLibrary) -> tuple[str, float]:
    """Robot's rendering of the failure ``act`` raised, and the seconds it took."""
    started = time.monotonic()
    try:
        act(run_keyword(library))
    except Exception:
        return get_error_message(), time.monotonic() - started
    raise AssertionError("the keyword did not fail")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_daemon_or_input(case: Case, serve: Any, socket_dir: Path) -> None:
    server = serve(case.handler) if case.handler else None
    host = f"unix://{server.path}" if server else case.host(socket_dir)
    library = library_for(host, **case.library)
    try:
        shown, elapsed = failure_of(case.act, library)
    finally:
        library.close()
    values = {"target": host, "path": host.removeprefix("unix://"), "dir": str(socket_dir)}
    if server is not None:
        values["requests"] = str(sum(r.target != NEGOTIATION_PING for r in server.requests))
    assert expected_text(case.expected, values).fullmatch(shown), shown
    assert elapsed < case.bound, f"took {elapsed:.2f} s, bound {case.bound} s"
    if case.requests is not None:
        assert server is not None and len(server.requests) == case.requests


def test_the_table_is_large_enough() -> None:
    assert len(CASES) + len(SIM_CASES) >= 25


def test_bad_time_scale_for_the_embedded_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCKERLESS_SIM_TIME_SCALE", "fast")
    library = SockerlessLibrary()  # no host: the embedded simulator, which must not start
    shown, elapsed = failure_of(lambda kw: kw(*PING), library)
    assert shown == "ValueError: SOCKERLESS_SIM_TIME_SCALE must be a number, got 'fast'"
    assert elapsed < SLACK
    assert library._context.connected_target() is None


# --- the real simulator: its answers, its fault injection, AWS failing mid-run ---------------


@dataclass
class Sim:
    """The module's simulator, a control connection, and containers to remove afterwards."""

    process: SimulatorProcess
    control: Transport
    created: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"unix://{self.process.info.socket_path}"

    def call(self, method: str, path: str, body: Any = None, expected: int = 200) -> Any:
        response = self.control.request(
            method, path, operation="test setup", body=body, expected=(expected,)
        )
        return response.json() if response.body.strip() else None

    def fault(self, **rule: Any) -> None:
        self.call("POST", "/_sim/faults", rule, expected=201)

    def container(self, *cmd: str, start: bool = True) -> str:
        created = self.call(
            "POST", "/containers/create", {"Image": "alpine:latest", "Cmd": list(cmd)}, 201
        )
        container_id = str(created["Id"])
        self.created.append(container_id)
        if start:
            self.call("POST", f"/containers/{container_id}/start", expected=204)
        return container_id

    def aws_faults(self, operation: str) -> int:
        """AWS faults injected so far for ``operation``."""
        stats = self.call("GET", "/_sim/stats")
        return int(stats["aws"]["faults_injected"].get(operation, 0))


@pytest.fixture(scope="module")
def sim_process() -> Iterator[SimulatorProcess]:
    process = SimulatorProcess.start(time_scale=0.2, ready_timeout=20.0)
    yield process
    process.stop()


@pytest.fixture
def sim(sim_process: SimulatorProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    """The simulator as a *real* target: AWS settings and credentials from the environment."""
    info = sim_process.info
    monkeypatch.setenv("SOCKERLESS_ENDPOINT_URL", info.aws_endpoint_url)
    monkeypatch.setenv("AWS_REGION", info.region)
    monkeypatch.setenv("SOCKERLESS_ECS_CLUSTER", info.cluster)
    monkeypatch.setenv("SOCKERLESS_ECS_LOG_GROUP", info.log_group)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    control = Transport(f"unix://{info.socket_path}", api_version=None)
    state = Sim(sim_process, control)
    try:
        yield state
    finally:
        control.request("DELETE", "/_sim/faults", operation="test cleanup", expected=(204,))
        for container_id in state.created:
            control.request(
                "DELETE",
                f"/containers/{container_id}",
                operation="test cleanup",
                query="force=true",
                expected=(204, 404),
            )
        control.close()


@dataclass(frozen=True)
class SimCase:
    """A failure on the real simulator; ``arrange`` returns the values the text names, and
    ``prepare`` (keywords run before the timed ``act``) may add to them."""

    id: str
    arrange: Callable[[Sim, pytest.MonkeyPatch], dict[str, str]]
    act: Callable[[Kw, dict[str, str], Sim], Any]
    expected: str
    bound: float = 3.0
    library: dict[str, float] = field(default_factory=dict)
    prepare: Callable[[Kw, dict[str, str]], Any] | None = None


def nothing(_sim: Sim, _mp: pytest.MonkeyPatch) -> dict[str, str]:
    return {}


def running(sim: Sim, _mp: pytest.MonkeyPatch) -> dict[str, str]:
    return {"id": sim.container("tail", "-f", "/dev/null")}


def running_with(**rule: Any) -> Callable[[Sim, pytest.MonkeyPatch], dict[str, str]]:
    def arrange(sim: Sim, mp: pytest.MonkeyPatch) -> dict[str, str]:
        values = running(sim, mp)
        sim.fault(**rule)
        return values

    return arrange


def exited_with_logs(sim: Sim, _mp: pytest.MonkeyPatch) -> dict[str, str]:
    container_id = sim.container("sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo line-$i; done")
    deadline = time.monotonic() + 10
    while (
        b"line-8"
        not in sim.control.request(
            "GET", f"/containers/{container_id}/logs", operation="setup", query="stdout=true"
        ).body
    ):
        assert time.monotonic() < deadline, "logs never delivered"
        time.sleep(0.1)
    sim.fault(target="docker", route="GET /containers/{id}/logs", drop_after_bytes=30, count=1)
    return {"id": container_id}


def some_container(_sim: Sim, _mp: pytest.MonkeyPatch) -> dict[str, str]:
    """A container ID the AWS checks can look for (nothing of it exists)."""
    container_id = secrets.token_hex(32)
    return {"id": container_id, "family": "sockerless-" + container_id[:12]}


def created(kw: Kw, values: dict[str, str]) -> None:
    """A container the run creates (never started) and, where it can, cleans: what the AWS
    checks may look for (a proof about a container the run never created fails before it asks
    AWS anything), with nothing left for the library's own cleanup at the end."""
    container_id = str(kw("Create Container", "alpine:latest", "true"))
    values.update(id=container_id, family="sockerless-" + container_id[:12])
    if "AWS_ACCESS_KEY_ID" in os.environ:
        kw("Clean Up Container", container_id)


def fails_mid_run(**rule: Any) -> Callable[[Kw, dict[str, str], Sim], None]:
    """The AWS check passes once (AWS answers: nothing left); then AWS starts failing."""

    def act(kw: Kw, values: dict[str, str], sim: Sim) -> None:
        kw("Container Should Leave No AWS Resources", values["id"])
        sim.fault(**rule)
        kw("Container Should Leave No AWS Resources", values["id"])

    return act


def left_nothing(kw: Kw, values: dict[str, str], _sim: Sim) -> None:
    kw("Container Should Leave No AWS Resources", values["id"])


def no_credentials(sim: Sim, mp: pytest.MonkeyPatch) -> dict[str, str]:
    mp.delenv("AWS_ACCESS_KEY_ID")
    mp.delenv("AWS_SECRET_ACCESS_KEY")
    return some_container(sim, mp)


def throttled_beyond_retries(sim: Sim, mp: pytest.MonkeyPatch) -> dict[str, str]:
    # botocore's own 5 attempts without its up-to-15 s backoff, and a 1.2 s verification
    # deadline instead of 60 s: the same give-up path, in about a second.
    mp.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda *_: 0.0)
    mp.setattr(aws_keywords, "VERIFY_DEADLINE_SECONDS", 1.2)
    return some_container(sim, mp)


SIM_CASES = [
    SimCase(
        "invalid container name (daemon 400)",
        nothing,
        lambda kw, _v, _s: kw("Create Container", "alpine:latest", "true", name="bad name!"),
        "DaemonResponseError: create container on <target> failed: HTTP 400 Bad Request "
        "(expected 201): Invalid container name (bad name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
        "are allowed",
    ),
    SimCase(
        "unknown container id (404 text)",
        nothing,
        lambda kw, _v, _s: kw("Inspect Container", "no-such-container"),
        "DaemonResponseError: inspect container on <target> failed: HTTP 404 Not Found "
        "(expected 200): No such container: no-such-container",
    ),
    SimCase(
        "start of an unknown container",
        nothing,
        lambda kw, _v, _s: kw("Start Container", "0123456789ab"),
        "DaemonResponseError: start container on <target> failed: HTTP 404 Not Found "
        "(expected 204): No such container: 0123456789ab",
    ),
    SimCase(
        "daemon 500 with a message (injected)",
        running_with(target="docker", route="GET /containers/{id}/json", status=500, count=1),
        lambda kw, v, _s: kw("Inspect Container", v["id"]),
        "DaemonResponseError: inspect container on <target> failed: HTTP 500 Internal Server "
        "Error (expected 200): injected fault",
    ),
    SimCase(
        "AWS throttling behind the daemon",
        running_with(target="aws", operation="DescribeTasks", count=3),
        lambda kw, v, _s: kw("Inspect Container", v["id"]),
        "DaemonResponseError: inspect container on <target> failed: HTTP 500 Internal Server "
        "Error (expected 200): DescribeTasks: ThrottlingException: Rate exceeded",
        bound=10.0,  # botocore backs off between the daemon's three attempts
    ),
    SimCase(
        "connection dropped mid-way through the logs",
        exited_with_logs,
        lambda kw, v, _s: kw("Get Container Logs", v["id"]),
        "ProtocolError: container logs on <target>: truncated chunked body: connection closed "
        "inside a chunk (got 30 bytes)",
    ),
    SimCase(
        "AWS credentials expire mid-run",
        some_container,
        fails_mid_run(
            target="aws",
            operation="ListTaskDefinitions",
            error_code="ExpiredTokenException",
            message="The security token included in the request is expired",
        ),
        "AwsError: AWS ECS ListTaskDefinitions on family <family> (ACTIVE) failed: "
        "ExpiredTokenException: The security token included in the request is expired",
        prepare=created,
    ),
    SimCase(
        "no AWS credentials at all",
        no_credentials,
        left_nothing,
        "AwsError: AWS ECS ListTaskDefinitions on family <family> (ACTIVE) failed: "
        "NoCredentialsError: Unable to locate credentials",
        prepare=created,
    ),
    SimCase(
        "AWS throttling beyond every retry",
        throttled_beyond_retries,
        fails_mid_run(target="aws", operation="ListTaskDefinitions"),
        "AwsError: AWS ECS ListTaskDefinitions on family <family> (ACTIVE) failed: "
        "ThrottlingException: Rate exceeded (gave up after <attempts> attempts)",
        bound=1.2 + SLACK,
        prepare=created,
    ),
]


@pytest.mark.parametrize("case", SIM_CASES, ids=[case.id for case in SIM_CASES])
def test_simulator_failure(case: SimCase, sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    values = case.arrange(sim, monkeypatch)
    faulted_before = sim.aws_faults("ListTaskDefinitions")
    library = library_for(sim.host, read_timeout=10.0, **case.library)
    try:
        if case.prepare is not None:
            case.prepare(run_keyword(library), values)
        shown, elapsed = failure_of(lambda kw: case.act(kw, values, sim), library)
    finally:
        library.close()
    values["target"] = sim.host
    # botocore makes 5 attempts per call of ours: the calls the library gave up after.
    values["attempts"] = str((sim.aws_faults("ListTaskDefinitions") - faulted_before) // 5)
    assert expected_text(case.expected, values).fullmatch(shown), shown
    assert elapsed < case.bound, f"took {elapsed:.2f} s, bound {case.bound} s"
