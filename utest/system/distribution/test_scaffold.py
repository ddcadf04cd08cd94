"""``sockerless-ecs-acceptance init DIR``: a team repository that runs green as written.

What it writes, what it refuses (and that a refusal writes nothing), that its CI files are the
ones the lint step checks, and that its suites pass in the kit's checkout, placed where the
guide puts a team's suites there (``teams/``), where the kit's own lint rules do not reach them.
The same repository on the installed wheel, outside the checkout, with robot, pabot, robotcode
and the console command is ``python3 tasks.py installed-kit``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

import tasks
from sockerless_ecs_acceptance.command import BAD_OPTIONS, main
from sockerless_ecs_acceptance.scaffold import LAYOUT, TEMPLATE_DIR, VERSION_MARK

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
RUN_TIME_LIMIT_SECONDS = 120


def written(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def test_init_writes_the_team_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "team")]) == 0
    team = tmp_path / "team"
    assert written(team) == sorted(
        [
            ".github/workflows/sockerless-ecs.yml",
            ".gitignore",
            ".gitlab-ci.yml",
            "README.md",
            "robot.toml",
            "suites/__init__.robot",
            "suites/containers.robot",
            "suites/exec.robot",
        ]
    )
    assert "Wrote a team repository of 8 files" in capsys.readouterr().out
    # The CI files are the template's byte for byte: the ones the lint step checks.
    assert (team / ".github/workflows/sockerless-ecs.yml").read_bytes() == (
        tasks.GITHUB_WORKFLOW.read_bytes()
    )
    assert (team / ".gitlab-ci.yml").read_bytes() == tasks.GITLAB_CI.read_bytes()


def test_the_readme_names_the_kit_version_it_was_written_with(tmp_path: Path) -> None:
    from sockerless_ecs_acceptance import kit_version  # noqa: PLC0415

    assert main(["init", str(tmp_path)]) == 0
    readme = (tmp_path / "README.md").read_text()
    assert f'"sockerless-ecs-acceptance[simulator]=={kit_version()}"' in readme
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert VERSION_MARK not in path.read_text(), path


def test_the_team_robot_toml_has_a_profile_per_target_and_selects_no_tag() -> None:
    config = tomllib.loads((TEMPLATE_DIR / "robot.toml").read_text())
    assert config["paths"] == ["suites"]
    assert "includes" not in config  # a team's tests carry the team's tags, not `ecs`
    assert set(config["profiles"]) == {"embedded", "sockerless-sim", "aws"}
    assert config["profiles"]["embedded"]["env"]["SOCKERLESS_HOST"] == ""
    for name in ("sockerless-sim", "aws"):
        assert config["profiles"][name]["variables"]["START_TIMEOUT"] == "330s"


def test_the_top_suite_loads_the_library_so_the_run_is_accounted_for() -> None:
    top = (TEMPLATE_DIR / "suites" / "__init__.robot").read_text()
    assert "Resource         sockerless_ecs_acceptance/resources/sockerless.resource" in top


@pytest.mark.parametrize(
    "existing",
    [
        lambda d: (d / "notes.txt").write_text("keep me"),
        lambda d: (d / ".git").mkdir(),
    ],
)
def test_a_directory_that_holds_anything_is_refused_and_nothing_is_written(
    existing: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert callable(existing)
    existing(tmp_path)
    before = written(tmp_path) + [p.name for p in tmp_path.iterdir()]
    assert main(["init", str(tmp_path)]) == BAD_OPTIONS
    assert "is not empty: give a new or empty directory (nothing was written)" in (
        capsys.readouterr().err
    )
    assert written(tmp_path) + [p.name for p in tmp_path.iterdir()] == before


@pytest.mark.parametrize("arguments", [[], ["a", "b"], ["--force"]])
def test_init_takes_exactly_one_directory(
    arguments: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", *arguments]) == BAD_OPTIONS
    assert "give exactly one directory" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_file_is_no_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "team"
    file.write_text("x")
    assert main(["init", str(file)]) == BAD_OPTIONS
    assert "is a file, not a directory" in capsys.readouterr().err
    assert file.read_text() == "x"


def test_every_template_file_is_written_somewhere() -> None:
    on_disk = {
        str(p.relative_to(TEMPLATE_DIR))
        for p in TEMPLATE_DIR.rglob("*")
        # caches a tool may leave (robocop's, Python's) are no template files
        if p.is_file()
        and not any(
            part.startswith(".") or part == "__pycache__"
            for part in p.relative_to(TEMPLATE_DIR).parts
        )
    }
    assert on_disk == set(LAYOUT)


@pytest.fixture
def team_in_checkout() -> Iterator[Path]:
    """A team repository where the guide puts one in the kit's checkout: ``teams/<name>``."""
    team = ROOT / "teams" / f"utest-{uuid.uuid4().hex[:8]}"
    try:
        assert main(["init", str(team)]) == 0
        yield team
    finally:
        shutil.rmtree(team, ignore_errors=True)
        with_nothing_else = ROOT / "teams"
        if with_nothing_else.is_dir() and not any(with_nothing_else.iterdir()):
            with_nothing_else.rmdir()


def embedded_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("SOCKERLESS_HOST", "SOCKERLESS_ECS_SOCKET", "SOCKERLESS_ENDPOINT_URL")
        and not k.startswith("ROBOT_")
    }


@pytest.mark.slow
def test_the_team_suites_pass_in_the_kits_checkout(team_in_checkout: Path) -> None:
    """The checkout's .venv resolves `sockerless_ecs_acceptance/resources/...` as the wheel does
    (the symlink and the path file of ``tasks.py setup``), and the run accounts for itself."""
    completed = subprocess.run(
        [str(BIN / "robot"), "--outputdir", "results", "suites"],
        cwd=team_in_checkout,
        env=embedded_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIME_LIMIT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    root = ET.parse(team_in_checkout / "results" / "output.xml").getroot()
    stat = root.find("./statistics/total/stat")
    assert stat is not None and (stat.get("pass"), stat.get("fail")) == ("3", "0")
    metadata = {m.get("name"): m.text or "" for m in root.iter("meta")}
    assert metadata["Cleanup"] == "3 containers created, 3 cleaned, 3 proven gone on AWS, 0 left"
    assert metadata["Fargate tasks"] == "3"
    assert "Cleanup left" not in metadata


@pytest.mark.slow
def test_the_kits_lint_rules_do_not_reach_a_teams_suites_in_the_checkout(
    team_in_checkout: Path,
) -> None:
    """A team suite in teams/ that breaks the kit's robocop rules leaves the kit's lint green;
    the same file among the kit's suites turns it red (so the check can fail)."""
    sloppy = "*** Test Cases ***\nx\n    log    a\n"
    (team_in_checkout / "suites" / "sloppy.robot").write_text(sloppy)
    robocop = [str(BIN / "robocop"), "check", *tasks.KIT_ROBOT_PATHS]
    clean = subprocess.run(robocop, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout[-2000:]
    assert "sloppy.robot" not in clean.stdout
    dirty = subprocess.run(
        [*robocop[:2], str(team_in_checkout / "suites" / "sloppy.robot")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dirty.returncode != 0 and "sloppy.robot" in dirty.stdout, dirty.stdout
