"""A newcomer's first ``pytest`` is the unit run: plain ``pytest`` in the checkout collects
``utest/unit`` alone (pyproject.toml's ``testpaths``), passes, and is over in under 30 s on the
project's 2-core machine, with nothing beside it (``timing``: ``tasks.py test`` runs it alone)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
UNIT_RUN_LIMIT_SECONDS = 30.0


def plain_pytest(*options: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_plain_pytest_collects_the_unit_tests_and_nothing_else() -> None:
    collected = plain_pytest("--collect-only", "-q")
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr
    tests = [line for line in collected.stdout.splitlines() if "::" in line]
    assert len(tests) > 1000, collected.stdout[-3000:]
    assert [test for test in tests if not test.startswith("utest/unit/")] == []


@pytest.mark.timing
def test_plain_pytest_runs_the_unit_tests_in_under_30_seconds() -> None:
    started = time.monotonic()
    ran = plain_pytest("-q", "-p", "no:cacheprovider")
    seconds = time.monotonic() - started
    said = ran.stdout[-3000:] + ran.stderr[-2000:]
    assert ran.returncode == 0, said
    assert re.search(r"^\d+ passed in ", ran.stdout.splitlines()[-1]), said
    print(f"\nplain pytest: {ran.stdout.splitlines()[-1]}; {seconds:.1f} s with the start")
    assert seconds < UNIT_RUN_LIMIT_SECONDS, said
