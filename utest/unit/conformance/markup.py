"""What HTML the matrix may hold: the tags and attributes of its own markup, and its text."""

from __future__ import annotations

from html.parser import HTMLParser

ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "b", "table",
                "tr", "th", "td"}  # fmt: skip
ALLOWED_ATTRIBUTES = {"style", "class", "lang", "charset"}


class TagCollector(HTMLParser):
    """The tags, attribute names and text of a piece of markup."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(markup: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(markup)
    return collector
