"""``tasks.py installed-kit`` judges a run of the installed command by what it left behind.

The step itself (build, new virtual environment, a team repository and its runs) is run by
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


def output_xml(path: Path, passed: int, failed: int, message: str = "", **meta: str) -> Path:
    """A minimal output.xml: the counts robot_counts reads, a status message, metadata."""
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = "".join(f'<meta name="{name}">{value}</meta>' for name, value in meta.items())
    path.write_text(
        f'<robot><suite name="ECS Acceptance">{metadata}'
        f'<status status="FAIL">{message}</status></suite>'
        f'<statistics><total><stat pass="{passed}" fail="{failed}" skip="0">All Tests</stat>'
        "</total></statistics></robot>"
    )
    return path


@pytest.fixture
def kit(tmp_path: Path) -> tasks.KitEnvironment:
    site_packages = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    site_packages.mkdir(parents=True)
    return tasks.KitEnvironment(tmp_path, tmp_path / "constraints.txt")


def test_a_team_run_that_took_the_kits_resources_from_the_checkout_is_refused(
    tmp_path: Path, kit: tasks.KitEnvironment
) -> None:
    team = tmp_path / "team"
    run = tasks.TeamRun("robot", [], "results-robot")
    output_xml(team / "results-robot" / "output.xml", passed=3, failed=0)
    syslog = team / "results-robot" / "syslog.txt"
    installed = next(kit.directory.glob("venv/lib/*/site-packages")) / "x/ecs_suite.resource"
    syslog.write_text(f"Imported resource file '{installed}' (6 keywords).\n")
    assert tasks.team_run_problems(run, team, kit) == []
    syslog.write_text(f"Imported resource file '{tasks.ROOT}/resources/ecs_suite.resource'.\n")
    assert tasks.team_run_problems(run, team, kit) == [
        f"robot: resource files from ['{tasks.ROOT}/resources/ecs_suite.resource'], "
        "not the installed kit"
    ]


def test_a_team_run_with_a_failed_test_or_a_pabot_report_that_does_not_add_up_is_refused(
    tmp_path: Path, kit: tasks.KitEnvironment
) -> None:
    team = tmp_path / "team"
    output_xml(team / "results-robot" / "output.xml", passed=2, failed=1)
    robot = tasks.TeamRun("robot", [], "results-robot")
    assert tasks.team_run_problems(robot, team, kit) == ["robot: 2 passed, 1 failed, 0 skipped"]
    pabot = tasks.TeamRun("pabot", [], "results-pabot")
    output_xml(team / "results-pabot" / "output.xml", 3, 0, **{"Fargate tasks": "1"})
    assert tasks.team_run_problems(pabot, team, kit) == [
        "pabot: the merged report says 1 Fargate tasks",
        "pabot: no merged timeline.json",
    ]


@pytest.mark.parametrize(
    ("passed", "failed", "message", "problem"),
    [
        (
            0,
            3,
            "ConfigurationError: The embedded simulator ... needs the kit's 'simulator' "
            "extra, exactly: moto 5.2.5 (installed: none). Install it with pip install "
            '"sockerless-ecs-acceptance[simulator]==1.0.0"',
            None,
        ),
        (0, 3, "DaemonUnreachable: no socket", "does not say"),
        (3, 0, "", "the refused run: 3 passed, 0 failed"),
    ],
)
def test_a_run_without_the_simulator_extra_must_be_refused_naming_it(
    tmp_path: Path, passed: int, failed: int, message: str, problem: str | None
) -> None:
    found = tasks.refusal_problem(output_xml(tmp_path / "output.xml", passed, failed, message))
    assert (found is None) if problem is None else (found is not None and problem in found)
