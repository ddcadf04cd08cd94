"""Lenient RFC 3339 timestamps and log-line splitting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from SockerlessLibrary.logstream import (
    LineWatch,
    LogLine,
    log_lines,
    split_timestamp,
    try_parse_timestamp,
)
from SockerlessLibrary.mux import decode
from utest.wire_codecs import encode_frames

BASE = datetime(2026, 2, 22, 10, 11, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "microsecond"),
    [
        ("2026-02-22T10:11:12Z", 0),
        ("2026-02-22T10:11:12.3Z", 300000),
        ("2026-02-22T10:11:12.34Z", 340000),
        ("2026-02-22T10:11:12.345Z", 345000),
        ("2026-02-22T10:11:12.3456Z", 345600),
        ("2026-02-22T10:11:12.34567Z", 345670),
        ("2026-02-22T10:11:12.345678Z", 345678),
        ("2026-02-22T10:11:12.3456789Z", 345678),
        ("2026-02-22T10:11:12.34567891Z", 345678),
        ("2026-02-22T10:11:12.120000000Z", 120000),
        ("2026-02-22T10:11:12.999999999Z", 999999),
        ("2026-02-22t10:11:12.5z", 500000),
    ],
)
def test_fractions_of_0_to_9_digits(text: str, microsecond: int) -> None:
    assert try_parse_timestamp(text) == BASE.replace(microsecond=microsecond)


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2026-02-22T12:11:12.5+02:00", timedelta(hours=2)),
        ("2026-02-22T05:41:12.5-04:30", timedelta(hours=-4, minutes=-30)),
        ("2026-02-22T10:11:12.5+00:00", timedelta(0)),
        ("2026-02-22T12:11:12.5+0200", timedelta(hours=2)),
    ],
)
def test_utc_offsets(text: str, offset: timedelta) -> None:
    parsed = try_parse_timestamp(text)
    assert parsed == BASE.replace(microsecond=500000)
    assert parsed.utcoffset() == offset
    assert parsed.tzinfo == timezone(offset)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "2026-02-22",
        "2026-02-22T10:11:12",  # no zone
        "2026-02-22T10:11:12.Z",  # dot without digits
        "2026-02-22T10:11:12.1234567890Z",  # 10 digits
        "2026-02-22 10:11:12Z",
        "2026-13-22T10:11:12Z",
        "2026-02-30T10:11:12Z",
        "2026-02-22T25:11:12Z",
        "2026-02-22T10:11:12+24:00",
        "2026-02-22T10:11:12+01:60",
        " 2026-02-22T10:11:12Z",
        "2026-02-22T10:11:12Z trailing",
    ],
)
def test_garbage_is_no_timestamp(text: str) -> None:
    assert try_parse_timestamp(text) is None


def test_split_timestamp_once_per_line() -> None:
    line = split_timestamp("stdout", "2026-02-22T10:11:12.3Z hello  from fargate ")
    assert line == LogLine(
        "stdout", "hello  from fargate ", BASE.replace(microsecond=300000), "2026-02-22T10:11:12.3Z"
    )


def test_line_without_a_timestamp_keeps_timestamp_none() -> None:
    assert split_timestamp("stdout", "echo hello") == LogLine("stdout", "echo hello", None, None)


def test_log_lines_split_after_concatenating_payloads() -> None:
    output = decode(
        encode_frames(
            [
                (1, b"2026-02-22T10:11:12Z hel"),
                (1, b"lo\n2026-02-22T10:11:13.5Z second\n"),
                (1, b"no timestamp here\n"),
            ]
        )
    )
    lines = log_lines(output, timestamps=True)
    assert [(line.text, line.raw_timestamp) for line in lines] == [
        ("hello", "2026-02-22T10:11:12Z"),
        ("second", "2026-02-22T10:11:13.5Z"),
        ("no timestamp here", None),
    ]
    assert lines[1].timestamp == BASE + timedelta(seconds=1, microseconds=500000)
    assert lines[2].timestamp is None


def test_without_timestamps_the_prefix_stays_in_the_text() -> None:
    output = decode(encode_frames([(1, b"2026-02-22T10:11:12Z x\n")]))
    assert log_lines(output, timestamps=False) == [
        LogLine("stdout", "2026-02-22T10:11:12Z x", None, None)
    ]


def test_stdout_and_stderr_lines_interleave_by_the_frame_they_began_in() -> None:
    output = decode(
        encode_frames(
            [(1, b"out1\nou"), (2, b"err1\n"), (1, b"t2\n"), (2, b"err2"), (1, b"out3\n")]
        )
    )
    lines = [(line.stream, line.text) for line in log_lines(output, timestamps=False)]
    assert lines == [
        ("stdout", "out1"),
        ("stdout", "out2"),
        ("stderr", "err1"),
        ("stderr", "err2"),
        ("stdout", "out3"),
    ]


def test_tty_logs_are_all_stdout_with_carriage_returns_removed() -> None:
    output = decode(b"2026-02-22T10:11:12Z a\r\n2026-02-22T10:11:12Z b\r\n", multiplexed=False)
    lines = log_lines(output, timestamps=True)
    assert [(line.stream, line.text) for line in lines] == [("stdout", "a"), ("stdout", "b")]


def test_line_watch_finds_a_whole_line_split_across_pieces() -> None:
    watch = LineWatch("hello from fargate", "stdout", timestamps=False)
    pieces = [b"echo hello from fargate\nhel", b"lo from far", b"gate", b"\r\n"]
    assert [watch("stdout", piece) for piece in pieces] == [False, False, False, True]
    assert watch.found
    assert watch("stdout", b"anything") is True  # found stays found


def test_line_watch_needs_the_newline_and_the_right_stream() -> None:
    watch = LineWatch("hi", "stdout", timestamps=False)
    assert watch("stderr", b"hip\n") is False  # another stream, another line
    assert watch("stdout", b"hi") is False  # "hi" may still become "hip"
    assert watch("stdout", b"p\n") is False
    assert watch("stdin", b"hi\n") is True  # stdin frames count as stdout, as in DecodedStream
    assert (watch.found, watch.found_on) == (True, "stdout")
    errors = LineWatch("oops", "stderr", timestamps=False)
    assert errors("stderr", b"oo") is False
    assert errors("stdout", b"ps\n") is False  # the streams' partial lines are kept apart
    assert errors("stderr", b"ps\n") is True
    assert (errors.found, errors.found_on) == (True, "stderr")


def test_line_watch_ends_at_the_line_on_the_other_stream_saying_where() -> None:
    errors = LineWatch("oops", "stderr", timestamps=False)
    assert errors("stdout", b"oops\n") is True  # the read can stop: the line is not coming
    assert (errors.found, errors.found_on) == (False, "stdout")
    assert errors("stderr", b"oops\n") is True  # the first sighting decides
    assert errors.found_on == "stdout"


def test_line_watch_with_timestamps_compares_the_text_after_the_prefix() -> None:
    watch = LineWatch("hello", "stdout", timestamps=True)
    assert watch("stdout", b"2026-11-29T10:11:12Z hello world\n") is False
    assert watch("stdout", b"2026-11-29T10:11:12.300000000Z hello\n") is True
    plain = LineWatch("2026-11-29T10:11:12Z hello", "stdout", timestamps=False)
    assert plain("stdout", b"2026-11-29T10:11:12Z hello\n") is True
