"""What a browser renders from Robot's ``log.html`` and ``report.html``, decoded for scanning.

Robot does not write messages, metadata or documentation into the HTML page: it embeds a
JavaScript model (``window.output["strings"]``, a list of strings, each raw after a ``*`` or
zlib-compressed and base64-encoded otherwise) whose entries the page inserts as HTML. A grep of
the raw file sees neither compressed text nor what it becomes; this module decodes every string
of the model and parses it as the browser would (``html.parser``), listing the elements and
attributes it would create. ``window.output["stats"]`` and ``["errors"]`` are JSON and carry no
markup of their own (tag and suite labels are escaped by the page).
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

_STRINGS = re.compile(
    r'window\.output\["strings"\] = (?:window\.output\["strings"\]\.concat\()?(\[.*\])\)?;$',
    re.MULTILINE,
)


# Robot writes the strings as JavaScript, not JSON: ``</`` becomes ``\x3c/``. An escape is one
# whose backslash is not itself escaped (an even run of backslashes before it).
_HEX_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\x([0-9a-fA-F]{2})")


def javascript_array(text: str) -> list[str]:
    """A JavaScript array literal of strings, as Robot writes it, parsed."""
    return list(json.loads(_HEX_ESCAPE.sub(r"\1\\u00\2", text)))


def decode_string(entry: str) -> str:
    """One entry of the model: ``*`` + raw text, or base64 of zlib-compressed UTF-8."""
    if entry.startswith("*"):
        return entry[1:]
    return zlib.decompress(base64.b64decode(entry)).decode("utf-8")


def model_strings(page: Path) -> list[str]:
    """Every string of the page's model, decoded (HTML fragments, as the page inserts them)."""
    text = page.read_text(encoding="utf-8")
    chunks = _STRINGS.findall(text)
    if not chunks:
        raise AssertionError(f"{page} has no window.output strings: not a Robot log or report")
    return [decode_string(entry) for chunk in chunks for entry in javascript_array(chunk)]


@dataclass
class Element:
    """A start tag the browser would create from a model string."""

    tag: str
    attributes: dict[str, str | None]
    source: str  # the model string it came from (for the failure message)


@dataclass
class Rendered:
    """The elements of every model string, and the strings themselves."""

    strings: list[str]
    elements: list[Element] = field(default_factory=list)

    def text(self) -> str:
        """All model strings, one per line: to look for what a report shows (escaped)."""
        return "\n".join(self.strings)


class _Collector(HTMLParser):
    def __init__(self, source: str, into: list[Element]) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.into = into

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.into.append(Element(tag, dict(attrs), self.source))


def rendered(page: Path) -> Rendered:
    """The decoded model of ``page`` (a log.html or report.html) and its elements."""
    result = Rendered(model_strings(page))
    for string in result.strings:
        if "<" in string:
            collector = _Collector(string, result.elements)
            collector.feed(string)
            collector.close()
    return result


SAFE_LINK_SCHEMES = ("http:", "https:")
_SCHEME = re.compile(r"^\s*([a-zA-Z][\w+.-]*):")


def unsafe_elements(page: Rendered) -> list[str]:
    """What would be active in a browser and did not come from Robot's or the kit's own
    formatting: scripts, event handler attributes, and links or sources to a scheme other
    than http(s) (``javascript:``, ``data:``, ``unix:``...)."""
    problems = []
    for element in page.elements:
        where = f"<{element.tag}> in {element.source[:300]!r}"
        if element.tag in {"script", "iframe", "object", "embed", "base", "meta", "form"}:
            problems.append(f"a {element.tag} element: {where}")
        for name, value in element.attributes.items():
            if name.startswith("on"):
                problems.append(f"event handler {name}={value!r}: {where}")
            if name in {"href", "src", "xlink:href", "action", "formaction"} and value:
                scheme = _SCHEME.match(value)
                if scheme and f"{scheme.group(1).lower()}:" not in SAFE_LINK_SCHEMES:
                    problems.append(f"{name}={value!r}: {where}")
    return problems
