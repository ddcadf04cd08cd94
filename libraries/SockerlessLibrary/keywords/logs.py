"""Log keywords (CloudWatch-backed container logs) and attach over WebSocket."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from robot.api.deco import keyword

from ..client import LogsResult
from .base import LibraryComponent, log, seconds
from .streams import output_lines, show_lines, stream_name, whole_line_present

FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 4.0
MIN_REQUEST_SECONDS = 2.0


class LogKeywords(LibraryComponent):
    """Reading a container's output: logs (one-shot, follow, retried) and WebSocket attach."""

    @keyword(tags=("Logs",))
    def get_container_logs(  # noqa: PLR0917 - mirrors the Docker API's logs parameters
        self,
        container_id: str,
        stdout: bool = True,
        stderr: bool = True,
        timestamps: bool = False,
        tail: str | None = None,
        since: datetime | float | str | None = None,
        until: datetime | float | str | None = None,
        follow: bool = False,
        timeout: timedelta | None = None,
    ) -> LogsResult:
        """Reads ``GET /containers/{id}/logs`` once and returns a logs result.

        | =Arguments= | =Description= |
        | ``stdout``, ``stderr`` | Which streams to ask for (sent as ``true``/``false``). |
        | ``timestamps`` | Ask for an RFC 3339 timestamp before each line. |
        | ``tail`` | Number of lines from the end, or ``all``. |
        | ``since``, ``until`` | A date, epoch seconds or a string the daemon accepts. |
        | ``follow`` | Keep reading until the container exits or ``timeout`` passes. |
        | ``timeout`` | Read deadline. Default: the ``logs_timeout`` import argument (30 s). |

        A follow read cut by ``timeout`` returns what arrived, with ``timed_out`` true.
        The returned ``LogsResult`` has ``status``, ``headers``, ``output`` (``frames``,
        ``stdout``/``stderr`` bytes, ``text(stream)``, ``lines(stream)``, ``multiplexed``) and
        ``log_lines`` (each with ``stream``, ``text``, ``timestamp`` as a datetime or ``None``,
        and ``raw_timestamp``). CloudWatch delivery lags, so a first read may be empty: prefer
        `Wait Until Logs Contain Line` to wait for output.

        Example:
        | ${logs}= | Get Container Logs | ${id} | | |
        | ${logs}= | Get Container Logs | ${id} | timestamps=${TRUE} | tail=10 |
        | ${logs}= | Get Container Logs | ${id} | follow=${TRUE} | timeout=20s |
        """
        result = self.client.container_logs(
            container_id,
            stdout=stdout,
            stderr=stderr,
            timestamps=timestamps,
            tail=tail,
            since=since,
            until=until,
            follow=follow,
            tty=self.ctx.tty_by_container.get(container_id, False),
            timeout=self.ctx.timeouts(read=seconds(timeout, self.ctx.settings.logs_timeout)),
        )
        _log_result(container_id, result)
        return result

    @keyword(tags=("Logs", "Wait"))
    def wait_until_logs_contain_line(
        self,
        container_id: str,
        line: str,
        timeout: timedelta | None = None,
        stream: str = "stdout",
        timestamps: bool = False,
    ) -> LogsResult:
        """Reads the logs again and again until a whole line equals ``line``; returns that result.

        sockerless answers an empty 200 until CloudWatch has the stream (delivery lags 5-15 s
        on AWS), so the WHOLE request is retried with backoff (0.5 s doubling to 4 s) until a
        whole ``stream`` line equals ``line`` or ``timeout`` (default: ``logs_timeout``, 30 s)
        passes. On timeout the failure shows the lines seen in the last read. Error statuses
        are not retried: they fail at once. Returns the ``LogsResult`` of the successful read
        (attributes: see `Get Container Logs`).

        Example:
        | ${logs}= | Wait Until Logs Contain Line | ${id} | hello from fargate | |
        | ${logs}= | Wait Until Logs Contain Line | ${id} | hello from fargate | timeout=60s |
        """
        name = stream_name(stream)
        budget = seconds(timeout, self.ctx.settings.logs_timeout)
        started = time.monotonic()
        deadline = started + budget
        wait = FIRST_RETRY_SECONDS
        attempts = 0
        seen = -1
        while True:
            attempts += 1
            remaining = deadline - time.monotonic()
            result = self.client.container_logs(
                container_id,
                stdout=True,
                stderr=True,
                timestamps=timestamps,
                tty=self.ctx.tty_by_container.get(container_id, False),
                timeout=self.ctx.timeouts(read=max(MIN_REQUEST_SECONDS, remaining)),
            )
            lines = output_lines(result, name)
            if whole_line_present(lines, line):
                log(
                    f"Logs of {container_id} contain the {name} line '{line}' "
                    f"(attempt {attempts}, {time.monotonic() - started:.1f} s)"
                )
                _log_result(container_id, result)
                return result
            if len(lines) != seen:
                log(f"Logs of {container_id}: {len(lines)} {name} line(s), '{line}' not among them")
                seen = len(lines)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"Logs of container {container_id} had no {name} line equal to '{line}' "
                    f"within {budget:g} s ({attempts} request(s)). Lines seen in the last "
                    f"read ({len(lines)}):\n{show_lines(lines)}"
                )
            time.sleep(min(wait, remaining))
            wait = min(wait * 2, MAX_RETRY_SECONDS)

    @keyword("Attach To Container Over WebSocket", tags=("Attach",))
    def attach_to_container_over_websocket(
        self,
        container_id: str,
        send: str | None = None,
        timeout: timedelta | None = None,
    ) -> str:
        """Attaches with ``GET /containers/{id}/attach/ws`` and returns what arrived as text.

        ``send`` is written to the container's stdin first. Reads until the daemon closes the
        WebSocket or ``timeout`` (default: ``logs_timeout``) passes. A daemon without this
        endpoint (real sockerless has none) fails with ``this daemon does not support attach
        over WebSocket``.

        Example:
        | ${output}= | Attach To Container Over WebSocket | ${id} | timeout=5s |
        | ${output}= | Attach To Container Over WebSocket | ${id} | send=hello\\n |
        """
        data = self.client.attach_websocket(
            container_id,
            send=None if send is None else send.encode(),
            timeout=self.ctx.timeouts(read=seconds(timeout, self.ctx.settings.logs_timeout)),
        )
        text = data.decode("utf-8", errors="replace")
        log(f"Attach to {container_id}: {len(data)} byte(s)\n{text[:4000]}")
        return text


def _log_result(container_id: str, result: Any) -> None:
    output = result.output
    lines = [f"{line.raw_timestamp or ''} {line.text}".strip() for line in result.log_lines]
    log(
        f"Logs of {container_id}: status {result.status}, {len(output.frames)} frame(s), "
        f"{len(result.log_lines)} line(s)"
        + (", timed out (follow)" if getattr(result, "timed_out", False) else "")
    )
    if lines:
        log(show_lines(lines))
