"""Daemons and AWS endpoints that went down during a run, and the rule that keeps them down.

An address that refuses connections, cannot be resolved or does not accept within the connect
timeout (an AWS endpoint also: sends nothing within the read timeout) is *down*, not busy:
waiting longer only delays the failure. A request that meets one is retried for a few seconds
(``DOWN_AFTER_SECONDS``, backing off from 0.25 s); then the address is down for the rest of the
run, even if it comes back, and every later request to it fails at once naming the first cause.
A daemon that never answered in the run is marked down at its first failure. Why, and what is
not an outage (throttling, 5xx): docs/reliability.md, "Down, not busy".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .journal import utc_now

DOWN_AFTER_SECONDS = 4.0
FIRST_RETRY_SECONDS = 0.25
DAEMON = "daemon"
AWS_ENDPOINT = "AWS endpoint"


@dataclass(frozen=True)
class Outage:
    """A daemon or AWS endpoint marked down: since when, why, after how many attempts."""

    kind: str  # DAEMON or AWS_ENDPOINT
    address: str
    cause: str
    since: str  # UTC, to the millisecond
    attempts: int
    seconds: float

    def describe(self) -> str:
        """``daemon unix:///x.sock down since <time> (<cause>; 5 attempt(s) over 3.8 s)``."""
        return (
            f"{self.kind} {self.address} down since {self.since} "
            f"({self.cause}; {self.attempts} attempt(s) over {self.seconds:.1f} s)"
        )

    def refusal(self) -> str:
        """Why a request was not sent: the first cause, and that the run will not retry."""
        return f"not attempted: the {self.describe()}; this run sends it nothing more"


@dataclass
class RetryStreak:
    """The attempts at one request while its address does not answer, bounded in time."""

    bound: float
    delay: float  # before the next attempt: the first retry's, then doubled each time
    clock: Callable[[], float]
    attempts: int = 0
    started: float | None = None

    def failed(self, attempt_started: float) -> float | None:
        """Count a failed attempt; the delay before the next one, or ``None``: give up."""
        self.attempts += 1
        if self.started is None:
            self.started = attempt_started
        delay = self.delay
        if self.elapsed + delay > self.bound:
            return None
        self.delay *= 2
        return delay

    @property
    def elapsed(self) -> float:
        """Seconds since the first failed attempt began."""
        return 0.0 if self.started is None else self.clock() - self.started


class Outages:
    """Which addresses are down in this run (one per library context, one per sweep).

    Thread-safe; the first mark of an address wins, so every later failure names the first cause.
    """

    def __init__(
        self,
        *,
        down_after: float = DOWN_AFTER_SECONDS,
        first_retry: float = FIRST_RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.down_after = down_after
        self.first_retry = first_retry
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._down: dict[str, Outage] = {}
        self._answered: set[str] = set()

    def streak(self) -> RetryStreak:
        """A new bounded retry for one request."""
        return RetryStreak(self.down_after, self.first_retry, self.clock)

    def down(self, address: str) -> Outage | None:
        """The outage of ``address``, or ``None`` while it is not marked down."""
        with self._lock:
            return self._down.get(address)

    def mark(self, kind: str, address: str, cause: str, streak: RetryStreak) -> Outage:
        """Mark ``address`` down for the rest of the run (an earlier mark stays)."""
        outage = Outage(kind, address, cause, utc_now(), streak.attempts, streak.elapsed)
        with self._lock:
            return self._down.setdefault(address, outage)

    def answered(self, address: str) -> None:
        """``address`` accepted a connection (or answered) in this run."""
        with self._lock:
            self._answered.add(address)

    def ever_answered(self, address: str) -> bool:
        """Whether ``address`` worked at some point of this run."""
        with self._lock:
            return address in self._answered

    def all(self) -> list[Outage]:
        """Every outage of the run, in the order they were marked."""
        with self._lock:
            return list(self._down.values())
