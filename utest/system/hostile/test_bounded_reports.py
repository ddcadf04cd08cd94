"""Bounded reports: a container's huge lines keep output.xml, the failure messages and
timeline.json small, at the default log level, each cut saying how much it left out.

One robot run on the embedded simulator: a container writes a 3 MB line (CloudWatch, like the
simulator, splits it into events of at most 256 KiB, so the logs hold twelve long lines), then
an exec prints a 3 MB line (one line), then a wait for a line that never comes fails over ten
1 MB lines.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import robot

from SockerlessLibrary.capping import LINE_LIMIT, MESSAGE_LIMIT, NOTE_ROOM

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

MB = 1_000_000
# Ten 1 MB lines on stdout, then the container keeps running.
TEN_HUGE_LINES = (
    f"for i in 1 2 3 4 5 6 7 8 9 10; do head -c {MB} /dev/zero | tr '\\\\0' y; echo; done; "
    "exec tail -f /dev/null"
)
SUITE = f"""\
*** Settings ***
Library    SockerlessLibrary    logs_timeout=20s

*** Test Cases ***
A 3 MB Line Through Logs And Exec
    ${{id}}=    Create Container    alpine:latest    sh    -c
    ...    head -c {3 * MB} /dev/zero | tr '\\\\0' x; echo; echo done; exec tail -f /dev/null
    Start Container    ${{id}}
    Wait Until Logs Contain Line    ${{id}}    done
    Get Container Logs    ${{id}}
    Run Process In Container    ${{id}}    sh    -c    head -c {3 * MB} /dev/zero | tr '\\\\0' x

A Failed Wait Over Huge Lines
    # It keeps running, so the wait's one follow stream lasts to the deadline (no whole read).
    ${{id}}=    Create Container    alpine:latest    sh    -c
    ...    {TEN_HUGE_LINES}
    Start Container    ${{id}}
    Wait Until Logs Contain Line    ${{id}}    never comes    timeout=4s
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bounded")
    suite = out / "huge.robot"
    suite.write_text(SUITE)
    robot.run(str(suite), outputdir=str(out), stdout=io.StringIO(), stderr=io.StringIO())
    return out


def statuses(out: Path) -> dict[str, tuple[str, str]]:
    root = ET.parse(out / "output.xml").getroot()
    result = {}
    for test in root.iter("test"):
        status = test.find("status")
        assert status is not None
        result[str(test.get("name"))] = (str(status.get("status")), status.text or "")
    return result


def messages(out: Path) -> list[str]:
    """The text messages (the timeline's picture is the kit's own HTML, one long line)."""
    root = ET.parse(out / "output.xml").getroot()
    return [m.text or "" for m in root.iter("msg") if m.get("html") != "true"]


def test_output_xml_stays_under_a_megabyte(run: Path) -> None:
    assert (run / "output.xml").stat().st_size < MB


def test_the_huge_lines_were_read_and_shown_cut(run: Path) -> None:
    results = statuses(run)
    assert results["A 3 MB Line Through Logs And Exec"] == ("PASS", "")
    logged = "\n".join(messages(run))
    assert "x" * LINE_LIMIT + "... 2,999,000 more bytes" in logged  # the exec's one line
    assert "... 261," in logged  # a CloudWatch event of 256 KiB, cut after 1,000 characters
    assert max(len(line) for line in logged.splitlines()) <= LINE_LIMIT + NOTE_ROOM + 2


def test_a_failed_wait_over_huge_lines_keeps_its_message_small(run: Path) -> None:
    status, message = statuses(run)["A Failed Wait Over Huge Lines"]
    assert status == "FAIL"
    assert "had no stdout line equal to 'never comes' within 4 s" in message
    assert "more bytes" in message
    assert len(message) < MESSAGE_LIMIT


def test_timeline_json_keeps_a_capped_first_line(run: Path) -> None:
    document = json.loads((run / "timeline.json").read_text())
    first_lines = [
        container["logs"]["first_line"]
        for test in document["tests"]
        for container in test["containers"]
        if container.get("logs", {}).get("first_line")
    ]
    assert first_lines
    assert all(len(line) <= LINE_LIMIT + NOTE_ROOM for line in first_lines)
    assert any(line.endswith("more bytes") for line in first_lines)
