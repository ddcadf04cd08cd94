"""Docker stream encodings: the 8-byte-header multiplexed frame and HTTP/1.1 chunks."""

from __future__ import annotations

import struct

MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
RAW_STREAM = "application/vnd.docker.raw-stream"

STDIN = 0
STDOUT = 1
STDERR = 2
STREAM_TYPES = {"stdout": STDOUT, "stderr": STDERR}

_HEADER = struct.Struct(">BxxxL")


def frame(stream: int, payload: bytes) -> bytes:
    """One multiplexed frame: type byte, three zero bytes, big-endian length, payload."""
    return _HEADER.pack(stream, len(payload)) + payload


def encode(stream: int, payload: bytes, *, tty: bool) -> bytes:
    """The bytes a stream carries for ``payload``: raw with a TTY, framed without."""
    return payload if tty else frame(stream, payload)


def content_type(*, tty: bool) -> str:
    """The Content-Type of a logs/exec/attach stream (API >= 1.42 semantics)."""
    return RAW_STREAM if tty else MULTIPLEXED


def chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk (never empty: an empty chunk would end the body)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"
