"""``utest/outcomes.py``, the one reader of results: what a real run's output.xml says, read
through robot.api, pytest's JUnit counts, and a test held to its expected outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from robot.api import ExecutionResult

from utest.outcomes import (
    Counts,
    Expected,
    by_name,
    counts,
    junit_counts,
    main,
    metadata,
    mismatch,
    outcomes,
    suite_source,
)

SUITE = """*** Settings ***
Metadata    Fargate tasks    3

*** Test Cases ***
Passes
    No Operation

Fails Twice Over
    Fail    first line\\nsecond line

Skips
    Skip    not here
"""


@pytest.fixture
def output_xml(run_suite, tmp_path: Path) -> Path:
    return run_suite(tmp_path / "run", SUITE)


def test_every_test_of_a_run_is_read_in_order_with_its_status_and_whole_message(
    output_xml: Path,
) -> None:
    found = outcomes(output_xml)
    assert [(o.name, o.status, o.message) for o in found] == [
        ("Passes", "PASS", ""),
        ("Fails Twice Over", "FAIL", "first line\nsecond line"),
        ("Skips", "SKIP", "not here"),
    ]
    assert found[0].full_name == "Suite.Passes"


def test_the_totals_metadata_and_source_are_the_runs(output_xml: Path) -> None:
    assert counts(output_xml) == Counts(1, 1, 1)
    assert metadata(output_xml) == {"Fargate tasks": "3"}
    assert suite_source(output_xml) == output_xml.parent / "suite.robot"


def test_a_missing_output_is_said_not_taken_for_an_empty_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no robot output at"):
        counts(tmp_path / "output.xml")


def test_two_tests_of_one_name_are_refused(run_suite, tmp_path: Path) -> None:
    first = run_suite(tmp_path / "a", "*** Test Cases ***\nSame\n    No Operation\n")
    second = run_suite(tmp_path / "b", "*** Test Cases ***\nSame\n    Fail    no\n")
    merged = tmp_path / "merged.xml"
    ExecutionResult(str(first), str(second)).save(str(merged))
    with pytest.raises(ValueError, match="two tests named 'Same'"):
        by_name(merged)


@pytest.mark.parametrize(
    ("name", "expected", "problem"),
    [
        ("Passes", Expected("PASS"), None),
        ("Fails Twice Over", Expected("FAIL", "^first line"), None),
        ("Fails Twice Over", Expected("FAIL", "^second"), "expected FAIL /^second/, got FAIL:"),
        ("Fails Twice Over", Expected("PASS"), "expected PASS, got FAIL: first line | second"),
        ("Skips", Expected("FAIL", "not here"), "expected FAIL /not here/, got SKIP"),
        ("Never Ran", Expected("PASS"), "Never Ran: did not run (the run had: Passes,"),
    ],
)
def test_a_test_is_held_to_its_status_and_message(
    output_xml: Path, name: str, expected: Expected, problem: str | None
) -> None:
    found = mismatch(by_name(output_xml), name, expected)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_junit_counts_take_errors_as_failures(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest" errors="1" failures="2" skipped="3" tests="10">'
        "</testsuite></testsuites>"
    )
    assert junit_counts(junit) == Counts(4, 3, 3)


def test_the_command_line_prints_one_json_object_per_file(
    output_xml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["counts", str(output_xml), str(output_xml)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [
        {"passed": 1, "failed": 1, "skipped": 1, "metadata": {"Fargate tasks": "3"}}
    ] * 2
    assert main(["count", str(output_xml)]) == 2
