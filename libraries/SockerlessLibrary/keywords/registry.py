"""Which containers each Robot scope (test or suite) created and still has to clean up.

The Robot counterpart of Go's ``t.Cleanup``: a container is registered the moment it exists, under
the scope that was running (the test, or the suite when created in a suite setup/teardown), and the
library's listener cleans the scope when it ends. Keys are the Robot full names, which are the same
whether read from ``${SUITE NAME}``/``${TEST NAME}`` during a keyword or from the listener's model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

RUN_SCOPE = "run"


def scope_of_test(test_full_name: str) -> str:
    """Scope key of a test (``Suite.Sub.Test Name``)."""
    return f"test:{test_full_name}"


def scope_of_suite(suite_full_name: str) -> str:
    """Scope key of a suite (``Suite.Sub``)."""
    return f"suite:{suite_full_name}"


@dataclass
class Registration:
    """A container waiting for cleanup."""

    container_id: str
    scope: str


class CleanupRegistry:
    """Containers to clean, by scope, in creation order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, Registration] = {}

    def register(self, container_id: str, scope: str) -> None:
        """Remember ``container_id`` under ``scope`` (re-registering keeps the first scope)."""
        with self._lock:
            self._pending.setdefault(container_id, Registration(container_id, scope))

    def mark_cleaned(self, container_id: str) -> None:
        """Forget a container that has been cleaned."""
        with self._lock:
            self._pending.pop(container_id, None)

    def is_pending(self, container_id: str) -> bool:
        """True while the container still needs cleaning."""
        with self._lock:
            return container_id in self._pending

    def in_scope(self, scope: str) -> list[str]:
        """Pending containers of exactly this scope."""
        with self._lock:
            return [r.container_id for r in self._pending.values() if r.scope == scope]

    def in_suite(self, suite_full_name: str) -> list[str]:
        """Pending containers of the suite, its tests and its child suites."""
        own = scope_of_suite(suite_full_name)
        nested = (f"test:{suite_full_name}.", f"suite:{suite_full_name}.")
        with self._lock:
            return [
                r.container_id
                for r in self._pending.values()
                if r.scope == own or r.scope.startswith(nested)
            ]

    def all_pending(self) -> list[str]:
        """Every container still waiting for cleanup."""
        with self._lock:
            return list(self._pending)
