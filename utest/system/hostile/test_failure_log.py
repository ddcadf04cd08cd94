"""A keyword failed by the daemon's answer shows, in log.html, the request that got that answer.

The daemon's address is shown as text, not a link: the report guard puts an invisible ``INERT``
before a ``unix://`` (``listeners/report_guard.py``)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import robot

from SockerlessLibrary.listeners.report_guard import INERT

pytestmark = pytest.mark.timeout(60)

SUITE = """\
*** Settings ***
Library    SockerlessLibrary    host=unix://{socket}

*** Test Cases ***
Inspect Of A Missing Container
    Inspect Container    0123456789ab
"""


def test_the_log_names_the_request_status_and_daemon_message(
    serve: Any, keep_alive: Any, tmp_path: Path
) -> None:
    server = serve(
        keep_alive(
            lambda connection, request: connection.respond(
                404, "Not Found", b'{"message": "No such container: 0123456789ab"}\n'
            )
        )
    )
    suite = tmp_path / "missing.robot"
    suite.write_text(SUITE.format(socket=server.path))

    robot.run(
        str(suite),
        outputdir=str(tmp_path),
        log="NONE",
        report="NONE",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    root = ET.parse(tmp_path / "output.xml").getroot()
    keyword = next(kw for kw in root.iter("kw") if kw.get("name") == "Inspect Container")
    messages = [(m.get("level"), m.text or "") for m in keyword.iter("msg")]
    assert (
        "INFO",
        f"Request: GET /v1.44/containers/0123456789ab/json (sent to {INERT}unix://{server.path})",
    ) in messages
    assert messages[-1] == (
        "FAIL",
        f"DaemonResponseError: inspect container on {INERT}unix://{server.path} failed: "
        "HTTP 404 Not Found (expected 200): No such container: 0123456789ab",
    )
