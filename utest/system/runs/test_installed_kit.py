"""A team repository on the kit as a team gets it (``python3 tasks.py installed-kit``).

The wheel (built from the sdist) goes into a new virtual environment outside the checkout with
the CI jobs' own install command word for word (``tasks.INSTALLED_KIT_COMMANDS``, which
utest/system/ci holds to the CI examples), ``sockerless-ecs-acceptance init`` writes a team
repository there, and its suites run with the CI job's command, ``robot``, ``pabot --processes
2`` and ``robotcode -p embedded robot``, and the console command on the kit's own suites, all on
the embedded simulator. Each run must pass its tests with the kit's resource files from the
installed package, never from the checkout. The results are copied to results/installed-kit/.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from robot_runs import RESULTS, RUN_TIME_LIMIT_SECONDS

import tasks
from utest.kit_environment import (
    INSTALL_TIME_LIMIT_SECONDS,
    KitEnvironment,
    Ran,
    installed_run_problems,
    kit_wheel,
    new_kit_environment,
    resource_problems,
    run,
    succeed,
    team_run_problems,
)
from utest.outcomes import counts

RESULTS_COPY = RESULTS / "installed-kit"
CI_JOB = "the CI job's command"
KIT_OWN_SUITES = "the console command on the kit's own suites"

# Bounded as tasks.py bounds the step that runs this module.
pytestmark = pytest.mark.timeout(RUN_TIME_LIMIT_SECONDS)


@dataclass(frozen=True)
class Installed:
    kit: KitEnvironment
    wheel: Path
    team: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    shutil.rmtree(RESULTS_COPY, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="kit-installed-") as scratch:
        work = Path(scratch)
        wheel = kit_wheel(work)
        kit = new_kit_environment(work)
        env = kit.env(SOCKERLESS_ECS_KIT=f"{wheel}[simulator]")
        install = tasks.INSTALLED_KIT_COMMANDS[0]
        succeed(
            install, ["bash", "-c", install], env, cwd=work, time_limit=INSTALL_TIME_LIMIT_SECONDS
        )
        succeed(
            "robotcode for its runner",
            [str(kit.bin / "python"), "-m", "pip", "install", "-q", "robotcode[runner]"],
            env,
            cwd=work,
            time_limit=INSTALL_TIME_LIMIT_SECONDS,
        )
        team = work / "team"
        succeed(
            "sockerless-ecs-acceptance init team",
            [str(kit.bin / "sockerless-ecs-acceptance"), "init", str(team)],
            env,
            cwd=work,
        )
        yield Installed(kit, wheel, team, env)
        for directory in ("results", "results-robot", "results-pabot", "results-kit"):
            if (team / directory).is_dir():
                shutil.copytree(team / directory, RESULTS_COPY / directory)


def team_runs(kit: KitEnvironment) -> dict[str, tuple[list[str], str]]:
    """The ways a team runs its suites after the CI job's command: name -> (command, output
    directory in the team repository)."""
    return {
        "robot": (
            [str(kit.bin / "robot"), "--outputdir", "results-robot", "suites"],
            "results-robot",
        ),
        "pabot --processes 2": (
            [str(kit.bin / "pabot"), "--processes", "2", "--outputdir", "results-pabot", "suites"],
            "results-pabot",
        ),
        "robotcode -p embedded robot": (
            [str(kit.bin / "robotcode"), "-p", "embedded", "robot"],
            "results/embedded",
        ),
        KIT_OWN_SUITES: (
            [str(kit.bin / "sockerless-ecs-acceptance"), "--outputdir", "results-kit"],
            "results-kit",
        ),
    }


@pytest.fixture(scope="module")
def runs(installed: Installed) -> dict[str, tuple[Ran, Path]]:
    """Every run of the team repository: the CI job's command first, then the others two at a
    time (each with its own output directory and simulator); name -> (run, output dir)."""
    team = installed.team

    def one(name: str, command: list[str], output_dir: str) -> tuple[Ran, Path]:
        syslog = team / output_dir / "syslog.txt"
        syslog.parent.mkdir(parents=True, exist_ok=True)
        env = {**installed.env, "ROBOT_SYSLOG_FILE": str(syslog)}
        return run(name, command, env, cwd=team), team / output_dir

    done = {CI_JOB: one(CI_JOB, ["bash", "-c", tasks.INSTALLED_KIT_COMMANDS[1]], "results")}
    others = team_runs(installed.kit)
    with ThreadPoolExecutor(2) as pool:
        futures = {name: pool.submit(one, name, *how) for name, how in others.items()}
        done.update({name: future.result() for name, future in futures.items()})
    return done


def test_the_installed_command_says_the_wheels_version(installed: Installed) -> None:
    ran = succeed(
        "sockerless-ecs-acceptance --version",
        [str(installed.kit.bin / "sockerless-ecs-acceptance"), "--version"],
        installed.env,
        time_limit=60,
    )
    assert ran.output.strip() == f"sockerless-ecs-acceptance {installed.wheel.name.split('-')[1]}"


@pytest.mark.parametrize(
    "name", [CI_JOB, "robot", "pabot --processes 2", "robotcode -p embedded robot"]
)
def test_the_team_suites_pass_on_the_installed_kit(
    runs: dict[str, tuple[Ran, Path]], installed: Installed, name: str
) -> None:
    ran, output_dir = runs[name]
    problems = team_run_problems(
        name, output_dir, installed.kit.site_packages(), pabot=name.startswith("pabot")
    )
    assert ran.code == 0 and problems == [], (problems, ran.said())


def test_the_console_command_runs_the_kits_own_suites_from_the_installed_package(
    runs: dict[str, tuple[Ran, Path]], installed: Installed
) -> None:
    ran, output_dir = runs[KIT_OWN_SUITES]
    problems = installed_run_problems(output_dir, installed.kit.venv)
    problems += resource_problems(KIT_OWN_SUITES, output_dir, installed.kit.site_packages())
    if not problems:
        total = counts(output_dir / "output.xml")
        if total.failed or not total.passed:
            problems.append(f"{total.passed} passed, {total.failed} failed")
    assert ran.code == 0 and problems == [], (problems, ran.said())
