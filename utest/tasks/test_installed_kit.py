"""``tasks.py installed-kit`` judges a run of the installed command by what it left behind.

The step itself (build, new virtual environment, the CI examples' commands, 4 passed) is run by
``python3 tasks.py test``; these tests hold its judgement to the promise of docs/ci.md: the
report, log, output.xml and xunit.xml in the chosen directory, and suites that ran from the
installed package, not from a checkout that happened to be importable.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tasks

OUTPUTS = ("output.xml", "report.html", "log.html", "xunit.xml")


def run_from(output_dir: Path, source: Path, files: tuple[str, ...] = OUTPUTS) -> Path:
    output_dir.mkdir(parents=True)
    for name in files:
        (output_dir / name).write_text("")
    (output_dir / "output.xml").write_text(
        f'<robot><suite name="Sockerless ECS Acceptance" source="{source}"/></robot>'
    )
    return output_dir


def test_a_run_from_the_installed_package_with_every_file_is_accepted(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    suites = venv / "lib/python3.11/site-packages/sockerless_ecs_acceptance/suites"
    assert tasks.installed_run_problems(run_from(tmp_path / "results", suites), venv) == []


def test_a_run_of_the_checkouts_suites_is_refused(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    problems = tasks.installed_run_problems(
        run_from(tmp_path / "results", tasks.ROOT / "suites"), venv
    )
    assert problems == [
        f"the suites ran from {tasks.ROOT / 'suites'}, not from the installed package"
    ]


@pytest.mark.parametrize("missing", OUTPUTS[1:])
def test_a_missing_report_file_is_named(missing: str, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    suites = venv / "lib/python3.11/site-packages/sockerless_ecs_acceptance/suites"
    files = tuple(name for name in OUTPUTS if name != missing)
    problems = tasks.installed_run_problems(run_from(tmp_path / "results", suites, files), venv)
    assert problems == [f"no {missing} in the chosen output dir"]


def test_no_output_dir_at_all_names_every_file(tmp_path: Path) -> None:
    problems = tasks.installed_run_problems(tmp_path / "results", tmp_path / "venv")
    assert problems == [f"no {name} in the chosen output dir" for name in OUTPUTS]
