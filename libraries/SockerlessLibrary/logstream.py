"""Log lines: lenient RFC 3339 timestamps and ``<timestamp><space><message>`` splitting; the lines
of a result's stream, and how a message shows them.

Docker writes a fixed 9-digit fraction (``...00.120000000Z``); sockerless writes Go's
``RFC3339Nano`` of a millisecond value with trailing zeros trimmed (``...12.3Z``, ``...12Z``).
Both, any fraction length from 0 to 9 digits, ``Z`` or a ``+hh:mm`` offset parse here, on every
Python version (``datetime.fromisoformat`` is not relied on).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from .capping import MESSAGE_LIMIT, show_line
from .mux import (
    STDERR,
    STREAM_NUMBERS,
    DecodedStream,
    MuxDecoder,
    Piece,
    split_lines,
    stream_name,
)

# The longest ``<timestamp><space>`` prefix a log line can have (RFC 3339, nanoseconds, offset).
TIMESTAMP_ROOM = 64

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})"
    r"(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))"
)


def try_parse_timestamp(text: str) -> datetime | None:
    """An RFC 3339 timestamp as an aware ``datetime`` (fraction truncated to microseconds), or
    ``None`` when ``text`` is not one."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    *date_and_time, fraction, zulu, sign, off_h, off_m = match.groups()
    year, month, day, hour, minute, second = map(int, date_and_time)
    if zulu:
        zone = UTC
    else:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        if offset >= timedelta(hours=24) or int(off_m) > 59:
            return None
        zone = timezone(-offset if sign == "-" else offset)
    microsecond = int((fraction or "0").ljust(6, "0")[:6])
    try:
        return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=zone)
    except ValueError:  # no such day or time (2026-02-30, 25:00)
        return None


@dataclass(frozen=True, slots=True)  # one per log line: millions in a long read
class LogLine:
    """One log line. ``timestamp`` is ``None`` when timestamps were not asked for or the line's
    prefix did not parse; then ``text`` is the whole line and ``raw_timestamp`` is ``None``."""

    stream: str
    text: str
    timestamp: datetime | None
    raw_timestamp: str | None


def split_timestamp(stream: str, line: str) -> LogLine:
    """Split ``<timestamp><space><message>`` once; a line without a timestamp stays whole."""
    raw, _, message = line.partition(" ")
    parsed = try_parse_timestamp(raw)
    if parsed is None:
        return LogLine(stream, line, None, None)
    return LogLine(stream, message, parsed, raw)


def log_lines(output: DecodedStream, *, timestamps: bool) -> list[LogLine]:
    """The log lines of a decoded logs stream, stdout and stderr interleaved.

    Each stream's payloads are concatenated before splitting (a frame is not a line); lines of
    the two streams are ordered by the frame in which each line began.
    """
    named = sorted(_lines_in_frame_order(output), key=lambda entry: entry[0])
    if not timestamps:
        return [LogLine(stream, line, None, None) for _, stream, line in named]
    return [split_timestamp(stream, line) for _, stream, line in named]


def _lines_in_frame_order(output: DecodedStream) -> list[tuple[int, str, str]]:
    """``(index of the frame the line began in, stream name, line)`` for every line."""
    if not output.multiplexed or not output.stderr:
        return [(0, "stdout", line) for line in split_lines(output.stdout)]
    entries: list[tuple[int, str, str]] = []
    partial = {"stdout": bytearray(), "stderr": bytearray()}
    began = {"stdout": 0, "stderr": 0}
    for index, frame in enumerate(output.frames):
        if not frame.payload:
            continue
        name = "stderr" if frame.stream == STDERR else "stdout"
        buffer = partial[name]
        if not buffer:
            began[name] = index
        *complete, rest = frame.payload.split(b"\n")
        for piece in complete:
            buffer += piece
            entries.append((began[name], name, _decode_line(buffer)))
            buffer.clear()
            began[name] = index
        buffer += rest
    for name, buffer in partial.items():
        if buffer:
            entries.append((began[name], name, _decode_line(buffer)))
    return entries


def _decode_line(data: bytearray) -> str:
    return data.decode("utf-8", errors="replace").removesuffix("\r")


class LineWatch:
    """Looks for one whole line in a stream while it arrives, piece by piece, on both streams.

    Called with each piece as ``(stream name, payload)`` (``stdin`` counts as ``stdout``, as in
    ``DecodedStream``); returns True once a complete line equals ``wanted``, by the rules of
    whole-line matching: UTF-8, one trailing ``\\r`` dropped, and with ``timestamps`` the
    ``<timestamp><space>`` prefix removed first. ``found`` says it came on ``stream``;
    ``found_on`` names the stream it came on, so a line on the other stream also ends the
    watch, and the caller can say where it came instead of waiting in vain. A line counts once
    its newline arrived; a last line without one is only complete at the end of the stream,
    where the caller reads it.

    Its memory is bounded by what it looks for: a line longer than ``wanted`` (with room for a
    timestamp and a ``\\r``) cannot equal it, so only that much of a partial line is kept, and
    a 200 MB line costs no more than a short one.

    >>> watch = LineWatch("hello", "stdout", timestamps=False)
    >>> watch("stdout", b"say hel"), watch("stdout", b"lo\\nhel"), watch("stdout", b"lo\\n")
    (False, False, True)
    >>> elsewhere = LineWatch("oops", "stderr", timestamps=False)
    >>> elsewhere("stdout", b"oops\\n"), elsewhere.found, elsewhere.found_on
    (True, False, 'stdout')
    """

    def __init__(self, wanted: str, stream: str, *, timestamps: bool) -> None:
        self.wanted = wanted
        self.stream = stream
        self.timestamps = timestamps
        self.found_on: str | None = None
        self.longest = len(wanted.encode("utf-8")) + 1 + (TIMESTAMP_ROOM if timestamps else 0)
        self._partial = {"stdout": bytearray(), "stderr": bytearray()}
        self._too_long = {"stdout": False, "stderr": False}

    @property
    def found(self) -> bool:
        """The line came on the stream watched for."""
        return self.found_on == self.stream

    def __call__(self, stream: str, payload: bytes) -> bool:
        if self.found_on is not None:
            return True
        name = "stderr" if stream == "stderr" else "stdout"
        start = 0
        while True:
            end = payload.find(b"\n", start)
            self._keep(name, payload[start : len(payload) if end < 0 else end])
            if end < 0:
                return False
            if self._complete(name):
                self.found_on = name
                return True
            start = end + 1

    def _keep(self, name: str, piece: bytes) -> None:
        """Add ``piece`` to the partial line, or note that the line is too long to match."""
        buffer = self._partial[name]
        if self._too_long[name] or len(buffer) + len(piece) > self.longest:
            self._too_long[name] = True
            buffer.clear()
        else:
            buffer += piece

    def _complete(self, name: str) -> bool:
        """A newline ended the partial line: whether it is the line wanted."""
        raw, too_long = self._partial[name], self._too_long[name]
        self._partial[name], self._too_long[name] = bytearray(), False
        if too_long:
            return False
        line = _decode_line(raw)
        if self.timestamps:
            line = split_timestamp(name, line).text
        return line.rstrip("\r") == self.wanted


class WindowDecoder(MuxDecoder):
    """``MuxDecoder`` for reads that must not hold a whole stream: it keeps only about the last
    ``keep`` bytes of output.

    Of the pieces ``feed`` hands on it keeps the newest, and once more than ``keep`` payload
    bytes are held it drops the oldest, at a line boundary of every stream where one comes soon
    enough (so the kept lines are whole lines), else anyway. ``dropped`` counts the payload
    bytes no longer held; ``finish`` returns what is held.
    """

    def __init__(self, keep: int, *, multiplexed: bool) -> None:
        super().__init__(multiplexed=multiplexed)
        self.keep = keep
        self.dropped = 0
        self._held: deque[Piece] = deque()
        self._size = 0

    def _hold(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            self._held.append(piece)
            self._size += len(piece[1])
        if self._size <= self.keep:
            return
        open_lines: set[int] = set()  # streams whose last dropped piece ends inside a line
        while self._held and (self._size > self.keep or open_lines):
            if self._size <= self.keep // 2:
                break  # no line boundary comes soon enough: keep the partial line
            stream, payload = self._held.popleft()
            self._size -= len(payload)
            self.dropped += len(payload)
            if payload.endswith(b"\n"):
                open_lines.discard(stream)
            elif payload:
                open_lines.add(stream)

    def _result(self) -> DecodedStream:
        return DecodedStream(list(self._held), multiplexed=self.multiplexed)


# -- the lines of a result's stream, and how a message shows them ---------------------------


MAX_LINES_SHOWN = 40


def other_stream(stream: str | int) -> str:
    """The output stream that is not ``stream``: where a line expected on it may have come."""
    return "stdout" if stream_name(stream) == "stderr" else "stderr"


def stream_number(stream: str | int) -> int:
    """``"stdout"``/``1`` -> ``1``."""
    return STREAM_NUMBERS[stream_name(stream)]


def output_lines(result: Any, stream: str | int = "stdout") -> list[str]:
    """The lines of ``stream``, with a timestamp prefix already split off for timestamped logs."""
    name = stream_name(stream)
    log_lines = getattr(result, "log_lines", None)
    if log_lines is not None:
        return [str(line.text) for line in log_lines if line.stream == name]
    return [str(line) for line in result.output.lines(name)]


def whole_line_present(lines: list[str], wanted: str) -> bool:
    """True when one line equals ``wanted`` exactly (a trailing ``\\r`` from a TTY is ignored)."""
    return any(line.rstrip("\r") == wanted for line in lines)


def show_lines(lines: Sequence[str], limit: int = MESSAGE_LIMIT, total: int | None = None) -> str:
    """The lines for a message: quoted, each cut after ``LINE_LIMIT`` characters, at most
    ``MAX_LINES_SHOWN`` of them and no more than fit in about ``limit`` characters; ``total``
    is how many lines there are when ``lines`` holds only the first ones."""
    if not lines:
        return "no lines"
    shown: list[str] = []
    size = 0
    for line in lines[:MAX_LINES_SHOWN]:
        quoted = show_line(line)
        if shown and size + len(quoted) > limit:
            break
        shown.append(quoted)
        size += len(quoted) + 1
    more = (len(lines) if total is None else total) - len(shown)
    return "\n".join(shown) + (f"\n... and {more} more line(s)" if more > 0 else "")
