"""Caps on what the kit writes (``capping.py``), the line watch's bounded memory and the window a
wait keeps of a read (``logstream.py``)."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from SockerlessLibrary.capping import (
    LINE_LIMIT,
    MESSAGE_LIMIT,
    backstop,
    cap,
    cap_fields,
    cap_lines,
    cap_output,
    show_line,
)
from SockerlessLibrary.errors import ProtocolError
from SockerlessLibrary.logstream import LineWatch, WindowDecoder, show_lines
from SockerlessLibrary.masking import MASK, SECRETS
from utest.wire_codecs import encode_frames

pytestmark = pytest.mark.timeout(60)


def test_a_cut_says_how_many_bytes_it_left_out() -> None:
    assert cap("x" * 3_000_000) == "x" * LINE_LIMIT + "... 2,999,000 more bytes"
    assert cap("short") == "short"
    assert cap("é" * 1_001) == "é" * LINE_LIMIT + "... 2 more bytes"  # UTF-8 bytes
    assert show_line("a" * 1_005) == repr("a" * LINE_LIMIT) + "... 5 more bytes"


def test_each_line_and_the_whole_message_are_capped() -> None:
    text = "\n".join(["y" * 1_500] * 100)
    capped = cap_lines(text)
    lines = capped.split("\n")
    assert lines[0] == "y" * LINE_LIMIT + "... 500 more bytes"
    assert len(capped) <= MESSAGE_LIMIT + 40
    shown = len(lines) - 1
    left = len(text) - shown * 1_501
    assert lines[-1] == f"... {left:,} more bytes"


def test_output_is_decoded_only_as_far_as_it_is_shown() -> None:
    data = b"z" * 50_000_000
    tracemalloc.start()
    try:
        shown = cap_output(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert shown == "z" * LINE_LIMIT + "... 49,999,000 more bytes"
    assert peak < 2_000_000


def test_what_is_already_capped_is_not_cut_again() -> None:
    message = "stdout:\n" + cap_output(b"\n".join([b"w" * 5_000] * 100))
    assert backstop(message) == message


def test_json_fields_are_capped_and_masked() -> None:
    SECRETS.add("field-secret-0123456789abc")
    document = {"first_line": "f" * 300_000, "nested": [{"token": "field-secret-0123456789abc"}]}
    capped = cap_fields(document)
    assert capped["first_line"] == "f" * LINE_LIMIT + "... 299,000 more bytes"
    assert capped["nested"] == [{"token": MASK}]


def test_a_secret_across_the_cut_is_masked_whole() -> None:
    secret = "cut-secret-0123456789abcdef"
    SECRETS.add(secret)
    line = "a" * (LINE_LIMIT - 5) + secret + "b" * 10
    assert secret[:5] not in cap(line)
    assert cap(line).startswith("a" * (LINE_LIMIT - 5) + MASK[:5])


def test_lines_shown_in_a_message_are_bounded() -> None:
    shown = show_lines(["q" * 262_144] * 39)
    assert len(shown) < MESSAGE_LIMIT + 2 * LINE_LIMIT
    assert shown.endswith("more line(s)")


def test_a_line_watch_keeps_no_more_than_the_line_it_looks_for() -> None:
    watch = LineWatch("the-end", "stdout", timestamps=False)
    piece = b"x" * 65_536
    began = time.monotonic()
    for _ in range(3_000):  # 196 MB of one line, in pieces
        assert not watch("stdout", piece)
    assert time.monotonic() - began < 5  # linear, not quadratic
    assert all(len(buffer) <= watch.longest for buffer in watch._partial.values())
    assert watch("stdout", b"\nthe-end\n") and watch.found


def test_a_long_line_that_starts_like_the_wanted_one_does_not_match() -> None:
    watch = LineWatch("hello", "stdout", timestamps=False)
    assert not watch("stdout", b"hello" + b"!" * 100 + b"\n")
    assert watch("stdout", b"hello\n")


def test_a_window_holds_the_last_whole_lines() -> None:
    window = WindowDecoder(1_000, multiplexed=True)
    lines = [(1, f"line {n:04d} ".encode() + b"." * 80 + b"\n") for n in range(100)]
    stream = encode_frames(lines)
    for start in range(0, len(stream), 333):
        window.feed(stream[start : start + 333])
    held = window.finish()
    assert window.dropped + len(held.stdout) == sum(len(p) for _, p in lines)
    assert len(held.stdout) <= 1_000
    assert held.stdout.startswith(b"line 00")  # a whole line first
    assert held.stdout.endswith(b"line 0099 " + b"." * 80 + b"\n")
    assert [frame.payload for frame in held.frames] == [p for _, p in lines[-len(held.frames) :]]


def test_a_window_fails_as_the_whole_decoder_does() -> None:
    window = WindowDecoder(1_000, multiplexed=True)
    with pytest.raises(ProtocolError, match="unknown stream type 5 at byte offset 13") as raised:
        window.feed(encode_frames([(1, b"fine\n")]) + b"\x05\x00\x00\x00\x00\x00\x00\x01x")
    assert raised.value.partial is not None and raised.value.partial.stdout == b"fine\n"
    truncated = WindowDecoder(1_000, multiplexed=True)
    truncated.feed(encode_frames([(1, b"cut")])[:-1])
    with pytest.raises(ProtocolError, match="truncated frame at byte offset 0"):
        truncated.finish()
    # A read stopped on purpose may end inside a frame.
    assert WindowDecoder(10, multiplexed=True).finish(incomplete_ok=True).stdout == b""
