"""How the system tests share out among pytest-xdist workers (``python3 tasks.py test`` runs
``pytest utest/system -n 4 --dist loadfile --no-loadscope-reorder``).

``--dist loadfile`` keeps each test file on one worker, in order: a module's simulator, moto
server or set of kit runs starts once, and a module's tests may build on each other's effects
(``utest/system/sim_cli`` checks the AWS side after the scenario). xdist's ``--dist loadgroup``
is not used: under pytest 9.2 it groups nothing and says nothing (pytest-xdist issue 1386,
reproduced with pytest 9.2.0 and pytest-xdist 3.8.0).

The files go out in the order the workers collected them, and this hook puts the heaviest
first (the most ``slow`` tests), so the long ones start at once and short files fill the gaps
at the end instead of a long one drawn last keeping the whole run waiting. Serial runs keep
pytest's own order.
"""

from __future__ import annotations

from collections import Counter

import pytest


@pytest.hookimpl(trylast=True)  # after deselection (-k, -m)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):
        return  # not an xdist worker
    slow = Counter(item.path for item in items if item.get_closest_marker("slow") is not None)
    items.sort(key=lambda item: -slow[item.path])  # stable: a file's tests keep their order
