"""The judgements of ``utest/kit_environment.py`` on real runs' results: what the installed-kit
and lower-bound runs must show, and the wrong runs each one refuses (a run from the checkout,
a missing report file, a failed test, resource files from the checkout, a pabot report that
does not add up, an embedded simulator that was not refused)."""

from __future__ import annotations

from pathlib import Path

import pytest

from utest.kit_environment import (
    MISSING_EXTRA,
    installed_run_problems,
    refusal_problem,
    resource_problems,
    team_run_problems,
)

OUTPUTS = ("output.xml", "report.html", "log.html", "xunit.xml")
THREE_PASS = (
    "*** Test Cases ***\nOne\n    No Operation\nTwo\n    No Operation\nThree\n    No Operation\n"
)
SITE = "lib/python3.11/site-packages"


def installed_suites(venv: Path) -> Path:
    return venv / SITE / "sockerless_ecs_acceptance" / "suites"


def with_report_files(output_xml: Path, files: tuple[str, ...] = OUTPUTS) -> Path:
    for name in files:
        path = output_xml.parent / name
        if not path.exists():
            path.write_text("")
    return output_xml.parent


def test_a_run_from_the_installed_package_with_every_file_is_accepted(
    run_suite, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    output = run_suite(installed_suites(venv), THREE_PASS)
    assert installed_run_problems(with_report_files(output), venv) == []


def test_a_run_of_the_checkouts_suites_is_refused(run_suite, tmp_path: Path) -> None:
    checkout = tmp_path / "checkout" / "suites"
    output = run_suite(checkout, THREE_PASS)
    problems = installed_run_problems(with_report_files(output), tmp_path / "venv")
    assert problems == [
        f"the suites ran from {checkout / 'suite.robot'}, not from the installed package"
    ]


@pytest.mark.parametrize("missing", OUTPUTS[1:])
def test_a_missing_report_file_is_named(run_suite, tmp_path: Path, missing: str) -> None:
    venv = tmp_path / "venv"
    output = run_suite(installed_suites(venv), THREE_PASS)
    files = tuple(name for name in OUTPUTS if name != missing)
    assert installed_run_problems(with_report_files(output, files), venv) == [
        f"no {missing} in the chosen output dir"
    ]


def test_no_output_dir_at_all_names_every_file(tmp_path: Path) -> None:
    problems = installed_run_problems(tmp_path / "results", tmp_path / "venv")
    assert problems == [f"no {name} in the chosen output dir" for name in OUTPUTS]


def syslog(output_dir: Path, *resources: Path) -> None:
    lines = "".join(f"Imported resource file '{path}' (6 keywords).\n" for path in resources)
    (output_dir / "syslog.txt").write_text(lines)


def test_a_team_run_that_took_the_kits_resources_from_the_checkout_is_refused(
    run_suite, tmp_path: Path
) -> None:
    site_packages = tmp_path / "venv" / SITE
    output_dir = run_suite(tmp_path / "team" / "results-robot", THREE_PASS).parent
    syslog(output_dir, site_packages / "sockerless_ecs_acceptance/resources/ecs_suite.resource")
    assert team_run_problems("robot", output_dir, site_packages) == []
    checkout = tmp_path / "checkout/resources/ecs_suite.resource"
    syslog(output_dir, checkout)
    assert team_run_problems("robot", output_dir, site_packages) == [
        f"robot: resource files from ['{checkout}'], not the installed kit"
    ]
    (output_dir / "syslog.txt").unlink()
    assert resource_problems("robot", output_dir, site_packages) == [
        "robot: resource files from nowhere, not the installed kit"
    ]


def test_a_team_run_with_a_failed_test_or_a_pabot_report_that_does_not_add_up_is_refused(
    run_suite, tmp_path: Path
) -> None:
    site_packages = tmp_path / "venv" / SITE
    resource = site_packages / "sockerless_ecs_acceptance/resources/ecs_suite.resource"
    failing = THREE_PASS.replace("Three\n    No Operation", "Three\n    Fail    no")
    robot_dir = run_suite(tmp_path / "results-robot", failing).parent
    syslog(robot_dir, resource)
    assert team_run_problems("robot", robot_dir, site_packages) == [
        "robot: 2 passed, 1 failed, 0 skipped"
    ]
    reported_one = "*** Settings ***\nMetadata    Fargate tasks    1\n" + THREE_PASS
    pabot_dir = run_suite(tmp_path / "results-pabot", reported_one).parent
    syslog(pabot_dir, resource)
    assert team_run_problems("pabot", pabot_dir, site_packages, pabot=True) == [
        "pabot: the merged report says 1 Fargate tasks",
        "pabot: no merged timeline.json",
    ]


REFUSED = (
    "ConfigurationError: The embedded simulator ... needs the kit's 'simulator' extra, exactly: "
    'moto 5.2.5 (installed: none). Install it with pip install "sockerless-ecs-acceptance'
    '[simulator]==1.0.0"'
)


@pytest.mark.parametrize(
    ("suite", "problem"),
    [
        (f"*** Settings ***\nSuite Setup    Fail    {REFUSED}\n{THREE_PASS}", None),
        (
            "*** Settings ***\nSuite Setup    Fail    DaemonUnreachable: no socket\n" + THREE_PASS,
            f"does not say that the embedded simulator {MISSING_EXTRA}",
        ),
        (THREE_PASS, "the refused run: 3 passed, 0 failed"),
    ],
)
def test_a_run_without_the_simulator_extra_must_be_refused_naming_it(
    run_suite, tmp_path: Path, suite: str, problem: str | None
) -> None:
    found = refusal_problem(run_suite(tmp_path / "refused", suite))
    assert (found is None) if problem is None else (found is not None and problem in found), found
