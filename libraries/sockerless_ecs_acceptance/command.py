"""``sockerless-ecs-acceptance``: run the kit's ECS suites with Robot Framework.

The command is ``robot`` with the kit's defaults in front of your options and the kit's suites
behind them, so every robot option works and, coming later, wins over a default. It parses your
options with robot's own parser first, so a misspelt option fails here, before anything runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from robot.errors import DataError
from robot.run import USAGE, run_cli
from robot.utils import ArgumentParser

from . import DISTRIBUTION, KitNotFound, kit_root, kit_version

COMMAND = "sockerless-ecs-acceptance"
DEFAULT_OUTPUT_DIR = "results"
ECS_TAG = "ecs"
# Robot's own exit status for invalid data or command line options.
BAD_OPTIONS = 252

HELP = f"""\
usage: {COMMAND} [robot options]

Runs the sockerless ECS acceptance suites (spec TST-010) that this package carries, with Robot
Framework, on the target the environment names. Reports land in ./{DEFAULT_OUTPUT_DIR}/:
report.html, log.html, output.xml and xunit.xml (JUnit-style, for CI test-result views).

What it runs:
  robot --outputdir {DEFAULT_OUTPUT_DIR} --xunit xunit.xml --include {ECS_TAG} [robot options]
        <the kit's suites>

Every option you give goes to robot unchanged (`robot --help` lists them all) and, coming after
the defaults, wins over them. For example:
  --outputdir DIR             write the report, log, output.xml and xunit.xml to DIR
  --exclude slow              only the suite that launches no Fargate task (configuration)
  --variable START_TIMEOUT:330s --variable STOP_TIMEOUT:180s    for real AWS
  --loglevel DEBUG            more detail in log.html
An --include of yours replaces the default --include {ECS_TAG}. Paths are not options: the
command always runs the kit's own suites (for suites of your own, run `robot` on them; they can
import the kit's resource files as sockerless_ecs_acceptance/resources/<name>.resource).

Targets: the same suites run, unchanged, against three targets, chosen by the environment.
  1. The embedded simulator (the default: SOCKERLESS_HOST not set). A local stand-in for
     sockerless' ECS backend with an in-process AWS (ECS, CloudWatch Logs, EC2): no AWS
     account, no network, no secrets.
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


def robot_arguments(user_options: Sequence[str], suites: Path) -> list[str]:
    """The robot command line for ``user_options``: the kit's defaults, yours, the suites.

    Raises ``DataError`` for options robot does not accept and for paths.
    """
    options, paths = _robot_parser().parse_args(list(user_options))
    if paths:
        raise DataError(
            f"{COMMAND} runs the kit's own suites and takes no paths; got {', '.join(paths)}. "
            "Run `robot` on suites of your own."
        )
    defaults = ["--outputdir", DEFAULT_OUTPUT_DIR, "--xunit", "xunit.xml"]
    if not options["include"]:
        defaults += ["--include", ECS_TAG]
    return [*defaults, *user_options, str(suites)]


def wants_help(user_options: Sequence[str]) -> bool:
    """``-h``/``--help`` (or an abbreviation robot accepts) anywhere among the options."""
    try:
        options, _ = _robot_parser().parse_args(list(user_options))
    except DataError:
        return False
    return bool(options["help"])


def _robot_parser() -> ArgumentParser:
    # Robot's own parser, so abbreviations, `--option=value`, argument files and ROBOT_OPTIONS
    # read as robot will read them; help and version are left to the caller. It leaves sys.path
    # alone: robot applies --pythonpath itself when it runs.
    return ArgumentParser(USAGE, env_options="ROBOT_OPTIONS", auto_help=False, auto_version=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console command; returns robot's exit status."""
    user_options = list(sys.argv[1:] if argv is None else argv)
    if wants_help(user_options):
        print(HELP + f"\n{DISTRIBUTION} {kit_version()}")
        return 0
    try:
        arguments = robot_arguments(user_options, kit_root() / "suites")
    except DataError as error:
        print(f"{COMMAND}: {error}\nTry `{COMMAND} --help`.", file=sys.stderr)
        return BAD_OPTIONS
    except KitNotFound as error:
        print(f"{COMMAND}: {error}", file=sys.stderr)
        return BAD_OPTIONS
    return int(run_cli(arguments, exit=False))
