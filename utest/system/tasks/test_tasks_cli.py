"""tasks.py as a command line: help that runs nothing, no quietly ignored input, honest steps.

* ``-h``/``--help`` anywhere prints tasks.py's help and returns before anything is set up, run
  or removed (``python3 tasks.py pabot --help`` once printed pabot's help, wiped results/pabot
  and reported FAILED);
* an unknown command, or arguments to a command that takes none, fail before the setup;
* a step's status is its real outcome: rebot's exit status 0-250 is the number of failed tests
  in what it merged, so a report step that worked says ok; 251+ is an error and says FAILED;
  a failed dry run fails the check (its counts are not tests); a step whose tests failed ends
  FAILED in ``tasks.py test``'s end line, not done.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import tasks

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
COMMAND_TIME_LIMIT_SECONDS = 30
EVERY_COMMAND = [
    *tasks.CHECKS_WITH_ARGUMENTS,
    *tasks.CHECKS,
    *tasks.PASS_THROUGH,
    "setup",
]


@pytest.fixture
def no_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any setup (or step) fails the test: the answers below must come before them."""

    def forbidden(*_: object, **__: object) -> None:
        raise AssertionError("tasks.py set up or ran something")

    monkeypatch.setattr(tasks, "setup", forbidden)
    monkeypatch.setattr(tasks, "run_step", forbidden)
    monkeypatch.setattr(tasks.subprocess, "run", forbidden)
    monkeypatch.setattr(tasks.subprocess, "call", forbidden)


def test_the_help_documents_the_pass_through_of_each_command() -> None:
    doc = tasks.__doc__ or ""
    for usage in (
        "python3 tasks.py ecs [robot options]",
        "python3 tasks.py pabot [pabot and robot options]",
        "python3 tasks.py sweep [sweeper options]",
        "python3 tasks.py installed-kit",
        "python3 tasks.py robotcode",
        "python3 tasks.py --help",
    ):
        assert usage in doc, usage
    for command in EVERY_COMMAND:
        assert f"python3 tasks.py {command}" in doc, command


@pytest.mark.parametrize("command", EVERY_COMMAND)
@pytest.mark.parametrize("option", ["-h", "--help"])
def test_help_on_any_command_prints_the_help_and_does_nothing_else(
    command: str, option: str, no_setup: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tasks.main([command, "--exclude", "slow", option]) == 0
    assert capsys.readouterr().out.strip() == (tasks.__doc__ or "").strip()


@pytest.mark.parametrize("argv", [["-h"], ["--help"], ["help"]])
def test_help_alone_prints_the_help(
    argv: list[str], no_setup: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tasks.main(argv) == 0
    assert "python3 tasks.py ecs [robot options]" in capsys.readouterr().out


def test_an_unknown_command_fails_before_the_setup(
    no_setup: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tasks.main(["tset"]) == 2
    assert "tasks.py: unknown command 'tset'" in capsys.readouterr().err


@pytest.mark.parametrize("command", [*tasks.CHECKS, "setup"])
def test_arguments_to_a_command_that_takes_none_are_refused_not_ignored(
    command: str, no_setup: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tasks.main([command, "--exclude", "slow"]) == 2
    assert f"'{command}' takes no arguments, got: --exclude slow" in capsys.readouterr().err


def test_pabot_help_leaves_results_pabot_alone(tmp_path: Path) -> None:
    """The run that once wiped results/pabot, as a user types it (a child process)."""
    marker = ROOT / "results" / "pabot" / f"kept-{tmp_path.name}.txt"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("a previous run's results\n")
    try:
        completed = subprocess.run(
            [sys.executable, str(ROOT / "tasks.py"), "pabot", "--help"],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIME_LIMIT_SECONDS,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        assert "python3 tasks.py pabot [pabot and robot options]" in completed.stdout
        assert "FAILED" not in completed.stdout
        assert marker.read_text() == "a previous run's results\n"
    finally:
        marker.unlink(missing_ok=True)


@pytest.mark.parametrize(
    ("code", "ok"), [(0, True), (1, True), (3, True), (250, True), (251, False), (252, False)]
)
def test_rebots_exit_status_is_a_count_of_failed_tests_up_to_250(code: int, ok: bool) -> None:
    assert tasks.rebot_outcome(code)[0] is ok


@pytest.fixture(scope="module")
def failing_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """output.xml of a real robot run in which two tests failed and one passed."""
    work = tmp_path_factory.mktemp("rebot")
    suite = work / "suite.robot"
    suite.write_text(
        "*** Test Cases ***\n"
        "Passes\n    No Operation\n"
        "Fails Once\n    Fail    first\n"
        "Fails Twice\n    Fail    second\n"
    )
    subprocess.run(
        [str(BIN / "robot"), "--outputdir", str(work), "--report", "NONE", "--log", "NONE", suite],
        capture_output=True,
        timeout=COMMAND_TIME_LIMIT_SECONDS,
        check=False,
    )
    return work / "output.xml"


def test_a_report_step_over_failed_tests_says_ok(
    failing_output: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tally = tasks.Tally()
    command = [str(BIN / "rebot"), "--outputdir", str(tmp_path), str(failing_output)]
    assert tasks.run_step("report", command, tally, outcome=tasks.rebot_outcome)
    assert tally.failed_steps == []
    assert "=== report: ok (exit 2: 2 failed test(s) in the merged output" in (
        capsys.readouterr().out
    )
    assert (tmp_path / "report.html").is_file()


def test_a_report_step_that_cannot_read_its_input_says_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tally = tasks.Tally()
    missing = tmp_path / "no-such-output.xml"
    command = [str(BIN / "rebot"), "--outputdir", str(tmp_path), str(missing)]
    assert not tasks.run_step("report", command, tally, outcome=tasks.rebot_outcome)
    assert tally.failed_steps == ["report"]
    assert "=== report: FAILED (exit 252: rebot could not write the report" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(("reported", "problem"), [("3", False), ("1", True)])
def test_pabot_counts_its_tests_and_holds_the_merged_report_to_the_simulators_count(
    reported: str,
    problem: bool,
    failing_output: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pabot() after a pabot run with two failing tests: the counts carry the failures, and a
    merged report whose Fargate tasks are not the simulator's own count fails the step (what
    plain pabot used to report: one process's figure)."""
    real_run_step = tasks.run_step

    def pabot_finished(
        name: str, command: list[str], tally: tasks.Tally, *a: Any, **k: Any
    ) -> bool:
        if not name.startswith("suites with pabot"):
            return real_run_step(name, command, tally, *a, **k)
        output_dir = tmp_path / "pabot"
        root = ET.parse(failing_output)
        top = root.getroot().find("suite")
        assert top is not None
        ET.SubElement(top, "meta", name="Fargate tasks").text = reported
        root.write(output_dir / "output.xml")
        (output_dir / "timeline.json").write_text("{}")
        stats = {"aws": {"tasks_launched": 3, "task_seconds": 12.5}}
        (output_dir / "simulator-stats.json").write_text(json.dumps(stats))
        tally.failed_steps.append(name)  # pabot's exit status is its failed tests too
        return False

    monkeypatch.setattr(tasks, "run_step", pabot_finished)
    monkeypatch.setattr(tasks, "RESULTS", tmp_path)
    tally = tasks.Tally()
    tasks.pabot(tally, [])
    out = capsys.readouterr().out
    assert (tally.passed, tally.failed) == (1, 2)
    mismatch = "pabot (Fargate tasks in the merged report)"
    assert (mismatch in tally.failed_steps) is problem
    if problem:
        assert "the merged report says 1 Fargate tasks, 3 ran" in out


@pytest.mark.parametrize(
    ("given", "run"),
    [
        ([], ["--include", "ecs", "suites"]),
        (["--processes", "2"], ["--include", "ecs", "--processes", "2", "suites"]),
        (["--include", "qa-b"], ["--include", "qa-b", "suites"]),
        (["-i", "qa-b", "--testlevelsplit"], ["-i", "qa-b", "--testlevelsplit", "suites"]),
        (["--include", "qa-b", "teams/qa/suites"], ["--include", "qa-b", "teams/qa/suites"]),
        (["--processes", "2", "teams/qa/suites"], ["--processes", "2", "teams/qa/suites"]),
    ],
)
def test_pabots_selection_is_robots(given: list[str], run: list[str]) -> None:
    """Paths and --include of the user's replace the default `--include ecs suites`, read with
    pabot's own parser (`--processes 2` takes a value; `--testlevelsplit` none)."""
    assert tasks.pabot_arguments(given) == run


def test_options_pabot_cannot_read_are_said_so() -> None:
    with pytest.raises(ValueError, match="pabot cannot read the options"):
        tasks.pabot_arguments(["--processes", "many"])


def test_a_dry_run_that_fails_fails_the_check_without_counting_tests(
    failing_output: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """robot --dryrun exits 2 (two tests failed to resolve): the step fails, its counts stay out."""

    def dry_run_with_two_failures(command: list[str], *_: Any, **__: Any) -> int:
        output_dir = Path(command[command.index("--outputdir") + 1])
        output_dir.mkdir(parents=True)
        shutil.copy(failing_output, output_dir / "output.xml")
        return 2

    monkeypatch.setattr(tasks, "RESULTS", tmp_path)
    monkeypatch.setattr(tasks, "run_bounded", dry_run_with_two_failures)
    tally = tasks.Tally()
    tasks.dryrun(tally)
    assert tally.failed_steps == ["robot --dryrun"]
    assert (tally.passed, tally.failed, tally.skipped) == (0, 0, 0)


def test_a_concurrent_step_with_failed_tests_says_failed_when_it_ends(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A step can fail by its counts alone (the sockerless profile's mismatches count as failed
    tests, not as a failed step): its end line must not say done."""

    def mismatched(tally: tasks.Tally) -> None:
        tally.add(3, 1, 0)

    def matched(tally: tasks.Tally) -> None:
        tally.add(4, 0, 0)

    tally = tasks.Tally()
    tasks.run_concurrently(tally, [mismatched, matched], lanes=2)
    out = capsys.readouterr().out
    assert re.search(r"^--- mismatched: FAILED in \d+ s", out, re.MULTILINE), out
    assert re.search(r"^--- matched: done in \d+ s", out, re.MULTILINE), out
    assert (tally.passed, tally.failed, tally.failing) == (7, 1, True)


def test_a_lint_with_a_failed_step_does_not_close_with_zero_failed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tasks.py lint`` counts no tests: it ended ``failed steps: ruff check`` and then
    ``0 passed, 0 failed, 0 skipped``. Its closing line counts its steps instead."""
    outcomes = iter([0, 0, 1, 0, 0, 0])  # ruff, ruff format, mypy, lint-imports, robocop (x2)
    monkeypatch.setattr(tasks, "run_bounded", lambda *_, **__: next(outcomes))
    monkeypatch.setattr(tasks, "lint_ci_examples", lambda tally: None)
    monkeypatch.setattr(tasks, "setup", lambda: None)
    assert tasks.main(["lint"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2:] == ["failed steps: mypy", "steps: 5 passed, 1 failed"]
    tally = tasks.Tally()
    tally.add(3, 0, 1)
    tally.failed_steps.append("libdoc")
    assert tally.closing_line() == "3 passed, 0 failed, 1 skipped"  # tests, as before
