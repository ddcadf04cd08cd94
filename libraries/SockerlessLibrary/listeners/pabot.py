"""This process as one of a pabot run: the budget id the run's processes agree on through
PabotLib (``budget.budget_scope``), whether it is the one that reports the run's
totals, when the others have finished, and where pabot writes the merged output.

pabot merges the processes' outputs in the order of their directories (``pabot_results/0``,
``1``, ...) and, for each top-level metadata name, keeps the value of the last output that has
it: the process pabot starts last (``${PABOTISLASTEXECUTIONINPOOL}`` is 1 there, the process
PabotLib's own `Run On Last Process` uses). So that process waits, at its end, until every
process before it in the queue has finished, as PabotLib's `Run Teardown Only Once` does
(PabotLib's ``pabot_min_queue_index_executing`` is then its own ``${PABOTQUEUEINDEX}``), or
until each of them has put its last account in the run's ledger (it has nothing more to
report then, and need not be waited for while it writes its output and exits), and then writes
the totals of the whole run. Nothing is queued after it, so the wait costs no parallelism: pabot
waits for those processes before it merges anyway. The wait is bounded (``WAIT_SECONDS``), each
PabotLib call too, and it ends early when PabotLib stops answering or the run is being stopped.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError
from robot.libraries.Remote import Remote

from ..budget import BUDGET_ID_ENV, TaskBudgetError
from ..journal import new_run_id, validate_run_id

# Variables and the PabotLib key pabot sets (pabot.pabotlib's names, kept here as literals so
# that reading them needs no import of pabot's internals).
LIBURI = "${PABOTLIBURI}"
QUEUE_INDEX = "${PABOTQUEUEINDEX}"
LAST_IN_POOL = "${PABOTISLASTEXECUTIONINPOOL}"
SMALLEST_RUNNING_INDEX = "pabot_min_queue_index_executing"
PABOT_RESULTS_DIR = "pabot_results"
WAIT_SECONDS = 30 * 60.0
# As often as PabotLib's own lock waits ask (0.1 s): pabot's merge starts when this process ends.
POLL_SECONDS = 0.1

Call = Callable[[str, list[Any]], Any]
Log = Callable[[str], None]
PABOTLIB_TIMEOUT_SECONDS = 10.0
PABOTLIB_CALL_TIMEOUT_SECONDS = 5.0
PABOTLIB_KEY = "sockerless-kit.budget-id"


class PabotLibUnreachable(TaskBudgetError):
    """No PabotLib answers at ``${PABOTLIBURI}``."""


def agree_through_pabotlib(
    call: Call,
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


def pabotlib_caller(uri: str) -> Call:
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


def pabot_budget_id(
    variable: Callable[[str], Any] = robot_variable, log: Log = logger.warn
) -> str | None:
    """The budget id the processes of this pabot run share; ``None`` outside pabot.

    ``variable(name)`` reads a Robot variable (``None`` when unset or when Robot is not running).
    """
    uri = variable(LIBURI)
    if not uri:
        return None
    caller_id = str(variable("${CALLER_ID}") or uuid.uuid4().hex)
    proposal = "pabot-" + new_run_id()
    try:
        return agree_through_pabotlib(
            pabotlib_caller(str(uri)), proposal=proposal, caller_id=caller_id
        )
    except PabotLibUnreachable as error:
        log(
            f"{error}. The Fargate task budget counts for this process only; set "
            f"{BUDGET_ID_ENV} to one new value for all processes of the run to share it"
        )
        return None


@dataclass(frozen=True)
class PabotProcess:
    """How pabot started this process."""

    liburi: str
    queue_index: int
    last: bool


def pabot_process(variable: Callable[[str], Any] = robot_variable) -> PabotProcess | None:
    """This process's place in its pabot run; ``None`` outside pabot."""
    uri = variable(LIBURI)
    if not uri:
        return None
    try:
        index = int(variable(QUEUE_INDEX) or 0)
    except (TypeError, ValueError):
        index = 0
    return PabotProcess(str(uri), index, str(variable(LAST_IN_POOL) or "0") == "1")


def stop_requested() -> bool:
    """Whether Robot was asked to stop (Ctrl-C, SIGTERM): then nobody waits for anything."""
    try:
        from robot.running.signalhandler import STOP_SIGNAL_MONITOR  # noqa: PLC0415
    except ImportError:
        return False
    return bool(getattr(STOP_SIGNAL_MONITOR, "_signal_count", 0))


def wait_for_the_others(
    process: PabotProcess,
    call: Call | None = None,
    *,
    timeout: float = WAIT_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    stopping: Callable[[], bool] = stop_requested,
    reported: Callable[[], Collection[int]] | None = None,
) -> str | None:
    """Wait until every process before this one in pabot's queue has finished, or has reported:
    ``reported()`` gives the queue indexes of the processes whose last account is in the run's
    ledger (pass it only when the ledger is this pabot run's alone).

    Returns ``None`` when they have, else why the wait ended without it (the totals then
    cover the processes that had reported).
    """
    ask = call or pabotlib_caller(process.liburi)
    deadline = clock() + timeout
    before = set(range(process.queue_index))
    while True:
        if reported is not None and before <= set(reported()):
            return None
        try:
            answer = ask("get_parallel_value_for_key", [SMALLEST_RUNNING_INDEX])
            smallest = int(answer) if answer not in (None, "") else 0
        except PabotLibUnreachable as error:
            return f"{error}: the totals cover the processes that had reported"
        except (TypeError, ValueError):
            return (
                f"PabotLib's {SMALLEST_RUNNING_INDEX} is not a queue index ({answer!r}): the "
                "totals cover the processes that had reported"
            )
        if smallest >= process.queue_index:
            return None
        if stopping():
            return "the run is being stopped: the totals cover the processes that had reported"
        if clock() >= deadline:
            return (
                f"processes from queue index {smallest} on were still running after "
                f"{timeout:.0f} s: the totals cover the processes that had reported"
            )
        sleep(POLL_SECONDS)


def merged_output_dir(output_dir: Path) -> Path | None:
    """Where pabot writes the merged output: the directory holding ``pabot_results``, above this
    process's ``${OUTPUT DIR}`` (``<outputdir>/pabot_results/[argfile/]<index>``)."""
    for parent in output_dir.resolve().parents:
        if parent.name == PABOT_RESULTS_DIR:
            return parent.parent
    return None
