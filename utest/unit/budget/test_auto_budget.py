"""The ``auto`` budget: sized by what the selected tests declare, summed over the processes that
share it, enforced against a real target and only reported on the kit's simulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from SockerlessLibrary.budget import (
    AutoBudget,
    BudgetLedger,
    BudgetScope,
    TaskBudget,
    TaskBudgetExhausted,
    budget_setting,
    main,
)
from SockerlessLibrary.declarations import (
    InvalidDeclaration,
    TaskDeclarations,
    declared_need,
)

pytestmark = pytest.mark.timeout(60)

FREE = "the target is the embedded simulator"


def declarations(*needs: tuple[str, list[str]]) -> TaskDeclarations:
    return TaskDeclarations.from_tests(needs)


def auto_budget(
    tmp_path: Path,
    declared: TaskDeclarations | None,
    *,
    not_enforced: str | None = None,
    run_id: str = "run-1",
    budget_id: str = "run-1",
    warnings: list[str] | None = None,
) -> TaskBudget:
    return TaskBudget(
        budget_setting(None, {}),
        BudgetScope(budget_id, "process"),
        tmp_path,
        run_id,
        lambda message: None,
        AutoBudget(lambda: declared, lambda: not_enforced),
        (warnings if warnings is not None else []).append,
    )


@pytest.mark.parametrize(
    ("tags", "need"),
    [
        ([], None),
        (["ecs", "slow"], None),
        (["fargate-tasks:0"], 0),
        (["lifecycle", "fargate-tasks:2"], 2),
        (["FARGATE-TASKS:3"], 3),  # Robot tags are case-insensitive
        (["fargate-tasks:2", "fargate-tasks:2"], 2),
    ],
)
def test_a_test_declares_its_need_with_a_tag(tags: list[str], need: int | None) -> None:
    assert declared_need(tags) == need


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (["fargate-tasks:lots"], "does not declare a number of Fargate tasks"),
        (["fargate-tasks:-1"], "does not declare a number"),
        (["fargate-tasks:1", "fargate-tasks:2"], "2 different Fargate task counts"),
    ],
)
def test_a_bad_declaration_is_an_error_naming_the_tag(tags: list[str], message: str) -> None:
    with pytest.raises(InvalidDeclaration, match=message):
        declared_need(tags)


def test_the_declarations_are_summed_with_one_task_for_a_test_without_a_tag() -> None:
    found = declarations(
        ("S.Config", ["ecs", "fargate-tasks:0"]),
        ("S.Lifecycle", ["fargate-tasks:2"]),
        ("S.Mine", ["ecs"]),
    )
    assert found.total == 3
    assert found.undeclared == ("S.Mine",)
    assert found.needs["S.Lifecycle"] == 2
    assert found.describe() == (
        "3 declared by 3 selected tests (1 without a fargate-tasks:N tag, counted as 1 each)"
    )
    broken = declarations(("S.Bad", ["fargate-tasks:x"]))
    with pytest.raises(InvalidDeclaration, match=r"test 'S\.Bad': Tag 'fargate-tasks:x'"):
        broken.check()


def test_auto_is_the_default_and_a_number_still_wins() -> None:
    assert budget_setting(None, {}).auto
    assert budget_setting("auto", {"SOCKERLESS_KIT_TASK_BUDGET": "3"}).auto
    assert budget_setting(None, {"SOCKERLESS_KIT_TASK_BUDGET": " AUTO "}).auto
    explicit = budget_setting(None, {"SOCKERLESS_KIT_TASK_BUDGET": "3"})
    assert (explicit.auto, explicit.limit) == (False, 3)
    assert not budget_setting("unlimited", {}).auto


def test_against_a_real_target_the_declared_sum_is_enforced(tmp_path: Path) -> None:
    warnings: list[str] = []
    found = declarations(("S.One", ["fargate-tasks:1"]), ("S.Two", []))
    budget = auto_budget(tmp_path, found, warnings=warnings)
    budget.reserve("test:S.One")
    budget.reserve("test:S.One")  # over its own declaration, within the run's sum: a warning
    assert warnings == [
        "Test 'S.One' created 2 containers but declares fargate-tasks:1: against a real target "
        "the run's Fargate task budget counts on the declarations; tag the test fargate-tasks:N "
        "with the number of containers it creates"
    ]
    with pytest.raises(TaskBudgetExhausted) as raised:
        budget.reserve("test:S.Two")
    assert str(raised.value) == (
        "Fargate task budget exhausted: this run (budget id run-1) already created 2 "
        "containers, all that its selected tests declare (2; fargate-tasks:N tags, 1 for a test "
        "without one); tag the test that creates more fargate-tasks:N, or set "
        "FARGATE_TASK_BUDGET (or SOCKERLESS_KIT_TASK_BUDGET) (nothing was sent to the daemon)"
    )
    summary = budget.summary()
    assert (summary["budget"], summary["used"], summary["denied"]) == (2, 2, 1)
    assert summary["enforced"] is True
    assert summary["description"] == (
        "2 of 2 used, 1 create denied, declared by the selected tests (budget id run-1)"
    )


def test_on_the_kits_simulator_it_is_counted_and_reported_not_enforced(tmp_path: Path) -> None:
    warnings: list[str] = []
    found = declarations(("S.Only", []))
    budget = auto_budget(tmp_path, found, not_enforced=FREE, warnings=warnings)
    for _ in range(4):
        budget.reserve("test:S.Only")
    assert len(warnings) == 1 and "has no fargate-tasks:N tag (counted as 1)" in warnings[0]
    summary = budget.summary()
    assert (summary["used"], summary["budget"], summary["enforced"]) == (4, 1, False)
    assert summary["description"] == (
        f"4 used, 1 declared by the selected tests, not enforced: {FREE} (budget id run-1)"
    )


def test_without_a_robot_run_nothing_is_counted_or_written(tmp_path: Path) -> None:
    budget = auto_budget(tmp_path, None)
    for _ in range(10):
        budget.reserve("run").give_back("anything")
    assert list(tmp_path.iterdir()) == []
    summary = budget.summary()
    assert summary["used"] is None and summary["enforced"] is False
    assert summary["description"].startswith("not counted: no Robot run told the library")


def test_processes_sharing_a_budget_add_their_declarations_once_each(tmp_path: Path) -> None:
    lifecycle = declarations(("S.Lifecycle", ["fargate-tasks:2"]))
    exec_suite = declarations(("S.Exec", ["fargate-tasks:1"]))
    first = auto_budget(tmp_path, lifecycle, run_id="p1", budget_id="pabot-1")
    second = auto_budget(tmp_path, exec_suite, run_id="p2", budget_id="pabot-1")
    first.reserve("test:S.Lifecycle")
    first.reserve("test:S.Lifecycle")
    second.reserve("test:S.Exec")
    with pytest.raises(TaskBudgetExhausted, match="all that its selected tests declare \\(3;"):
        first.reserve("test:S.Lifecycle")
    state = BudgetLedger(tmp_path, "pabot-1").state()
    assert (state.declared, state.declared_by, state.used, state.denied) == (3, 2, 3, 1)
    assert first.summary()["description"] == (
        "3 of 3 used, 1 create denied, declared by the selected tests of 2 processes "
        "(budget id pabot-1)"
    )


def test_a_process_declares_before_its_first_create_not_after(tmp_path: Path) -> None:
    # Without its declaration the sum would be 0 and the first create of a real run denied.
    budget = auto_budget(tmp_path, declarations(("S.T", ["fargate-tasks:1"])))
    budget.reserve("test:S.T")
    events = [json.loads(line)["event"] for line in (tmp_path / "run-1.budget").open()]
    assert events == ["declared", "reserved"]


def test_the_command_line_reports_an_auto_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    budget = auto_budget(
        tmp_path, declarations(("S.T", [])), not_enforced=FREE, budget_id="pabot-2"
    )
    budget.reserve("test:S.T")
    budget.reserve("test:S.T")
    assert main(["--budget-id", "pabot-2", "--journal-dir", str(tmp_path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["used"], printed["budget"]) == (2, 1)
    assert printed["description"] == (
        f"2 used, 1 declared by the selected tests, not enforced: {FREE} (budget id pabot-2, "
        "shared through SOCKERLESS_KIT_BUDGET_ID)"
    )
