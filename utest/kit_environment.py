"""The kit as a team gets it: its wheel in a new virtual environment outside the checkout, and
the judgement of the runs made there (``utest/system/runs/test_installed_kit.py`` and the two
``test_kit_*`` modules beside it).

pip resolves the kit's dependencies from the package index, held by ``PIP_CONSTRAINT`` to the
versions of ``.venv`` (but the ones a check leaves out to install others), so the commands stay
as a team's CI jobs have them.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import tasks
from utest.outcomes import counts, metadata, outcomes, suite_source

PYTHON = sys.executable  # .venv's python: its pip installs into the new environments too
INSTALL_TIME_LIMIT_SECONDS = 10 * 60
RUN_TIME_LIMIT_SECONDS = 20 * 60
# ``tasks.py`` builds the wheel once per run and hands it to every step that installs it.
WHEEL_VARIABLE = "SOCKERLESS_KIT_WHEEL"
TEAM_TESTS = 3  # the template's example suites
TEAM_FARGATE_TASKS = "3"
# What the kit must say when its simulator's pins are not installed (simulator_extra.py).
MISSING_EXTRA = "needs the kit's 'simulator' extra"


@dataclass(frozen=True)
class Ran:
    """A finished command: what ran, its exit code and output."""

    name: str
    command: list[str]
    code: int
    output: str

    def said(self) -> str:
        return f"{self.name}: exit {self.code}\n$ {shlex.join(self.command)}\n{self.output[-4000:]}"


def run(
    name: str,
    command: list[str],
    env: dict[str, str] | None = None,
    *,
    cwd: Path = tasks.ROOT,
    time_limit: float = RUN_TIME_LIMIT_SECONDS,
) -> Ran:
    """Run ``command`` bounded, printing its name, the command and (when it is over) its output."""
    print(f"\n=== {name}\n$ {shlex.join(command)}", flush=True)
    started = time.monotonic()
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        timeout=time_limit,
        check=False,
    )
    print(completed.stdout, end="")
    print(f"=== {name}: exit {completed.returncode} ({time.monotonic() - started:.1f} s)")
    return Ran(name, command, completed.returncode, completed.stdout)


def succeed(
    name: str,
    command: list[str],
    env: dict[str, str] | None = None,
    *,
    cwd: Path = tasks.ROOT,
    time_limit: float = RUN_TIME_LIMIT_SECONDS,
) -> Ran:
    """``run``, failing the test with the command's output unless it exits 0."""
    ran = run(name, command, env, cwd=cwd, time_limit=time_limit)
    assert ran.code == 0, ran.said()
    return ran


def kit_wheel(scratch: Path) -> Path:
    """The wheel ``tasks.py`` built for this run, or one built from the checkout's sdist now."""
    handed = os.environ.get(WHEEL_VARIABLE)
    if handed:
        return Path(handed)
    dist = scratch / "dist"
    with tasks.source_build_lock():  # the checkout's egg-info, which other builds write too
        succeed(
            "build the sdist and, from it, the wheel",
            [PYTHON, "-m", "build", "--outdir", str(dist), str(tasks.ROOT)],
            time_limit=INSTALL_TIME_LIMIT_SECONDS,
        )
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def frozen_requirements(leave_out: tuple[str, ...] = ()) -> str:
    """.venv's installed versions as pip constraints (the checkout's own editable install and the
    distributions in ``leave_out`` left out)."""
    frozen = subprocess.run(
        [PYTHON, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return "".join(
        f"{line}\n"
        for line in frozen.stdout.splitlines()
        if not any(line.lower().startswith(f"{name}==") for name in leave_out)
    )


@dataclass(frozen=True)
class KitEnvironment:
    """A new virtual environment outside the checkout, to install the kit's wheel in."""

    directory: Path
    constraints: Path

    @property
    def venv(self) -> Path:
        return self.directory / "venv"

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        """The embedded environment with this venv first on PATH, nothing of the checkout."""
        env = tasks.embedded_environment(
            PATH=os.pathsep.join([str(self.bin), os.environ.get("PATH", "")]),
            VIRTUAL_ENV=str(self.venv),
            PIP_CONSTRAINT=str(self.constraints),
            **extra,
        )
        env.pop("PYTHONPATH", None)
        return env

    def site_packages(self) -> Path | None:
        return next(self.venv.glob("lib/python3*/site-packages"), None)


def new_kit_environment(
    work: Path, leave_out: tuple[str, ...] = (), *, with_pip: bool = True
) -> KitEnvironment:
    """``work/venv``, with ``work/constraints.txt`` holding .venv's versions (but ``leave_out``).

    ``with_pip=False`` saves installing pip into it (``.venv``'s pip installs into it with
    ``--python``), where no command has to run ``python -m pip`` inside it."""
    constraints = work / "constraints.txt"
    constraints.write_text(frozen_requirements(leave_out))
    succeed(
        "a new virtual environment outside the checkout",
        [PYTHON, "-m", "venv", str(work / "venv"), *([] if with_pip else ["--without-pip"])],
        time_limit=INSTALL_TIME_LIMIT_SECONDS,
    )
    return KitEnvironment(work, constraints)


# --- judgements ----------------------------------------------------------------------------


def installed_run_problems(output_dir: Path, venv_dir: Path) -> list[str]:
    """What is wrong with the installed kit's run in ``output_dir``: a missing file, or suites
    that ran from anywhere but the virtual environment's site-packages."""
    problems = [
        f"no {file} in the chosen output dir"
        for file in ("output.xml", "report.html", "log.html", "xunit.xml")
        if not (output_dir / file).is_file()
    ]
    if not problems:
        source = suite_source(output_dir / "output.xml") or Path()
        if not source.is_relative_to(venv_dir) or "site-packages" not in source.parts:
            problems.append(f"the suites ran from {source}, not from the installed package")
    return problems


def team_run_problems(
    name: str, output_dir: Path, site_packages: Path | None, *, pabot: bool = False
) -> list[str]:
    """What is wrong with one run of the team repository into ``output_dir``: no output, not
    its three tests passed, resource files from anywhere but the installed kit; under pabot, a
    merged report that does not add up."""
    output_xml = output_dir / "output.xml"
    if not output_xml.is_file():
        return [f"{name}: no output.xml in {output_dir.name}"]
    problems = []
    total = counts(output_xml)
    if (total.passed, total.failed, total.skipped) != (TEAM_TESTS, 0, 0):
        problems.append(
            f"{name}: {total.passed} passed, {total.failed} failed, {total.skipped} skipped"
        )
    if pabot:
        fargate_tasks = metadata(output_xml).get("Fargate tasks")
        if fargate_tasks != TEAM_FARGATE_TASKS:
            problems.append(f"{name}: the merged report says {fargate_tasks} Fargate tasks")
        if not (output_dir / "timeline.json").is_file():
            problems.append(f"{name}: no merged timeline.json")
    return problems + resource_problems(name, output_dir, site_packages)


def resource_problems(name: str, output_dir: Path, site_packages: Path | None) -> list[str]:
    """Resource files a run imported from anywhere but the installed kit, read from the
    ``syslog.txt`` files under ``output_dir`` (pabot's processes write one each); a run that
    left no such line is refused too."""
    imported = [
        path
        for syslog in sorted(output_dir.rglob("syslog.txt"))
        for path in re.findall(r"Imported resource file '([^']+)'", syslog.read_text())
    ]
    outside = [
        path
        for path in imported
        if site_packages is None or not Path(path).is_relative_to(site_packages)
    ]
    if imported and not outside:
        return []
    return [f"{name}: resource files from {outside or 'nowhere'}, not the installed kit"]


def refusal_problem(output_xml: Path) -> str | None:
    """Why a run on the embedded simulator without its extra was not refused as it must be:
    every test failed, naming the extra and the install command, and none passed."""
    if not output_xml.is_file():
        return "no output.xml of the refused run"
    total = counts(output_xml)
    if total.passed or not total.failed:
        return f"the refused run: {total.passed} passed, {total.failed} failed"
    messages = [outcome.message for outcome in outcomes(output_xml)]
    if not all(
        MISSING_EXTRA in m and "sockerless-ecs-acceptance[simulator]==" in m for m in messages
    ):
        return f"the refused run does not say that the embedded simulator {MISSING_EXTRA}"
    return None
