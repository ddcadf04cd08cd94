"""The multiplexed-stream decoder: splits at any byte, strict headers, type 3, truncation, and
memory bounded by one frame."""

from __future__ import annotations

import struct

import pytest

from SockerlessLibrary.errors import DaemonStreamError, ProtocolError
from SockerlessLibrary.mux import (
    DecodedStream,
    Frame,
    FrameDecoder,
    MuxDecoder,
    decode,
)
from utest.wire_codecs import encode_frames

FRAMES = [
    (1, b"hello "),
    (2, b"oops\n"),
    (1, b""),
    (1, b"world\nsecond "),
    (0, b"stdin-echo"),
    (2, b"err2\n"),
    (1, b"line\n"),
]
STREAM = encode_frames(FRAMES)


def header(stream: int, length: int, padding: bytes = b"\0\0\0") -> bytes:
    return bytes([stream]) + padding + struct.pack(">I", length)


def expected_frames() -> list[Frame]:
    return [Frame(s, p, header(s, len(p))) for s, p in FRAMES]


def check_result(result: DecodedStream) -> None:
    assert result.multiplexed
    assert list(result.frames) == expected_frames()
    assert result.stdout == b"hello world\nsecond stdin-echoline\n"
    assert result.stderr == b"oops\nerr2\n"


@pytest.mark.parametrize("split", range(len(STREAM) + 1))
def test_a_stream_split_at_any_byte_decodes_the_same(split: int) -> None:
    decoder = MuxDecoder()
    fed = decoder.feed(STREAM[:split]) + decoder.feed(STREAM[split:])
    assert fed == FRAMES
    check_result(decoder.finish())


@pytest.mark.parametrize("first", range(0, len(STREAM) + 1, 3))
@pytest.mark.parametrize("second", range(0, len(STREAM) + 1, 4))
def test_a_stream_split_in_three_pieces_decodes_the_same(first: int, second: int) -> None:
    low, high = sorted((first, second))
    decoder = MuxDecoder()
    for piece in (STREAM[:low], STREAM[low:high], STREAM[high:]):
        decoder.feed(piece)
    check_result(decoder.finish())


def test_one_byte_at_a_time() -> None:
    decoder = MuxDecoder()
    pieces: list[tuple[int, bytes]] = []
    for index in range(len(STREAM)):
        pieces += decoder.feed(STREAM[index : index + 1])
    assert pieces == FRAMES
    check_result(decoder.finish())


def test_frames_keep_the_raw_header_bytes() -> None:
    result = decode(encode_frames([(1, b"abc"), (2, b"")]))
    assert [frame.header for frame in result.frames] == [
        b"\x01\x00\x00\x00\x00\x00\x00\x03",
        b"\x02\x00\x00\x00\x00\x00\x00\x00",
    ]


def test_zero_length_frames_are_frames_but_add_no_bytes() -> None:
    result = decode(header(1, 0) + header(2, 0) + header(1, 2) + b"ok")
    assert [(f.stream, f.payload) for f in result.frames] == [(1, b""), (2, b""), (1, b"ok")]
    assert result.stdout == b"ok"
    assert result.stderr == b""


def test_stdin_frames_count_as_stdout_but_keep_their_type() -> None:
    result = decode(encode_frames([(0, b"a"), (1, b"b"), (0, b"c")]))
    assert result.stdout == b"abc"
    assert [frame.stream for frame in result.frames] == [0, 1, 0]
    assert result.data("stdin") == b"ac"


def test_type_3_raises_with_the_payload_and_never_reaches_stdout() -> None:
    decoder = MuxDecoder()
    data = encode_frames([(1, b"before\n"), (3, b"Error grabbing logs: boom\n"), (1, b"after")])
    with pytest.raises(DaemonStreamError) as caught:
        decoder.feed(data)
    assert caught.value.payload == "Error grabbing logs: boom\n"
    assert "Error grabbing logs: boom" in str(caught.value)
    assert "byte offset 15" in str(caught.value)
    assert caught.value.partial is not None
    assert caught.value.partial.stdout == b"before\n"
    with pytest.raises(DaemonStreamError):
        decoder.finish()


def test_type_3_split_across_feeds_waits_for_the_whole_payload() -> None:
    decoder = MuxDecoder()
    data = encode_frames([(3, b"daemon error")])
    decoder.feed(data[:10])
    with pytest.raises(DaemonStreamError) as caught:
        decoder.feed(data[10:])
    assert caught.value.payload == "daemon error"


@pytest.mark.parametrize("stream_type", [4, 73, 255])
def test_unknown_stream_type_names_type_and_offset(stream_type: int) -> None:
    data = encode_frames([(1, b"12345")]) + header(stream_type, 1) + b"x"
    with pytest.raises(
        ProtocolError, match=rf"unknown stream type {stream_type} at byte offset 13"
    ):
        decode(data)


def test_unknown_stream_type_is_reported_before_its_payload_arrives() -> None:
    decoder = MuxDecoder()
    with pytest.raises(ProtocolError, match="unknown stream type 9 at byte offset 0"):
        decoder.feed(header(9, 1000))


def test_garbage_is_rejected() -> None:
    with pytest.raises(ProtocolError, match="unknown stream type 73"):
        decode(b"Invalid input")


@pytest.mark.parametrize("padding", [b"\x01\0\0", b"\0\x01\0", b"\0\0\xff"])
def test_non_zero_padding_bytes_are_a_protocol_error(padding: bytes) -> None:
    data = encode_frames([(1, b"ok")]) + header(1, 1, padding) + b"x"
    with pytest.raises(ProtocolError, match=r"byte offset 10 has non-zero bytes 1-3"):
        decode(data)


def test_truncated_frame_at_eof_is_an_error_not_silence() -> None:
    decoder = MuxDecoder()
    decoder.feed(encode_frames([(1, b"complete")]) + header(1, 10) + b"abc")
    with pytest.raises(ProtocolError, match="truncated frame at byte offset 16") as caught:
        decoder.finish()
    assert "announces 10 payload bytes" in str(caught.value)
    assert "after 3" in str(caught.value)
    assert caught.value.partial is not None
    assert caught.value.partial.stdout == b"complete"


@pytest.mark.parametrize("kept", [1, 3, 7])
def test_truncated_header_at_eof_is_an_error(kept: int) -> None:
    decoder = MuxDecoder()
    decoder.feed(encode_frames([(2, b"e")]) + header(1, 5)[:kept])
    with pytest.raises(ProtocolError, match=rf"inside a frame header at byte offset 9: got {kept}"):
        decoder.finish()


def test_incomplete_ok_drops_the_partial_frame() -> None:
    decoder = MuxDecoder()
    decoder.feed(encode_frames([(1, b"done")]) + header(1, 10) + b"abc")
    assert decoder.finish(incomplete_ok=True).stdout == b"done"


def test_oversized_frame_is_rejected_before_buffering() -> None:
    decoder = MuxDecoder(max_frame_size=1024)
    with pytest.raises(ProtocolError, match="announces 4294967295 payload bytes"):
        decoder.feed(header(1, 0xFFFFFFFF) + b"x" * 10)


def test_large_frame_spread_over_many_feeds() -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    data = encode_frames([(1, payload), (2, b"tail")])
    decoder = MuxDecoder()
    for offset in range(0, len(data), 4096):
        decoder.feed(data[offset : offset + 4096])
    result = decoder.finish()
    assert result.stdout == payload
    assert result.stderr == b"tail"
    assert [len(frame.payload) for frame in result.frames] == [len(payload), 4]


def test_raw_stream_passes_through_as_stdout() -> None:
    decoder = MuxDecoder(multiplexed=False)
    raw = header(1, 3) + b"abc\r\n"
    assert decoder.feed(raw[:4]) == [(1, raw[:4])]  # as it came: no frames in a raw stream
    decoder.feed(raw[4:])
    result = decoder.finish()
    assert not result.multiplexed
    assert result.stdout == raw
    assert result.stderr == b""
    assert list(result.frames) == []


def test_lines_are_split_after_concatenating_payloads() -> None:
    result = decode(
        encode_frames([(1, b"hel"), (2, b"e1\ne"), (1, b"lo\nwor"), (1, b"ld"), (2, b"2")])
    )
    assert result.lines("stdout") == ["hello", "world"]
    assert result.lines("stderr") == ["e1", "e2"]
    assert result.text("stdout") == "hello\nworld"


def test_lines_drop_the_tty_carriage_return_and_the_empty_tail() -> None:
    result = decode(b"a\r\nb\r\n\r\n", multiplexed=False)
    assert result.lines() == ["a", "b", ""]


def test_frame_index_is_a_sequence() -> None:
    result = decode(STREAM)
    assert len(result.frames) == len(FRAMES)
    assert result.frames[-1] == Frame(1, b"line\n", header(1, 5))
    assert result.frames[1:3] == expected_frames()[1:3]


def test_feed_after_finish_is_refused() -> None:
    decoder = MuxDecoder()
    decoder.finish()
    with pytest.raises(ValueError, match="finished"):
        decoder.feed(b"")


def test_unknown_stream_name_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown stream 'stdweird': use stdout, stderr"):
        decode(b"").lines("stdweird")


def test_the_decoder_holds_at_most_one_frame() -> None:
    """Memory is bounded by a frame, not by the stream: what it holds between pieces is the
    frame the last piece ended in, however long the stream."""
    frames = [(1 + index % 2, bytes([index % 256]) * (index % 50)) for index in range(2000)]
    stream = encode_frames(frames)
    decoder = FrameDecoder()
    decoded: list[tuple[int, bytes]] = []
    held = []
    for offset in range(0, len(stream), 37):
        decoded += decoder.feed(stream[offset : offset + 37])
        held.append(decoder.buffered)
    decoder.end()
    assert decoded == frames
    assert 0 < max(held) <= 8 + 49  # the largest frame's header and payload
    assert decoder.buffered == 0


def test_a_large_frame_is_held_only_until_it_is_complete() -> None:
    decoder = FrameDecoder()
    data = encode_frames([(1, b"x" * 100_000), (2, b"e")])
    assert decoder.feed(data[:60_000]) == []
    assert decoder.buffered == 60_000
    assert decoder.feed(data[60_000:]) == [(1, b"x" * 100_000), (2, b"e")]
    assert decoder.buffered == 0


def test_frames_before_a_bad_frame_are_handed_over_with_the_error() -> None:
    decoder = FrameDecoder()
    decoded: list[tuple[int, bytes]] = []
    with pytest.raises(ProtocolError, match="unknown stream type 7 at byte offset 10"):
        decoder.feed(encode_frames([(1, b"ok")]) + header(7, 1) + b"x", decoded)
    assert decoded == [(1, b"ok")]


BAD_AT_56 = STREAM[:56] + header(9, 2) + b"zz"  # STREAM's first 4 frames end at byte 56


@pytest.mark.parametrize("split", range(len(BAD_AT_56) + 1))
def test_a_bad_frame_is_named_at_its_offset_wherever_the_pieces_split(split: int) -> None:
    assert len(encode_frames(FRAMES[:4])) == 56
    decoder = MuxDecoder()
    with pytest.raises(ProtocolError, match="unknown stream type 9 at byte offset 56") as caught:
        decoder.feed(BAD_AT_56[:split])
        decoder.feed(BAD_AT_56[split:])
    assert caught.value.partial is not None
    assert caught.value.partial.stdout == b"hello world\nsecond "
    assert caught.value.partial.stderr == b"oops\n"


CUT = STREAM + header(2, 10) + b"abc"


@pytest.mark.parametrize("split", range(len(CUT) + 1))
def test_a_cut_off_frame_is_named_at_its_offset_wherever_the_pieces_split(split: int) -> None:
    decoder = MuxDecoder()
    decoder.feed(CUT[:split])
    decoder.feed(CUT[split:])
    with pytest.raises(
        ProtocolError,
        match=rf"truncated frame at byte offset {len(STREAM)}: the header announces 10 payload "
        "bytes, the stream ended after 3",
    ):
        decoder.finish()
