"""Run the ``sockerless-ecs-acceptance`` command of this checkout's .venv as a CI job would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

COMMAND = Path(sys.executable).parent / "sockerless-ecs-acceptance"
RUN_TIME_LIMIT_SECONDS = 90

RunKit = Callable[..., None]


@pytest.fixture(scope="session")
def run_kit() -> RunKit:
    """``run_kit(cwd, *options)``: the command on the embedded simulator, in ``cwd``; it must
    exit 0 within RUN_TIME_LIMIT_SECONDS."""

    def run(cwd: Path, *options: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("SOCKERLESS_HOST", "ROBOT_OPTIONS")}
        completed = subprocess.run(
            [str(COMMAND), *options],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIME_LIMIT_SECONDS,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr

    return run
