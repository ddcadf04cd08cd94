"""The pure parts of the run's account: what each process reports (``run/group.py``), how
the process pabot starts last waits for the others (``listeners/pabot.py``), the merged
``timeline.json``, and the check of the simulator extra's pins (``simulator_extra``). The runs
that use them are ``utest/system/reliability/test_run_account.py`` and ``test_pabot_report.py``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from pathlib import Path
from typing import Any

import pytest
from robot.running import TestSuite as RunningSuite
from robot.utils import html_format

from SockerlessLibrary.budget import BudgetLedger
from SockerlessLibrary.errors import ConfigurationError
from SockerlessLibrary.listeners.pabot import (
    PabotLibUnreachable,
    PabotProcess,
    merged_output_dir,
    pabot_process,
    wait_for_the_others,
)
from SockerlessLibrary.listeners.run_account import ReportedByLedger, runs_nothing_after
from SockerlessLibrary.run.group import GroupAccount, ProcessAccount, usage_record
from SockerlessLibrary.simulator_extra import (
    check_simulator_environment,
    pinned_by_extra,
)
from SockerlessLibrary.timeline import merge_documents
from SockerlessLibrary.version import __version__

SWEEP_A = "python -m SockerlessLibrary.sweep --run-id a --journal-dir /j"


def account(run_id: str, **fields: Any) -> dict[str, Any]:
    return ProcessAccount(run_id=run_id, **fields).as_record()


def test_the_latest_record_of_each_process_counts_and_the_run_adds_them_up() -> None:
    records = [
        {"event": "reserved", "slot": "x", "run_id": "a"},  # the budget's own: ignored here
        usage_record("a", 1, 2.0),
        usage_record("a", 3, 6.5),  # a later suite of the same process measured again
        usage_record("b", 5, 1.5),
        account("a", created=3, cleaned=3, proven_gone=2),
        account("b", created=5, cleaned=5, proven_gone=5),
        "not a record",
    ]
    group = GroupAccount.from_records([r for r in records if isinstance(r, dict)])
    assert group.usage_metadata() == {"Fargate tasks": "8", "Fargate task-seconds": "8.0"}
    assert group.metadata() == {
        "Cleanup": "8 containers created, 8 cleaned, 7 proven gone on AWS, 0 left "
        "(over 2 processes)"
    }


def test_what_is_left_names_each_run_and_its_sweep_and_outages_once() -> None:
    down = "daemon unix:///x.sock down since 2026-12-06T08:00:00.000Z (refused)"
    group = GroupAccount.from_records(
        [
            account(
                "a",
                created=2,
                left=("111111111111",),
                left_count=1,
                sweep=f"{SWEEP_A} --host unix:///x.sock",
                down=(down,),
            ),
            account("b", created=1, cleaned=1, down=(down,)),
        ]
    )
    data = group.metadata()
    assert data["Cleanup"] == (
        "3 containers created, 1 cleaned, 0 proven gone on AWS, 1 left (over 2 processes): "
        "see Cleanup left"
    )
    assert data["Cleanup left"] == (
        f"run a: 1 container(s) (111111111111); finish with: {SWEEP_A} --host ``unix:///x.sock``"
    )
    assert data["Down during the run"] == down.replace("unix:///x.sock", "``unix:///x.sock``")
    for value in data.values():  # no address Robot would make a link of
        assert "<a href" not in html_format(value), value
    assert [a.run_id for a in group.leftovers()] == ["a", "b"]


def test_a_long_list_of_leftovers_says_how_many_more() -> None:
    ids = tuple(f"{n:012d}" for n in range(60))
    record = account("a", left=ids, left_count=60, sweep=SWEEP_A)
    assert len(record["left"]) == 50
    text = GroupAccount.from_records([record]).left_text()
    assert "(000000000000, " in text and "and 10 more)" in text


def test_a_record_with_wrong_types_counts_as_nothing() -> None:
    broken = {"event": "account", "run_id": "a", "created": "3", "left": "x", "sweep": None}
    read = ProcessAccount.from_record(broken)
    assert (read.created, read.left, read.sweep) == (0, (), "")
    group = GroupAccount.from_records([broken, {"event": "usage", "run_id": "a", "tasks": "1"}])
    assert group.usage_metadata() == {}
    assert group.metadata() == {
        "Cleanup": "0 containers created, 0 cleaned, 0 proven gone on AWS, 0 left"
    }


def test_outside_pabot_there_is_no_pabot_process() -> None:
    assert pabot_process(lambda name: None) is None
    values = {
        "${PABOTLIBURI}": "127.0.0.1:8270",
        "${PABOTQUEUEINDEX}": "3",
        "${PABOTISLASTEXECUTIONINPOOL}": "1",
    }
    assert pabot_process(values.get) == PabotProcess("127.0.0.1:8270", 3, True)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_last_process_waits_until_every_one_before_it_has_finished() -> None:
    smallest_running = iter(["", 0, 1, 1, 3])  # PabotLib's key, as the others finish
    asked: list[tuple[str, list[Any]]] = []

    def call(name: str, args: list[Any]) -> Any:
        asked.append((name, args))
        return next(smallest_running)

    clock = Clock()
    why = wait_for_the_others(
        PabotProcess("uri", 3, True), call, clock=clock, sleep=clock.sleep, stopping=lambda: False
    )
    assert why is None
    assert asked == [("get_parallel_value_for_key", ["pabot_min_queue_index_executing"])] * 5
    assert clock.now == pytest.approx(0.4)  # four waits of 0.1 s, as PabotLib polls its locks


@pytest.mark.parametrize(
    ("call", "stopping", "said"),
    [
        (lambda n, a: 0, lambda: False, "still running after 60 s"),
        (lambda n, a: 0, lambda: True, "the run is being stopped"),
        (lambda n, a: "x", lambda: False, "is not a queue index"),
    ],
)
def test_the_wait_ends_saying_why_the_totals_may_be_short(
    call: Any, stopping: Any, said: str
) -> None:
    clock = Clock()
    why = wait_for_the_others(
        PabotProcess("uri", 2, True),
        call,
        timeout=60,
        clock=clock,
        sleep=clock.sleep,
        stopping=stopping,
    )
    assert why is not None and said in why and "the totals cover" in why
    assert clock.now <= 61


def test_an_unreachable_pabotlib_ends_the_wait_at_once() -> None:
    def call(name: str, args: list[Any]) -> Any:
        raise PabotLibUnreachable("PabotLib at uri did not answer")

    why = wait_for_the_others(PabotProcess("uri", 2, True), call, sleep=pytest.fail)
    assert why is not None and why.startswith("PabotLib at uri did not answer")


@pytest.mark.parametrize(
    ("ledger_says", "smallest_running", "waited"),
    [
        # Processes 0-2 have put their last account in the ledger but not yet exited (pabot
        # still says 0 is running): the totals can be written while they write their outputs.
        ([{0, 2}, {0, 2}, {0, 1, 2, 5}], [0, 0], 0.2),
        # Process 0 never loaded the library, so it never reports: pabot's word ends the wait.
        ([{1, 2}] * 2, [0, 3], 0.1),
    ],
)
def test_the_wait_ends_when_every_earlier_process_has_reported_or_finished(
    ledger_says: list[set[int]], smallest_running: list[int], waited: float
) -> None:
    ledger, pabot = iter(ledger_says), iter(smallest_running)
    clock = Clock()
    why = wait_for_the_others(
        PabotProcess("uri", 3, True),
        lambda name, args: next(pabot),
        clock=clock,
        sleep=clock.sleep,
        stopping=lambda: False,
        reported=lambda: next(ledger),
    )
    assert why is None
    assert clock.now == pytest.approx(waited)


def test_only_a_process_s_last_account_under_pabot_counts_as_reported() -> None:
    group = GroupAccount.from_records(
        [
            account("a", created=1),  # a suite of process 0 ended; another comes
            account("b", created=1, done_pabot_index=1),
            account("c", created=1),  # not under pabot
            account("a", created=2, done_pabot_index=0),  # a's last suite ended
            account("d", created=1),
        ]
    )
    assert group.done_pabot_indexes() == {0, 1}
    assert ProcessAccount.from_record(account("e", done_pabot_index=7)) == ProcessAccount(
        run_id="e", done_pabot_index=7
    )
    for mistyped in ("7", True, None):
        record = {"run_id": "f", "done_pabot_index": mistyped}
        assert ProcessAccount.from_record(record).done_pabot_index is None


def test_the_ledger_is_read_again_only_when_a_process_appended_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = BudgetLedger(tmp_path, "pabot-1")
    ledger.append(account("a"))
    reads: list[int] = []
    read = ledger.records
    monkeypatch.setattr(ledger, "records", lambda: reads.append(1) or read())
    reported = ReportedByLedger(ledger)
    assert reported() == set()
    ledger.append(account("a", done_pabot_index=0))
    assert reported() == {0}
    assert reported() == {0}
    assert len(reads) == 2
    ledger.path.unlink()
    assert reported() == set()  # unreadable: pabot's word alone ends the wait


def test_a_process_runs_nothing_after_its_last_suite_and_that_suite_s_parents() -> None:
    top = RunningSuite(name="Top")
    first, last = top.suites.create(name="First"), top.suites.create(name="Last")
    first_child, last_child = first.suites.create(name="A"), first.suites.create(name="B")
    inner = last.suites.create(name="Inner")
    assert runs_nothing_after(top)
    assert runs_nothing_after(last) and runs_nothing_after(inner)
    assert not runs_nothing_after(first)
    assert not runs_nothing_after(last_child)  # its parent "First" is followed by "Last"
    assert not runs_nothing_after(first_child)


def test_the_merged_output_dir_is_the_one_holding_pabot_results(tmp_path: Path) -> None:
    process_dir = tmp_path / "out" / "pabot_results" / "3"
    process_dir.mkdir(parents=True)
    assert merged_output_dir(process_dir) == (tmp_path / "out").resolve()
    assert merged_output_dir(tmp_path / "out") is None


def timeline(run_id: str, target: str, tests: list[str], aws_calls: int) -> dict[str, Any]:
    return {
        "schema": "sockerless-kit/timeline",
        "version": 1,
        "run": {
            "run_id": run_id,
            "target": target,
            "budgets": {},
            "cost": {"aws_calls": aws_calls},
        },
        "tests": [
            {
                "test": name,
                "clock": {"bounds": [{"kind": "high", "value": 0.5, "reason": "start sent"}]},
                "containers": [{"container_id": f"{run_id}-{name}"}],
            }
            for name in tests
        ],
    }


def test_the_merged_timeline_holds_every_process_s_tests_marked_with_its_run() -> None:
    merged = merge_documents(
        "pabot-1",
        [
            timeline("a", "embedded simulator at x", ["t1", "t2"], 1),
            timeline("b", "embedded simulator at y", ["t3"], 2),
        ],
    )
    assert (merged["schema"], merged["version"]) == ("sockerless-kit/timeline", 1)
    assert [(t["run_id"], t["test"]) for t in merged["tests"]] == [
        ("a", "t1"),
        ("a", "t2"),
        ("b", "t3"),
    ]
    run = merged["run"]
    assert run["run_id"] == "pabot-1"
    assert run["cost"] == {"aws_calls": 3}
    assert [p["run_id"] for p in run["processes"]] == ["a", "b"]
    assert run["target"] == ["embedded simulator at x", "embedded simulator at y"]
    assert run["clock"]["offset"] == 0.0  # the bounds allow clocks that agree


METADATA = [
    "robotframework>=7.1",
    "boto3>=1.40",
    'boto3==1.44.5; extra == "simulator"',
    'moto[server]==5.2.5; extra == "simulator"',
    'websockets>=13.0; extra == "simulator"',
    'pytest==8.0; extra == "test"',
]


def test_the_simulator_extras_exact_pins_are_read_from_the_metadata() -> None:
    assert pinned_by_extra(METADATA) == {"boto3": "1.44.5", "moto": "5.2.5"}


def test_every_pin_this_environment_misses_is_named() -> None:
    with pytest.raises(ConfigurationError) as raised:
        check_simulator_environment(lambda name: METADATA, {"boto3": "1.40.76"}.get)
    assert (
        "exactly: boto3 1.44.5 (installed: 1.40.76), moto 5.2.5 (installed: none). Install"
        in str(raised.value)
    )


def test_without_the_extra_the_embedded_simulator_is_refused_naming_the_command() -> None:
    with pytest.raises(ConfigurationError) as raised:
        check_simulator_environment(lambda name: METADATA, {"boto3": "1.44.5"}.get)
    message = str(raised.value)
    assert "needs the kit's 'simulator' extra, exactly: moto 5.2.5 (installed: none)" in message
    assert f'pip install "sockerless-ecs-acceptance[simulator]=={__version__}"' in message


def test_a_checkout_without_metadata_leaves_the_decision_to_the_simulator() -> None:
    def no_metadata(name: str) -> list[str]:
        raise PackageNotFoundError(name)

    check_simulator_environment(no_metadata, lambda name: None)


def test_this_checkouts_environment_has_the_extra() -> None:
    check_simulator_environment()
