"""The Fargate task budget: values, who shares it, the ledger under racing processes, its lock."""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from SockerlessLibrary.budget import (
    BUDGET_ENV,
    BUDGET_ID_ENV,
    BudgetLedger,
    BudgetScope,
    InvalidTaskBudget,
    TaskBudget,
    TaskBudgetError,
    TaskBudgetExhausted,
    budget_scope,
    budget_setting,
    main,
    parse_task_budget,
)
from SockerlessLibrary.listeners.pabot import (
    PABOTLIB_KEY,
    PabotLibUnreachable,
    agree_through_pabotlib,
    pabot_budget_id,
)

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[3]
CHILD_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(ROOT / "libraries"), str(ROOT / "simulator")]),
}


# --- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (5, 5), ("5", 5), (" 12 ", 12), ("unlimited", None), ("None", None), ("0", 0)],
)
def test_a_budget_is_a_whole_number_or_unlimited(value: object, expected: int | None) -> None:
    assert parse_task_budget(value, "test") == expected


@pytest.mark.parametrize("value", [-1, "-1", "abc", "2.5", "", "+3", "٣", True, 2.0, None])
def test_anything_else_is_refused_naming_value_and_source(value: object) -> None:
    with pytest.raises(InvalidTaskBudget) as raised:
        parse_task_budget(value, "SOCKERLESS_KIT_TASK_BUDGET")
    assert str(raised.value) == (
        f"Invalid Fargate task budget {value!r} from SOCKERLESS_KIT_TASK_BUDGET: use a whole "
        "number of tasks (0 or more), 'auto' (what the selected tests declare) or 'unlimited'"
    )
    assert raised.value.ROBOT_SUPPRESS_NAME  # Robot shows the message without a type prefix


def test_the_import_argument_wins_then_the_environment_then_no_budget() -> None:
    env = {BUDGET_ENV: "7"}
    assert budget_setting("2", env).limit == 2
    assert budget_setting(3, env).limit == 3
    assert budget_setting("unlimited", env).limit is None
    assert budget_setting(None, env).limit == 7
    assert budget_setting("", env).limit == 7  # an empty import argument is "not given"
    assert budget_setting(None, env).source == BUDGET_ENV
    assert budget_setting(None, {}).limit is None
    assert budget_setting(None, {BUDGET_ENV: " "}).limit is None
    with pytest.raises(InvalidTaskBudget, match=r"'many' from SOCKERLESS_KIT_TASK_BUDGET"):
        budget_setting(None, {BUDGET_ENV: "many"})
    with pytest.raises(InvalidTaskBudget, match=r"from the task_budget import argument"):
        budget_setting("-2", env)


# --- who shares a budget ----------------------------------------------------------------------


def test_the_budget_id_comes_from_the_environment_then_pabot_then_the_process() -> None:
    def pabot() -> str | None:
        return "pabot-shared"

    def not_pabot() -> str | None:
        return None

    run = "20261129T101112Z-1a2b3c"
    env_scope = budget_scope(
        {BUDGET_ID_ENV: "ci-42"}, run, run_id_generated=True, pabot_budget_id=pabot
    )
    assert env_scope == BudgetScope("ci-42", "environment")
    assert budget_scope({}, run, run_id_generated=True, pabot_budget_id=pabot) == BudgetScope(
        "pabot-shared", "pabot"
    )
    alone = budget_scope({}, run, run_id_generated=True, pabot_budget_id=not_pabot)
    assert alone == BudgetScope(run, "process")
    # A fixed run id may come back in the next run: its budget must not.
    fixed = budget_scope({}, "ci", run_id_generated=False, pabot_budget_id=not_pabot)
    assert fixed.shared_by == "process" and fixed.budget_id != "ci"
    with pytest.raises(TaskBudgetError, match=r"SOCKERLESS_KIT_BUDGET_ID: Invalid run id"):
        budget_scope(
            {BUDGET_ID_ENV: "no spaces"}, run, run_id_generated=True, pabot_budget_id=pabot
        )


# --- the ledger -------------------------------------------------------------------------------


def test_reserve_until_full_then_deny_and_give_back(tmp_path: Path) -> None:
    ledger = BudgetLedger(tmp_path / "journal", "run-1")
    assert ledger.state().used == 0
    assert not ledger.path.exists()  # reading an unused budget writes nothing
    first, used = ledger.reserve(2, {})
    assert used == 1
    _, used = ledger.reserve(2, {})
    assert used == 2
    with pytest.raises(TaskBudgetExhausted) as raised:
        ledger.reserve(2, {"pid": 1})
    assert (raised.value.used, raised.value.budget) == (2, 2)
    ledger.give_back(first, "refused")
    ledger.give_back(first, "refused again")  # one slot comes back once
    state = ledger.state()
    assert (state.used, state.given_back, state.denied, state.budget) == (1, 1, 1, 2)
    ledger.reserve(2, {})
    with pytest.raises(TaskBudgetExhausted):
        ledger.reserve(2, {})
    assert ledger.path.name == "run-1.budget"  # not *.jsonl: the sweeper reads those


def test_a_budget_file_that_cannot_be_opened_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(TaskBudgetError, match=r"^Could not open the Fargate task budget file "):
        BudgetLedger(blocker, "run-1").reserve(5, {})


def test_torn_and_foreign_lines_are_skipped(tmp_path: Path) -> None:
    ledger = BudgetLedger(tmp_path, "run-1")
    ledger.reserve(5, {})
    with ledger.path.open("a", encoding="utf-8") as ledger_file:
        ledger_file.write('["not a record"]\n{"event": "given_back"}\n{"event": "reserved", "sl')
    assert ledger.state().used == 1


# Each racer reads the count slowly (50 ms between reading and writing), so without the lock
# every racer would see a budget with room left: the lock is what makes exactly five win.
RACER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import SockerlessLibrary.budget as budget_module
    from SockerlessLibrary.budget import BudgetLedger, TaskBudgetExhausted
    directory, go, budget = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    count = budget_module.ledger_state
    def slow_count(text):
        time.sleep(0.05)
        return count(text)
    budget_module.ledger_state = slow_count
    ledger = BudgetLedger(directory, "race")
    deadline = time.monotonic() + 20
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    try:
        ledger.reserve(budget, {"pid": os.getpid()})
    except TaskBudgetExhausted:
        print("denied")
    else:
        print("reserved")
    """
)


def test_eight_processes_racing_for_a_budget_of_five_get_exactly_five(tmp_path: Path) -> None:
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path / "journal"), str(go), "5"],
            stdout=subprocess.PIPE,
            text=True,
            env=CHILD_ENV,
        )
        for _ in range(8)
    ]
    time.sleep(1.0)  # every racer imported and spinning
    go.touch()
    outcomes = [racer.communicate(timeout=30)[0].strip() for racer in racers]
    assert sorted(outcomes) == ["denied"] * 3 + ["reserved"] * 5
    state = BudgetLedger(tmp_path / "journal", "race").state()
    assert (state.used, state.denied) == (5, 3)


def test_a_held_lock_times_out_with_a_clear_error(tmp_path: Path) -> None:
    ledger = BudgetLedger(tmp_path, "held", lock_timeout=0.3)
    tmp_path.mkdir(exist_ok=True)
    holder = os.open(ledger.path, os.O_RDWR | os.O_CREAT)  # flock belongs to the open file
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.raises(TaskBudgetError) as raised:
            ledger.reserve(5, {})
        waited = time.monotonic() - started
    finally:
        os.close(holder)
    assert 0.3 <= waited < 2.0
    assert str(raised.value).startswith(
        f"Could not lock the Fargate task budget file {ledger.path} within 0.3 s: another "
        "process holds it"
    )
    assert ledger.reserve(5, {})[1] == 1  # closing the holder released it


HOLDER = textwrap.dedent(
    """
    import fcntl, os, sys, time
    descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    print("locked", flush=True)
    time.sleep(60)
    """
)


def test_a_process_killed_while_holding_the_lock_releases_it(tmp_path: Path) -> None:
    ledger = BudgetLedger(tmp_path, "killed", lock_timeout=0.2)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(ledger.path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        ready, _, _ = select.select([holder.stdout], [], [], 10)
        assert ready and holder.stdout.readline().strip() == "locked"
        with pytest.raises(TaskBudgetError, match="Could not lock"):
            ledger.reserve(5, {})
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        ledger.lock_timeout = 2.0
        started = time.monotonic()
        assert ledger.reserve(5, {})[1] == 1
        assert time.monotonic() - started < 1.0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)


# --- pabot ------------------------------------------------------------------------------------


class FakePabotLib:
    """PabotLib's four keywords, with its lock semantics (one holder per lock name)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.locks: dict[str, str] = {}
        self.calls: list[str] = []

    def __call__(self, name: str, args: list[Any]) -> Any:
        self.calls.append(name)
        if name == "acquire_lock":
            holder = self.locks.setdefault(args[0], args[1])
            return holder == args[1]
        if name == "release_lock":
            assert self.locks.pop(args[0]) == args[1]
            return None
        if name == "get_parallel_value_for_key":
            return self.values.get(args[0], "")
        if name == "set_parallel_value_for_key":
            self.values[args[0]] = args[1]
            return None
        raise AssertionError(name)


def test_the_first_pabot_process_proposes_the_others_read() -> None:
    pabotlib = FakePabotLib()
    first = agree_through_pabotlib(pabotlib, proposal="pabot-a", caller_id="p1")
    second = agree_through_pabotlib(pabotlib, proposal="pabot-b", caller_id="p2")
    assert first == second == "pabot-a"
    assert pabotlib.locks == {}  # released


def test_a_pabotlib_lock_that_is_never_released_times_out() -> None:
    pabotlib = FakePabotLib()
    pabotlib.locks[PABOTLIB_KEY] = "a-killed-process"
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(TaskBudgetError, match=r"Could not take PabotLib's lock .* within 10 s"):
        agree_through_pabotlib(
            pabotlib, proposal="x", caller_id="p1", clock=lambda: now[0], sleep=sleep
        )


def test_without_pabot_or_without_pabotlib_the_budget_is_the_process_s() -> None:
    warnings: list[str] = []
    assert pabot_budget_id(lambda name: None, warnings.append) is None
    assert warnings == []
    closed = free_port()  # nothing listens there
    variables = {"${PABOTLIBURI}": f"127.0.0.1:{closed}", "${CALLER_ID}": "c1"}
    assert pabot_budget_id(variables.get, warnings.append) is None
    assert len(warnings) == 1
    assert warnings[0].startswith(f"PabotLib at 127.0.0.1:{closed} did not answer acquire_lock")
    assert "counts for this process only; set SOCKERLESS_KIT_BUDGET_ID" in warnings[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def pabotlib_uri() -> Iterator[str]:
    """pabot's own PabotLib server on 127.0.0.1, as pabot starts it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pabot.pabotlib", "", "127.0.0.1", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], 20)
        assert ready and "started" in server.stdout.readline()
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


AGREER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from SockerlessLibrary.listeners.pabot import pabot_budget_id
    uri, go = sys.argv[1], Path(sys.argv[2])
    deadline = time.monotonic() + 20
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    variables = {"${PABOTLIBURI}": uri, "${CALLER_ID}": sys.argv[3]}
    print(pabot_budget_id(variables.get, print))
    """
)


def test_processes_of_one_pabot_run_agree_on_one_budget_id(
    pabotlib_uri: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    agreeing = [
        subprocess.Popen(
            [sys.executable, "-c", AGREER, pabotlib_uri, str(go), f"caller-{index}"],
            stdout=subprocess.PIPE,
            text=True,
            env=CHILD_ENV,
        )
        for index in range(5)
    ]
    time.sleep(1.0)
    go.touch()
    ids = {process.communicate(timeout=30)[0].strip() for process in agreeing}
    assert len(ids) == 1, ids
    (agreed,) = ids
    assert agreed.startswith("pabot-")


def test_pabotlib_unreachable_is_its_own_error() -> None:
    assert issubclass(PabotLibUnreachable, TaskBudgetError)


# --- the budget as the library uses it, and the command line -----------------------------------


def test_the_exhausted_message_names_run_budget_and_settings(tmp_path: Path) -> None:
    setting = budget_setting(2, {})
    budget = TaskBudget(setting, BudgetScope("run-x", "process"), tmp_path, "run-x", print)
    budget.reserve()
    budget.reserve()
    with pytest.raises(TaskBudgetExhausted) as raised:
        budget.reserve()
    assert str(raised.value) == (
        "Fargate task budget exhausted: this run (budget id run-x) already created 2 "
        "containers of its budget of 2; raise FARGATE_TASK_BUDGET (or "
        "SOCKERLESS_KIT_TASK_BUDGET) if the suite really needs more (nothing was sent to the "
        "daemon)"
    )
    summary = budget.summary()
    assert summary["description"] == "2 of 2 used, 1 create denied (budget id run-x)"
    assert (summary["used"], summary["remaining"], summary["denied"]) == (2, 0, 1)


def test_an_unlimited_budget_counts_nothing_and_writes_nothing(tmp_path: Path) -> None:
    budget = TaskBudget(
        budget_setting("unlimited", {}), BudgetScope("r", "process"), tmp_path, "r", print
    )
    for _ in range(10):
        budget.reserve().give_back("anything")
    assert list(tmp_path.iterdir()) == []
    assert budget.summary()["description"] == "unlimited (creates are not counted)"


def test_the_command_line_prints_the_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = BudgetLedger(tmp_path, "pabot-run")
    ledger.reserve(2, {})
    assert main(["--budget-id", "pabot-run", "--journal-dir", str(tmp_path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["used"] == 1 and printed["budget"] == 2
    assert printed["description"] == (
        "1 of 2 used (budget id pabot-run, shared through SOCKERLESS_KIT_BUDGET_ID)"
    )
    assert main(["--budget-id", "bad id", "--journal-dir", str(tmp_path)]) == 2
