"""The kit installed without its simulator extra beside other versions of what it depends on,
as in a team's environment that already holds them (the ``test_kit_*`` modules here).

pip resolves the wheel with the versions pinned (``.venv``'s versions for everything else),
``pip check`` is clean, the team repository's suites pass against a simulator of the checkout's
(as against sockerless with its own AWS simulator), and the embedded simulator is refused with the
command that installs the extra.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from utest.kit_environment import (
    INSTALL_TIME_LIMIT_SECONDS,
    PYTHON,
    KitEnvironment,
    Ran,
    new_kit_environment,
    refusal_problem,
    run,
    succeed,
    team_run_problems,
)

# Installing boto3 at another version means its botocore and s3transfer too.
COMPANIONS = {"boto3": ("botocore", "s3transfer")}
# Each pinned distribution is installed at a version its pin matches, and moto is not there.
VERSIONS_CHECK = """
import fnmatch, importlib.metadata as metadata, importlib.util, json, sys
pins = json.loads(sys.argv[1])
found = {name: metadata.version(name) for name in pins}
wrong = {n: v for n, v in found.items() if not fnmatch.fnmatch(v, pins[n])}
assert not wrong, f"installed {wrong}, pinned {pins}"
assert importlib.util.find_spec("moto") is None, "moto is installed"
print(" ".join(f"{n} {v}" for n, v in found.items()), "without moto")
"""


@dataclass(frozen=True)
class Beside:
    """The kit installed beside ``pins`` (distribution -> version pattern), and a team
    repository written by its ``init``."""

    kit: KitEnvironment
    pins: dict[str, str]
    team: Path

    @property
    def python(self) -> str:
        return str(self.kit.bin / "python")

    @property
    def command(self) -> str:
        return str(self.kit.bin / "sockerless-ecs-acceptance")

    def pip(self, *arguments: str) -> list[str]:
        """``.venv``'s pip acting on this environment."""
        return [PYTHON, "-m", "pip", "--python", self.python, *arguments]


def install_beside(work: Path, wheel: Path, pins: dict[str, str]) -> Beside:
    leave_out = tuple(name for pin in pins for name in (pin, *COMPANIONS.get(pin, ())))
    kit = new_kit_environment(work, leave_out, with_pip=False)
    beside = Beside(kit, pins, work / "team")
    requirements = [f"{name}=={version}" for name, version in pins.items()]
    succeed(
        f"install the wheel beside {' '.join(requirements)}",
        beside.pip("install", "-q", str(wheel), *requirements),
        kit.env(),
        cwd=work,
        time_limit=INSTALL_TIME_LIMIT_SECONDS,
    )
    succeed(
        "sockerless-ecs-acceptance init team",
        [beside.command, "init", str(beside.team)],
        kit.env(),
        cwd=work,
    )
    return beside


def pip_check(beside: Beside) -> Ran:
    return run("pip check", beside.pip("check"), beside.kit.env())


def versions_check(beside: Beside) -> Ran:
    return run(
        "the pinned versions and no moto",
        [beside.python, "-c", VERSIONS_CHECK, json.dumps(beside.pins)],
        beside.kit.env(),
    )


def team_suites_problems(beside: Beside, runner: list[str], output_dir: str) -> list[str]:
    """``runner`` (the command or pabot, writing to ``output_dir``) on the team's suites
    against a simulator of the checkout's: what is wrong with the run."""
    syslog = beside.team / output_dir / "syslog.txt"
    syslog.parent.mkdir(parents=True, exist_ok=True)
    ran = run(
        f"the team's suites through {Path(runner[0]).name}, against a simulator of the checkout's",
        [PYTHON, "-m", "sockerless_sim.with_simulator", "--", *runner],
        beside.kit.env(ROBOT_SYSLOG_FILE=str(syslog)),
        cwd=beside.team,
    )
    problems = team_run_problems(
        ran.name,
        beside.team / output_dir,
        beside.kit.site_packages(),
        pabot=Path(runner[0]).name == "pabot",
    )
    return problems + ([] if ran.code == 0 else [ran.said()])


def refused_run_problem(beside: Beside) -> str | None:
    """The embedded simulator without the extra: the run must fail, naming the extra."""
    ran = run(
        "the embedded simulator without the extra (must be refused)",
        [beside.command, "--outputdir", "refused", "suites"],
        beside.kit.env(),
        cwd=beside.team,
    )
    if ran.code == 0:
        return f"the run on the embedded simulator passed without the extra:\n{ran.said()}"
    return refusal_problem(beside.team / "refused" / "output.xml")
