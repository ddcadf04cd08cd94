"""``poll_until``: wait for a condition with a timeout, backoff and one log line per state change.

Waiting keywords poll here instead of suites using ``Sleep`` or ``Wait Until Keyword Succeeds``:
the log gets one line each time the observed state changes (not one per attempt), and a timeout
fails with the last observed state, the elapsed time and the number of attempts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
Log = Callable[[str], None]


class PollTimeout(AssertionError):
    """The condition was not met in time; the message shows the last observed state."""

    ROBOT_SUPPRESS_NAME = True

    def __init__(self, message: str, last: object = None) -> None:
        super().__init__(message)
        self.last = last


@dataclass
class Poller(Generic[T]):
    """How to poll: ``probe`` observes, ``done`` decides, ``describe`` shows a state to humans."""

    probe: Callable[[], T]
    done: Callable[[T], bool]
    describe: Callable[[T], str] = repr


def poll_until(
    poller: Poller[T],
    *,
    what: str,
    timeout: float,
    interval: float,
    log: Log,
    max_interval: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Probe until ``done``; return the final observation or raise ``PollTimeout``.

    The interval doubles after each attempt up to ``max_interval`` (default: no growth). The last
    sleep is cut short so the final probe happens at the deadline, never after it.
    """
    started = clock()
    deadline = started + timeout
    growth_cap = interval if max_interval is None else max(interval, max_interval)
    wait = interval
    attempts = 0
    last_state: str | None = None
    while True:
        attempts += 1
        value = poller.probe()
        state = poller.describe(value)
        if state != last_state:
            log(f"{what}: {state} (after {clock() - started:.1f} s)")
            last_state = state
        if poller.done(value):
            return value
        remaining = deadline - clock()
        if remaining <= 0:
            raise PollTimeout(
                f"{what}: not reached within {timeout:g} s (elapsed {clock() - started:.1f} s, "
                f"{attempts} attempt(s)); last observed: {state}",
                value,
            )
        sleep(min(wait, remaining))
        wait = min(wait * 2, growth_cap)
