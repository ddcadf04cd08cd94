"""A suite whose setup creates containers for its tests to share declares them with
``Metadata    fargate-tasks    N``: counted once, and only when one of its tests runs."""

from __future__ import annotations

import pytest
from robot import running

from SockerlessLibrary.declarations import InvalidDeclaration, TaskDeclarations


def tree(metadata: str | None, *, tests: int = 2) -> running.TestSuite:
    top = running.TestSuite(name="Top")
    shared = top.suites.create(
        name="Shared", metadata={"fargate-tasks": metadata} if metadata is not None else {}
    )
    for index in range(tests):
        shared.tests.create(name=f"Probe {index}", tags=["fargate-tasks:0"])
    alone = top.suites.create(name="Alone")
    alone.tests.create(name="Own", tags=["fargate-tasks:1"])
    return top


def test_a_suite_setup_declares_its_shared_containers_once() -> None:
    declarations = TaskDeclarations.from_suite(tree("3"))

    assert declarations.total == 4  # 3 shared + 1 of the test that creates its own
    assert declarations.suite_needs == {"Top.Shared": 3}
    assert declarations.describe() == "4 declared by 3 selected tests and 1 suite setup"


def test_a_suite_none_of_whose_tests_runs_declares_nothing() -> None:
    declarations = TaskDeclarations.from_suite(tree("3", tests=0))

    assert declarations.total == 1
    assert declarations.suite_needs == {}


def test_a_suite_without_the_metadata_declares_nothing_of_its_own() -> None:
    assert TaskDeclarations.from_suite(tree(None)).total == 1


def test_a_declaration_that_is_no_number_stops_the_budget_naming_the_suite() -> None:
    declarations = TaskDeclarations.from_suite(tree("three"))

    with pytest.raises(InvalidDeclaration, match=r"suite 'Top\.Shared'.*fargate-tasks:three"):
        declarations.check()
