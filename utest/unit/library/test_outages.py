"""A daemon that stops accepting is down, not busy: tried again briefly, then not again in the run.

Scripted servers on real unix sockets; retry delays run on a fake clock so the tests are fast and
the attempts and delays can be counted exactly.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from SockerlessLibrary.errors import DaemonDown, DaemonTimeout, DaemonUnreachable
from SockerlessLibrary.outage import Outages
from SockerlessLibrary.transport import Timeouts, Transport, WireSocket

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def sleeps() -> list[float]:
    """The retry delays, in order; the fake clock is their sum (only sleeping moves it)."""
    return []


@pytest.fixture
def outages(sleeps: list[float]) -> Outages:
    return Outages(down_after=4.0, first_retry=0.25, clock=lambda: sum(sleeps), sleep=sleeps.append)


def pong(keep_alive: Callable[..., Any]) -> Any:
    return keep_alive(lambda connection, _request: connection.respond(200, "OK", b"OK"))


@pytest.fixture
def restart() -> Iterator[Callable[[Any], Any]]:
    """``restart(server)``: a new server of the same kind at the same path (a daemon restart)."""
    started: list[Any] = []

    def again(server: Any) -> Any:
        server.close()
        Path(server.path).unlink(missing_ok=True)
        started.append(type(server)(server.path, server.handler))
        return started[-1]

    yield again
    for server in started:
        server.close()


def ping(transport: Transport) -> int:
    return transport.request("GET", "/_ping", operation="ping").status


def test_a_daemon_that_never_answered_is_down_at_its_first_failure(
    serve: Callable[..., Any], keep_alive: Callable[..., Any],
    restart: Callable[[Any], Any], outages: Outages, sleeps: list[float],
) -> None:  # fmt: skip
    server = serve(pong(keep_alive))
    path = server.path
    server.close()
    Path(path).unlink()  # nothing at the configured path yet
    transport = Transport(path, outages=outages, timeouts=Timeouts(1, 1))
    with pytest.raises(DaemonUnreachable) as first:
        ping(transport)
    # The first failure reads exactly as without outages: a wrong path is a configuration error.
    assert str(first.value) == f"ping: cannot connect to unix://{path}: no socket at {path}"
    assert sleeps == []
    [outage] = outages.all()
    assert outage.address == f"unix://{path}" and outage.attempts == 1

    # The daemon appears at that path: the run does not use it again (decided, see outage.py).
    server = restart(server)
    with pytest.raises(DaemonDown) as later:
        Transport(path, outages=outages).request("GET", "/containers/json", operation="list")
    assert server.connections == 0
    assert str(later.value) == (
        f"list: not attempted: the daemon unix://{path} down since {outage.since} (ping: cannot "
        f"connect to unix://{path}: no socket at {path}; 1 attempt(s) over 0.0 s); this run "
        "sends it nothing more"
    )
    assert later.value.outage is outage


def test_a_daemon_that_went_away_is_tried_for_the_bound_then_marked_down(
    serve: Callable[..., Any], keep_alive: Callable[..., Any],
    outages: Outages, sleeps: list[float],
) -> None:  # fmt: skip
    server = serve(pong(keep_alive))
    path = server.path
    transport = Transport(path, outages=outages, timeouts=Timeouts(1, 1))
    assert ping(transport) == 200
    server.close()  # killed: the socket file stays, connections are refused
    transport.close()

    with pytest.raises(DaemonUnreachable) as raised:
        ping(transport)
    assert not isinstance(raised.value, DaemonDown)
    # 0.25, 0.5, 1, 2 s: the next delay (4 s) would end past the 4 s bound.
    assert sleeps == [0.25, 0.5, 1.0, 2.0]
    assert str(raised.value) == (
        f"ping: cannot connect to unix://{path}: connection refused at {path} (is the daemon "
        "running?) (no connection in 5 attempts over 3.8 s: the daemon is marked down for the "
        "rest of the run)"
    )
    [outage] = outages.all()
    assert (outage.attempts, outage.seconds) == (5, 3.75)

    started = time.monotonic()
    with pytest.raises(DaemonDown, match=r"^create container: not attempted: the daemon "):
        transport.request("POST", "/containers/create", operation="create container")
    assert time.monotonic() - started < 0.1
    assert sleeps == [0.25, 0.5, 1.0, 2.0]  # no new attempt, no new wait


def test_a_daemon_back_within_the_bound_is_used(
    serve: Callable[..., Any], keep_alive: Callable[..., Any], restart: Callable[[Any], Any]
) -> None:
    """A restart that takes a moment is a blip, not an outage (real clock)."""
    server = serve(pong(keep_alive))
    run_outages = Outages(down_after=3.0, first_retry=0.1)
    transport = Transport(server.path, outages=run_outages, timeouts=Timeouts(1, 1))
    assert ping(transport) == 200
    server.close()
    transport.close()
    waited: list[float] = []

    def sleep_then_restart(seconds: float) -> None:
        time.sleep(seconds)
        if not waited:
            restart(server)
        waited.append(seconds)

    run_outages.sleep = sleep_then_restart
    assert ping(transport) == 200
    assert waited == [0.1]
    assert run_outages.all() == []


def test_a_daemon_that_does_not_accept_in_time_is_down() -> None:
    """A TCP listener whose backlog is full: the kernel drops the SYN, connect times out.

    Real clock: each attempt costs its connect timeout, which counts against the bound.
    """
    outages = Outages(down_after=1.0, first_retry=0.25)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    queued: list[WireSocket] = []
    try:
        transport = Transport(address, outages=outages, timeouts=Timeouts(0.3, 1))
        with pytest.raises(DaemonTimeout):
            for _ in range(8):  # fill the backlog: these are never accepted
                queued.append(transport.connect("fill"))
        started = time.monotonic()
        with pytest.raises(DaemonDown, match=r"connect timeout; [12] attempt\(s\) over \d+\.\d s"):
            ping(transport)
        assert time.monotonic() - started < 0.1  # marked down by the fill: ping sent nothing
    finally:
        for connection in queued:
            connection.close()
        listener.close()
    [outage] = outages.all()
    assert outage.cause.startswith(
        f"fill: connecting to {address} took longer than the 0.3 s connect timeout"
    )


def test_without_outages_nothing_is_retried_or_remembered(socket_dir: Path) -> None:
    path = f"{socket_dir}/gone.sock"
    transport = Transport(path, timeouts=Timeouts(1, 1))
    for _ in range(2):
        with pytest.raises(DaemonUnreachable) as raised:
            ping(transport)
        assert not isinstance(raised.value, DaemonDown)
