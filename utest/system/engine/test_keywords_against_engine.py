"""The library's generic Robot keywords against a real Docker Engine 20.10.

Keywords are called by their Robot names through ``run_keyword``, on ``SockerlessLibrary(host=
<the engine>)``. Only the daemon-side keywords are used: the AWS-side ones (cleanup checks, task
and log-stream verification) have nothing to verify on a plain engine, so the library is never
closed through its AWS janitor; the session's ``containers`` fixture removes what was made.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from robot.api import logger
from robot.utils import get_error_message

from peers.docker_engine import EngineInfo
from SockerlessLibrary import SockerlessLibrary

pytestmark = pytest.mark.timeout(60)

IMAGE = "alpine:latest"
UNKNOWN = "fedcba987654" * 3
Kw = Callable[..., Any]


def _normal(name: str) -> str:
    return name.lower().replace(" ", "").replace("_", "")


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the keywords log at INFO."""
    lines: list[str] = []
    monkeypatch.setattr(logger, "info", lambda message, *a, **k: lines.append(str(message)))
    return lines


@pytest.fixture
def kw(
    engine: EngineInfo,
    isolated_env: Any,
    containers: list[str],
    session_label: dict[str, str],
    logged: list[str],
) -> Iterator[Kw]:
    """``kw("Robot Name", *args, **kwargs)`` on a library connected to the engine.

    Every container ``Create Container`` makes carries the session label and is removed at the
    end of the session.
    """
    library = SockerlessLibrary(
        host=engine.host,
        start_timeout=timedelta(seconds=30),
        stop_timeout=timedelta(seconds=30),
        exec_timeout=timedelta(seconds=30),
        logs_timeout=timedelta(seconds=10),
    )
    names = {_normal(name): name for name in library.get_keyword_names()}

    def run(name: str, /, *args: Any, **kwargs: Any) -> Any:
        if _normal(name) == "createcontainer":
            kwargs["labels"] = {**session_label, **kwargs.get("labels", {})}
        result = library.run_keyword(names[_normal(name)], list(args), kwargs)
        if _normal(name) == "createcontainer" and result:
            containers.append(result)
        return result

    yield run
    library._context.stop_target()  # closes the client; no AWS cleanup for a plain engine


def test_negotiated_version_is_used_logged_once_and_reported(kw: Kw, logged: list[str]) -> None:
    before = kw("Get Target Info")
    assert (before["api_version"], before["api_version_source"]) == (None, "not negotiated yet")
    kw("Daemon Should Respond To Ping")
    kw("List Containers")
    after = kw("Get Target Info")
    assert (after["api_version"], after["api_version_source"]) == ("1.41", "negotiated")
    negotiated = [line for line in logged if "Docker API" in line]
    assert len(negotiated) == 1
    assert negotiated[0].endswith(
        "Docker API 1.41 (negotiated: the daemon's maximum; the library speaks up to 1.44)"
    )


def test_container_lifecycle_through_the_keywords(kw: Kw, session_label: dict[str, str]) -> None:
    name = kw("Generate Container Name", prefix="engine lifecycle")
    container_id = kw(
        "Create Container", IMAGE, "sh", "-c", "echo hello from fargate; echo warn >&2",
        name=name, env={"MODE": "engine"}, labels={"team": "qa"},
    )  # fmt: skip
    kw("Container Id Should Be Valid", container_id)
    assert kw("Get Container Status", container_id) == "created"
    run_id = kw("Get Run Id")
    listed = kw("Container Should Be Listed", container_id, filters={"label": ["team=qa"]})
    assert listed["Labels"]["sockerless-kit.run-id"] == run_id
    kw("Container Should Be Listed", container_id, filters='{"label": {"team=qa": true}}')
    kw("Container Should Not Be Listed", container_id, filters={"label": ["team=nobody"]})
    assert kw("Start Container", container_id) == 204
    inspect = kw("Wait Until Container Is Not Running", container_id)
    assert (inspect["State"]["Status"], inspect["State"]["ExitCode"]) == ("exited", 0)
    assert "MODE=engine" in inspect["Config"]["Env"]
    waited = kw("Wait Until Logs Contain Line", container_id, "hello from fargate")
    kw("Stream Should Be Multiplexed", waited)
    kw("Output Should Not Contain Line", waited, "echo hello from fargate")
    # The wait closed its follow stream at the line: what came after it needs a read of its own.
    logs = kw("Get Container Logs", container_id)
    kw("Output Should Contain Line", logs, "warn", stream="stderr")
    stamped = kw("Get Container Logs", container_id, timestamps=True)
    times = kw("Log Lines Should Have Timestamps", stamped)
    assert len(times) == 2
    assert all(len(line.raw_timestamp.split(".")[1]) == 10 for line in stamped.log_lines)  # 9 + Z
    assert kw("Remove Container", container_id) == 204
    gone = kw("Inspect Container", container_id, expected_status=404)
    assert gone == {"message": f"No such container: {container_id}"}


def test_exec_through_the_keywords(kw: Kw) -> None:
    container_id = kw("Create Container", IMAGE, "tail", "-f", "/dev/null")
    kw("Start Container", container_id)
    assert kw("Get Container Status", container_id) == "running"  # the engine's start waits
    address = ipaddress.ip_address(kw("Get Container IP Address", container_id))
    assert address.is_private  # on docker0, whichever pool dockerd chose for it
    echo = kw("Create Exec", container_id, "cat", attach_stdin=True)
    stream = kw("Start Exec", echo, stdin="hello\nworld\n")
    assert kw("Get Output Lines", stream) == ["hello", "world"]
    kw("Stream Should Be Multiplexed", stream)
    kw("Frames Should Use Stream Type", stream, "stdout")
    kw("Exec Should Have Exited With Code", echo, 0)
    seven = kw("Create Exec", container_id, "sh", "-c", "echo exec-works; exit 7")
    kw("Output Should Contain Line", kw("Start Exec", seven), "exec-works")
    kw("Exec Should Have Exited With Code", seven, 7)
    assert kw("Inspect Exec", seven)["Running"] is False
    deaf = kw("Create Exec", container_id, "cat")
    with pytest.raises(ValueError, match="created without attach_stdin"):
        kw("Start Exec", deaf, stdin="dropped")
    assert kw("Kill Container", container_id) == 204
    assert kw("Wait Until Container Is Not Running", container_id)["State"]["ExitCode"] == 137
    assert kw("Remove Container", container_id, force=True) == 204


def test_waits_block_on_the_engine_with_one_request_each(kw: Kw, logged: list[str]) -> None:
    """The engine supports both blocking calls: a log wait is one follow stream, closed at the
    line, and an exit wait one ``POST /wait`` plus one inspect; nothing falls back to polling."""
    container_id = kw(
        "Create Container", IMAGE, "sh", "-c", "sleep 1; echo late-line; sleep 1; exit 3"
    )
    kw("Start Container", container_id)
    before = kw("Get Daemon Request Count")
    started = time.monotonic()
    logs = kw("Wait Until Logs Contain Line", container_id, "late-line")
    assert 0.5 < time.monotonic() - started < 2.5  # the line, not the end of the container
    assert kw("Get Output Lines", logs) == ["late-line"]
    assert kw("Get Daemon Request Count") == before + 1
    inspect = kw("Wait Until Container Is Not Running", container_id)
    assert (inspect["State"]["Status"], inspect["State"]["ExitCode"]) == ("exited", 3)
    assert kw("Get Daemon Request Count") == before + 3
    assert any("(not-running) answered" in line for line in logged)
    assert kw("Remove Container", container_id) == 204


def test_stop_and_forced_removal_through_the_keywords(kw: Kw) -> None:
    container_id = kw("Create Container", IMAGE, "tail", "-f", "/dev/null")
    kw("Start Container", container_id)
    assert kw("Start Container", container_id, expected_status="204,304") == 304
    started = time.monotonic()
    assert kw("Stop Container", container_id, stop_timeout=1) == 204
    assert time.monotonic() - started < 10
    assert kw("Stop Container", container_id, expected_status="204,304") == 304
    assert kw("Get Container Status", container_id) == "exited"
    second = kw("Create Container", IMAGE, "tail", "-f", "/dev/null")
    kw("Start Container", second)
    conflict = kw("Remove Container", second, expected_status=409)
    assert conflict == 409
    assert kw("Remove Container", second, force=True) == 204
    assert kw("Remove Container", container_id) == 204


@pytest.mark.parametrize(
    ("act", "expected"),
    [
        (
            lambda kw: kw("Inspect Container", UNKNOWN),
            "DaemonResponseError: inspect container on <target> failed: HTTP 404 Not Found "
            f"(expected 200): No such container: {UNKNOWN}",
        ),
        (
            lambda kw: kw("Start Container", UNKNOWN),
            "DaemonResponseError: start container on <target> failed: HTTP 404 Not Found "
            f"(expected 204): No such container: {UNKNOWN}",
        ),
        (
            lambda kw: kw("Get Container Logs", UNKNOWN),
            "DaemonResponseError: container logs on <target> failed: HTTP 404 Not Found "
            f"(expected 200): No such container: {UNKNOWN}",
        ),
        (
            lambda kw: kw("Create Exec", UNKNOWN, "true"),
            "DaemonResponseError: create exec on <target> failed: HTTP 404 Not Found "
            f"(expected 201): No such container: {UNKNOWN}",
        ),
        (
            lambda kw: kw("Start Exec", UNKNOWN),
            "DaemonResponseError: exec start on <target> failed: HTTP 404 Not Found "
            f"(expected 101, 200): No such exec instance: {UNKNOWN}",
        ),
    ],
    ids=["inspect", "start", "logs", "create exec", "start exec"],
)
def test_unknown_ids_fail_with_the_engines_message(
    kw: Kw, engine: EngineInfo, act: Callable[[Kw], Any], expected: str
) -> None:
    try:
        act(kw)
    except Exception:
        shown = get_error_message()  # as Robot renders the failure
    else:
        raise AssertionError("the keyword did not fail")
    assert shown == expected.replace("<target>", engine.host)
