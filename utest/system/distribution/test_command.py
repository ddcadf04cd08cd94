"""``sockerless-ecs-acceptance``: what it runs, what it refuses, and where it finds the kit.

The command is robot with the kit's defaults before the user's options and paths (the kit's suites
when there are none). These tests hold it to that: options and paths pass through unchanged (and
win), a misspelt option fails before anything runs, ``--help`` says what it runs and names the
variables of the three targets, ``--version`` is the installed distribution's, and the suites
resolve from a checkout (here) as from an installed package (``test_wheel.py`` and ``python3
tasks.py installed-kit``). ``init`` is ``test_scaffold.py``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest

from sockerless_ecs_acceptance import DISTRIBUTION, KitNotFound, kit_root, kit_version
from sockerless_ecs_acceptance.command import BAD_OPTIONS, HELP, main, robot_arguments
from SockerlessLibrary.version import __version__

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[3]
SUITES = Path("/kit/suites")


def test_defaults_come_first_so_the_users_options_win() -> None:
    arguments = robot_arguments(["--outputdir", "out", "--variable", "START_TIMEOUT:330s"], SUITES)
    assert arguments == [
        *["--outputdir", "results", "--xunit", "xunit.xml", "--include", "ecs"],
        *["--outputdir", "out", "--variable", "START_TIMEOUT:330s"],
        str(SUITES),
    ]


@pytest.mark.parametrize(
    "options", [["--include", "exec"], ["-i", "exec"], ["--inc", "exec"], ["--include=exec"]]
)
def test_an_include_of_the_users_replaces_the_default_one(options: list[str]) -> None:
    # Robot ORs includes: a default kept beside the user's would select every ECS test again.
    assert robot_arguments(options, SUITES) == [
        *["--outputdir", "results", "--xunit", "xunit.xml"],
        *options,
        str(SUITES),
    ]


def test_an_include_in_robot_options_from_the_environment_counts_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROBOT_OPTIONS", "--include config")
    assert "--include" not in robot_arguments([], SUITES)


def test_a_misspelt_option_fails_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--exclud", "slow", "--variabel", "X:1"]) == BAD_OPTIONS
    error = capsys.readouterr().err
    assert "option --variabel not recognized" in error
    assert "sockerless-ecs-acceptance --help" in error
    assert list(tmp_path.iterdir()) == []  # no results/, no journal: nothing ran


@pytest.mark.parametrize(
    "options",
    [
        ["suites"],
        ["--include", "qa-b", "suites"],
        ["--exclude", "slow", "team/a.robot", "team/b.robot"],
        ["-i", "qa-b", "--outputdir", "out", "suites"],
    ],
)
def test_paths_and_includes_are_robots_when_paths_are_given(options: list[str]) -> None:
    """A team's suites: exactly what robot would run, behind the output defaults only (no
    `--include ecs`, which would select none of a team's tests, and no kit suites)."""
    assert robot_arguments(options, SUITES) == [
        *["--outputdir", "results", "--xunit", "xunit.xml"],
        *options,
    ]


def test_the_kits_suites_are_not_looked_for_when_paths_are_given() -> None:
    def no_kit() -> Path:
        raise AssertionError("the kit's suites were asked for")

    assert robot_arguments(["suites"], no_kit)[-1] == "suites"


def test_a_path_that_does_not_exist_fails_as_in_robot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--exclude", "slow", "my_suites"]) == BAD_OPTIONS
    # robot's own message, on the process's stderr
    error = capfd.readouterr().err
    assert "my_suites' failed: File or directory to execute does not exist" in error


@pytest.mark.parametrize("option", ["--version", "--vers"])
def test_version_is_the_installed_distributions(
    option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([option]) == 0
    assert capsys.readouterr().out == f"sockerless-ecs-acceptance {version(DISTRIBUTION)}\n"
    assert version(DISTRIBUTION) == __version__  # the checkout's editable install is current
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["--help", "-h", "-?", "--he"])
def test_help_says_what_it_runs_and_runs_nothing(
    option: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--exclude", "slow", option]) == 0
    text = capsys.readouterr().out
    assert text.startswith(HELP)
    assert text.rstrip().endswith(f"sockerless-ecs-acceptance {kit_version()}")
    assert list(tmp_path.iterdir()) == []


def test_help_passes_robots_options_through_and_names_each_targets_variables() -> None:
    assert "Every option you give goes to robot unchanged" in HELP
    assert "--outputdir DIR" in HELP
    embedded, sim, aws = (
        HELP.split("  1. ")[1].split("  2. ")[0],
        HELP.split("  2. ")[1].split("  3. ")[0],
        HELP.split("  3. ")[1],
    )
    assert "SOCKERLESS_HOST not set" in embedded
    for variable in (
        "SOCKERLESS_HOST",
        "SOCKERLESS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "SOCKERLESS_ECS_CLUSTER",
    ):
        assert variable in sim, variable
    for variable in (
        "SOCKERLESS_HOST",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "AWS_REGION",
        "SOCKERLESS_ECS_CLUSTER",
        "SOCKERLESS_ECS_SUBNETS",
        "SOCKERLESS_ECS_SECURITY_GROUPS",
        "SOCKERLESS_ECS_LOG_GROUP",
        "SOCKERLESS_KIT_REQUIRE_CREDENTIALS",
    ):
        assert variable in aws, variable


def test_the_checkout_is_the_kit_when_the_package_dir_holds_no_suites() -> None:
    assert kit_root() == ROOT


def test_an_installed_package_is_its_own_kit(tmp_path: Path) -> None:
    package = tmp_path / "site-packages" / "sockerless_ecs_acceptance"
    for name in ("suites", "resources"):
        (package / name).mkdir(parents=True)
    assert kit_root(package) == package


def test_a_package_without_the_kit_says_so(tmp_path: Path) -> None:
    package = tmp_path / "site-packages" / "sockerless_ecs_acceptance"
    (package / "suites").mkdir(parents=True)
    with pytest.raises(KitNotFound, match=r"neither in .*site-packages/sockerless_ecs_acceptance"):
        kit_root(package)


def test_the_command_runs_the_checkouts_suites_from_anywhere_into_the_chosen_dir(
    tmp_path: Path, run_kit: Callable[..., None]
) -> None:
    """From a directory outside the checkout, the relative resource imports still resolve.

    A dry run: every suite, resource file and keyword is resolved, nothing is launched.
    """
    run_kit(tmp_path, "--dryrun", "--outputdir", "chosen")
    chosen = tmp_path / "chosen"
    assert sorted(p.name for p in chosen.iterdir()) == [
        "log.html",
        "output.xml",
        "report.html",
        "xunit.xml",
    ]
    root = ET.parse(chosen / "output.xml").getroot()
    top = root.find("suite")
    assert top is not None
    assert top.get("name") == "Sockerless ECS Acceptance"
    assert top.get("source") == str(ROOT / "suites")
    stat = root.find("./statistics/total/stat")
    assert stat is not None
    assert (stat.get("pass"), stat.get("fail")) == ("4", "0")
