"""The complete suites printed in README.md and docs/writing-suites.md run and pass as printed.

A QA engineer copies them first; a keyword renamed or an option changed must fail here, not in
their first run. The docs put a suite in a team repository (or ``teams/`` of the checkout) and
import the kit's resource files by their place on the module search path
(``sockerless_ecs_acceptance/resources/...``); here it runs exactly as printed from a temporary
directory, with the checkout's .venv (where that name resolves as it does installed), on the
embedded simulator.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tasks import embedded_environment

ROOT = Path(__file__).resolve().parents[3]
ROBOT = [sys.executable, "-m", "robot"]
RUN_TIME_LIMIT_SECONDS = 180
DOCUMENTS = ("README.md", "docs/writing-suites.md")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(RUN_TIME_LIMIT_SECONDS + 30)]


def complete_suites(document: str) -> list[str]:
    """The ```robotframework blocks of ``document`` that are whole suites (settings and tests)."""
    text = (ROOT / document).read_text()
    blocks = re.findall(r"```robotframework\n(.*?)```", text, re.S)
    return [b for b in blocks if "*** Settings ***" in b and "*** Test Cases ***" in b]


def printed_suites() -> list[tuple[str, int, str]]:
    return [
        (document, index, suite)
        for document in DOCUMENTS
        for index, suite in enumerate(complete_suites(document))
    ]


def test_the_docs_print_whole_suites() -> None:
    """Guards the test below against passing on nothing: both documents print a whole suite."""
    assert {document for document, _, _ in printed_suites()} == set(DOCUMENTS)


@pytest.mark.parametrize(
    ("document", "index", "suite"),
    printed_suites(),
    ids=[f"{doc}#{i}" for doc, i, _ in printed_suites()],
)
def test_a_printed_suite_passes_as_printed(
    document: str, index: int, suite: str, tmp_path: Path
) -> None:
    directory = tmp_path / "suite"
    directory.mkdir()
    assert "Resource          sockerless_ecs_acceptance/resources/" in suite, (
        "the printed suite imports the kit's resource files by their place on the search path"
    )
    (directory / "printed.robot").write_text(suite)
    env = embedded_environment(SOCKERLESS_KIT_JOURNAL_DIR=str(tmp_path / "journal"))
    output_dir = tmp_path / "results"
    completed = subprocess.run(
        [*ROBOT, "--outputdir", str(output_dir), "--console", "none", str(directory)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIME_LIMIT_SECONDS,
        check=False,
    )
    root = ET.parse(output_dir / "output.xml").getroot()
    results = {
        test.get("name"): (test.find("status").get("status"), test.find("status").text)  # type: ignore[union-attr]
        for test in root.iter("test")
    }
    assert results, f"{document} suite #{index} ran no test: {completed.stdout}{completed.stderr}"
    failed = {name: outcome for name, outcome in results.items() if outcome[0] != "PASS"}
    assert not failed, f"{document} suite #{index}: {failed}"
    assert completed.returncode == 0, completed.stdout + completed.stderr
