"""A cost guard: a per-run budget of Fargate tasks, checked before a create reaches the daemon.

What counts. sockerless launches one Fargate task per container, when the container is started,
so every create the library sends counts as one task, whether or not the test then starts the
container. A create is counted *before* anything else happens: one beyond the budget fails
with `TaskBudgetExhausted`, no request reaches the daemon (not even a connection is made, nor
the embedded simulator started). A counted create gives its slot back only when nothing can
come of it:

* the library refused to send it (``ConfigurationError``, e.g. a bad argument), or
* the daemon answered an error status (4xx/5xx), so the library has no container ID to start.

Every other outcome keeps its slot: a container ID came back, or no answer came (the daemon
could not be reached, a read timeout, a dropped connection, Ctrl-C), when the daemon may have
made the container anyway.
Giving a slot back cannot let the run go beyond its budget: the count only ever covers
reservations that may still become containers, and it is changed under the same lock as the
check. What it can do is deny a create that, a moment later, would have fitted: a create in
flight holds its slot until its answer, and another process that needs a slot meanwhile is
denied even if that answer turns out to be a refusal. The guard errs on the side of fewer tasks.
A container started twice launches two tasks; the suites never do that, the guard does not
count it.

Who shares a budget. One budget per *run*, whose processes may be several:

1. ``SOCKERLESS_KIT_BUDGET_ID``: every process with the same value shares one budget
   (``python3 tasks.py pabot`` sets a new one for each run).
2. Under pabot (the Robot variable ``${PABOTLIBURI}`` is set): the processes agree on a budget id
   through PabotLib, pabot's server for values shared by the processes of one run: the first
   one to ask makes a new id, under a PabotLib lock, and the others read it. pabot passes no
   other value that is the same for all processes of a run and new for the next run
   (``CALLER_ID`` is per process, ``PABOTEXECUTIONPOOLID`` a reused slot number). When PabotLib
   cannot be reached (``--no-pabotlib``; pabot < 5 without ``--pabotlib``) the budget counts
   per process and a warning says so.
3. Otherwise the process is the run: its budget id is its run id, or a new id when
   ``SOCKERLESS_KIT_RUN_ID`` is set (a fixed run id may be reused by the next run; a budget must
   not be).

The run id itself (container labels, journal, sweeps) stays per process: a run id shared by
parallel processes would let one process's suite sweep remove the containers another process's
tests are still using.

Locking. The count lives in ``<journal dir>/<budget id>.budget``: one JSON line per event
(``reserved``, ``given_back``, ``denied``), each written with a single ``write`` to a file opened
with ``O_APPEND``. Check-and-reserve runs under an exclusive ``fcntl.flock`` of that file, so
of N processes racing for the last slots exactly as many win as there are slots. The lock
belongs to the open file: closing it, or the death of the process (even by SIGKILL), releases
it. Waiting for it is bounded (``LOCK_TIMEOUT_SECONDS``); a lock that cannot be had fails the
create with a message that says so. A torn last line (a process killed mid-write) is skipped:
a torn ``reserved`` line was never followed by a request, a torn ``given_back`` line keeps its
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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError
from robot.libraries.Remote import Remote

from .aws.journal import journal_directory, json_lines, new_run_id, utc_now, validate_run_id
from .errors import ConfigurationError, DaemonResponseError, SockerlessError

BUDGET_ENV = "SOCKERLESS_KIT_TASK_BUDGET"
BUDGET_ID_ENV = "SOCKERLESS_KIT_BUDGET_ID"
BUDGET_VARIABLE = "FARGATE_TASK_BUDGET"
IMPORT_ARGUMENT = "task_budget"
UNLIMITED_WORDS = frozenset({"unlimited", "none"})
LOCK_TIMEOUT_SECONDS = 10.0
PABOTLIB_TIMEOUT_SECONDS = 10.0
PABOTLIB_CALL_TIMEOUT_SECONDS = 5.0
PABOTLIB_KEY = "sockerless-kit.budget-id"
MAX_LEDGER_BYTES = 4 * 1024 * 1024

RESERVED = "reserved"
GIVEN_BACK = "given_back"
DENIED = "denied"

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

    def __init__(self, message: str, *, budget_id: str, budget: int, used: int) -> None:
        super().__init__(message)
        self.budget_id = budget_id
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
        "(0 or more), or 'unlimited'"
    )


@dataclass(frozen=True)
class BudgetSetting:
    """The budget (``None``: unlimited) and where it came from."""

    limit: int | None
    source: str


def _given(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def budget_setting(import_value: object, env: Mapping[str, str]) -> BudgetSetting:
    """The import argument, else ``SOCKERLESS_KIT_TASK_BUDGET``, else no budget."""
    if _given(import_value):
        source = (
            f"the {IMPORT_ARGUMENT} import argument (in the suites {BUDGET_VARIABLE}, "
            f"which defaults to {BUDGET_ENV})"
        )
        return BudgetSetting(parse_task_budget(import_value, source), source)
    configured = env.get(BUDGET_ENV, "")
    if configured.strip():
        return BudgetSetting(parse_task_budget(configured, BUDGET_ENV), BUDGET_ENV)
    return BudgetSetting(None, "no budget configured")


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
    """Which budget this process counts against (see the module's "Who shares a budget")."""
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


# --- pabot ------------------------------------------------------------------------------------


class PabotLibUnreachable(TaskBudgetError):
    """No PabotLib answers at ``${PABOTLIBURI}``."""


def agree_through_pabotlib(
    call: Callable[[str, list[Any]], Any],
    *,
    proposal: str,
    caller_id: str,
    timeout: float = PABOTLIB_TIMEOUT_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The budget id of this pabot run: the first process to ask stores ``proposal``.

    ``call(keyword, args)`` runs a PabotLib keyword (``acquire_lock``, ``release_lock``,
    ``get_parallel_value_for_key``, ``set_parallel_value_for_key``) and raises
    ``PabotLibUnreachable`` when no PabotLib answers.
    """
    deadline = clock() + timeout
    delay = 0.02
    while not call("acquire_lock", [PABOTLIB_KEY, caller_id]):
        if clock() >= deadline:
            raise TaskBudgetError(
                f"Could not take PabotLib's lock '{PABOTLIB_KEY}' within {timeout:g} s to agree "
                "on this pabot run's Fargate task budget: another process holds it (a process "
                f"killed while holding it never gives it back); set {BUDGET_ID_ENV} to a new "
                "value for the run instead"
            )
        sleep(delay)
        delay = min(delay * 2, 0.2)
    try:
        agreed = str(call("get_parallel_value_for_key", [PABOTLIB_KEY]) or "")
        if not agreed:
            agreed = proposal
            call("set_parallel_value_for_key", [PABOTLIB_KEY, agreed])
    finally:
        call("release_lock", [PABOTLIB_KEY, caller_id])
    try:
        return validate_run_id(agreed)
    except ValueError as error:
        raise TaskBudgetError(f"PabotLib's '{PABOTLIB_KEY}': {error}") from None


def pabotlib_caller(uri: str) -> Callable[[str, list[Any]], Any]:
    """``call(keyword, args)`` on the PabotLib at ``uri`` (``host:port``), each call bounded."""
    # Robot's Remote library is untyped: reach it through Any.
    remote: Any = Remote(  # type: ignore[no-untyped-call]
        uri if "://" in uri else f"http://{uri}", timeout=PABOTLIB_CALL_TIMEOUT_SECONDS
    )

    def call(name: str, args: list[Any]) -> Any:
        try:
            return remote.run_keyword(name, args, {})
        except (RuntimeError, TypeError, OSError) as error:
            raise PabotLibUnreachable(f"PabotLib at {uri} did not answer {name}: {error}") from None

    return call


def robot_variable(name: str) -> Any:
    """A Robot variable's value; ``None`` when it is not set or Robot is not running."""
    try:
        return BuiltIn().get_variable_value(name)
    except RobotNotRunningError:
        return None


def robot_warning(message: str) -> None:
    """A warning in the Robot log (and on the console)."""
    logger.warn(message)


def pabot_budget_id(
    variable: Callable[[str], Any] = robot_variable, log: Log = robot_warning
) -> str | None:
    """The budget id the processes of this pabot run share; ``None`` outside pabot.

    ``variable(name)`` reads a Robot variable (``None`` when unset or when Robot is not running).
    """
    uri = variable("${PABOTLIBURI}")
    if not uri:
        return None
    caller_id = str(variable("${CALLER_ID}") or uuid.uuid4().hex)
    proposal = "pabot-" + new_run_id()
    try:
        agreed = agree_through_pabotlib(
            pabotlib_caller(str(uri)), proposal=proposal, caller_id=caller_id
        )
    except PabotLibUnreachable as error:
        log(
            f"{error}. The Fargate task budget counts for this process only; set "
            f"{BUDGET_ID_ENV} to one new value for all processes of the run to share it"
        )
        return None
    return agreed


# --- the ledger -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetState:
    """What the ledger holds: creates counted, given back and denied, and the last budget."""

    used: int = 0
    given_back: int = 0
    denied: int = 0
    budget: int | None = None


def ledger_state(text: str) -> BudgetState:
    """Count the events of a ledger (torn or foreign lines skipped)."""
    reserved: set[str] = set()
    returned: set[str] = set()
    denied = 0
    budget: int | None = None
    for record in json_lines(text):
        event, slot = record.get("event"), str(record.get("slot", ""))
        if isinstance(record.get("budget"), int):
            budget = record["budget"]
        if event == RESERVED and slot:
            reserved.add(slot)
        elif event == GIVEN_BACK and slot:
            returned.add(slot)
        elif event == DENIED:
            denied += 1
    given_back = len(returned & reserved)
    return BudgetState(len(reserved) - given_back, given_back, denied, budget)


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
            if state.used >= budget:
                self._append(
                    descriptor, {"event": DENIED, "budget": budget, "used": state.used, **details}
                )
                raise TaskBudgetExhausted(
                    "",  # the caller words the message: it knows the scope and the settings
                    budget_id=self.budget_id,
                    budget=budget,
                    used=state.used,
                )
            slot = uuid.uuid4().hex
            self._append(descriptor, {"event": RESERVED, "slot": slot, "budget": budget, **details})
            return slot, state.used + 1

    def give_back(self, slot: str, reason: str) -> None:
        """Uncount the create of ``slot`` (a second give-back of the same slot changes nothing)."""
        with self._locked(exclusive=True) as descriptor:
            self._append(descriptor, {"event": GIVEN_BACK, "slot": slot, "reason": reason})

    def state(self) -> BudgetState:
        """The counts, read under a shared lock (a missing file: nothing counted)."""
        if not self.path.exists():
            return BudgetState()
        with self._locked(exclusive=False) as descriptor:
            return ledger_state(self._read(descriptor))

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

    def _read(self, descriptor: int) -> str:
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
        return b"".join(chunks).decode("utf-8", errors="replace")

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
    returned: bool = field(default=False)

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


class TaskBudget:
    """The budget of this process's run: checked by `Create Container` before it sends."""

    def __init__(
        self,
        setting: BudgetSetting,
        scope: BudgetScope,
        directory: Path,
        run_id: str,
        log: Log,
    ) -> None:
        self.setting = setting
        self.scope = scope
        self.run_id = run_id
        self.ledger = BudgetLedger(directory, scope.budget_id)
        self._log = log

    @property
    def limit(self) -> int | None:
        """The budget, ``None`` when unlimited."""
        return self.setting.limit

    def reserve(self) -> BudgetSlot:
        """Count one create, or raise `TaskBudgetExhausted` (before anything is sent)."""
        limit = self.setting.limit
        if limit is None:
            return BudgetSlot(None, "", self._log)
        details = {"pid": os.getpid(), "run_id": self.run_id}
        try:
            slot, used = self.ledger.reserve(limit, details)
        except TaskBudgetExhausted as full:
            raise TaskBudgetExhausted(
                self.exhausted_message(full.used, limit),
                budget_id=full.budget_id,
                budget=limit,
                used=full.used,
            ) from None
        self._log(f"Fargate task budget: create {used} of {limit} ({self.scope.describe()})")
        return BudgetSlot(self.ledger, slot, self._log)

    def exhausted_message(self, used: int, limit: int) -> str:
        """The failure of a create beyond the budget."""
        return (
            f"Fargate task budget exhausted: this run ({self.scope.describe()}) already "
            f"created {used} container{'' if used == 1 else 's'} of its budget of {limit}; "
            f"raise {BUDGET_VARIABLE} (or {BUDGET_ENV}) if the suite really needs more "
            "(nothing was sent to the daemon)"
        )

    def summary(self) -> dict[str, Any]:
        """What `Get Fargate Task Budget` returns."""
        limit = self.setting.limit
        state = self.ledger.state() if limit is not None else BudgetState()
        return {
            "budget": limit,
            "used": state.used if limit is not None else None,
            "remaining": max(0, limit - state.used) if limit is not None else None,
            "denied": state.denied,
            "given_back": state.given_back,
            "budget_id": self.scope.budget_id,
            "shared_by": self.scope.shared_by,
            "source": self.setting.source,
            "description": describe(limit, state, self.scope),
        }


def open_task_budget(
    import_value: object,
    env: Mapping[str, str],
    run_id: str,
    *,
    run_id_generated: bool,
    log: Log,
    pabot: Callable[[], str | None] = pabot_budget_id,
) -> TaskBudget:
    """The budget from the settings, counted under the id this process shares with its run.

    Without a budget nothing is counted, so no id is agreed with other processes either.
    """
    setting = budget_setting(import_value, env)
    scope = budget_scope(
        env,
        run_id,
        run_id_generated=run_id_generated,
        pabot_budget_id=pabot if setting.limit is not None else lambda: None,
    )
    return TaskBudget(setting, scope, journal_directory(env), run_id, log)


def describe(limit: int | None, state: BudgetState, scope: BudgetScope | None) -> str:
    """``2 of 2 used, 2 creates denied (budget id X, ...)``; ``unlimited`` without a budget."""
    if limit is None:
        return "unlimited (creates are not counted)"
    denied = (
        f", {state.denied} create{'' if state.denied == 1 else 's'} denied" if state.denied else ""
    )
    where = f" ({scope.describe()})" if scope is not None else ""
    return f"{state.used} of {limit} used{denied}{where}"


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
    print(
        json.dumps(
            {
                "budget_id": ledger.budget_id,
                "budget": state.budget,
                "used": state.used,
                "given_back": state.given_back,
                "denied": state.denied,
                "description": describe(state.budget, state, scope)
                if state.budget is not None
                else "no create was counted",
            },
            sort_keys=True,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
