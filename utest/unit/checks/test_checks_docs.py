"""docs/checks.md and the README's section on the project's checks say only what is so: every
path they name exists, the steps table is ``TEST_STEPS`` and ``ALONE_STEPS`` in order, every test
area is described, the settings they quote are tasks.py's, the unit-run commands are the ones
that run the unit tests, and every figure of the measurements comes with the command that took
it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

import tasks

ROOT = Path(__file__).resolve().parents[3]
CHECKS = (ROOT / "docs" / "checks.md").read_text()
README = (ROOT / "README.md").read_text()
README_CHECKS = README[README.index("## The project's own checks") : README.index("## More")]
# A path in backticks: what a reader would look for in the checkout.
NAMED_PATH = re.compile(
    r"`((?:utest|docs|peers|libraries|simulator|suites|resources|iam|benchmarks|\.ci)/[^`\s]*"
    r"|tasks\.py|pyproject\.toml)`"
)


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


@pytest.mark.parametrize("doc", ["docs/checks.md", "README.md (the checks)"])
def test_every_path_named_exists(doc: str) -> None:
    text = CHECKS if doc == "docs/checks.md" else README_CHECKS
    named = {match.group(1).split("::")[0] for match in NAMED_PATH.finditer(text)}
    named = {path for path in named if "<" not in path}
    assert named, doc
    assert sorted(path for path in named if not (ROOT / path).exists()) == []


def test_the_steps_table_is_tasks_py_steps_in_order() -> None:
    table = section(CHECKS, "What `python3 tasks.py test` runs")
    listed = re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE)
    steps = [step.__name__ for step in (*tasks.TEST_STEPS, *tasks.ALONE_STEPS)]
    assert listed == steps


def test_every_step_in_the_table_gives_its_seconds() -> None:
    """Each step's figure is a number from a measured run, not a placeholder left to fill."""
    table = section(CHECKS, "What `python3 tasks.py test` runs")
    rows = re.findall(r"^\| `\w+` \|.*\| ([^|]*) \|$", table, re.MULTILINE)
    assert rows and [cell for cell in rows if not cell.isdigit()] == []


def test_the_full_check_is_quoted_with_its_figures() -> None:
    """The README and the measurements give the full check's wall time and closing line."""
    closing = re.compile(r"`\d+ passed, \d+ failed, \d+ skipped`")
    wall = re.compile(r"\d+ min \d+ s")
    for text in (README_CHECKS, section(CHECKS, "Measured")):
        assert "time CI=true bash .ci/run`" in text.replace("\n", " ")
        assert closing.search(text) and wall.search(text)


def test_every_test_area_is_described() -> None:
    proves = section(CHECKS, "What each check proves")
    areas = [
        path.relative_to(ROOT).as_posix()
        for kind in ("unit", "system")
        for path in sorted((ROOT / "utest" / kind).iterdir())
        if path.is_dir() and path.name != "__pycache__"
    ]
    assert [area for area in areas if f"`{area}`" not in proves] == []


def test_the_settings_quoted_are_tasks_pys() -> None:
    assert f"`STEP_LANES` ({tasks.STEP_LANES})" in CHECKS
    assert f"-n {tasks.PYTEST_WORKERS} --dist loadfile" in CHECKS
    workers = {4: "four"}[tasks.PYTEST_WORKERS]
    assert f"(on {workers} workers)" in README_CHECKS
    assert (tasks.ENGINE_TESTS, tasks.RUN_JUDGEMENTS) == (
        "utest/system/engine",
        "utest/system/runs",
    )


def test_plain_pytest_and_tasks_py_unit_run_the_unit_tests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["pytest"]["ini_options"]["testpaths"] == ["utest/unit"]
    for text in (CHECKS, README_CHECKS):
        assert "`.venv/bin/python -m pytest`" in text
        assert "`python3 tasks.py unit`" in text
    ran: list[list[str]] = []

    def run_step(name: str, command: list[str], *_: Any, **__: Any) -> bool:
        ran.append(command)
        return True

    monkeypatch.setattr(tasks, "run_step", run_step)
    monkeypatch.setattr(tasks, "add_counts", lambda *_: None)
    tasks.CHECKS["unit"](tasks.Tally())
    (command,) = ran
    assert command[1:4] == ["-m", "pytest", "-q"] and "utest/unit" in command


def test_every_figure_measured_comes_with_its_command() -> None:
    """A paragraph of the measurements that gives a time or a count names the command it is
    from, in backticks."""
    measured = section(CHECKS, "Measured")
    paragraphs = [p for p in measured.split("\n\n") if not p.startswith(("##", "|"))]
    figures = re.compile(r"\d+(?:\.\d+)? (?:s|min|passed|seconds)\b")
    command = re.compile(r"`[^`]*(?:python|pytest|tasks\.py|\.ci/run|time )[^`]*`")
    missing = [p for p in paragraphs if figures.search(p) and not command.search(p)]
    assert missing == []
