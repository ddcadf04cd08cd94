"""Issue 24: the latency profile reaches the simulator that ``tasks.py pabot`` shares.

``python -m sockerless_sim.with_simulator`` (what ``tasks.py pabot`` runs pabot under) used to
start its simulator with the launcher's explicit ``--profile instant``, which won over the
environment's ``SOCKERLESS_SIM_PROFILE=fargate``: 8 pabot runs took 7.8 s with the variable
set, 47 s with ``--profile fargate``. The command it runs asks the simulator for its process id
(``GET /_sim/info``) and reads how that process was started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(120)

PRINT_SIMULATOR_ARGUMENTS = """
import json, os
from sockerless_sim.unix_http import UnixHTTPConnection
connection = UnixHTTPConnection(os.environ["SOCKERLESS_HOST"].removeprefix("unix://"), 10)
connection.request("GET", "/_sim/info")
pid = json.loads(connection.getresponse().read())["pid"]
with open(f"/proc/{pid}/cmdline") as cmdline:
    print(json.dumps(cmdline.read().split("\\0")))
"""


def simulator_arguments(env: dict[str, str], *options: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SOCKERLESS_")}
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "sockerless_sim.with_simulator", *options, "--"),
            *(sys.executable, "-c", PRINT_SIMULATOR_ARGUMENTS),
        ],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    arguments: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return arguments


def value_of(arguments: list[str], option: str) -> list[str]:
    return [arguments[i + 1] for i, argument in enumerate(arguments) if argument == option]


def test_the_environments_profile_time_scale_and_quirks_reach_the_shared_simulator() -> None:
    arguments = simulator_arguments(
        {
            "SOCKERLESS_SIM_PROFILE": "fargate",
            "SOCKERLESS_SIM_TIME_SCALE": "0.5",
            "SOCKERLESS_SIM_QUIRKS": "ms-timestamps",
        }
    )
    assert value_of(arguments, "--profile") == ["fargate"]
    assert value_of(arguments, "--time-scale") == ["0.5"]
    assert value_of(arguments, "--quirk") == ["ms-timestamps"]


def test_options_still_win_over_the_environment() -> None:
    arguments = simulator_arguments({"SOCKERLESS_SIM_PROFILE": "fargate"}, "--profile", "instant")
    assert value_of(arguments, "--profile") == ["instant"]


def test_without_settings_the_profile_is_instant() -> None:
    assert value_of(simulator_arguments({}), "--profile") == ["instant"]


def test_a_bad_value_in_the_environment_is_said_before_anything_starts() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "sockerless_sim.with_simulator", "--", "true"],
        env={**os.environ, "SOCKERLESS_SIM_TIME_SCALE": "fast"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert completed.returncode == 2
    assert "SOCKERLESS_SIM_TIME_SCALE" in completed.stderr
