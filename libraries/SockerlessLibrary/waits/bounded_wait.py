"""``BoundedWait``: what the waits on one container within a budget (``ExitWait``, ``LineWait``)
share."""

from __future__ import annotations

import time

from ..run.context import LibraryContext


class BoundedWait:
    """A wait for ``container_id`` that must end within ``budget`` seconds from its creation."""

    def __init__(self, ctx: LibraryContext, container_id: str, budget: float) -> None:
        self.ctx = ctx
        self.client = ctx.client()
        self.container_id = container_id
        self.budget = budget
        self._log = ctx.log
        self._warn = ctx.warn
        self.started = time.monotonic()
        self.daemon = str(self.client.target)

    def elapsed(self) -> float:
        """Seconds since the wait began."""
        return time.monotonic() - self.started

    def left(self) -> float:
        """Seconds of the budget still left (negative once it is spent)."""
        return self.budget - self.elapsed()

    def learn_lacks(self, call: str, notice: str) -> None:
        """Remember that this daemon lacks ``call``; log ``notice`` (WARN) the first time."""
        if self.ctx.daemon_support.learn(self.daemon, call):
            self._warn(notice)
