"""How much of a daemon's or a container's text the kit writes: every line, message and JSON
field it logs, fails with or stores is capped, and a cut says how much was left out.

A container can write a 10 MB line and a daemon can answer with one; the report must stay
readable in a browser and ``output.xml`` small, whatever they send. The sizes are characters of
text; what was left out is counted in UTF-8 bytes (``... 2,999,000 more bytes``), the unit a
reader can compare with the container's output. Known secrets are masked before a cut (see
``masking.py``), so a cut never shows the first half of one; what is left out is counted from the
original text.

>>> cap("x" * 1_003, 1_000)[-19:]
'xxx... 3 more bytes'
>>> cap("short", 1_000)
'short'
>>> show_line("a" * 1_005)[-28:]
"aaaaaaaaaaa'... 5 more bytes"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .masking import SECRETS

LINE_LIMIT = 1_000  # a line of container or daemon output, a JSON field of timeline.json
MESSAGE_LIMIT = 20_000  # a whole log or failure message of the kit (about 20 lines of LINE_LIMIT)
# Room for the note of a cut (``... 999,999,999,999 more bytes``) and a message's own words
# around capped pieces: ``backstop`` leaves a message built from capped pieces uncut.
NOTE_ROOM = 40
MESSAGE_ROOM = 1_000


def more_bytes(text: str, start: int, beyond: int = 0) -> str:
    """``... 2,999,000 more bytes``: what a cut left out, ``text[start:]`` (an ASCII rest is
    counted without copying it), plus ``beyond`` bytes that were never decoded."""
    size = len(text) - start
    if not text.isascii():
        size = len(text[start:].encode("utf-8", errors="replace"))
    return f"... {size + beyond:,} more bytes"


def masked_head(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text`` with the known secrets masked; a secret that
    begins before the cut is masked whole (the masking sees beyond the cut)."""
    return SECRETS.mask(text[: limit + SECRETS.longest])[:limit]


def cap(text: str, limit: int = LINE_LIMIT) -> str:
    """``text``, or its first ``limit`` characters and how much more there was; masked."""
    if len(text) <= limit:
        return SECRETS.mask(text)
    return masked_head(text, limit) + more_bytes(text, limit)


def show_line(line: str) -> str:
    """A line quoted for a message (``repr``), cut after ``LINE_LIMIT`` characters; masked."""
    if len(line) <= LINE_LIMIT:
        return repr(SECRETS.mask(line))
    return repr(masked_head(line, LINE_LIMIT)) + more_bytes(line, LINE_LIMIT)


def cap_lines(
    text: str, line_limit: int = LINE_LIMIT, limit: int = MESSAGE_LIMIT, *, beyond: int = 0
) -> str:
    """``text`` with each line cut after ``line_limit`` characters, and no more lines than fit
    in ``limit`` characters; each cut says how many bytes it left out. ``beyond`` is how many
    bytes followed ``text`` undecoded (``cap_output``).

    Cheap on huge input: lines beyond what can be shown are never split or copied.
    """
    shown: list[str] = []
    size = position = 0
    while True:
        end = text.find("\n", position)
        stop = len(text) if end < 0 else end
        last = end < 0
        if stop - position > line_limit:
            cut = position + line_limit
            line = masked_head(text[position : cut + SECRETS.longest], line_limit)
            line += more_bytes(text[cut:stop], 0, beyond if last else 0)
            beyond = 0 if last else beyond
        else:
            line = SECRETS.mask(text[position:stop])
        if size + len(line) > limit:
            shown.append(more_bytes(text, position, beyond))
            return "\n".join(shown)
        shown.append(line)
        size += len(line) + 1
        if last:
            if beyond:
                shown.append(more_bytes("", 0, beyond))
            return "\n".join(shown)
        position = end + 1


def backstop(message: str) -> str:
    """Every message the kit logs: masked, and capped a little above ``LINE_LIMIT`` and
    ``MESSAGE_LIMIT``, so that what a keyword already capped is not cut a second time."""
    return cap_lines(message, LINE_LIMIT + NOTE_ROOM, MESSAGE_LIMIT + MESSAGE_ROOM)


def cap_fields(value: Any) -> Any:
    """A JSON document with every string in it capped at ``LINE_LIMIT`` characters (and masked)."""
    if isinstance(value, str):
        return cap(value)
    if isinstance(value, Mapping):
        return {key: cap_fields(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [cap_fields(item) for item in value]
    return value


def cap_output(data: bytes) -> str:
    """A container's output (bytes) as text for a message, capped as ``cap_lines`` does; only
    the part that can be shown is decoded (a 200 MB stdout costs no 200 MB string)."""
    # Enough bytes for MESSAGE_LIMIT characters of UTF-8 (and a secret across the cut).
    head = data[: 4 * MESSAGE_LIMIT + 4 * SECRETS.longest]
    text = head.decode("utf-8", errors="replace")
    return cap_lines(text, beyond=len(data) - len(head))
