"""poll_until: timeout, interval growth, one log line per state change, last state on failure."""

from __future__ import annotations

import pytest

from SockerlessLibrary.polling import Poller, PollTimeout, poll_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_returns_the_final_state_and_logs_only_changes() -> None:
    states = iter(["created", "created", "created", "running", "running", "exited"])
    clock = FakeClock()
    log: list[str] = []
    value = poll_until(
        Poller(probe=lambda: next(states), done=lambda s: s == "exited", describe=str),
        what="status",
        timeout=10,
        interval=0.5,
        log=log.append,
        clock=clock,
        sleep=clock.sleep,
    )
    assert value == "exited"
    assert [line.split(" (")[0] for line in log] == [
        "status: created",
        "status: running",
        "status: exited",
    ]


def test_timeout_reports_last_state_elapsed_and_attempts() -> None:
    clock = FakeClock()
    with pytest.raises(PollTimeout) as failure:
        poll_until(
            Poller(probe=lambda: {"Status": "created"}, done=lambda s: False),
            what="Container x status 'exited'",
            timeout=2,
            interval=0.5,
            log=lambda _: None,
            clock=clock,
            sleep=clock.sleep,
        )
    message = str(failure.value)
    assert "Container x status 'exited': not reached within 2 s" in message
    assert "5 attempt(s)" in message
    assert "last observed: {'Status': 'created'}" in message
    assert clock.now == pytest.approx(2.0)  # never slept past the deadline


def test_backoff_doubles_up_to_the_cap() -> None:
    clock = FakeClock()
    with pytest.raises(PollTimeout):
        poll_until(
            Poller(probe=lambda: 1, done=lambda _: False),
            what="x",
            timeout=20,
            interval=0.5,
            max_interval=4,
            log=lambda _: None,
            clock=clock,
            sleep=clock.sleep,
        )
    assert clock.sleeps[:6] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_other_errors_propagate() -> None:
    def probe() -> str:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        poll_until(
            Poller(probe=probe, done=lambda _: True), what="x", timeout=1, interval=0.1, log=print
        )
