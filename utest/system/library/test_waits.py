"""The blocking waits against scripted daemons: ``POST /containers/{id}/wait`` and logs follow,
their deadlines, and the fall back to back-off polling on a daemon without them (said once).

Each daemon here is a scripted unix-socket server (``conftest.py``); the keywords run through
``SockerlessLibrary`` as Robot would call them, with the Robot logger captured.
"""

from __future__ import annotations

import itertools
import json
import struct
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from robot.api import logger

from SockerlessLibrary import SockerlessLibrary
from SockerlessLibrary.errors import DaemonResponseError, ProtocolError
from SockerlessLibrary.logstream import LineWatch

pytestmark = pytest.mark.timeout(60)

CID = "c0ffee"
MUX = "application/vnd.docker.multiplexed-stream"
SLACK = 1.0
RUNNING = {"Status": "running", "Running": True, "ExitCode": 0}
EXITED = {"Status": "exited", "Running": False, "ExitCode": 0}


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


class Daemon:
    """A scripted daemon whose answers per route the test sets; it records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[Any, Any], None]] = {}
        self.inspects: list[dict[str, Any]] = [EXITED]
        self.lock = threading.Lock()
        self.times: list[float] = []  # when each request but the ping arrived

    def state(self) -> dict[str, Any]:
        with self.lock:
            return self.inspects.pop(0) if len(self.inspects) > 1 else self.inspects[0]

    def answer(self, connection: Any, request: Any) -> None:
        path = request.path
        if path == "/_ping":
            connection.respond(200, "OK", b"OK", content_type="text/plain")
            return
        path = path.removeprefix("/v1.44")
        self.times.append(time.monotonic())
        for suffix, route in self.routes.items():
            if path.endswith(suffix):
                route(connection, request)
                return
        if path.endswith("/json"):
            connection.respond_json(200, "OK", {"Id": CID, "State": self.state()})
            return
        connection.respond(404, "Not Found", b"404 page not found\n", content_type="text/plain")


def chunked_head(connection: Any, content_type: str = "application/json") -> None:
    connection.send(
        (
            "HTTP/1.1 200 OK\r\nApi-Version: 1.44\r\n"
            f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
    )


def chunk(connection: Any, data: bytes) -> None:
    connection.send(f"{len(data):x}\r\n".encode() + data + b"\r\n")


def end_chunks(connection: Any) -> None:
    connection.send(b"0\r\n\r\n")


@pytest.fixture
def daemon(serve: Any, keep_alive: Any) -> Iterator[tuple[Daemon, Any]]:
    script = Daemon()
    server = serve(keep_alive(script.answer))
    yield script, server


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """What the keywords log, by level."""
    messages: dict[str, list[str]] = {"info": [], "warn": []}
    monkeypatch.setattr(logger, "info", lambda m, *a, **k: messages["info"].append(str(m)))
    monkeypatch.setattr(logger, "warn", lambda m, *a, **k: messages["warn"].append(str(m)))
    return messages


@pytest.fixture
def library_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[..., SockerlessLibrary]]:
    monkeypatch.setenv("SOCKERLESS_KIT_JOURNAL_DIR", str(tmp_path / "journal"))
    made: list[SockerlessLibrary] = []

    def make(server: Any, **seconds: float) -> SockerlessLibrary:
        settings = {"connect_timeout": 1.0, "read_timeout": 2.0, **seconds}
        library = SockerlessLibrary(
            host=f"unix://{server.path}",
            **{name: timedelta(seconds=value) for name, value in settings.items()},
        )
        made.append(library)
        return library

    yield make
    for library in made:
        library.close()


def routes(server: Any) -> list[str]:
    """Method, path and query of every request but the negotiation ping."""
    return [
        f"{r.method} {r.target.removeprefix('/v1.44')}"
        for r in server.requests
        if r.path != "/_ping"
    ]


WAIT = f"POST /containers/{CID}/wait?condition=not-running"
INSPECT = f"GET /containers/{CID}/json"
FOLLOW = f"GET /containers/{CID}/logs?stdout=true&stderr=true&timestamps=false&follow=true"
READ = f"GET /containers/{CID}/logs?stdout=true&stderr=true&timestamps=false&follow=false"


# --- POST /containers/{id}/wait ----------------------------------------------------------------


def blocks_then_answers(delay: float) -> Callable[[Any, Any], None]:
    """As sockerless: the 200 head at once, the body when the container stopped."""

    def route(connection: Any, request: Any) -> None:
        chunked_head(connection)
        connection.hold(delay)
        chunk(connection, b'{"StatusCode": 0, "Error": null}\n')
        end_chunks(connection)

    return route


def test_blocking_wait_returns_on_the_answer_then_inspects_once(
    daemon: Any, library_for: Any, said: Any
) -> None:
    script, server = daemon
    script.routes["/wait"] = blocks_then_answers(0.4)
    library = library_for(server)
    started = time.monotonic()
    inspect = library.wait_until_container_is_not_running(CID, timeout=timedelta(seconds=10))
    elapsed = time.monotonic() - started
    assert inspect["State"] == EXITED
    assert 0.4 <= elapsed < 0.4 + SLACK
    assert routes(server) == [WAIT, INSPECT]
    assert any('answered {"StatusCode": 0, "Error": null}' in m for m in said["info"])
    assert said["warn"] == []


def test_wait_that_never_answers_ends_at_the_deadline_naming_what_inspect_said(
    daemon: Any, library_for: Any
) -> None:
    script, server = daemon
    script.routes["/wait"] = blocks_then_answers(30)
    script.inspects = [RUNNING]
    library = library_for(server)
    started = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        library.wait_until_container_is_not_running(CID, timeout=timedelta(seconds=1))
    assert time.monotonic() - started < 1 + SLACK
    message = str(failure.value)
    assert message == (
        f"Container {CID} did not reach condition 'not-running' within 1 s: POST /containers/"
        f"{CID}/wait?condition=not-running had not answered (wait container on "
        f"unix://{server.path}: no complete response within the 1 s read timeout); inspect at "
        'the deadline: {"Status": "running", "Running": true, "ExitCode": 0}'
    )
    assert routes(server) == [WAIT, INSPECT]


def test_wait_answered_ahead_of_inspect_polls_inspect_until_it_shows_the_exit(
    daemon: Any, library_for: Any
) -> None:
    script, server = daemon
    script.routes["/wait"] = lambda c, r: c.respond_json(200, "OK", {"StatusCode": 0})
    script.inspects = [RUNNING, EXITED]
    library = library_for(server)
    inspect = library.wait_until_container_is_not_running(CID, timeout=timedelta(seconds=5))
    assert inspect["State"] == EXITED
    assert routes(server) == [WAIT, INSPECT, INSPECT]


def test_a_never_started_container_is_returned_as_it_is(daemon: Any, library_for: Any) -> None:
    script, server = daemon
    script.routes["/wait"] = lambda c, r: c.respond_json(200, "OK", {"StatusCode": 0})
    script.inspects = [{"Status": "created", "Running": False, "ExitCode": 0}]
    library = library_for(server)
    inspect = library.wait_until_container_is_not_running(CID, timeout=timedelta(seconds=5))
    assert inspect["State"]["Status"] == "created"
    assert routes(server) == [WAIT, INSPECT]


@pytest.mark.parametrize(
    ("status", "reason", "body"),
    [
        (404, "Not Found", b"404 page not found\n"),
        (404, "Not Found", b'{"message": "page not found"}'),
        (405, "Method Not Allowed", b"Method Not Allowed\n"),
        (501, "Not Implemented", b'{"message": "wait is not supported"}'),
    ],
    ids=["404 plain", "404 json", "405", "501"],
)
def test_daemon_without_wait_is_polled_and_said_once(
    daemon: Any, library_for: Any, said: Any, status: int, reason: str, body: bytes
) -> None:
    script, server = daemon
    script.routes["/wait"] = lambda c, r: c.respond(status, reason, body)
    script.inspects = [RUNNING, RUNNING, EXITED]
    library = library_for(server)
    first = library.wait_until_container_is_not_running(CID, timeout=timedelta(seconds=5))
    second = library.wait_until_container_is_not_running(CID, timeout=timedelta(seconds=5))
    assert first["State"] == second["State"] == EXITED
    # The wait was asked once; inspect polled (0.5 s, then 1 s); the second wait polled at once.
    assert routes(server) == [WAIT, INSPECT, INSPECT, INSPECT, INSPECT]
    assert len(said["warn"]) == 1
    assert said["warn"][0].startswith(
        f"unix://{server.path} does not support POST /containers/{{id}}/wait (HTTP {status}: "
    )
    assert said["warn"][0].endswith(
        "waits for a container to exit poll inspect with back-off on this daemon"
    )


def test_no_such_container_from_wait_fails_and_teaches_nothing(
    daemon: Any, library_for: Any, said: Any
) -> None:
    script, server = daemon
    script.routes["/wait"] = lambda c, r: c.respond_json(
        404, "Not Found", {"message": f"No such container: {CID}"}
    )
    library = library_for(server)
    for _ in range(2):
        with pytest.raises(DaemonResponseError, match=r"HTTP 404 Not Found .*No such container"):
            library.wait_until_container_is_not_running(CID)
    assert routes(server) == [WAIT, WAIT]
    assert said["warn"] == []


def test_a_bare_404_for_a_missing_container_fails_at_inspect_and_teaches_nothing(
    daemon: Any, library_for: Any, said: Any
) -> None:
    script, server = daemon
    script.routes["/wait"] = lambda c, r: c.respond(404, "Not Found")
    script.routes["/json"] = lambda c, r: c.respond_json(
        404, "Not Found", {"message": f"No such container: {CID}"}
    )
    library = library_for(server)
    with pytest.raises(DaemonResponseError, match=r"inspect container .* No such container"):
        library.wait_until_container_is_not_running(CID)
    with pytest.raises(DaemonResponseError, match="inspect container"):
        library.wait_until_container_is_not_running(CID)
    assert routes(server) == [WAIT, INSPECT, WAIT, INSPECT]
    assert said["warn"] == []


# --- GET /containers/{id}/logs?follow=true -----------------------------------------------------


def follow_stream(
    *pieces: bytes | float, end: bool = False, content_type: str = MUX
) -> Callable[[Any, Any], None]:
    """A chunked logs stream: bytes are sent as one chunk each, floats are pauses."""

    def route(connection: Any, request: Any) -> None:
        chunked_head(connection, content_type)
        for piece in pieces:
            if isinstance(piece, float):
                connection.hold(piece)
            else:
                chunk(connection, piece)
        if end:
            end_chunks(connection)
        else:
            connection.hold(30)

    return route


def logs_by_follow(
    follow: Callable[[Any, Any], None], reads: list[bytes]
) -> Callable[[Any, Any], None]:
    """``follow=true`` gets ``follow``; each whole read gets the next of ``reads``."""

    def route(connection: Any, request: Any) -> None:
        if request.query["follow"] == ["true"]:
            follow(connection, request)
        else:
            connection.respond(
                200, "OK", reads.pop(0) if len(reads) > 1 else reads[0], content_type=MUX
            )

    return route


def test_follow_returns_as_soon_as_the_whole_line_arrived(
    daemon: Any, library_for: Any, said: Any
) -> None:
    script, server = daemon
    script.routes["/logs"] = follow_stream(
        frame(1, b"echo hello from fargate\nhel"),
        0.3,
        frame(1, b"lo from far"),
        frame(1, b"gate\n"),
    )
    library = library_for(server)
    started = time.monotonic()
    logs = library.wait_until_logs_contain_line(
        CID, "hello from fargate", timeout=timedelta(seconds=10)
    )
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 0.3 + SLACK  # the stream stays open: the keyword closed it
    assert routes(server) == [FOLLOW]
    assert [line.text for line in logs.log_lines] == [
        "echo hello from fargate",
        "hello from fargate",
    ]
    assert len(logs.output.frames) == 3
    assert logs.status == 200 and not logs.timed_out
    assert any("(follow stream, request 1," in m for m in said["info"])


def test_follow_with_timestamps_compares_the_text_after_the_timestamp(
    daemon: Any, library_for: Any
) -> None:
    script, server = daemon
    script.routes["/logs"] = follow_stream(frame(1, b"2026-11-29T10:11:12.3Z hello\n"))
    library = library_for(server)
    logs = library.wait_until_logs_contain_line(
        CID, "hello", timeout=timedelta(seconds=10), timestamps=True
    )
    assert logs.log_lines[0].raw_timestamp == "2026-11-29T10:11:12.3Z"
    assert server.requests[-1].query["timestamps"] == ["true"]


def test_follow_ended_before_the_line_is_followed_by_back_off_reads(
    daemon: Any, library_for: Any, said: Any
) -> None:
    script, server = daemon
    script.routes["/logs"] = logs_by_follow(
        follow_stream(frame(1, b"starting\n"), end=True),
        [frame(1, b"starting\n"), frame(1, b"starting\nhello\n")],
    )
    library = library_for(server)
    logs = library.wait_until_logs_contain_line(CID, "hello", timeout=timedelta(seconds=10))
    assert [line.text for line in logs.log_lines] == ["starting", "hello"]
    assert routes(server) == [FOLLOW, READ, READ]
    gaps = [later - earlier for earlier, later in itertools.pairwise(script.times)]
    assert gaps[0] >= 0.45 and gaps[1] >= 0.95, gaps  # the reads back off: 0.5 s, then 1 s
    assert any("ended the follow stream" in m for m in said["info"])
    assert said["warn"] == []  # a follow stream that ended is no sign the daemon lacks follow


@pytest.mark.parametrize(
    "refusal",
    [
        lambda c: c.respond(501, "Not Implemented", b'{"message": "follow is not supported"}'),
        lambda c: c.respond(200, "OK", frame(1, b"starting\n"), content_type=MUX),
    ],
    ids=["501", "complete body"],
)
def test_daemon_without_follow_gets_back_off_reads_said_once(
    daemon: Any, library_for: Any, said: Any, refusal: Callable[[Any], None]
) -> None:
    script, server = daemon
    script.routes["/logs"] = logs_by_follow(
        lambda c, r: refusal(c), [frame(1, b"starting\n"), frame(1, b"hello\n")]
    )
    library = library_for(server)
    library.wait_until_logs_contain_line(CID, "hello", timeout=timedelta(seconds=10))
    library.wait_until_logs_contain_line(CID, "hello", timeout=timedelta(seconds=10))
    assert routes(server) == [FOLLOW, READ, READ, READ]
    assert len(said["warn"]) == 1
    assert said["warn"][0].startswith(
        f"unix://{server.path} does not support GET /containers/{{id}}/logs?follow=true ("
    )


def test_follow_that_never_brings_the_line_fails_at_the_budget(
    daemon: Any, library_for: Any
) -> None:
    script, server = daemon
    script.routes["/logs"] = follow_stream(frame(1, b"echo hello from fargate\n"))
    library = library_for(server)
    started = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        library.wait_until_logs_contain_line(
            CID, "hello from fargate", timeout=timedelta(seconds=1)
        )
    assert time.monotonic() - started < 1 + SLACK
    assert str(failure.value) == (
        f"Logs of container {CID} had no stdout line equal to 'hello from fargate' within 1 s "
        "(1 request(s)). stdout lines in the last read (1):\n'echo hello from fargate'\n"
        "stderr lines in the last read (0):\nno lines"
    )
    assert routes(server) == [FOLLOW]


def test_a_line_on_the_other_stream_fails_the_follow_at_once_saying_where(
    daemon: Any, library_for: Any
) -> None:
    script, server = daemon
    script.routes["/logs"] = follow_stream(frame(1, b"starting\n"), 0.2, frame(1, b"oops\n"))
    library = library_for(server)
    started = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        library.wait_until_logs_contain_line(
            CID, "oops", stream="stderr", timeout=timedelta(seconds=30)
        )
    assert time.monotonic() - started < 0.2 + SLACK  # not after the 30 s budget
    message = str(failure.value)
    assert message.startswith(
        f"Logs of container {CID}: the line 'oops' came on stdout, not on stderr (follow "
        "stream, request 1, "
    )
    assert message.endswith(
        "stderr lines in the last read (0):\nno lines\n"
        "stdout lines in the last read (2):\n'starting'\n'oops'"
    )
    assert "Lines seen in the last read (0)" not in message  # the old, unhelpful text
    assert routes(server) == [FOLLOW]


def test_a_line_on_the_other_stream_fails_a_whole_read_at_once_too(
    daemon: Any, library_for: Any
) -> None:
    script, server = daemon
    script.routes["/logs"] = logs_by_follow(
        lambda c, r: c.respond(501, "Not Implemented", b'{"message": "no follow"}'),
        [frame(2, b"done\n")],
    )
    library = library_for(server)
    started = time.monotonic()
    with pytest.raises(AssertionError, match="the line 'done' came on stderr, not on stdout"):
        library.wait_until_logs_contain_line(CID, "done", timeout=timedelta(seconds=30))
    assert time.monotonic() - started < SLACK
    assert routes(server) == [FOLLOW, READ]


def test_follow_whose_head_never_comes_fails_at_the_budget_all_the_same(
    daemon: Any, library_for: Any
) -> None:
    script, server = daemon
    script.routes["/logs"] = lambda c, r: c.hold(30)  # a head sent only with the first bytes
    library = library_for(server)
    started = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        library.wait_until_logs_contain_line(CID, "hello", timeout=timedelta(seconds=1))
    assert time.monotonic() - started < 1 + SLACK
    assert str(failure.value) == (
        f"Logs of container {CID} had no stdout line equal to 'hello' within 1 s (1 request(s)); "
        "the follow request got no answer at all. No read answered."
    )


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (
            frame(1, b"fine\n") + frame(5, b"what"),
            "container logs on <target>: unknown stream type 5 at byte offset 13",
        ),
        (
            b"\x01\x00\x01\x00\x00\x00\x00\x03abc",
            "container logs on <target>: frame header at byte offset 0 has non-zero bytes 1-3 "
            "(000100); they must be zero",
        ),
    ],
    ids=["unknown stream type", "bad padding"],
)
def test_malformed_follow_stream_is_a_protocol_error(
    daemon: Any, library_for: Any, stream: bytes, message: str
) -> None:
    script, server = daemon
    script.routes["/logs"] = follow_stream(stream)
    library = library_for(server)
    with pytest.raises(ProtocolError) as failure:
        library.wait_until_logs_contain_line(CID, "hello", timeout=timedelta(seconds=5))
    assert str(failure.value) == message.replace("<target>", f"unix://{server.path}")
    assert routes(server) == [FOLLOW]


def test_follow_cut_inside_a_frame_is_a_protocol_error(daemon: Any, library_for: Any) -> None:
    script, server = daemon
    script.routes["/logs"] = follow_stream(struct.pack(">BxxxL", 1, 64) + b"hel", end=True)
    library = library_for(server)
    with pytest.raises(ProtocolError, match="truncated frame at byte offset 0"):
        library.wait_until_logs_contain_line(CID, "hello", timeout=timedelta(seconds=5))


def test_no_such_container_from_follow_fails_at_once(
    daemon: Any, library_for: Any, said: Any
) -> None:
    script, server = daemon
    script.routes["/logs"] = lambda c, r: c.respond(
        404, "Not Found", json.dumps({"message": f"No such container: {CID}"}).encode()
    )
    library = library_for(server)
    with pytest.raises(DaemonResponseError, match="No such container"):
        library.wait_until_logs_contain_line(CID, "hello", timeout=timedelta(seconds=5))
    assert routes(server) == [FOLLOW]
    assert said["warn"] == []


def test_client_stops_a_raw_tty_stream_at_the_line(daemon: Any, client_for: Any) -> None:
    script, server = daemon
    script.routes["/logs"] = follow_stream(
        b"$ echo hi\r\nh", 0.2, b"i\r\nmore", content_type="application/vnd.docker.raw-stream"
    )
    watch = LineWatch("hi", "stdout", timestamps=False)
    started = time.monotonic()
    logs = client_for(server, read=10.0).container_logs(CID, follow=True, tty=True, stop_when=watch)
    assert time.monotonic() - started < 0.2 + SLACK
    assert watch.found and not logs.output.multiplexed
    assert logs.output.stdout == b"$ echo hi\r\nhi\r\nmore"
    assert [line.text for line in logs.log_lines] == ["$ echo hi", "hi", "more"]
