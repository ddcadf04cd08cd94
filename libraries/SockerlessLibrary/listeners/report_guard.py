"""What a daemon, an AWS endpoint or a container wrote stays text in the reports of every run that
uses the kit: never HTML, never an active link, never a known secret, never megabytes
(``docs/writing-suites.md``, "What the report shows of a daemon's text").

Robot renders a failure message that starts with ``*HTML*`` as HTML (``Should Be Equal
${state}    exited`` fails with the daemon's value first), turns every ``scheme://...`` of a
message into a link (``javascript://%0aalert(document.domain)//`` too), and formats metadata
with its documentation syntax, where ``[javascript:alert(1)|click]`` is a link and
``http://host/x.png`` an image the browser fetches. ``ReportGuard`` is a listener the library
registers for every run that imports it (the lowest priority, so it has the last word before
Robot writes output.xml and the console); it makes each of those places inert:

- a failure or skip message (test, suite, keyword, control structure, and the ``FAIL`` or
  ``SKIP`` log line of a keyword's failure) that starts with ``*HTML*`` gets an invisible
  zero-width space (``INERT``) in front, so Robot shows it as typed. A keyword's own status
  message keeps its links (``ReportGuard.end_body_item`` says why);
- an ``HTML`` log message of the kit is text, unless the kit wrote it itself through
  ``log_kit_html`` (the allow-list); other libraries' HTML messages are theirs;
- in every text message, failure message and metadata value, a link Robot would make to a
  scheme other than ``http``/``https`` gets ``INERT`` before its scheme (the text reads the
  same); in metadata also ``[link|text]`` links to anything but ``http(s)://`` and images (any
  scheme) are broken (``|`` becomes ``¦``);
- known secrets (``masking.py``) are masked everywhere, and failure messages are capped at
  ``MESSAGE_LIMIT`` characters (``capping.py``).

A test of a run that uses the kit therefore cannot fail with an HTML message on purpose.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from robot.api import logger

from ..capping import MESSAGE_LIMIT, cap
from ..masking import SECRETS

INERT = "\u200b"  # zero-width space: kept by str.strip() and XML, not a link prefix to Robot
SAFE_SCHEMES = frozenset({"http", "https"})
HTML_PREFIX = "*HTML*"
STATUS_LEVELS = frozenset({"FAIL", "SKIP"})
_IMAGE_ENDINGS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".svg")

# Robot's own link pattern (robot.utils.htmlformatters.LinkFormatter): a ``scheme://`` at the
# start of a line or after a space (and optional opening quotes or brackets), up to a space or
# the end of the line (and optional closing punctuation). Tests check it against Robot's output.
_URL = re.compile(
    r"""((?:^|\ )["'(\[{]*)([a-z][\w+-.]*)(://[^\s|]+?)(?=[)\]}"'.,!?:;|]*(?:$|\ ))""",
    re.MULTILINE | re.IGNORECASE,
)
_BRACKET_LINK = re.compile(r"\[(.+?)\|(.*?)]")  # documentation's [link|content]
_SAFE_LINK = re.compile(r"https?://\S+", re.IGNORECASE)

_approved: list[str] = []  # the kit's own HTML messages being logged right now


def log_kit_html(markup: str) -> None:
    """Log ``markup`` as an HTML message of the kit: the allow-list of ``ReportGuard``.

    Only for markup the kit built itself with every outside value escaped (the timeline's SVG,
    a table of results); anything else the kit logs as HTML is shown as text.
    """
    _approved.append(markup)
    try:
        logger.info(markup, html=True)
    finally:
        _approved.remove(markup)


def inert_links(text: str, *, images: bool = False) -> str:
    """``text`` with every link Robot would make to a scheme other than http(s) (and with
    ``images``, to an image of any scheme) turned into text by ``INERT`` before its scheme."""
    if "://" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        prefix, scheme, rest = match.groups()
        image = images and rest.lower().endswith(_IMAGE_ENDINGS)
        if scheme.lower() in SAFE_SCHEMES and not image:
            return match.group(0)
        return f"{prefix}{INERT}{scheme}{rest}"

    return _URL.sub(replace, text)


def inert_keyword_status(message: str) -> str:
    """A keyword's status message (see ``ReportGuard.end_body_item``): masked, never HTML."""
    text = SECRETS.mask(message)
    return INERT + text if text.startswith(HTML_PREFIX) else text


def inert_status(message: str) -> str:
    """A failure or skip message: masked, capped, never HTML, no active link."""
    return inert_links(cap(inert_keyword_status(message), MESSAGE_LIMIT))


def inert_doc(text: str) -> str:
    """A metadata or documentation value: masked; no link but to http(s), no image at all."""
    text = SECRETS.mask(text)
    if "[" in text and "|" in text:
        text = _BRACKET_LINK.sub(_inert_bracket_link, text)
    return inert_links(text, images=True)  # last: a broken [link|text] may read as a URL


def _inert_bracket_link(match: re.Match[str]) -> str:
    target, content = match.group(1).strip(), match.group(2).strip()
    if _SAFE_LINK.fullmatch(target) and not _is_image(target) and not _is_image(content):
        return match.group(0)
    return f"[{match.group(1)}\u00a6{match.group(2)}]"


def _is_image(text: str) -> bool:
    return text.lower().startswith("data:image/") or text.lower().endswith(_IMAGE_ENDINGS)


class ReportGuard:
    """The listener (v3) that applies the rules above to every message and status of a run."""

    ROBOT_LISTENER_API_VERSION = 3
    ROBOT_LISTENER_PRIORITY = -1000  # after every other listener: the last word before output

    def __init__(self, kit: object) -> None:
        self._kit = kit  # the library instance: its keywords' HTML needs the allow-list
        SECRETS.add_environment(os.environ)
        self._kit_keywords: list[bool] = []  # per running library keyword: is it the kit's?

    def start_library_keyword(self, data: Any, implementation: Any, result: Any) -> None:
        owner = getattr(implementation, "owner", None)
        self._kit_keywords.append(getattr(owner, "instance", None) is self._kit)

    def end_library_keyword(self, data: Any, implementation: Any, result: Any) -> None:
        if self._kit_keywords:
            self._kit_keywords.pop()
        self.end_body_item(data, result)

    def end_body_item(self, data: Any, result: Any) -> None:
        """A keyword's or control structure's own status message: masked, and never HTML (the
        log would show a ``robot-note`` of it). Its links are left alone: the log does not
        show it as text, and Robot raises a listener's change as a new failure, which ``Run
        Keyword And Expect Error`` and ``EXCEPT`` patterns are then matched against."""
        _guard_status(result, inert_keyword_status)

    def end_test(self, data: Any, result: Any) -> None:
        _guard_status(result, inert_status)

    def end_suite(self, data: Any, result: Any) -> None:
        """The suite's message, and the metadata of it and of every suite above it (metadata
        set with ``top=True`` goes to a top suite that may not import the library)."""
        _guard_status(result, inert_status)
        suite = result
        while suite is not None:
            for name, value in list(suite.metadata.items()):
                safe = inert_doc(str(value))
                if safe != value:
                    suite.metadata[name] = safe
            suite = suite.parent

    def log_message(self, message: Any) -> None:
        """A log message, and (as ``message``) Robot's own: the errors section, warnings
        outside keywords."""
        text = message.message
        if not text:
            return
        if message.html:
            if message.level in STATUS_LEVELS:  # Robot took the *HTML* off a failure: put it back
                message.html = False
                message.message = inert_status(f"{HTML_PREFIX} {text}")
                return
            # The kit's own markup, or a keyword of another library logging (its HTML is its
            # own business).
            if text in _approved or (self._kit_keywords and not self._kit_keywords[-1]):
                message.message = SECRETS.mask(text)  # masking never adds markup
                return
            message.html = False
        status = message.level in STATUS_LEVELS
        safe = inert_status(text) if status else inert_links(SECRETS.mask(text))
        if safe != text:
            message.message = safe

    message = log_message


def _guard_status(result: Any, inert: Callable[[str], str]) -> None:
    """A test's, suite's or keyword's status message made ``inert`` (left alone when it is)."""
    text = getattr(result, "message", None)
    if text and (safe := inert(str(text))) != text:
        result.message = safe
