"""The report guard's rules, checked against what Robot itself renders (``html_escape`` for
messages, ``html_format`` for metadata) and in runs of small suites that use the kit."""

from __future__ import annotations

import io
import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest
import robot
from robot.output.loggerhelper import Message
from robot.utils import html_escape, html_format

from SockerlessLibrary.capping import MESSAGE_LIMIT
from SockerlessLibrary.listeners.report_guard import (
    INERT,
    ReportGuard,
    inert_doc,
    inert_links,
    inert_status,
    log_kit_html,
)
from SockerlessLibrary.masking import MASK, SECRETS

pytestmark = pytest.mark.timeout(60)

LINK = "javascript://%0aalert(document.domain)//"
SCRIPT = "*HTML*<img src=x onerror=alert(1)>"
_HREF = re.compile(r'<(?:a|img)\s[^>]*(?:href|src)="([^"]*)"', re.IGNORECASE)


def active_targets(markup: str) -> list[str]:
    """Every link or image source in ``markup`` (what a browser would open or fetch)."""
    return _HREF.findall(markup)


def not_http(targets: list[str]) -> list[str]:
    return [t for t in targets if not re.match(r"https?://", t, re.IGNORECASE)]


# Texts a daemon could send: schemes, the prefixes and suffixes Robot's link pattern allows,
# several links, links at line starts, and the kit's own addresses.
SCHEMES = ["javascript", "JavaScript", "data", "vbscript", "file", "unix", "tcp", "x-y.z+w"]
PREFIXES = ["", " ", "see ", "'", '"(', "([{", "a\n", "a\n'", "tab\t"]
SUFFIXES = ["", " tail", ".", "'.", ")]}", "!?", "\nnext", "|pipe", ";"]


def hostile_texts() -> list[str]:
    texts = []
    for scheme, prefix, suffix in itertools.product(SCHEMES, PREFIXES, SUFFIXES):
        texts.append(f"{prefix}{scheme}://%0aalert(1)//{suffix}")
    texts += [
        f"{LINK} and {LINK}",
        f"one http://ok.example/x two {LINK} three",
        "sent to unix:///tmp/x/docker.sock (expected 204)",
        "ws://127.0.0.1:1/attach and wss://h/x and ftp://h/y",
        "&javascript://x <javascript://y> 'javascript://z'",
    ]
    return texts


def test_robot_makes_no_link_but_http_of_an_inert_message() -> None:
    texts = hostile_texts()
    bare = not_http(active_targets(html_escape("\n".join(texts))))
    assert len(bare) > len(texts) // 2  # most cases are links without the guard
    active = {t: not_http(active_targets(html_escape(inert_links(t)))) for t in texts}
    assert {text: links for text, links in active.items() if links} == {}
    changed = [text for text in texts if inert_links(text).replace(INERT, "") != text]
    assert changed == []  # the text reads the same


def test_http_links_stay_links() -> None:
    text = f"docs at https://example.org/page and {LINK}"
    assert active_targets(html_escape(inert_links(text))) == ["https://example.org/page"]


METADATA = [
    "[javascript:alert(1)|click]",
    "[data:text/html,<script>alert(1)</script>|x]",
    "[https://ok.example|data:image/svg+xml,<svg onload=alert(1)>]",
    "[https://ok.example|http://evil.example/x.png]",
    "[relative.html|x]",
    "see http://evil.example/pixel.png now",
    f"| a | {LINK} |",
    f"- item {LINK}",
    f"*bold {LINK}*",
    *hostile_texts(),
]


def test_robot_makes_no_link_but_http_and_no_image_of_inert_metadata() -> None:
    assert "<img" in html_format(METADATA[3]) and "javascript:" in html_format(METADATA[0])
    rendered = {text: html_format(inert_doc(text)) for text in METADATA}
    linked = {text: not_http(active_targets(html)) for text, html in rendered.items()}
    assert {text: links for text, links in linked.items() if links} == {}
    assert [text for text, html in rendered.items() if "<img" in html] == []


def test_http_links_stay_links_in_metadata() -> None:
    rendered = html_format(inert_doc("[https://example.org/page|the spec] and https://a.example/"))
    assert active_targets(rendered) == ["https://example.org/page", "https://a.example/"]


def test_a_status_message_is_never_html_capped_and_masked() -> None:
    SECRETS.add("status-secret-0123456789")
    head = f"{SCRIPT}exited != exited status-secret-0123456789 "
    message = inert_status(head + "x" * 10**6)
    assert message.startswith(f"{INERT}{SCRIPT}exited != exited {MASK} xxx")
    whole = len(INERT + head.replace("status-secret-0123456789", MASK)) + 10**6
    assert message.endswith(f"x... {whole - MESSAGE_LIMIT:,} more bytes")
    assert len(message) == MESSAGE_LIMIT + len(f"... {whole - MESSAGE_LIMIT:,} more bytes")


# --- the listener on Robot's own message objects -------------------------------------------


def library_keyword(instance: object) -> SimpleNamespace:
    return SimpleNamespace(owner=SimpleNamespace(instance=instance))


def test_kit_html_is_text_unless_the_kit_approved_it() -> None:
    kit = object()
    guard = ReportGuard(kit)
    guard.start_library_keyword(None, library_keyword(kit), None)
    unapproved = Message("<img src=x onerror=alert(1)>", "INFO", html=True)
    guard.log_message(unapproved)
    assert (unapproved.html, unapproved.message) == (False, "<img src=x onerror=alert(1)>")
    guard.end_library_keyword(None, library_keyword(kit), SimpleNamespace(message=""))


def test_html_of_another_library_is_left_alone() -> None:
    kit, other = object(), object()
    guard = ReportGuard(kit)
    guard.start_library_keyword(None, library_keyword(kit), None)
    guard.start_library_keyword(None, library_keyword(other), None)
    screenshot = Message('<img src="shot.png">', "INFO", html=True)
    guard.log_message(screenshot)
    assert screenshot.html


def test_a_failure_logged_as_html_becomes_text_with_its_marker() -> None:
    guard = ReportGuard(object())
    failure = Message("<img src=x onerror=alert(1)>exited != exited", "FAIL", html=True)
    guard.log_message(failure)
    assert not failure.html
    assert failure.message == f"{INERT}*HTML* <img src=x onerror=alert(1)>exited != exited"


# --- runs of small suites ------------------------------------------------------------------

HELPER = """
from robot.api import logger
from SockerlessLibrary.listeners.report_guard import log_kit_html


def log_as_the_kit(markup):
    log_kit_html(markup)


def hostile_state():
    return "*HTML*<img src=x onerror=alert(1)>exited"
"""

TOP_INIT = """\
*** Settings ***
Documentation    A top suite that does not import the library.
"""

CHILD = f"""\
*** Settings ***
Library    SockerlessLibrary    host=unix:///nonexistent/never-used.sock
Library    helper.py

*** Test Cases ***
A Daemon's State First In A Comparison
    ${{state}}=    Hostile State
    Should Be Equal    ${{state}}    exited

A Deliberate HTML Failure Is Shown As Typed
    Fail    *HTML* <b>bold</b>

A Link In A Logged Value And A Failure
    VAR    ${{link}}    {LINK}
    Log    ${{link}}
    Should Be Equal    ${{link}}    x    msg=The link

Metadata From A Daemon Value
    VAR    ${{value}}    [javascript:alert(1)|click] {LINK}
    Set Suite Metadata    From The Daemon    ${{value}}    top=${{TRUE}}

The Kit's Own HTML And Another Library's HTML
    Log As The Kit    <svg><title>timeline</title></svg>
    Log    <b>a user's bold</b>    html=${{TRUE}}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> ET.Element:
    root = tmp_path_factory.mktemp("guarded")
    suites = root / "suites"
    (suites / "child").mkdir(parents=True)
    (suites / "__init__.robot").write_text(TOP_INIT)
    (suites / "child" / "cases.robot").write_text(CHILD)
    (suites / "child" / "helper.py").write_text(HELPER)
    robot.run(
        str(suites),
        outputdir=str(root),
        pythonpath=[str(suites / "child")],
        log="NONE",
        report="NONE",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return ET.parse(root / "output.xml").getroot()


def test_messages(run: ET.Element) -> None:
    by_name = {test.get("name"): test for test in run.iter("test")}
    state = by_name["A Daemon's State First In A Comparison"]
    status = state.find("status")
    assert status is not None
    assert status.text == f"{INERT}*HTML*<img src=x onerror=alert(1)>exited != exited"
    fail = next(m for m in state.iter("msg") if m.get("level") == "FAIL")
    assert fail.get("html") is None
    deliberate = by_name["A Deliberate HTML Failure Is Shown As Typed"].find("status")
    assert deliberate is not None and deliberate.text == f"{INERT}*HTML* <b>bold</b>"
    link = by_name["A Link In A Logged Value And A Failure"]
    link_status = link.find("status")
    assert link_status is not None and link_status.text == f"The link: {INERT}{LINK} != x"
    logged = [m.text for m in link.iter("msg") if m.get("level") == "INFO"]
    assert f"{INERT}{LINK}" in logged


def test_html_of_the_kit_and_of_other_libraries_stays_html(run: ET.Element) -> None:
    test = next(t for t in run.iter("test") if t.get("name").startswith("The Kit's Own HTML"))
    html = [m.text for m in test.iter("msg") if m.get("html") == "true"]
    assert html == ["<svg><title>timeline</title></svg>", "<b>a user's bold</b>"]


def test_metadata_set_for_a_top_suite_without_the_library(run: ET.Element) -> None:
    top = run.find("suite")
    assert top is not None
    metadata = {m.get("name"): m.text for m in top.findall("meta")}
    assert metadata["From The Daemon"] == f"[javascript:alert(1)\u00a6click] {INERT}{LINK}"


def test_log_kit_html_outside_robot_is_harmless() -> None:
    log_kit_html("<b>outside a run</b>")  # robot.api.logger writes to the console then


def test_the_inert_mark_survives_strip_and_xml(tmp_path: Path) -> None:
    assert (INERT + "*HTML*").strip().startswith(INERT)
    element = ET.Element("status")
    element.text = INERT + "x"
    path = tmp_path / "x.xml"
    ET.ElementTree(element).write(path, encoding="utf-8")
    assert ET.parse(path).getroot().text == INERT + "x"
