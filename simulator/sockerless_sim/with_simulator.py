"""Run one command against a simulator started for it, then stop the simulator.

    python -m sockerless_sim.with_simulator [--profile P] [--time-scale F] [--quirk Q]...
        [--lie L]... [--iam-policy FILE] [--stats-file FILE] -- COMMAND [ARG...]

The command sees the simulator as an external target (``SimulatorInfo.target_environment``):
this is how several robot processes (pabot) share one simulator instead of each starting its own.
With ``--iam-policy`` the simulator checks every AWS signature and policy, and the command runs as
the IAM user holding only that policy: its keys are in the command's environment
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``) and nowhere else; the stats then say, per IAM
user name, which actions were called and which were denied.
When the command ends, the simulator's ``/_sim/stats`` (tasks launched, task-seconds, ...) are
written to ``--stats-file`` as JSON; the exit status is the command's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .config import SimConfig
from .launcher import SimulatorProcess
from .unix_http import UnixHTTPConnection

STATS_TIMEOUT_SECONDS = 10.0
COMMAND_TIME_LIMIT_SECONDS = 60 * 60


def fetch_stats(socket_path: str) -> dict[str, Any]:
    """The simulator's ``GET /_sim/stats``."""
    connection = UnixHTTPConnection(socket_path, STATS_TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/_sim/stats")
        response = connection.getresponse()
        stats: dict[str, Any] = json.loads(response.read())
        return stats
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sockerless_sim.with_simulator")
    # The environment's simulator settings, as the simulator itself reads them, are the
    # defaults: the launcher passes a profile and a time scale explicitly, which would win.
    try:
        environment = SimConfig.from_env(os.environ)
    except ValueError as error:
        parser.error(str(error))
    parser.add_argument("--profile", default=environment.profile)
    parser.add_argument("--time-scale", type=float, default=environment.time_scale)
    parser.add_argument("--quirk", action="append", default=[])
    parser.add_argument("--lie", action="append", default=[], help="a fault: the daemon lies")
    parser.add_argument(
        "--iam-policy", metavar="FILE", help="IAM mode: the command's user holds only this policy"
    )
    parser.add_argument("--stats-file", type=Path)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    if not command:
        parser.error("give the command to run after --")
    simulator = SimulatorProcess.start(
        profile=options.profile,
        time_scale=options.time_scale,
        quirks=tuple(options.quirk or sorted(environment.quirks)),
        lies=tuple(options.lie),
        iam_policy=options.iam_policy,
    )
    try:
        env = {**os.environ, **simulator.info.target_environment()}
        try:
            code = subprocess.run(
                command, env=env, check=False, timeout=COMMAND_TIME_LIMIT_SECONDS
            ).returncode
        except subprocess.TimeoutExpired:
            print(f"with_simulator: {command[0]} overran {COMMAND_TIME_LIMIT_SECONDS} s")
            code = 124
        if options.stats_file is not None:
            stats = fetch_stats(simulator.info.socket_path)
            options.stats_file.write_text(json.dumps(stats, indent=2, default=str) + "\n")
        return code
    finally:
        simulator.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
