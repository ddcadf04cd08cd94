"""Which containers each Robot scope (test or suite) created and still has to clean up.

The Robot counterpart of Go's ``t.Cleanup``: a container is registered the moment it exists, under
the scope that was running (the test, or the suite when created in a suite setup/teardown), and the
library's listener cleans the scope when it ends. Keys are the Robot full names, which are the same
whether read from ``${SUITE NAME}``/``${TEST NAME}`` during a keyword or from the listener's model.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

RUN_SCOPE = "run"


def scope_of_test(test_full_name: str) -> str:
    """Scope key of a test (``Suite.Sub.Test Name``)."""
    return f"test:{test_full_name}"


def scope_of_suite(suite_full_name: str) -> str:
    """Scope key of a suite (``Suite.Sub``)."""
    return f"suite:{suite_full_name}"


_create_numbers = itertools.count(1)


@dataclass(frozen=True)
class UnconfirmedCreate:
    """A create sent to the daemon whose answer the library has not (yet) turned into an ID.

    Recorded before the request goes out and dropped once the container is registered or the
    daemon answered without creating one. One left behind means the create was cut short (a
    signal, a Robot timeout, a read timeout, a dropped connection) while the daemon may still
    be making the container; cleanup looks for it until ``deadline`` (``time.monotonic()``).
    """

    name: str | None
    scope: str
    deadline: float
    number: int = field(default_factory=lambda: next(_create_numbers))

    def describe(self) -> str:
        """``create of 'name'`` or ``create #3 (no name)`` for log lines."""
        return f"create of '{self.name}'" if self.name else f"create #{self.number} (no name)"


# Which scopes a cleanup covers: a predicate on scope keys.
Selection = Callable[[str], bool]


def only(scope: str) -> Selection:
    """Exactly ``scope`` (a test's own containers)."""
    return lambda candidate: candidate == scope


def within_suite(suite_full_name: str) -> Selection:
    """The suite's own scope, its tests' and its child suites'."""
    own = scope_of_suite(suite_full_name)
    nested = (f"test:{suite_full_name}.", f"suite:{suite_full_name}.")
    return lambda candidate: candidate == own or candidate.startswith(nested)


def everything(candidate: str) -> bool:
    """Every scope (the end of the run)."""
    del candidate
    return True


class CleanupRegistry:
    """Containers to clean, by scope, in creation order, and creates not yet confirmed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, str] = {}  # container ID -> scope, in creation order
        self._unconfirmed: list[UnconfirmedCreate] = []

    def register(self, container_id: str, scope: str) -> None:
        """Remember ``container_id`` under ``scope`` (re-registering keeps the first scope)."""
        with self._lock:
            self._pending.setdefault(container_id, scope)

    def mark_cleaned(self, container_id: str) -> None:
        """Forget a container that has been cleaned."""
        with self._lock:
            self._pending.pop(container_id, None)

    def is_pending(self, container_id: str) -> bool:
        """True while the container still needs cleaning."""
        with self._lock:
            return container_id in self._pending

    def pending(self, selection: Selection) -> list[str]:
        """Containers still to clean in the selected scopes, in creation order."""
        with self._lock:
            return [cid for cid, scope in self._pending.items() if selection(scope)]

    def expect_create(self, name: str | None, scope: str, deadline: float) -> UnconfirmedCreate:
        """Record a create about to be sent; `settle` it once its outcome is known."""
        create = UnconfirmedCreate(name, scope, deadline)
        with self._lock:
            self._unconfirmed.append(create)
        return create

    def settle(self, create: UnconfirmedCreate) -> None:
        """The create's outcome is known (registered, or no container made): stop tracking it."""
        with self._lock:
            if create in self._unconfirmed:
                self._unconfirmed.remove(create)

    def unconfirmed(self, selection: Selection) -> list[UnconfirmedCreate]:
        """Unsettled creates of the selected scopes."""
        with self._lock:
            return [c for c in self._unconfirmed if selection(c.scope)]
