"""``sockerless-ecs-acceptance``: run ECS acceptance suites with Robot Framework, or start a team
repository of them.

The command is ``robot`` with the kit's defaults in front of your options: every robot option
works and, coming later, wins over a default. Paths and ``--include`` behave as in ``robot``:
given paths, it runs them (your suites); given none, it runs the kit's own ECS suites (``--include
ecs`` unless you select otherwise). It parses your options with robot's own parser first, so a
misspelt option fails here, before anything runs. ``init DIR`` writes a team repository
(``scaffold.py``); ``--version`` prints the installed kit's version.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from robot.errors import DataError
from robot.run import USAGE, run_cli
from robot.utils import ArgumentParser

from . import DISTRIBUTION, KitNotFound, kit_root, kit_version
from .scaffold import ScaffoldError, write_team_repository

COMMAND = "sockerless-ecs-acceptance"
INIT = "init"
DEFAULT_OUTPUT_DIR = "results"
ECS_TAG = "ecs"
# Robot's own exit status for invalid data or command line options.
BAD_OPTIONS = 252

HELP = f"""\
usage: {COMMAND} [robot options] [paths]
       {COMMAND} {INIT} DIR
       {COMMAND} --version

Runs sockerless ECS acceptance suites (spec TST-010) with Robot Framework, on the target the
environment names: your suites when you give paths, else the kit's own. Reports land in
./{DEFAULT_OUTPUT_DIR}/: report.html, log.html, output.xml and xunit.xml (JUnit-style, for CI
test-result views).

What it runs:
  robot --outputdir {DEFAULT_OUTPUT_DIR} --xunit xunit.xml [robot options] <paths>
  robot --outputdir {DEFAULT_OUTPUT_DIR} --xunit xunit.xml --include {ECS_TAG} [robot options]
        <the kit's suites>                                   (no paths given)

Paths and --include work as in robot:
  {COMMAND} suites                      every test under suites/
  {COMMAND} --include checkout suites   the ones tagged checkout
Without paths an --include of yours replaces the default --include {ECS_TAG}.
Every option you give goes to robot unchanged (`robot --help` lists them all) and, coming
after the defaults, wins over them. For example:
  --outputdir DIR             write the report, log, output.xml and xunit.xml to DIR
  --exclude slow              leave out the tests that launch Fargate tasks
  --variable START_TIMEOUT:330s --variable STOP_TIMEOUT:180s    for real AWS
  --loglevel DEBUG            more detail in log.html
Your suites import the kit's resource files by their place on the module search path:
  Resource    sockerless_ecs_acceptance/resources/ecs_suite.resource

  {INIT} DIR    writes a team repository into DIR (new or empty): an example suite that
              passes as written, robot.toml with one profile per target, and CI jobs for
              GitHub Actions and GitLab CI. Its README.md says how to run it.

Targets: the same suites run, unchanged, against three targets, chosen by the environment.
  1. The embedded simulator (the default: SOCKERLESS_HOST not set). A local stand-in for
     sockerless' ECS backend with an in-process AWS (ECS, CloudWatch Logs, EC2): no AWS
     account, no network, no secrets. It needs the kit's `simulator` extra:
       pip install "{DISTRIBUTION}[simulator]"
  2. sockerless with its own AWS simulator:
       SOCKERLESS_HOST            the daemon: unix:///path.sock, tcp://host:port, http://host:port
       SOCKERLESS_ENDPOINT_URL    the AWS endpoint of the simulator (or AWS_ENDPOINT_URL)
       AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test    the simulator's static credentials
       SOCKERLESS_ECS_CLUSTER     the cluster sockerless runs its tasks in (default sockerless)
  3. sockerless on real AWS:
       SOCKERLESS_HOST            the daemon
       AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), or AWS_PROFILE
       AWS_REGION                 the region (default us-east-1)
       SOCKERLESS_ECS_CLUSTER, SOCKERLESS_ECS_SUBNETS, SOCKERLESS_ECS_SECURITY_GROUPS
       SOCKERLESS_ECS_LOG_GROUP   the log group sockerless writes to (default /sockerless)
With a real target and no AWS credentials every test is skipped, not failed (spec AC 1); in CI set
SOCKERLESS_KIT_REQUIRE_CREDENTIALS=true so that missing credentials fail the run instead.
SOCKERLESS_KIT_TASK_BUDGET caps the Fargate tasks a run may launch (default auto: what the
selected tests declare with fargate-tasks:N tags, enforced against a real target, only
reported on the embedded simulator).

Exit status is robot's: 0 when every test passed, 1-250 the number of failed tests, 251-255 an
error ({BAD_OPTIONS}: invalid options, reported before anything runs).
"""


def robot_arguments(user_options: Sequence[str], suites: Path | Callable[[], Path]) -> list[str]:
    """The robot command line for ``user_options``: the kit's defaults, then the user's options
    and paths; without paths, the kit's ``suites`` (with ``--include ecs`` unless the user
    selects by tag; a callable is asked only then).

    Raises ``DataError`` for options robot does not accept.
    """
    options, paths = _robot_parser().parse_args(list(user_options))
    defaults = ["--outputdir", DEFAULT_OUTPUT_DIR, "--xunit", "xunit.xml"]
    if paths:
        return [*defaults, *user_options]
    if not options["include"]:
        defaults += ["--include", ECS_TAG]
    kit_suites = suites if isinstance(suites, Path) else suites()
    return [*defaults, *user_options, str(kit_suites)]


def _robot_parser() -> ArgumentParser:
    # Robot's own parser, so abbreviations, `--option=value`, argument files and ROBOT_OPTIONS
    # read as robot will read them; help and version are left to the caller. It leaves sys.path
    # alone: robot applies --pythonpath itself when it runs.
    return ArgumentParser(USAGE, env_options="ROBOT_OPTIONS", auto_help=False, auto_version=False)


def init(arguments: Sequence[str]) -> int:
    """``init DIR``: write a team repository; 0, or BAD_OPTIONS with the reason on stderr."""
    if len(arguments) != 1 or arguments[0].startswith("-"):
        print(
            f"{COMMAND} {INIT}: give exactly one directory to write the team repository into "
            f"(got: {' '.join(arguments) or 'nothing'})",
            file=sys.stderr,
        )
        return BAD_OPTIONS
    try:
        written = write_team_repository(Path(arguments[0]), kit_version())
    except ScaffoldError as error:
        print(f"{COMMAND} {INIT}: {error}", file=sys.stderr)
        return BAD_OPTIONS
    print(f"Wrote a team repository of {len(written)} files to {arguments[0]}:")
    for path in written:
        print(f"  {path}")
    print(f"Run it: cd {arguments[0]} && {COMMAND} suites   (its README.md says more)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console command; returns robot's exit status."""
    user_options = list(sys.argv[1:] if argv is None else argv)
    if user_options[:1] == [INIT]:
        return init(user_options[1:])
    try:
        # Options robot rejects fail before help and version too, as they would in robot.
        options, _ = _robot_parser().parse_args(user_options)
        if options["help"]:
            print(HELP + f"\n{DISTRIBUTION} {kit_version()}")
            return 0
        if options["version"]:
            print(f"{DISTRIBUTION} {kit_version()}")
            return 0
        arguments = robot_arguments(user_options, lambda: kit_root() / "suites")
    except DataError as error:
        print(f"{COMMAND}: {error}\nTry `{COMMAND} --help`.", file=sys.stderr)
        return BAD_OPTIONS
    except KitNotFound as error:
        print(f"{COMMAND}: {error}", file=sys.stderr)
        return BAD_OPTIONS
    return int(run_cli(arguments, exit=False))
