"""A cost guard: a per-run budget of Fargate tasks, checked before a create reaches the daemon
(``docs/running.md``, "The cost guard"; shared by a run's pabot processes).

Every create the library sends counts as one task, *before* anything is sent: one beyond the
budget fails with `TaskBudgetExhausted` and no request, connection or simulator start follows. A
counted create gives its slot back only when nothing can come of it
(``BudgetSlot.settle_failed_create``). Giving back cannot let a run go beyond its budget (the
count covers reservations that may still become containers, changed under the lock of the
check); a create in flight may deny another that would have fitted a moment later: the guard
errs on the side of fewer tasks.

How big and whose: the library's "Fargate task budget" section (``budget_setting``,
``budget_scope``).

The count lives in ``<journal dir>/<budget id>.budget``: one JSON line per event, each a single
``write`` with ``O_APPEND``; check-and-reserve holds an exclusive ``flock`` (released when the
file closes or the process dies), waited for at most ``LOCK_TIMEOUT_SECONDS``. A torn last line
is skipped: a torn ``reserved`` was never followed by a request, a torn ``given_back`` keeps its
slot counted.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .declarations import DEFAULT_TASKS_PER_TEST, TAG_PREFIX, TaskDeclarations
from .errors import ConfigurationError, DaemonResponseError, SockerlessError
from .journal import journal_directory, json_lines, new_run_id, utc_now, validate_run_id

BUDGET_ENV = "SOCKERLESS_KIT_TASK_BUDGET"
BUDGET_ID_ENV = "SOCKERLESS_KIT_BUDGET_ID"
BUDGET_VARIABLE = "FARGATE_TASK_BUDGET"
IMPORT_ARGUMENT = "task_budget"
UNLIMITED_WORDS = frozenset({"unlimited", "none"})
AUTO = "auto"
LOCK_TIMEOUT_SECONDS = 10.0
MAX_LEDGER_BYTES = 4 * 1024 * 1024

RESERVED = "reserved"
GIVEN_BACK = "given_back"
DENIED = "denied"
DECLARED = "declared"

SHARED_BY_PROCESS = "process"
SHARED_BY_PABOT = "pabot"
SHARED_BY_ENVIRONMENT = "environment"

Log = Callable[[str], None]


class TaskBudgetError(SockerlessError):
    """The budget is misconfigured, or its file cannot be locked or read."""

    ROBOT_SUPPRESS_NAME = True


class InvalidTaskBudget(TaskBudgetError, ValueError):
    """A budget value that is not a whole number >= 0 nor ``unlimited``."""


class TaskBudgetExhausted(TaskBudgetError):
    """A create would launch a task beyond the budget; nothing was sent to the daemon."""

    def __init__(self, message: str, *, budget: int, used: int) -> None:
        super().__init__(message)
        self.budget = budget
        self.used = used


def parse_task_budget(value: object, source: str) -> int | None:
    """A budget: a whole number of tasks >= 0, or ``None`` for ``unlimited`` (or ``none``)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in UNLIMITED_WORDS:
            return None
        if text.isascii() and text.isdigit():
            return int(text)
    raise InvalidTaskBudget(
        f"Invalid Fargate task budget {value!r} from {source}: use a whole number of tasks "
        f"(0 or more), '{AUTO}' (what the selected tests declare) or 'unlimited'"
    )


@dataclass(frozen=True)
class BudgetSetting:
    """The budget (``None``: unlimited, or ``auto``) and where it came from.

    ``auto``: the budget is the sum of what the selected tests declare (``fargate-tasks:N``).
    """

    limit: int | None
    source: str
    auto: bool = False


AUTO_SOURCE = "the selected tests' fargate-tasks tags"


def _given(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def budget_setting(import_value: object, env: Mapping[str, str]) -> BudgetSetting:
    """The import argument, else ``SOCKERLESS_KIT_TASK_BUDGET``, else ``auto``."""
    value = import_value
    source = (
        f"the {IMPORT_ARGUMENT} import argument (in the suites {BUDGET_VARIABLE}, "
        f"which defaults to {BUDGET_ENV})"
    )
    if not _given(value):
        value, source = env.get(BUDGET_ENV, ""), BUDGET_ENV
    if not _given(value) or (isinstance(value, str) and value.strip().lower() == AUTO):
        return BudgetSetting(None, AUTO_SOURCE, auto=True)
    return BudgetSetting(parse_task_budget(value, source), source)


@dataclass(frozen=True)
class BudgetScope:
    """The id a budget is counted under, and which processes share it."""

    budget_id: str
    shared_by: str  # SHARED_BY_PROCESS, SHARED_BY_PABOT or SHARED_BY_ENVIRONMENT

    def describe(self) -> str:
        """``budget id X, shared by ...`` for messages and metadata."""
        sharing = {
            SHARED_BY_PABOT: ", shared by the run's pabot processes",
            SHARED_BY_ENVIRONMENT: f", shared through {BUDGET_ID_ENV}",
        }.get(self.shared_by, "")
        return f"budget id {self.budget_id}{sharing}"


def budget_scope(
    env: Mapping[str, str],
    run_id: str,
    *,
    run_id_generated: bool,
    pabot_budget_id: Callable[[], str | None],
) -> BudgetScope:
    """Which budget this process counts against: ``SOCKERLESS_KIT_BUDGET_ID``, else the id the
    pabot processes agree on, else this process's run id (a new id when ``SOCKERLESS_KIT_RUN_ID``
    fixes it: a budget must not be reused). The run id of labels and sweeps stays per process,
    so no process sweeps another's containers."""
    configured = env.get(BUDGET_ID_ENV, "").strip()
    if configured:
        try:
            return BudgetScope(validate_run_id(configured), SHARED_BY_ENVIRONMENT)
        except ValueError as error:
            raise TaskBudgetError(f"{BUDGET_ID_ENV}: {error}") from None
    shared = pabot_budget_id()
    if shared is not None:
        return BudgetScope(shared, SHARED_BY_PABOT)
    return BudgetScope(run_id if run_id_generated else new_run_id(), SHARED_BY_PROCESS)


# --- the ledger -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetState:
    """What the ledger holds: creates counted, given back and denied, the last explicit budget,
    and what the processes of an ``auto`` budget declared (``declared_by`` processes in all)."""

    used: int = 0
    given_back: int = 0
    denied: int = 0
    budget: int | None = None
    declared: int = 0
    declared_by: int = 0
    not_enforced: str | None = None  # why the processes did not enforce an auto budget


def ledger_state(records: Iterable[Mapping[str, Any]]) -> BudgetState:
    """Count the events of a ledger's records (its readable lines)."""
    reserved: set[str] = set()
    returned: set[str] = set()
    denied = 0
    budget: int | None = None
    declared: dict[str, int] = {}
    not_enforced: str | None = None
    for record in records:
        event, slot = record.get("event"), str(record.get("slot", ""))
        if isinstance(record.get("budget"), int):
            budget = record["budget"]
        if event == RESERVED and slot:
            reserved.add(slot)
        elif event == GIVEN_BACK and slot:
            returned.add(slot)
        elif event == DENIED:
            denied += 1
        elif event == DECLARED and isinstance(record.get("need"), int):
            declared[str(record.get("run_id", ""))] = record["need"]
            reason = record.get("not_enforced")
            not_enforced = reason if isinstance(reason, str) and reason else None
    given_back = len(returned & reserved)
    return BudgetState(
        len(reserved) - given_back,
        given_back,
        denied,
        budget,
        sum(declared.values()),
        len(declared),
        not_enforced,
    )


class BudgetLedger:
    """The budget file of one budget id; every access holds its ``flock`` for a bounded wait."""

    def __init__(
        self, directory: Path, budget_id: str, lock_timeout: float = LOCK_TIMEOUT_SECONDS
    ) -> None:
        self.directory = directory
        self.budget_id = validate_run_id(budget_id)
        self.lock_timeout = lock_timeout

    @property
    def path(self) -> Path:
        """``<directory>/<budget id>.budget`` (not ``.jsonl``: the sweeper reads those)."""
        return self.directory / f"{self.budget_id}.budget"

    def reserve(self, budget: int, details: Mapping[str, Any]) -> tuple[str, int]:
        """Count one create; returns ``(slot, used)``. Raises `TaskBudgetExhausted` when full."""
        with self._locked(exclusive=True) as descriptor:
            state = ledger_state(self._read(descriptor))
            return self._reserve(descriptor, state, budget, {"budget": budget, **details})

    def reserve_declared(
        self, details: Mapping[str, Any], *, enforce: bool
    ) -> tuple[str, int, int]:
        """Count one create of an ``auto`` budget, whose size is the sum the processes declared;
        returns ``(slot, used, declared)``. When ``enforce``, raises `TaskBudgetExhausted`
        once that sum is used up; otherwise the create is only counted."""
        with self._locked(exclusive=True) as descriptor:
            state = ledger_state(self._read(descriptor))
            limit = state.declared if enforce else None
            slot, used = self._reserve(descriptor, state, limit, {"auto": True, **details})
            return slot, used, state.declared

    def _reserve(
        self, descriptor: int, state: BudgetState, limit: int | None, record: Mapping[str, Any]
    ) -> tuple[str, int]:
        if limit is not None and state.used >= limit:
            self._append(descriptor, {**record, "event": DENIED, "used": state.used})
            # The caller words the message: it knows the scope and the settings.
            raise TaskBudgetExhausted("", budget=limit, used=state.used)
        slot = uuid.uuid4().hex
        self._append(descriptor, {**record, "event": RESERVED, "slot": slot})
        return slot, state.used + 1

    def declare(self, run_id: str, need: int, details: Mapping[str, Any]) -> BudgetState:
        """Add what one process's selected tests declare to an ``auto`` budget (once per run id);
        returns the state with it."""
        with self._locked(exclusive=True) as descriptor:
            records = self._read(descriptor)
            if not any(r.get("event") == DECLARED and r.get("run_id") == run_id for r in records):
                record = {"event": DECLARED, "run_id": run_id, "need": need, **details}
                self._append(descriptor, record)
                records.append(record)
            return ledger_state(records)

    def give_back(self, slot: str, reason: str) -> None:
        """Uncount the create of ``slot`` (a second give-back of the same slot changes nothing)."""
        with self._locked(exclusive=True) as descriptor:
            self._append(descriptor, {"event": GIVEN_BACK, "slot": slot, "reason": reason})

    def state(self) -> BudgetState:
        """The counts, read under a shared lock (a missing file: nothing counted)."""
        return ledger_state(self.records())

    def append(self, record: Mapping[str, Any]) -> None:
        """Add one record of the run's processes (``run/group.py``: usage, accounts); the budget's
        counts ignore events they do not know."""
        with self._locked(exclusive=True) as descriptor:
            self._append(descriptor, record)

    def records(self) -> list[dict[str, Any]]:
        """Every readable record (a missing file: none)."""
        if not self.path.exists():
            return []
        with self._locked(exclusive=False) as descriptor:
            return self._read(descriptor)

    @contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[int]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as error:
            raise TaskBudgetError(
                f"Could not open the Fargate task budget file {self.path}: {error}"
            ) from None
        try:
            self._lock(descriptor, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield descriptor
        finally:
            os.close(descriptor)  # releases the lock

    def _lock(self, descriptor: int, operation: int) -> None:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.002
        while True:
            try:
                fcntl.flock(descriptor, operation | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TaskBudgetError(
                        f"Could not lock the Fargate task budget file {self.path} within "
                        f"{self.lock_timeout:g} s: another process holds it and does not let "
                        "go (a stopped process, or a file system without working locks; a "
                        "process that dies releases it)"
                    ) from None
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, 0.05)
            except OSError as error:
                raise TaskBudgetError(
                    f"Could not lock the Fargate task budget file {self.path}: {error}"
                ) from None

    def _read(self, descriptor: int) -> list[dict[str, Any]]:
        """The readable records (torn or foreign lines skipped)."""
        size = os.fstat(descriptor).st_size
        if size > MAX_LEDGER_BYTES:
            raise TaskBudgetError(
                f"The Fargate task budget file {self.path} is {size} bytes, more than a budget "
                f"ever writes ({MAX_LEDGER_BYTES}): start the run with a new {BUDGET_ID_ENV}"
            )
        chunks: list[bytes] = []
        offset = 0
        while offset < size:
            chunk = os.pread(descriptor, size - offset, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
        return list(json_lines(b"".join(chunks).decode("utf-8", errors="replace")))

    def _append(self, descriptor: int, record: Mapping[str, Any]) -> None:
        line = json.dumps({**record, "time": utc_now()}, sort_keys=True) + "\n"
        os.write(descriptor, line.encode())


# --- what the library uses --------------------------------------------------------------------


@dataclass
class BudgetSlot:
    """One counted create; `give_back` when the daemon refused it or it was never sent."""

    ledger: BudgetLedger | None
    slot: str
    log: Log
    returned: bool = False

    def settle_failed_create(self, error: Exception) -> None:
        """Give the slot back when the failed create cannot have made a container to start.

        That is a create never sent (``ConfigurationError``) or one the daemon refused with an
        error status. An unexpected success status (a container was made) keeps the slot.
        """
        if isinstance(error, ConfigurationError):
            self.give_back("the create was never sent")
        elif isinstance(error, DaemonResponseError) and error.status >= 400:
            self.give_back(f"the daemon refused the create: HTTP {error.status}")

    def give_back(self, reason: str) -> None:
        """Uncount this create. Never raises: a slot that cannot be given back stays counted."""
        if self.ledger is None or self.returned:
            return
        self.returned = True
        try:
            self.ledger.give_back(self.slot, reason)
        except (TaskBudgetError, OSError) as error:
            self.log(f"The create stays counted in the Fargate task budget: {error}")
            return
        self.log(f"Fargate task budget: the create was given back ({reason})")


@dataclass(frozen=True)
class AutoBudget:
    """What an ``auto`` budget needs besides the setting: the selected tests' declarations
    (``None`` when no Robot run told the library which tests run) and, asked once at the first
    create, why the budget is not enforced on the target (``None``: enforced)."""

    declarations: Callable[[], TaskDeclarations | None] = lambda: None
    not_enforced_because: Callable[[], str | None] = lambda: None


class TaskBudget:
    """The budget of this process's run: checked by `Create Container` before it sends."""

    def __init__(  # noqa: PLR0917 - the budget's parts, all required
        self,
        setting: BudgetSetting,
        scope: BudgetScope,
        directory: Path,
        run_id: str,
        log: Log,
        auto: AutoBudget | None = None,
        warn: Log | None = None,
    ) -> None:
        self.setting = setting
        self.scope = scope
        self.run_id = run_id
        self.ledger = BudgetLedger(directory, scope.budget_id)
        self._log = log
        self._warn = warn or log
        self._auto = auto or AutoBudget()
        self._not_enforced: str | None = None
        self._decided = False
        self._creates_by_test: dict[str, int] = {}

    def reserve(self, scope: str = "") -> BudgetSlot:
        """Count one create made in ``scope`` (the registry's scope key), or raise
        `TaskBudgetExhausted` (before anything is sent)."""
        details = {"pid": os.getpid(), "run_id": self.run_id}
        limit = self.setting.limit
        try:
            if self.setting.auto:
                return self._reserve_auto(scope, details)
            if limit is None:
                return BudgetSlot(None, "", self._log)
            slot, used = self.ledger.reserve(limit, details)
        except TaskBudgetExhausted as full:
            message = self.exhausted_message(full.used, full.budget)
            raise TaskBudgetExhausted(message, budget=full.budget, used=full.used) from None
        self._log(f"Fargate task budget: create {used} of {limit} ({self.scope.describe()})")
        return BudgetSlot(self.ledger, slot, self._log)

    def _reserve_auto(self, scope: str, details: dict[str, Any]) -> BudgetSlot:
        declarations = self._auto.declarations()
        if declarations is None:
            return BudgetSlot(None, "", self._log)
        self._declare(declarations)
        enforce = self._not_enforced is None
        slot, used, declared = self.ledger.reserve_declared(details, enforce=enforce)
        how = "" if enforce else f"; not enforced: {self._not_enforced}"
        self._log(
            f"Fargate task budget: create {used}, {declared} declared by the selected tests "
            f"({self.scope.describe()}{how})"
        )
        self._note_test_create(scope, declarations)
        return BudgetSlot(self.ledger, slot, self._log)

    def _declare(self, declarations: TaskDeclarations) -> None:
        """Refuse declarations with a bad tag; once: decide whether the budget is enforced, and add
        this process's declaration."""
        declarations.check()
        if self._decided:
            return
        self._not_enforced = self._auto.not_enforced_because()
        self._decided = True
        self.ledger.declare(
            self.run_id,
            declarations.total,
            {"tests": len(declarations.needs), "not_enforced": self._not_enforced},
        )
        self._log(
            f"Fargate task budget: {declarations.describe()}; "
            + (
                "enforced against this target"
                if self._not_enforced is None
                else f"counted and reported, not enforced: {self._not_enforced}"
            )
        )

    def _note_test_create(self, scope: str, declarations: TaskDeclarations) -> None:
        """Warn once when a test creates more than it declares: the run may pass here and then
        fail against a real target, where the budget counts on that declaration."""
        if not scope.startswith("test:"):
            return
        test = scope.removeprefix("test:")
        count = self._creates_by_test[test] = self._creates_by_test.get(test, 0) + 1
        need = declarations.needs.get(test)
        if need is not None and count == need + 1:
            how = (
                f"declares {TAG_PREFIX}{need}"
                if test not in declarations.undeclared
                else f"has no {TAG_PREFIX}N tag (counted as {need})"
            )
            self._warn(
                f"Test '{test}' created {count} containers but {how}: against a real target "
                f"the run's Fargate task budget counts on the declarations; tag the test "
                f"{TAG_PREFIX}N with the number of containers it creates"
            )

    def exhausted_message(self, used: int, limit: int) -> str:
        """The failure of a create beyond the budget."""
        containers = f"{used} container{'' if used == 1 else 's'}"
        if self.setting.auto:
            return (
                f"Fargate task budget exhausted: this run ({self.scope.describe()}) already "
                f"created {containers}, all that its selected tests declare ({limit}; "
                f"{TAG_PREFIX}N tags, {DEFAULT_TASKS_PER_TEST} for a test without one); tag "
                f"the test that creates more {TAG_PREFIX}N, or set {BUDGET_VARIABLE} (or "
                f"{BUDGET_ENV}) (nothing was sent to the daemon)"
            )
        return (
            f"Fargate task budget exhausted: this run ({self.scope.describe()}) already "
            f"created {containers} of its budget of {limit}; "
            f"raise {BUDGET_VARIABLE} (or {BUDGET_ENV}) if the suite really needs more "
            "(nothing was sent to the daemon)"
        )

    def summary(self) -> dict[str, Any]:
        """What `Get Fargate Task Budget` returns."""
        limit = self.setting.limit
        if not self.setting.auto:
            state = self.ledger.state() if limit is not None else BudgetState()
            enforced = limit is not None
            description = describe(limit, state, self.scope)
        elif (declarations := self._auto.declarations()) is not None:
            self._declare(declarations)
            state = self.ledger.state()
            limit = state.declared
            enforced = self._not_enforced is None
            description = describe_auto(state, self.scope, self._not_enforced)
        else:
            state, enforced = BudgetState(), False
            description = (
                "not counted: no Robot run told the library which tests run (their "
                f"{TAG_PREFIX}N tags size the budget)"
            )
        # ``None``: not counted (unlimited, or auto without the selected tests to size it).
        return {
            "budget": limit,
            "used": state.used if limit is not None else None,
            "remaining": max(0, limit - state.used) if limit is not None else None,
            "denied": state.denied,
            "given_back": state.given_back,
            "budget_id": self.scope.budget_id,
            "shared_by": self.scope.shared_by,
            "source": self.setting.source,
            "enforced": enforced,
            "description": description,
        }


def open_task_budget(
    import_value: object,
    env: Mapping[str, str],
    run_id: str,
    *,
    run_id_generated: bool,
    log: Log,
    pabot: Callable[[], str | None] = lambda: None,
    auto: AutoBudget | None = None,
    warn: Log | None = None,
) -> TaskBudget:
    """The budget from the settings, counted under the id this process shares with its run
    (``pabot``: the id the run's pabot processes agreed on, ``listeners.pabot.pabot_budget_id``).

    The id is agreed under pabot even when nothing is counted: the ledger also holds what each
    process of the run reports for the run's account (``run/group.py``).
    """
    setting = budget_setting(import_value, env)
    scope = budget_scope(env, run_id, run_id_generated=run_id_generated, pabot_budget_id=pabot)
    return TaskBudget(setting, scope, journal_directory(env), run_id, log, auto, warn)


def describe(limit: int | None, state: BudgetState, scope: BudgetScope) -> str:
    """``2 of 2 used, 2 creates denied (budget id X, ...)``; ``unlimited`` without a budget."""
    if limit is None:
        return "unlimited (creates are not counted)"
    return f"{state.used} of {limit} used{_denied(state)} ({scope.describe()})"


def describe_auto(state: BudgetState, scope: BudgetScope, not_enforced: str | None) -> str:
    """``3 of 4 used, declared by the selected tests (budget id X)``, or where it is only
    reported, ``5 used, 4 declared by the selected tests, not enforced: <why> (budget id X)``."""
    where = f" ({scope.describe()})"
    tests = "the selected tests" + (
        f" of {state.declared_by} processes" if state.declared_by > 1 else ""
    )
    if not_enforced is None:
        return f"{state.used} of {state.declared} used{_denied(state)}, declared by {tests}{where}"
    return (
        f"{state.used} used, {state.declared} declared by {tests}, not enforced: "
        f"{not_enforced}{where}"
    )


def _denied(state: BudgetState) -> str:
    return (
        f", {state.denied} create{'' if state.denied == 1 else 's'} denied" if state.denied else ""
    )


# --- command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m SockerlessLibrary.budget --budget-id ID``: print the budget's counts as JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m SockerlessLibrary.budget",
        description="Print how much of a Fargate task budget a run used (one JSON line).",
    )
    parser.add_argument("--budget-id", required=True, help=f"the run's {BUDGET_ID_ENV}")
    parser.add_argument(
        "--journal-dir",
        type=Path,
        help="the journal directory (default: $SOCKERLESS_KIT_JOURNAL_DIR, else ./.kit-journal)",
    )
    options = parser.parse_args(argv)
    directory = options.journal_dir or journal_directory(os.environ)
    try:
        ledger = BudgetLedger(directory, options.budget_id)
        state = ledger.state()
    except (ValueError, TaskBudgetError) as error:
        print(f"budget: {error}", file=sys.stderr)
        return 2
    scope = BudgetScope(ledger.budget_id, SHARED_BY_ENVIRONMENT)
    if state.declared_by:
        description = describe_auto(state, scope, state.not_enforced)
    elif state.budget is not None:
        description = describe(state.budget, state, scope)
    else:
        description = "no create was counted"
    print(
        json.dumps(
            {
                "budget_id": ledger.budget_id,
                "budget": state.declared if state.declared_by else state.budget,
                "used": state.used,
                "given_back": state.given_back,
                "denied": state.denied,
                "description": description,
            },
            sort_keys=True,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
