"""Waiting for a whole line in a container's logs: one follow stream, then back-off reads.

The first request follows the logs, decoded as they arrive and closed at the line (real sockerless
polls CloudWatch every second for a follow stream: one request, the line about a second after
delivery). A daemon may end a follow stream before the line came: the container exited while
CloudWatch still lags (real sockerless closes ~18 s after the exit, the simulator once its
delivery window has passed). That is no failure: the logs are then read again, whole, with
back-off for the rest of the budget. Each read is looked through as it arrives (``LineWatch``)
and holds only its last ``KEEP_BYTES`` (``WindowDecoder``), so a wait's memory does not grow with
what the container wrote. `Wait Until Logs Contain Line` documents the rest.
"""

from __future__ import annotations

import time

from ..capping import MESSAGE_LIMIT
from ..client import LogsResult
from ..errors import DaemonResponseError, DaemonTimeout
from ..logstream import (
    MAX_LINES_SHOWN,
    LineWatch,
    other_stream,
    output_lines,
    show_lines,
    whole_line_present,
)
from ..polling import Log
from ..run.context import LibraryContext
from ..support import LOGS_FOLLOW, is_stream, lacks_call
from .bounded_wait import BoundedWait

FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 4.0
MIN_REQUEST_SECONDS = 2.0  # a whole read is given at least this long, even near the deadline
KEEP_BYTES = 4 * 1024 * 1024  # of a read's output, the last this many bytes are held


def log_result(container_id: str, result: LogsResult, log: Log) -> None:
    """One line with the counts, then the first lines themselves (``show_lines``)."""
    output = result.output
    log(
        f"Logs of {container_id}: status {result.status}, {len(output.frames)} frame(s), "
        f"{len(result.log_lines)} line(s)" + (", timed out (follow)" if result.timed_out else "")
    )
    if result.log_lines:
        first = result.log_lines[:MAX_LINES_SHOWN]  # only these are shown: join no others
        lines = [f"{line.raw_timestamp or ''} {line.text}".strip() for line in first]
        log(show_lines(lines, total=len(result.log_lines)))


class LineWait(BoundedWait):
    """One wait, within ``budget`` seconds, for a whole ``stream`` line equal to ``line``."""

    def __init__(
        self,
        ctx: LibraryContext,
        container_id: str,
        line: str,
        budget: float,
        *,
        stream: str,
        timestamps: bool,
    ) -> None:
        super().__init__(ctx, container_id, budget)
        self.line = line
        self.stream = stream
        self.other_stream = other_stream(stream)  # the stream the line is not waited for on
        self.timestamps = timestamps
        self.requests = 0
        self._seen = -1  # how many lines the last logged read had
        self._watch: LineWatch  # the line, looked for in the last read as it came (``_read``)

    def run(self) -> LogsResult:
        """The logs result of the read that held the line; fails at the deadline."""
        result: LogsResult | None = None
        lacking: str | None = None
        if not self.ctx.daemon_support.lacks(self.daemon, LOGS_FOLLOW):
            result, lacking = self._follow()
            if result is not None and self._found(result, "follow stream"):
                return result
        return self._read_again(result, lacking)

    def _follow(self) -> tuple[LogsResult | None, str | None]:
        """The follow stream, closed at the line; with why the daemon seems to lack follow."""
        try:
            result = self._read(follow=True, read=max(self.left(), 0.1))
        except DaemonResponseError as error:
            if not lacks_call(error):
                raise
            return None, f"HTTP {error.status}: {error.detail}"
        except DaemonTimeout:
            # A daemon may send the head of a follow stream only with its first bytes.
            raise self._failure(None, "; the follow request got no answer at all") from None
        if not is_stream(result.headers):
            return result, "it answered with a complete body (Content-Length), not a stream"
        if self._came_on(result) == self.other_stream:
            raise self._wrong_stream(result, "follow stream")
        if self._came_on(result) is None and not result.timed_out:
            self._log(
                f"The daemon ended the follow stream of {self.container_id}'s logs after "
                f"{self.elapsed():.1f} s without the line: reading them again with back-off"
            )
        return result, None

    def _read_again(self, last: LogsResult | None, lacking: str | None) -> LogsResult:
        """Whole reads with back-off until the line or the deadline; ``last`` is a read
        already made (the follow stream's), ``lacking`` why follow seems unsupported (learnt
        once a read showed that the logs themselves can be read)."""
        wait, result = FIRST_RETRY_SECONDS, last
        while True:
            if result is not None:
                self._note(result)
                self._pause(wait, result)
                wait = min(wait * 2, MAX_RETRY_SECONDS)
            result = self._read(follow=False, read=max(MIN_REQUEST_SECONDS, self.left()))
            if lacking is not None:
                self._learn(lacking)
                lacking = None
            if self._found(result, "read"):
                return result

    def _read(self, *, follow: bool, read: float) -> LogsResult:
        """One request, looked through for the line as it arrives, closed once it came."""
        self.requests += 1
        self._watch = LineWatch(self.line, self.stream, timestamps=self.timestamps)
        return self.client.container_logs(
            self.container_id,
            stdout=True,
            stderr=True,
            timestamps=self.timestamps,
            follow=follow,
            tty=self.ctx.tty_by_container.get(self.container_id, False),
            timeout=self.ctx.timeouts(read=read),
            stop_when=self._watch,
            keep=KEEP_BYTES,
        )

    def _learn(self, why: str) -> None:
        self.learn_lacks(
            LOGS_FOLLOW,
            f"{self.daemon} does not support {LOGS_FOLLOW} ({why}): waits for log lines read "
            "the logs again and again with back-off on this daemon",
        )

    def _came_on(self, result: LogsResult) -> str | None:
        """The stream the line came on in the last read: a line the watch saw end, or the
        last line of a stream, which only the end of the read completes."""
        if self._watch.found_on is not None:
            return self._watch.found_on
        for stream in (self.stream, self.other_stream):
            if whole_line_present(output_lines(result, stream)[-1:], self.line):
                return stream
        return None

    def _found(self, result: LogsResult, how: str) -> bool:
        came_on = self._came_on(result)
        if came_on is None:
            return False
        if came_on != self.stream:
            raise self._wrong_stream(result, how)
        self._log(
            f"Logs of {self.container_id} contain the {self.stream} line '{self.line}' "
            f"({how}, request {self.requests}, {self.elapsed():.1f} s)"
        )
        log_result(self.container_id, result, self._log)
        return True

    def _note(self, result: LogsResult) -> None:
        lines = output_lines(result, self.stream)
        if len(lines) != self._seen:
            self._log(
                f"Logs of {self.container_id}: {len(lines)} {self.stream} line(s), "
                f"'{self.line}' not among them"
            )
            self._seen = len(lines)

    def _pause(self, wait: float, last: LogsResult) -> None:
        """Sleep before the next read, or fail when the budget is spent."""
        left = self.left()
        if left <= 0:
            raise self._failure(last)
        time.sleep(min(wait, left))

    def _wrong_stream(self, result: LogsResult, how: str) -> AssertionError:
        """The line came, on the other stream: say so now instead of waiting for the deadline."""
        return AssertionError(
            f"Logs of container {self.container_id}: the line '{self.line}' came on "
            f"{self.other_stream}, not on {self.stream} ({how}, request {self.requests}, "
            f"{self.elapsed():.1f} s). {self._seen_lines(result)}"
        )

    def _seen_lines(self, result: LogsResult | None) -> str:
        """The lines of both streams in ``result``, for a failure."""
        if result is None:
            return "No read answered."
        shown = []
        for stream in (self.stream, self.other_stream):
            lines = output_lines(result, stream)
            listed = show_lines(lines, MESSAGE_LIMIT // 2)  # both streams fit in one message
            shown.append(f"{stream} lines in the last read ({len(lines)}):\n{listed}")
        if result.dropped:
            shown.append(f"(the last read's first {result.dropped:,} bytes are not held)")
        return "\n".join(shown)

    def _failure(self, last: LogsResult | None, note: str = "") -> AssertionError:
        return AssertionError(
            f"Logs of container {self.container_id} had no {self.stream} line equal to "
            f"'{self.line}' within {self.budget:g} s ({self.requests} request(s)){note}. "
            f"{self._seen_lines(last)}"
        )
