"""How the tests share out among pytest-xdist workers (``python3 tasks.py test`` runs ``-n``).

Under ``-n N`` (``--dist load``, xdist's default, or ``loadgroup``) the scheduler below sends
whole *units* to the workers:

* all tests of one ``xdist_group`` mark form one unit and run on one worker, in collection
  order (``utest/engine`` groups its tests: one Docker Engine, not one per worker);
* every test that uses a module-, class- or package-scoped fixture of the project (a
  simulator, a moto server, a set of kit runs started together) is grouped with its module,
  so that fixture starts once instead of once per worker that draws one of its tests;
* every other test is a unit of its own.

Units go out heaviest first (a ``slow`` test weighs ``SLOW_WEIGHT``, any other test 1), so the
long runs start at once and the short ones fill the gaps at the end, instead of a long run
drawn last keeping the whole check waiting.

Why not xdist's own ``loadgroup``: it passes the group by editing each test's id, which
pytest 9.2 no longer lets it do, and then groups nothing without a word (pytest-xdist issue
1386). Here the workers, which collect the tests, write each test's unit and weight to a file
that the controller's scheduler reads before it hands out the first unit.

A module's tests may depend on each other's effects on its shared simulator (``utest/sim_cli``
checks the AWS side after the scenario), so grouping is needed for the results, not only for
speed. A serial run (plain ``pytest utest``, or ``-p no:xdist``) ignores all of this.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

UTEST = Path(__file__).resolve().parent
SHARED_SCOPES = frozenset({"module", "package", "class"})
SLOW_WEIGHT = 20
PLAN_DIR_KEY = "sockerless_kit_plan_dir"
PLAN_DIR = pytest.StashKey[Path]()


def shares_a_fixture(item: pytest.Item) -> bool:
    """True when the test uses a module-, class- or package-scoped fixture defined under utest."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    for name in info.names_closure:
        for definition in info.name2fixturedefs.get(name) or ():
            code = getattr(definition.func, "__code__", None)
            if code is None or definition.scope not in SHARED_SCOPES:
                continue
            if UTEST in Path(code.co_filename).resolve().parents:
                return True
    return False


def unit_of(item: pytest.Item) -> str:
    """The unit a test is scheduled in: its group, its module, or the test itself."""
    names = sorted(
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    )
    if names:
        return "group:" + "+".join(names)
    if shares_a_fixture(item):
        return "module:" + item.path.relative_to(UTEST).as_posix()
    return item.nodeid


def weight_of(item: pytest.Item) -> int:
    return SLOW_WEIGHT if item.get_closest_marker("slow") is not None else 1


def plan(items: Iterable[pytest.Item]) -> dict[str, Any]:
    """Each test's unit and weight, keyed by test id."""
    return {
        "units": {item.nodeid: unit_of(item) for item in items},
        "weights": {item.nodeid: weight_of(item) for item in items},
    }


# --- the controller ------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.stash[PLAN_DIR] = Path(tempfile.mkdtemp(prefix="kit-xdist-plan-"))


def pytest_unconfigure(config: pytest.Config) -> None:
    plan_dir = config.stash.get(PLAN_DIR, None)
    if plan_dir is not None:
        shutil.rmtree(plan_dir, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Tell each worker where to write the plan of the tests it collected."""
    node.workerinput[PLAN_DIR_KEY] = str(node.config.stash[PLAN_DIR])


class UnitScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's scope scheduler with the units and the heaviest-first order above."""

    def __init__(self, config: pytest.Config, log: Any) -> None:
        super().__init__(config, log)
        self._plan: dict[str, Any] | None = None
        self._ordered = False

    def _load_plan(self) -> dict[str, Any]:
        if self._plan is None:
            written = sorted(self.config.stash[PLAN_DIR].glob("*.json"))
            if not written:
                sys.stderr.write(
                    "utest/conftest.py: no worker wrote its test plan; every test is a unit "
                    "of its own (module fixtures may start once per worker)\n"
                )
                self._plan = {"units": {}, "weights": {}}
            else:
                self._plan = json.loads(written[0].read_text())
        return self._plan

    def _split_scope(self, nodeid: str) -> str:
        return str(self._load_plan()["units"].get(nodeid, nodeid))

    def _assign_work_unit(self, node: Any) -> None:
        if not self._ordered:  # the first call comes right after the queue was built
            self._ordered = True
            weights = self._load_plan()["weights"]
            units = sorted(
                self.workqueue.items(),
                key=lambda unit: -sum(weights.get(nodeid, 1) for nodeid in unit[1]),
            )
            self.workqueue.clear()
            self.workqueue.update(units)
        super()._assign_work_unit(node)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> UnitScheduling | None:
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None  # --dist loadfile, loadscope, worksteal, each: xdist's own
    return UnitScheduling(config, log)


# --- a worker ------------------------------------------------------------------------------


@pytest.hookimpl(trylast=True)  # after deselection (-k, -m) and the marks of other hooks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None or PLAN_DIR_KEY not in workerinput:
        return
    target = Path(workerinput[PLAN_DIR_KEY]) / f"{workerinput['workerid']}.json"
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps(plan(items)))
    partial.replace(target)  # the controller never reads half a plan
