"""The matrix as a Robot run writes it: the listener records the tests tagged ``conformance``, and
`Write Conformance Matrix` writes conformance.json, conformance.html and the table in the log."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from SockerlessLibrary.conformance import Matrix, Probe
from utest.unit.conformance.markup import ALLOWED_TAGS, parsed

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[3]
HOSTILE = '<script>alert(1)</script> the daemon said "x" & <a href="http://evil.example">y</a>'

SUITE = """\
*** Settings ***
Library           SockerlessLibrary.keywords.conformance.ConformanceMatrix
Suite Teardown    Write Conformance Matrix    unit target    docker-only    run_id=run-1
...               daemon=version 1.0    baseline=${BASELINE}    reference=${REFERENCE}

*** Variables ***
${BASELINE}       ${EMPTY}
${REFERENCE}      ${EMPTY}

*** Test Cases ***
Passes
    [Documentation]    A behaviour. Docker: https://docs.docker.com/x
    [Tags]    conformance
    No Operation

Fails With Hostile Text
    [Tags]    conformance
    Fail    HOSTILE_TEXT

Is Skipped
    [Tags]    conformance
    Skip    not here

Not A Probe
    No Operation
"""


def run(tmp_path: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    suite = tmp_path / "Area_Of_Probes.robot"
    suite.write_text(SUITE.replace("HOSTILE_TEXT", HOSTILE))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "libraries")}
    command = [sys.executable, "-m", "robot", "--outputdir", str(tmp_path / "out")]
    for variable in variables:
        command += ["--variable", variable]
    return subprocess.run(
        [*command, str(suite)], env=env, capture_output=True, text=True, timeout=90, check=False
    )


def test_a_run_writes_each_probe_it_ran_and_nothing_else(tmp_path: Path) -> None:
    run(tmp_path)

    matrix = Matrix.read(tmp_path / "out" / "conformance.json")
    assert [(p.area, p.name, p.status) for p in matrix.probes] == [
        ("Area Of Probes", "Passes", "PASS"),
        ("Area Of Probes", "Fails With Hostile Text", "FAIL"),
        ("Area Of Probes", "Is Skipped", "SKIP"),
    ]
    assert matrix.probes[0].checks == "A behaviour. Docker: https://docs.docker.com/x"
    assert matrix.probes[1].message == HOSTILE
    assert {k: v for k, v in matrix.run.items() if k != "written"} == {
        "target": "unit target",
        "daemon": "version 1.0",
        "mode": "docker-only",
        "run_id": "run-1",
    }
    page = (tmp_path / "out" / "conformance.html").read_text()
    assert parsed(page).tags <= ALLOWED_TAGS and "&lt;script&gt;" in page


def test_the_table_in_the_log_is_the_kits_markup_with_the_daemons_text_escaped(
    tmp_path: Path,
) -> None:
    run(tmp_path)

    root = ET.parse(tmp_path / "out" / "output.xml").getroot()
    html_messages = [m.text or "" for m in root.iter("msg") if m.get("html") == "true"]
    (table,) = [m for m in html_messages if "Docker conformance" in m]
    found = parsed(table)
    assert found.tags <= ALLOWED_TAGS, found.tags - ALLOWED_TAGS
    assert HOSTILE in "".join(found.text)
    metadata = {item.get("name"): item.text for item in root.iter("meta")}
    assert metadata["Docker conformance"] == "3 probes: 1 pass, 1 fail, 1 skip"


def test_a_baseline_marks_what_regressed_and_a_reference_fills_the_docker_column(
    tmp_path: Path,
) -> None:
    earlier = Matrix(
        {"target": "old"},
        (
            Probe("Area Of Probes", "Passes", "d", "FAIL", "was broken"),
            Probe("Area Of Probes", "Fails With Hostile Text", "d", "PASS"),
        ),
    )
    earlier.write(tmp_path / "old.json")

    run(tmp_path, f"BASELINE:{tmp_path / 'old.json'}", f"REFERENCE:{tmp_path / 'old.json'}")

    page = (tmp_path / "out" / "conformance.html").read_text()
    assert "fixed (was FAIL)" in page and "regressed (was PASS)" in page
    assert "Docker Engine column from" in page
    root = ET.parse(tmp_path / "out" / "output.xml").getroot()
    metadata = {item.get("name"): item.text for item in root.iter("meta")}
    assert metadata["Docker conformance"].endswith("1 regressed, 1 fixed, 1 new, 0 gone")


def test_a_baseline_that_cannot_be_read_fails_the_teardown_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such.json"

    completed = run(tmp_path, f"BASELINE:{missing}")

    assert f"The baseline cannot be used: cannot read {missing}" in completed.stdout
    assert not (tmp_path / "out" / "conformance.json").exists()
