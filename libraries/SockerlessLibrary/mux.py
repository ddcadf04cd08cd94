"""Docker's multiplexed stream format (stdcopy): an incremental, strict, fast decoder.

Every frame is an 8-byte header (byte 0 the stream type, bytes 1-3 zero, bytes 4-7 the payload
length as big-endian uint32) followed by the payload. Frames are write-sized chunks, not lines:
they split across reads, can be empty, and only the concatenation of one stream's payloads means
anything. Unlike docker-py and moby's ``StdCopy``, this decoder never accepts garbage silently:
bad padding, unknown stream types and a stream cut off inside a frame are ``ProtocolError``; a
type-3 (systemerr) frame is a ``DaemonStreamError`` and never ends up in stdout.

Speed matters because logs and exec output can be large: the hot loop does one
``struct.unpack_from`` and one slice per frame on the received ``bytes``, validates a header only
when the stream type changes (a repeated header word was already validated), and builds ``Frame``
objects lazily, only when someone looks at ``DecodedStream.frames``.
"""

from __future__ import annotations

import io
import struct
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple, overload

from .errors import DaemonStreamError, ProtocolError

STDIN, STDOUT, STDERR, SYSTEMERR = 0, 1, 2, 3
STREAM_NAMES = {STDIN: "stdin", STDOUT: "stdout", STDERR: "stderr"}
STREAM_NUMBERS = {name: number for number, name in STREAM_NAMES.items()}
HEADER_SIZE = 8
DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024
MULTIPLEXED_CONTENT_TYPE = "application/vnd.docker.multiplexed-stream"
RAW_CONTENT_TYPE = "application/vnd.docker.raw-stream"

# Header word 0 is (type << 24) | padding; word 1 is the payload length.
_HEADER = struct.Struct(">IL")
_PADDING_MASK = 0x00FFFFFF
_OUT, _ERR = 0, 1  # destinations: stdin (type 0) goes to stdout, as moby's StdCopy does
Buffer = bytes | memoryview
# A run being decoded: stream type, append, the scan's payload list, frames stored before the scan.
_Run = tuple[int, Callable[[Buffer], None], list[Buffer], int]
_LARGE_FRAME = 2048  # average payload size from which slicing without a copy pays off


class Frame(NamedTuple):
    """One frame: stream type (0, 1, 2), payload, and the 8 header bytes as on the wire."""

    stream: int
    payload: bytes
    header: bytes

    @property
    def stream_name(self) -> str:
        """``stdin``, ``stdout`` or ``stderr``."""
        return STREAM_NAMES[self.stream]


def frame_header(stream: int, length: int) -> bytes:
    """The 8 header bytes of a frame: the only bytes a valid header can have for these values."""
    return _HEADER.pack(stream << 24, length)


def encode_frames(frames: Sequence[tuple[int, bytes]]) -> bytes:
    """``[(stream, payload), ...]`` as a multiplexed stream (for tests and benchmarks)."""
    return b"".join(frame_header(stream, len(payload)) + payload for stream, payload in frames)


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


def _destination(stream: int) -> int:
    return _ERR if stream == STDERR else _OUT


def _run_ends(streams: Sequence[int], starts: Sequence[int], totals: Sequence[int]) -> list[int]:
    """For runs (stream type, start index in its destination), where each run stops."""
    ends = [0] * len(streams)
    following = list(totals)
    for index in range(len(streams) - 1, -1, -1):
        stream, start = streams[index], starts[index]
        destination = _destination(stream)
        ends[index] = following[destination]
        following[destination] = start
    return ends


def _frames_from_runs(
    streams: Sequence[int],
    starts: Sequence[int],
    lengths: tuple[Sequence[int], Sequence[int]],
    data: tuple[bytes, bytes],
) -> list[Frame]:
    """Build the frames of consecutive runs; ``data`` holds each destination's payloads from the
    first run's frame on."""
    frames: list[Frame] = []
    offsets = [0, 0]
    ends = _run_ends(streams, starts, (len(lengths[_OUT]), len(lengths[_ERR])))
    for stream, start, end in zip(streams, starts, ends, strict=True):
        destination = _destination(stream)
        sizes, payloads = lengths[destination], data[destination]
        offset = offsets[destination]
        for index in range(start, end):
            size = sizes[index]
            frames.append(
                Frame(stream, payloads[offset : offset + size], frame_header(stream, size))
            )
            offset += size
        offsets[destination] = offset
    return frames


class FrameIndex(Sequence[Frame]):
    """The frames of a decoded stream, materialised on first access.

    Stores only the stream-type runs and one length per frame; payloads are slices of the joined
    stdout/stderr, headers are rebuilt from type and length (exact, because the decoder rejects
    every header with non-zero padding).
    """

    def __init__(
        self,
        stdout: bytes,
        stderr: bytes,
        run_streams: Sequence[int],
        run_starts: Sequence[int],
        lengths: tuple[array[int], array[int]],
    ) -> None:
        self._data = (stdout, stderr)
        self._run_streams = run_streams
        self._run_starts = run_starts
        self._lengths = lengths
        self._frames: list[Frame] | None = None

    def _materialise(self) -> list[Frame]:
        if self._frames is None:
            self._frames = _frames_from_runs(
                self._run_streams, self._run_starts, self._lengths, self._data
            )
        return self._frames

    def __len__(self) -> int:
        return len(self._lengths[_OUT]) + len(self._lengths[_ERR])

    @overload
    def __getitem__(self, index: int) -> Frame: ...

    @overload
    def __getitem__(self, index: slice) -> list[Frame]: ...

    def __getitem__(self, index: int | slice) -> Frame | list[Frame]:
        return self._materialise()[index]

    def __iter__(self) -> Iterator[Frame]:
        return iter(self._materialise())

    def __repr__(self) -> str:
        return f"FrameIndex({len(self)} frames)"


class DecodedStream:
    """A whole decoded stream: its frames (none for a raw/TTY stream), stdout and stderr bytes.

    Type-0 (stdin) frames count as stdout, as in moby's ``StdCopy``; ``data("stdin")`` still
    returns them alone.
    """

    __slots__ = ("frames", "multiplexed", "stderr", "stdout")

    def __init__(
        self, frames: Sequence[Frame], multiplexed: bool, stdout: bytes, stderr: bytes
    ) -> None:
        self.frames = frames
        self.multiplexed = multiplexed
        self.stdout = stdout
        self.stderr = stderr

    def data(self, stream: str | int = "stdout") -> bytes:
        """The concatenated payloads of ``stream`` (``stdout``/``stderr``/``stdin`` or 1/2/0)."""
        number = _stream_number(stream)
        if number == STDOUT:
            return self.stdout
        if number == STDERR:
            return self.stderr
        return b"".join(frame.payload for frame in self.frames if frame.stream == STDIN)

    def text(self, stream: str | int = "stdout") -> str:
        """``data(stream)`` decoded as UTF-8 (undecodable bytes replaced)."""
        return self.data(stream).decode("utf-8", errors="replace")

    def lines(self, stream: str | int = "stdout") -> list[str]:
        """The lines of ``stream``, split after joining its payloads (a frame is not a line)."""
        return split_lines(self.data(stream))

    def __repr__(self) -> str:
        kind = "multiplexed" if self.multiplexed else "raw"
        return (
            f"DecodedStream({kind}, {len(self.frames)} frames, stdout={len(self.stdout)} bytes, "
            f"stderr={len(self.stderr)} bytes)"
        )


def _stream_number(stream: str | int) -> int:
    if isinstance(stream, int) and stream in STREAM_NAMES:
        return stream
    name = str(stream).strip().lower()
    if name in STREAM_NUMBERS:
        return STREAM_NUMBERS[name]
    if name.isdigit() and int(name) in STREAM_NAMES:
        return int(name)
    raise ValueError(f"unknown stream {stream!r}: use stdout, stderr or stdin")


class _PartialFrame:
    """A frame cut off at the end of one ``consume`` call: header bytes and payload pieces."""

    __slots__ = ("header", "length", "missing", "offset", "pieces", "word")

    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.header = bytearray()
        self.pieces: list[Buffer] = []
        self.word = -1
        self.length = -1  # payload length, once the header is complete
        self.missing = 0

    def add(self, data: bytes, start: int, stop: int) -> None:
        """Add ``data[start:stop]`` to the payload; large pieces are not copied."""
        if stop > start:
            large = stop - start >= _LARGE_FRAME
            self.pieces.append(memoryview(data)[start:stop] if large else data[start:stop])
            self.missing -= stop - start


class MuxDecoder:
    """Incremental decoder: ``consume``/``feed`` bytes as they arrive, then ``finish()``.

    ``multiplexed=False`` decodes a raw (TTY) stream: every byte is stdout, there are no frames.
    A frame whose header announces more than ``max_frame_size`` payload bytes is rejected before
    its payload is buffered, so a corrupt header cannot make the decoder buffer 4 GiB.

    Storage per destination (stdout, stderr): ``_out``, a ``BytesIO`` the payloads are copied into
    once per ``consume`` call (its ``getvalue()`` hands the buffer over without another copy, so
    the received chunks are freed and their memory reused), and ``_lengths``, one payload length
    per frame. Frame order is kept as runs of one header word: ``_run_streams`` (stream type) and
    ``_run_starts`` (index of the run's first frame in its destination).
    """

    def __init__(
        self, *, multiplexed: bool = True, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    ) -> None:
        self.multiplexed = multiplexed
        self.max_frame_size = max_frame_size
        self._out = (io.BytesIO(), io.BytesIO())
        self._lengths = (array("I"), array("I"))
        self._run_streams = bytearray()
        self._run_starts = array("Q")
        self._word = -1  # header word 0 of the current run; -1 before the first frame
        self._valid: dict[int, int] = {}  # validated header words -> stream type
        self._large_frames = False  # slice payloads as memoryviews (no copy) in the next scan
        self._base = 0  # stream offset of the next byte handed to consume()
        self._partial: _PartialFrame | None = None  # a frame cut off at the end of a call
        self._failure: ProtocolError | None = None
        self._finished = False

    @property
    def bytes_consumed(self) -> int:
        """How many stream bytes were handed to the decoder so far."""
        return self._base

    @property
    def frame_count(self) -> int:
        """How many complete frames were decoded so far."""
        return len(self._lengths[_OUT]) + len(self._lengths[_ERR])

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Decode ``data`` and return the frames it completed (a frame may span many calls)."""
        runs_before = len(self._run_streams)
        lengths_before = (len(self._lengths[_OUT]), len(self._lengths[_ERR]))
        sizes_before = (self._out[_OUT].tell(), self._out[_ERR].tell())
        self.consume(data)
        streams = list(self._run_streams[runs_before:])
        starts = list(self._run_starts[runs_before:])
        if runs_before:  # the run that was open continues into the new frames
            stream = self._run_streams[runs_before - 1]
            streams.insert(0, stream)
            starts.insert(0, lengths_before[_destination(stream)])
        new_data = (
            self._written_since(_OUT, sizes_before),
            self._written_since(_ERR, sizes_before),
        )
        return _frames_from_runs(streams, starts, self._lengths, new_data)

    def consume(self, data: bytes | bytearray | memoryview) -> None:
        """Decode ``data`` without building ``Frame`` objects (the fast path)."""
        if self._failure is not None:
            raise self._failure
        if self._finished:
            raise ValueError("the decoder is finished; create a new one for a new stream")
        if not isinstance(data, bytes):
            data = bytes(data)
        if not self.multiplexed:
            if data:
                self._out[_OUT].write(data)
            self._base += len(data)
            return
        try:
            position = self._fill_partial(data) if self._partial is not None else 0
            position = self._scan(data, position)
            if position < len(data):
                self._stash(data, position)
        except ProtocolError as error:
            error.partial = self._result()  # everything decoded before the bad frame
            self._failure = error
            raise
        self._base += len(data)

    def finish(self, *, incomplete_ok: bool = False) -> DecodedStream:
        """The decoded stream. At end of stream a partial frame is a ``ProtocolError``.

        ``incomplete_ok=True`` is for a read that stopped on purpose (a bounded ``follow``): the
        partial frame is then dropped instead.
        """
        if self._failure is not None:
            raise self._failure
        if self._partial is not None and not incomplete_ok:
            error = ProtocolError(self._truncation_message(), partial=self._result())
            self._failure = error
            raise error
        self._finished = True
        return self._result()

    def forget(self) -> None:
        """Drop every frame decoded so far (``feed`` has handed them out). Only a frame cut off
        at the end of the last call stays, so a caller that keeps what it needs of each
        ``feed`` reads an endless stream in bounded memory (``logstream.FrameWindow``)."""
        self._out = (io.BytesIO(), io.BytesIO())
        self._lengths = (array("I"), array("I"))
        self._run_streams = bytearray()
        self._run_starts = array("Q")
        self._word = -1

    def _truncation_message(self) -> str:
        partial = self._partial
        assert partial is not None
        if partial.length < 0:
            return (
                f"stream ended inside a frame header at byte offset {partial.offset}: "
                f"got {len(partial.header)} of {HEADER_SIZE} header bytes"
            )
        return (
            f"truncated frame at byte offset {partial.offset}: the header announces "
            f"{partial.length} payload bytes, the stream ended after "
            f"{partial.length - partial.missing}"
        )

    def _scan(self, data: bytes, position: int) -> int:
        """Decode every complete frame of ``data`` from ``position``; return where it stopped.

        The hot loop: per frame one unpack, one slice, one append. A header word equal to the
        previous one needs no check; a new one starts a run (and is validated once per stream).
        """
        source: Buffer = memoryview(data) if self._large_frames else data
        size, first = len(data), position
        local: tuple[list[Buffer], list[Buffer]] = ([], [])
        bases = (len(self._lengths[_OUT]), len(self._lengths[_ERR]))
        runs: dict[int, _Run] = {}
        word = self._word
        append = local[_OUT].append
        if word >= 0:  # the previous call's last run continues
            run = self._local_run(word, local, bases)
            runs[word] = run
            append = run[1]
        add_run_stream, add_run_start = self._run_streams.append, self._run_starts.append
        unpack = _HEADER.unpack_from
        try:
            while True:
                header_word, length = unpack(source, position)
                start = position + HEADER_SIZE
                stop = start + length
                if stop > size:
                    break
                if header_word != word:
                    run = runs.get(header_word) or self._new_run(
                        header_word,
                        self._base + position,
                        data[start:stop],
                        local=local,
                        bases=bases,
                        runs=runs,
                    )
                    stream, append, destination, base = run
                    add_run_stream(stream)
                    add_run_start(base + len(destination))
                    word = header_word
                append(source[start:stop])
                position = stop
        except struct.error:
            pass  # fewer than 8 bytes left: the next header is incomplete
        finally:
            self._word = word
            self._commit(local, position - first)
        return position

    def _local_run(
        self, header_word: int, local: tuple[list[Buffer], list[Buffer]], bases: tuple[int, int]
    ) -> _Run:
        stream = self._valid[header_word]
        destination = local[_destination(stream)]
        return (stream, destination.append, destination, bases[_destination(stream)])

    def _new_run(
        self,
        header_word: int,
        offset: int,
        payload: bytes,
        *,
        local: tuple[list[Buffer], list[Buffer]],
        bases: tuple[int, int],
        runs: dict[int, _Run],
    ) -> _Run:
        if header_word not in self._valid:
            self._validate(header_word, offset, payload)
        run = self._local_run(header_word, local, bases)
        runs[header_word] = run
        return run

    def _written_since(self, destination: int, sizes: tuple[int, int]) -> bytes:
        with self._out[destination].getbuffer() as view:
            return bytes(view[sizes[destination] :])

    def _commit(self, local: tuple[list[Buffer], list[Buffer]], consumed: int) -> None:
        """Copy one scan's payloads into storage, once."""
        count = len(local[_OUT]) + len(local[_ERR])
        if not count:
            return
        self._large_frames = consumed >= count * _LARGE_FRAME
        for destination, parts in enumerate(local):
            if not parts:
                continue
            self._lengths[destination].extend(map(len, parts))
            self._out[destination].writelines(parts)

    def _validate(self, header_word: int, offset: int, payload: bytes) -> None:
        """Check a header word seen for the first time; remember it when valid.

        ``payload`` is read only for a type-3 frame (the daemon's error text).
        """
        stream = header_word >> 24
        if stream > SYSTEMERR:
            raise ProtocolError(f"unknown stream type {stream} at byte offset {offset}")
        if header_word & _PADDING_MASK:
            padding = header_word.to_bytes(4, "big")[1:]
            raise ProtocolError(
                f"frame header at byte offset {offset} has non-zero bytes 1-3 "
                f"({padding.hex()}); they must be zero"
            )
        if stream == SYSTEMERR:
            text = payload.decode("utf-8", errors="replace")
            raise DaemonStreamError(
                f"the daemon reported an error inside the stream (type 3 frame at byte "
                f"offset {offset}): {text.strip()}",
                payload=text,
            )
        self._valid[header_word] = stream

    def _stash(self, data: bytes, position: int) -> None:
        """Keep the frame cut off at the end of ``data`` for the next call (without copying
        large payload pieces)."""
        partial = _PartialFrame(self._base + position)
        header_end = min(position + HEADER_SIZE, len(data))
        partial.header += data[position:header_end]
        self._partial = partial
        if len(partial.header) == HEADER_SIZE:
            self._open(partial)
            partial.add(data, header_end, len(data))

    def _open(self, partial: _PartialFrame) -> None:
        """The partial frame's header is complete: check it before buffering its payload."""
        header_word, length = _HEADER.unpack_from(partial.header, 0)
        if header_word >> 24 > SYSTEMERR or header_word & _PADDING_MASK:
            self._validate(header_word, partial.offset, b"")  # raises the precise error
        if length > self.max_frame_size:
            raise ProtocolError(
                f"frame at byte offset {partial.offset} announces {length} payload "
                f"bytes, more than the {self.max_frame_size} byte limit (corrupt header?)"
            )
        partial.word, partial.length, partial.missing = header_word, length, length

    def _fill_partial(self, data: bytes) -> int:
        """Complete the carried-over frame from the start of ``data``; return bytes used."""
        partial = self._partial
        assert partial is not None
        position = 0
        if partial.length < 0:
            position = min(HEADER_SIZE - len(partial.header), len(data))
            partial.header += data[:position]
            if len(partial.header) < HEADER_SIZE:
                return position
            self._open(partial)
        take = min(partial.missing, len(data) - position)
        partial.add(data, position, position + take)
        position += take
        if not partial.missing:
            self._partial = None
            self._add_frame(partial)
        return position

    def _add_frame(self, partial: _PartialFrame) -> None:
        """Store a frame that spanned calls (its payload pieces stay as they are)."""
        header_word = partial.word
        if header_word not in self._valid:
            self._validate(header_word, partial.offset, b"".join(partial.pieces))
        stream = self._valid[header_word]
        destination = _destination(stream)
        if header_word != self._word:
            self._run_streams.append(stream)
            self._run_starts.append(len(self._lengths[destination]))
            self._word = header_word
        self._lengths[destination].append(partial.length)
        self._out[destination].writelines(partial.pieces)

    def _result(self) -> DecodedStream:
        stdout = self._out[_OUT].getvalue()
        stderr = self._out[_ERR].getvalue()
        if not self.multiplexed:
            return DecodedStream((), False, stdout, stderr)
        index = FrameIndex(
            stdout, stderr, bytes(self._run_streams), array("Q", self._run_starts), self._lengths
        )
        return DecodedStream(index, True, stdout, stderr)


def decode(data: bytes, *, multiplexed: bool = True) -> DecodedStream:
    """Decode a complete stream in one call."""
    decoder = MuxDecoder(multiplexed=multiplexed)
    decoder.consume(data)
    return decoder.finish()
