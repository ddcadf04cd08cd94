"""Docker's multiplexed stream format (stdcopy): a strict, incremental decoder.

Every frame is an 8-byte header (byte 0 the stream type, bytes 1-3 zero, bytes 4-7 the payload
length as big-endian uint32) followed by the payload. Frames are write-sized chunks, not lines:
they split across reads, can be empty, and only the concatenation of one stream's payloads means
anything.

How strict, compared with the two readers users know: docker-py's ``frames_iter`` checks nothing
(garbage headers, any stream type and a stream cut off inside a frame all pass). moby's
``StdCopy`` rejects an unknown stream type and returns a type-3 (systemerr) frame as an error,
but ignores bytes 1-3 and ends silently when the stream stops inside a frame. This decoder
rejects all of it: non-zero bytes 1-3, a stream type above 3 and a stream that ends inside a
frame are a ``ProtocolError``; a type-3 frame is a ``DaemonStreamError`` carrying its text, never
stdout.

``FrameDecoder`` holds at most one frame (the one the last piece ended in); ``MuxDecoder`` keeps
the whole stream's output for callers that return it.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from typing import NamedTuple

from .arguments import ArgumentError
from .errors import DaemonStreamError, ProtocolError

STDIN, STDOUT, STDERR, SYSTEMERR = 0, 1, 2, 3
STREAM_NAMES = {STDIN: "stdin", STDOUT: "stdout", STDERR: "stderr"}
STREAM_NUMBERS = {name: number for number, name in STREAM_NAMES.items()}
HEADER_SIZE = 8
DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024
MULTIPLEXED_CONTENT_TYPE = "application/vnd.docker.multiplexed-stream"

# Header word 0 is (type << 24) | padding; word 1 is the payload length.
_HEADER = struct.Struct(">IL")
# The only valid first words with a payload for stdout (stdin and stdout, as in moby's StdCopy)
# or stderr; anything else is type 3 or an error, looked at in ``_check``.
_STREAM_OF_WORD = {STDIN << 24: STDIN, STDOUT << 24: STDOUT, STDERR << 24: STDERR}
# One decoded frame as the decoder hands it on: (stream type 0-2, payload).
Piece = tuple[int, bytes]


class Frame(NamedTuple):
    """One frame: stream type (0, 1, 2), payload, and the 8 header bytes as on the wire."""

    stream: int
    payload: bytes
    header: bytes


def frame_header(stream: int, length: int) -> bytes:
    """The 8 header bytes of a frame: the only bytes a valid header can have for these values."""
    return _HEADER.pack(stream << 24, length)


def split_lines(data: bytes) -> list[str]:
    """UTF-8 lines of ``data``: split on ``\\n``, one trailing ``\\r`` (TTY) removed per line.

    A final line without ``\\n`` counts; the empty string after a final ``\\n`` does not.
    """
    if not data:
        return []
    parts = data.split(b"\n")
    if not parts[-1]:
        parts.pop()
    return [part.decode("utf-8", errors="replace").removesuffix("\r") for part in parts]


class FrameDecoder:
    """Frames from a multiplexed stream handed over in pieces of any size.

    ``feed`` returns the frames a piece completes as ``(stream, payload)``; ``end`` says the
    stream ended and fails if that was inside a frame. A header is checked as soon as its 8 bytes
    are there, so an unknown type or a length above ``max_frame_size`` fails before any of its
    payload is buffered: between pieces the decoder holds only the frame the last one ended in.
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self.max_frame_size = max_frame_size
        self.consumed = 0  # stream bytes fed so far
        self._pending = bytearray()  # the frame the last piece ended in, as far as it came
        self._needed = HEADER_SIZE  # that frame's whole size, once its header was checked

    @property
    def buffered(self) -> int:
        """Bytes held of the frame the last piece ended in (0 between frames)."""
        return len(self._pending)

    def feed(self, data: bytes, frames: list[Piece] | None = None) -> list[Piece]:
        """Decode ``data``; append each completed frame to ``frames`` (a new list if ``None``).

        On a bad frame the frames before it are in ``frames`` when the error is raised.
        """
        frames = [] if frames is None else frames
        offset = self.consumed - len(self._pending)  # the stream offset of what is decoded next
        self.consumed += len(data)
        position = 0
        if self._pending:
            position = self._fill(data, offset)
            if len(self._pending) < self._needed:
                return frames
            held, self._pending, self._needed = bytes(self._pending), bytearray(), HEADER_SIZE
            self._scan(held, offset, frames)
            offset += len(held) - position
        position = self._scan(data, offset, frames, position)
        if position < len(data):
            self._pending = bytearray(memoryview(data)[position:])
            self._check_header(offset + position)
        return frames

    def end(self) -> None:
        """The stream ended: a ``ProtocolError`` if it ended inside a frame."""
        held, start = len(self._pending), self.consumed - len(self._pending)
        if held and held < HEADER_SIZE:
            raise ProtocolError(
                f"stream ended inside a frame header at byte offset {start}: got {held} of "
                f"{HEADER_SIZE} header bytes"
            )
        if held:
            raise ProtocolError(
                f"truncated frame at byte offset {start}: the header announces "
                f"{self._needed - HEADER_SIZE} payload bytes, the stream ended after "
                f"{held - HEADER_SIZE}"
            )

    def _scan(self, data: bytes, offset: int, frames: list[Piece], position: int = 0) -> int:
        """Decode the complete frames of ``data`` from ``position`` (``data[0]`` is at stream
        ``offset``); return where the first incomplete one starts. The hot loop: per frame one
        unpack, one look-up and one slice."""
        unpack, streams, add = _HEADER.unpack_from, _STREAM_OF_WORD, frames.append
        size = len(data)
        while size - position >= HEADER_SIZE:
            word, length = unpack(data, position)
            start = position + HEADER_SIZE
            stop = start + length
            if stop > size:
                break
            stream = streams.get(word)
            if stream is None:
                _check(word, offset + position, data[start:stop])
            add((stream, data[start:stop]))  # type: ignore[arg-type]  # _check raised otherwise
            position = stop
        return position

    def _fill(self, data: bytes, offset: int) -> int:
        """Move to the held frame what it lacks from the start of ``data`` (its header first,
        checked, then its payload); return how many bytes that took."""
        held = self._pending
        used = max(0, min(HEADER_SIZE - len(held), len(data)))
        held += memoryview(data)[:used]
        self._check_header(offset)
        if len(held) < HEADER_SIZE:
            return used
        take = min(self._needed - len(held), len(data) - used)
        held += memoryview(data)[used : used + take]
        return used + take

    def _check_header(self, offset: int) -> None:
        """Check the held frame's header once its 8 bytes are there, before its payload."""
        if self._needed > HEADER_SIZE or len(self._pending) < HEADER_SIZE:
            return
        word, length = _HEADER.unpack_from(self._pending)
        if word not in _STREAM_OF_WORD and word != SYSTEMERR << 24:
            _check(word, offset, b"")  # type 3 waits for its payload: the daemon's message
        if length > self.max_frame_size:
            raise ProtocolError(
                f"frame at byte offset {offset} announces {length} payload bytes, more than the "
                f"{self.max_frame_size} byte limit (corrupt header?)"
            )
        self._needed = HEADER_SIZE + length


def _check(word: int, offset: int, payload: bytes) -> None:
    """Raise what is wrong with a header whose first word is not a valid stdin/out/err one.

    ``payload`` is read only for a type-3 frame: the daemon's error text.
    """
    stream = word >> 24
    if stream > SYSTEMERR:
        raise ProtocolError(f"unknown stream type {stream} at byte offset {offset}")
    if word & 0x00FFFFFF:
        padding = word.to_bytes(4, "big")[1:]
        raise ProtocolError(
            f"frame header at byte offset {offset} has non-zero bytes 1-3 ({padding.hex()}); "
            "they must be zero"
        )
    text = payload.decode("utf-8", errors="replace")
    raise DaemonStreamError(
        f"the daemon reported an error inside the stream (type 3 frame at byte offset {offset}): "
        f"{text.strip()}",
        payload=text,
    )


class DecodedStream:
    """A whole decoded stream: its frames (none for a raw/TTY stream), stdout and stderr bytes.

    Type-0 (stdin) frames count as stdout, as in moby's ``StdCopy``; ``data("stdin")`` still
    returns them alone. ``frames`` is built on first use (most callers read only the bytes).
    """

    def __init__(self, pieces: Sequence[Piece], *, multiplexed: bool) -> None:
        self.multiplexed = multiplexed
        self._pieces = pieces
        self.stdout = _joined(payload for stream, payload in pieces if stream != STDERR)
        self.stderr = _joined(payload for stream, payload in pieces if stream == STDERR)

    @cached_property
    def frames(self) -> Sequence[Frame]:
        """The frames in stream order, each with its header bytes; empty for a raw stream."""
        if not self.multiplexed:
            return []
        return [
            Frame(stream, data, frame_header(stream, len(data))) for stream, data in self._pieces
        ]

    def data(self, stream: str | int = "stdout") -> bytes:
        """The concatenated payloads of ``stream`` (``stdout``/``stderr``/``stdin`` or 1/2/0)."""
        number = STREAM_NUMBERS[stream_name(stream)]
        if number == STDOUT:
            return self.stdout
        if number == STDERR:
            return self.stderr
        return b"".join(payload for kind, payload in self._pieces if kind == STDIN)

    def text(self, stream: str | int = "stdout") -> str:
        """``data(stream)`` decoded as UTF-8 (undecodable bytes replaced)."""
        return self.data(stream).decode("utf-8", errors="replace")

    def lines(self, stream: str | int = "stdout") -> list[str]:
        """The lines of ``stream``, split after joining its payloads (a frame is not a line)."""
        return split_lines(self.data(stream))

    def __repr__(self) -> str:
        kind = "multiplexed" if self.multiplexed else "raw"
        count = len(self._pieces) if self.multiplexed else 0
        return (
            f"DecodedStream({kind}, {count} frames, stdout={len(self.stdout)} bytes, "
            f"stderr={len(self.stderr)} bytes)"
        )


def _joined(parts: Iterable[bytes]) -> bytes:
    """``b"".join(parts)``, twice as fast on many small parts (a chatty process's output)."""
    buffer = io.BytesIO()
    buffer.writelines(parts)
    return buffer.getvalue()


def stream_name(stream: str | int) -> str:
    """``"stdout"``/``1`` -> ``"stdout"`` (``stdin``/``0`` too); anything else is a usage error."""
    text = str(stream).strip().lower()
    if text in STREAM_NUMBERS:
        return text
    if text.isdigit() and int(text) in STREAM_NAMES:
        return STREAM_NAMES[int(text)]
    raise ArgumentError(f"Unknown stream '{stream}': use stdout, stderr (or 1, 2)")


class MuxDecoder:
    """A stream's whole output, decoded as it arrives: ``feed`` each piece, then ``finish()``.

    ``multiplexed=False`` keeps a raw (TTY) stream as it is: every byte is stdout, no frames.
    A decoding error carries ``partial``, the output decoded before it, and is raised again by
    every later call. ``dropped``: bytes of output no longer held (none here; see
    ``logstream.WindowDecoder``, which keeps only the last part).
    """

    dropped = 0

    def __init__(
        self, *, multiplexed: bool = True, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    ) -> None:
        self.multiplexed = multiplexed
        self._frames = FrameDecoder(max_frame_size)
        self._pieces: list[Piece] = []
        self._failure: ProtocolError | None = None
        self._finished = False

    def feed(self, data: bytes) -> list[Piece]:
        """Decode ``data``; return what it completed as ``(stream, payload)`` in stream order
        (a raw stream: ``data`` itself as stdout)."""
        if self._failure is not None:
            raise self._failure
        if self._finished:
            raise ValueError("the decoder is finished; create a new one for a new stream")
        pieces: list[Piece] = []
        if not self.multiplexed:
            if data:
                pieces.append((STDOUT, bytes(data)))
        else:
            self._decode(lambda: self._frames.feed(bytes(data), pieces), pieces)
        self._hold(pieces)
        return pieces

    def finish(self, *, incomplete_ok: bool = False) -> DecodedStream:
        """The decoded stream. At end of stream a partial frame is a ``ProtocolError``.

        ``incomplete_ok=True`` is for a read that stopped on purpose (a bounded ``follow``): the
        partial frame is then dropped instead.
        """
        if self._failure is not None:
            raise self._failure
        if not incomplete_ok:
            self._decode(self._frames.end, [])
        self._finished = True
        return self._result()

    def _decode(self, step: Callable[[], object], pieces: list[Piece]) -> None:
        try:
            step()
        except ProtocolError as error:
            self._hold(pieces)  # the frames before the bad one
            error.partial = self._result()
            self._failure = error
            raise

    def _hold(self, pieces: list[Piece]) -> None:
        self._pieces += pieces

    def _result(self) -> DecodedStream:
        return DecodedStream(self._pieces, multiplexed=self.multiplexed)  # no feed after this


def decode(data: bytes, *, multiplexed: bool = True) -> DecodedStream:
    """Decode a complete stream in one call."""
    decoder = MuxDecoder(multiplexed=multiplexed)
    decoder.feed(data)
    return decoder.finish()
