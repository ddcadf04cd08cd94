"""A hostile daemon cannot script the CI report: the kit's suites run against the simulator behind
a proxy that rewrites what it answers and what it runs, and the decoded ``log.html`` and
``report.html`` hold the hostile text only as text.

The hostile daemon (``rewriting_proxy.py``) answers a container list whose ``State`` starts with
``*HTML*<img src=x onerror=alert(1)>`` (Robot renders a failure message that starts with
``*HTML*`` as HTML, and ``Container Should Be Listed With Its Image, State And Name`` compares
the state), appends ``javascript://%0aalert(document.domain)//`` (which Robot turns into a link)
to every error message and list ``Status``, answers every create with such warnings, and runs
every container and exec command behind two lines of its own on stdout: an ``*HTML*`` image and
that link. It also sets the example suite's ``GREETING`` to an ``*HTML*`` image, and its
``/version`` to a script.

The reports are read as a browser renders them (``report_model.py``: Robot's JavaScript model
decoded, each string parsed as HTML): no script, no event handler attribute, no link or source to
a scheme other than http(s); and every hostile value is there, as text. The same for two probes
of the conformance suite: its matrix table in ``log.html`` (HTML the kit logs itself, on the
report guard's allow-list) and the standalone ``conformance.html``, whose only elements are the
page's own.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import robot
from report_model import Element, Rendered, rendered, unsafe_elements
from rewriting_proxy import Exchange, RewritingProxy

from sockerless_sim.launcher import SimulatorProcess
from SockerlessLibrary.listeners.report_guard import INERT

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
ROBOT = Path(sys.executable).with_name("robot")
ROBOT_TIME_LIMIT = 180

LINK = "javascript://%0aalert(document.domain)//"
LIST_STATE = "*HTML*<img src=x onerror=alert(1)>"
GREETING = "*HTML*<img src=x onerror=alert(2)>"
OUTPUT = "*HTML*<img src=x onerror=alert(3)>"
WARNING = "*HTML*<img src=x onerror=alert(4)>"
VERSION = "<script>alert(5)</script>"
EXEC_PATH = re.compile(r"^/containers/[^/]+/exec$")
# Every command runs behind two hostile lines of stdout; its own exit code is kept.
PRELUDE = f'printf "%s\\n" "{OUTPUT}" "{LINK}"; exec "$@"'


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _behind_prelude(command: Any) -> Any:
    if not isinstance(command, list) or not command:
        return command
    return ["sh", "-c", PRELUDE, "sh", *command]


def run_robot(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A robot run from the checkout against the hostile daemon, bounded."""
    return subprocess.run(
        command,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=ROBOT_TIME_LIMIT,
        check=False,
    )


def hostile_request(exchange: Exchange, document: Any) -> Any:
    """What the daemon runs is not what the kit asked for."""
    if not isinstance(document, dict) or exchange.method != "POST":
        return document
    if exchange.path == "/containers/create":
        env = document.get("Env") or []
        document["Env"] = [
            f"GREETING={GREETING}" if item.startswith("GREETING=") else item for item in env
        ]
        document["Cmd"] = _behind_prelude(document.get("Cmd"))
    elif EXEC_PATH.match(exchange.path):
        document["Cmd"] = _behind_prelude(document.get("Cmd"))
    return document


def hostile_answer(exchange: Exchange, document: Any) -> Any:
    """What the daemon answers."""
    if exchange.path == "/containers/json" and isinstance(document, list):
        for entry in document:
            entry["State"] = f"{LIST_STATE}{entry.get('State')}"
            entry["Status"] = f"{LINK} {entry.get('Status')}"
    elif exchange.path == "/containers/create" and isinstance(document, dict):
        document["Warnings"] = [WARNING, f"see {LINK}"]
    elif exchange.path == "/version" and isinstance(document, dict):
        document["Version"] = f"{VERSION} {LINK}"
    elif isinstance(document, dict) and isinstance(document.get("message"), str):
        document["message"] = f"{document['message']} {LINK}"
    return document


@pytest.fixture(scope="module")
def hostile_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The simulator behind the rewriting proxy, as the environment of a real target."""
    directory = tmp_path_factory.mktemp("hostile")
    simulator = SimulatorProcess.start(ready_timeout=20.0)
    try:
        with RewritingProxy(
            simulator.info.socket_path,
            directory / "hostile.sock",
            rewrite_request=hostile_request,
            rewrite_response=hostile_answer,
        ) as proxy:
            environment = simulator.info.target_environment()
            environment["SOCKERLESS_HOST"] = f"unix://{proxy.socket_path}"
            yield environment
            assert proxy.rewritten > 0
    finally:
        simulator.stop()


@pytest.fixture(scope="module")
def reports(
    hostile_daemon: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Rendered]:
    """The ECS and example suites run against the hostile daemon, at --loglevel TRACE (every
    argument and return value logged too); their log and report, decoded."""
    out = tmp_path_factory.mktemp("hostile-run")
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SOCKERLESS_", "AWS_"))},
        **hostile_daemon,
        "SOCKERLESS_KIT_JOURNAL_DIR": str(out / "journal"),
    }
    command = [
        str(ROBOT), "--outputdir", str(out), "--loglevel", "TRACE",
        "--include", "ecs", "--include", "example",
        "--variable", "LOGS_TIMEOUT:5s", "--variable", "EXIT_TIMEOUT:10s",
        "suites",
    ]  # fmt: skip
    process = run_robot(command, environment)
    assert (out / "log.html").exists(), process.stdout[-3000:] + process.stderr[-3000:]
    assert process.returncode > 0, "the hostile daemon must make tests fail"
    return {name: rendered(out / name) for name in ("log.html", "report.html")}


@pytest.mark.parametrize("page", ["log.html", "report.html"])
def test_no_markup_or_link_of_the_daemon_is_active(reports: dict[str, Rendered], page: str) -> None:
    assert unsafe_elements(reports[page]) == []


def test_the_log_shows_every_hostile_value_as_text(reports: dict[str, Rendered]) -> None:
    text = reports["log.html"].text()
    for value in (LIST_STATE, GREETING, OUTPUT, WARNING):
        assert _escaped(value) in text, value
    assert INERT + LINK in text


def test_the_report_shows_the_failure_messages_as_text(reports: dict[str, Rendered]) -> None:
    text = reports["report.html"].text()
    # containers.resource names what it compares, so no message starts with the daemon's value.
    assert "The State listed for" in text
    assert f"{_escaped(LIST_STATE)}exited != exited" in text
    assert f"The first line of stdout: {_escaped(OUTPUT)} != hello from env" in text
    assert f"No such container: no-such-container-for-the-example {INERT}{LINK}" in text


# --- the conformance matrix: the kit's own HTML, with the daemon's text in its cells -----------

# A probe that fails with the daemon's lines in its message (the prelude adds two), and one
# that passes; the matrix is written by the suite's teardown.
CONFORMANCE_PROBES = (
    "Logs Hold Exactly The Lines The Command Wrote",
    "Created Comes Before The Start",
)
PAGE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "b", "table", "tr", "th",
    "td",
}  # fmt: skip
PAGE_ATTRIBUTES = {"lang", "charset", "style", "class"}


class _Elements(HTMLParser):
    """The start tags of a plain HTML page (``conformance.html``), as ``report_model`` lists
    those of Robot's model."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Element] = []
        self.source = source

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append(Element(tag, dict(attrs), self.source))


@pytest.fixture(scope="module")
def conformance_run(
    hostile_daemon: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Two probes of the conformance suite against the hostile daemon: its output directory."""
    out = tmp_path_factory.mktemp("hostile-conformance")
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SOCKERLESS_", "AWS_"))},
        **hostile_daemon,
        "SOCKERLESS_KIT_JOURNAL_DIR": str(out / "journal"),
    }
    selection = [option for name in CONFORMANCE_PROBES for option in ("--test", name)]
    command = [
        str(ROBOT), "--outputdir", str(out), "--include", "conformance", *selection,
        "--variable", "LOGS_TIMEOUT:5s", "suites/conformance",
    ]  # fmt: skip
    process = run_robot(command, environment)
    assert (out / "conformance.json").exists(), process.stdout[-3000:] + process.stderr[-3000:]
    return out


def test_the_conformance_table_in_the_log_is_the_kits_html_with_the_daemons_text_as_text(
    conformance_run: Path,
) -> None:
    log = rendered(conformance_run / "log.html")
    assert unsafe_elements(log) == []
    # The table was logged as HTML (the guard's allow-list), so its cells were scanned above.
    tables = [e for e in log.elements if e.tag == "table" and "Docker conformance" in e.source]
    assert tables
    (table,) = {e.source for e in tables}
    assert _escaped(OUTPUT) in table
    assert "Logs Hold Exactly The Lines The Command Wrote" in table


def test_the_conformance_page_escapes_every_cell(conformance_run: Path) -> None:
    page = (conformance_run / "conformance.html").read_text(encoding="utf-8")
    parser = _Elements("conformance.html")
    parser.feed(page)
    parser.close()

    # Every element and attribute is the page's own (conformance/html.py): none came from text.
    assert {e.tag for e in parser.found} <= PAGE_TAGS
    assert {name for e in parser.found for name in e.attributes} <= PAGE_ATTRIBUTES
    assert unsafe_elements(Rendered([page], [e for e in parser.found if e.tag != "meta"])) == []
    # The daemon's text is there, as text: its lines in the failed probe's message, its
    # version in the run line.
    assert _escaped(OUTPUT) in page and _escaped(LINK) in page
    assert _escaped(VERSION) in page
    matrix = json.loads((conformance_run / "conformance.json").read_text())
    statuses = {probe["name"]: probe["status"] for probe in matrix["probes"]}
    assert statuses == {CONFORMANCE_PROBES[0]: "FAIL", CONFORMANCE_PROBES[1]: "PASS"}


# --- the scanner can fail: a run without the kit shows what the guard prevents ----------------

UNGUARDED_SUITE = f"""\
*** Test Cases ***
State From A Daemon
    VAR    ${{state}}    {LIST_STATE}exited
    Should Be Equal    ${{state}}    exited

A Link From A Daemon
    VAR    ${{message}}    {LINK}
    Log    ${{message}}
"""


def test_the_scan_finds_what_robot_renders_without_the_guard(tmp_path: Path) -> None:
    suite = tmp_path / "unguarded.robot"
    suite.write_text(UNGUARDED_SUITE)
    robot.run(str(suite), outputdir=str(tmp_path), stdout=io.StringIO(), stderr=io.StringIO())
    problems = unsafe_elements(rendered(tmp_path / "log.html"))
    assert any("onerror" in problem for problem in problems)
    assert any(f"href='{LINK}'" in problem for problem in problems)
    assert any("onerror" in p for p in unsafe_elements(rendered(tmp_path / "report.html")))
