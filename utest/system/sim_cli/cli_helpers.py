"""The Docker CLI runner of the CLI scenario (imported as a plain module)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOCKER_BINARY = "/usr/local/bin/docker"
COMMAND_TIMEOUT = 20.0  # a hang (e.g. a response head never sent) fails fast
# The instant profile at a fifth of its delays: log delivery 0.1 s, each task state 10 ms.
TIME_SCALE = 0.2


@dataclass
class DockerCli:
    """Runs the real Docker CLI against one socket; remembers the containers it removed."""

    socket_path: str
    config_dir: Path
    removed: list[str] = field(default_factory=list)

    def __call__(
        self, *args: str, input_text: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``docker <args>``; fails the test on a non-zero exit when ``check``, and on a hang."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.config_dir),
            "DOCKER_CONFIG": str(self.config_dir),
            "DOCKER_HOST": f"unix://{self.socket_path}",
            "DOCKER_CLI_HINTS": "false",
        }
        try:
            done = subprocess.run(
                [DOCKER_BINARY, *args], input=input_text, capture_output=True, text=True,
                env=env, timeout=COMMAND_TIMEOUT, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            pytest.fail(
                f"docker {' '.join(args)} hung for more than {COMMAND_TIMEOUT:.0f} s: {exc}"
            )
        if check and done.returncode != 0:
            pytest.fail(
                f"docker {' '.join(args)} exited {done.returncode}\n"
                f"stdout: {done.stdout}\nstderr: {done.stderr}"
            )
        return done
