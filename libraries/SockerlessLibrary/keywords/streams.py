"""Assertions on decoded streams (logs results and exec streams): whole lines, frames, timestamps.

Lines are compared whole: a daemon that only echoes the command (``echo hello from fargate``) must
not satisfy ``hello from fargate``. Frames are checked byte by byte against Docker's framing.
"""

from __future__ import annotations

import struct
from datetime import datetime
from typing import Any

from robot.api.deco import keyword

from ..arguments import ArgumentError
from ..listeners.log import log
from ..logstream import (
    MAX_LINES_SHOWN,
    other_stream,
    output_lines,
    show_lines,
    stream_number,
    whole_line_present,
)
from ..mux import STREAM_NAMES, DecodedStream, stream_name
from . import LibraryComponent


def frame_problems(frames: list[Any]) -> list[str]:
    """Every way the frames depart from Docker's 8-byte-header framing."""
    problems: list[str] = []
    for index, frame in enumerate(frames):
        header = bytes(frame.header)
        payload = bytes(frame.payload)
        if len(header) != 8:
            problems.append(f"frame {index}: header has {len(header)} bytes, expected 8")
            continue
        stream_type, padding, length = header[0], header[1:4], struct.unpack(">I", header[4:])[0]
        if stream_type not in (0, 1, 2):
            problems.append(f"frame {index}: stream type {stream_type} not in 0, 1, 2")
        if padding != b"\x00\x00\x00":
            problems.append(f"frame {index}: header bytes 1-3 are {padding.hex()}, expected zero")
        if length != len(payload):
            problems.append(
                f"frame {index}: length field {length} but payload has {len(payload)} bytes"
            )
    return problems


def decoded_result(result: Any, keyword: str, *, logs: bool = False) -> Any:
    """``result`` when it is what a logs read returned (or, unless ``logs``, an exec stream);
    anything else (a list of lines, a `Run Process In Container` result) is refused, naming what
    ``keyword`` takes, before any attribute of it is read."""
    if isinstance(getattr(result, "log_lines", None), list):
        return result
    if not logs and isinstance(getattr(result, "output", None), DecodedStream):
        return result
    takes = "`Get Container Logs`" + (
        " or `Wait Until Logs Contain Line`"
        if logs
        else ", `Wait Until Logs Contain Line` or `Start Exec`"
    )
    hint = ""
    if hasattr(result, "stdout_lines"):
        hint = " (a `Run Process In Container` result: its lines are in its stdout_lines)"
    elif isinstance(result, list | tuple):
        hint = " (pass the read itself, not a list of its lines)"
    raise ArgumentError(f"{keyword} takes what {takes} returned, got {type(result).__name__}{hint}")


class StreamKeywords(LibraryComponent):
    """Checks on what `Get Container Logs`, `Wait Until Logs Contain Line`, `Start Exec` return."""

    @keyword(tags=("Stream",))
    def output_should_contain_line(self, result: Any, line: str, *, stream: str = "stdout") -> None:
        """Fails unless one whole line of ``stream`` equals ``line``.

        ``result`` is a logs result or an exec stream. Lines are split after joining the frames
        of the stream (a frame is not a line). For logs read with ``timestamps=True`` the
        timestamp prefix is removed first. Substrings do not count: the line
        ``echo hello from fargate`` does NOT satisfy ``hello from fargate``. A line that is
        on the other stream is named as such in the failure.

        Example:
        | Output Should Contain Line | ${logs} | hello from fargate | |
        | Output Should Contain Line | ${stream} | oops | stream=stderr |
        """
        lines = output_lines(decoded_result(result, "Output Should Contain Line"), stream)
        if not whole_line_present(lines, line):
            other = other_stream(stream)
            elsewhere = (
                f" It is a line of {other}."
                if whole_line_present(output_lines(result, other), line)
                else ""
            )
            raise AssertionError(
                f"No {stream_name(stream)} line equals '{line}'.{elsewhere} "
                f"Lines seen ({len(lines)}):\n{show_lines(lines)}"
            )
        log(f"Found the {stream_name(stream)} line '{line}'")

    @keyword(tags=("Stream",))
    def output_should_not_contain_line(
        self, result: Any, line: str, *, stream: str = "stdout"
    ) -> None:
        """Fails if one whole line of ``stream`` equals ``line`` (see `Output Should Contain Line`).

        Example:
        | Output Should Not Contain Line | ${logs} | echo hello from fargate |
        """
        lines = output_lines(decoded_result(result, "Output Should Not Contain Line"), stream)
        if whole_line_present(lines, line):
            raise AssertionError(
                f"A {stream_name(stream)} line equals '{line}'. Lines seen ({len(lines)}):\n"
                f"{show_lines(lines)}"
            )

    @keyword(tags=("Stream",))
    def get_output_lines(self, result: Any, *, stream: str = "stdout") -> list[str]:
        """Returns the lines of ``stream`` (timestamp prefixes removed for timestamped logs).

        Example:
        | ${lines}= | Get Output Lines | ${logs} | |
        | ${errors}= | Get Output Lines | ${stream} | stream=stderr |
        """
        return output_lines(decoded_result(result, "Get Output Lines"), stream)

    @keyword(tags=("Stream",))
    def stream_should_be_multiplexed(self, result: Any) -> None:
        """Fails unless the body used Docker's multiplexed framing, with every header valid.

        Needs at least one frame; each header's byte 0 is 0, 1 or 2, bytes 1-3 are zero and
        the big-endian length field equals the payload length (spec AC 12).

        Example:
        | Stream Should Be Multiplexed | ${logs} |
        """
        output = decoded_result(result, "Stream Should Be Multiplexed").output
        frames = list(output.frames)
        if not output.multiplexed:
            raise AssertionError("The stream is raw (TTY), not multiplexed")
        if not frames:
            raise AssertionError("The multiplexed stream has no frame")
        problems = frame_problems(frames)
        if problems:
            raise AssertionError("Invalid frame header(s): " + "; ".join(problems))
        log(f"{len(frames)} frame(s), every header valid")

    @keyword(tags=("Stream",))
    def frames_should_use_stream_type(self, result: Any, stream_type: str) -> None:
        """Fails unless every non-empty frame has the stream type ``stream_type``.

        ``stream_type`` is ``1`` or ``stdout``, ``2`` or ``stderr``.

        Example:
        | Frames Should Use Stream Type | ${logs} | 1 |
        | Frames Should Use Stream Type | ${logs} | stdout |
        """
        wanted = stream_number(stream_type)
        output = decoded_result(result, "Frames Should Use Stream Type").output
        frames = [frame for frame in output.frames if len(frame.payload)]
        if not frames:
            raise AssertionError("The stream has no non-empty frame")
        wrong = [
            f"frame {index}: type {bytes(frame.header)[0]}"
            for index, frame in enumerate(frames)
            if bytes(frame.header)[0] != wanted
        ]
        if wrong:
            raise AssertionError(
                f"Expected every frame to use stream type {wanted} ({STREAM_NAMES[wanted]}): "
                + ", ".join(wrong[:MAX_LINES_SHOWN])
            )
        log(f"All {len(frames)} non-empty frame(s) use stream type {wanted}")

    @keyword(tags=("Stream",))
    def log_lines_should_have_timestamps(self, result: Any) -> list[datetime]:
        """Fails unless every log line starts with a parseable RFC 3339 timestamp; returns them.

        Any fraction length is accepted (sockerless trims trailing zeros: ``...12.3Z``,
        ``...12Z``), as is ``Z`` or a ``+hh:mm`` offset. Use on logs read with
        ``timestamps=True``.

        Example:
        | ${logs}= | Get Container Logs | ${id} | timestamps=${TRUE} |
        | ${times}= | Log Lines Should Have Timestamps | ${logs} | |
        """
        log_lines = getattr(
            decoded_result(result, "Log Lines Should Have Timestamps"), "log_lines", None
        )
        if log_lines is None:
            raise AssertionError("Timestamps exist only on container logs, not on exec output")
        if not log_lines:
            raise AssertionError("The logs have no line to carry a timestamp")
        missing = [line for line in log_lines if line.timestamp is None]
        if missing:
            shown = show_lines([f"{line.raw_timestamp or ''} {line.text}" for line in missing])
            raise AssertionError(
                f"{len(missing)} of {len(log_lines)} log line(s) lack an RFC 3339 timestamp:\n"
                f"{shown}"
            )
        log(f"All {len(log_lines)} log line(s) carry a timestamp")
        return [line.timestamp for line in log_lines]
