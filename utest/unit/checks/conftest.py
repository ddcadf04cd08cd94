"""Robot runs made in-process (``run_suite``), for the tests of what the checks read in results."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
import robot

RunSuite = Callable[..., Path]


@pytest.fixture
def run_suite() -> RunSuite:
    """``run_suite(directory, text, name="suite.robot", **robot options)``: write the .robot
    file, run it in-process into ``directory``, return its output.xml."""

    def run(directory: Path, text: str, name: str = "suite.robot", **options: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        source = directory / name
        source.write_text(text)
        quiet = io.StringIO()
        robot.run(
            str(source),
            outputdir=str(directory),
            report="NONE",
            log="NONE",
            stdout=quiet,
            stderr=quiet,
            **options,
        )
        return directory / "output.xml"

    return run
