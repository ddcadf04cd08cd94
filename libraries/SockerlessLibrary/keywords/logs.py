"""Log keywords (CloudWatch-backed container logs) and attach over WebSocket."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from robot.api.deco import keyword

from ..arguments import seconds
from ..capping import cap_output
from ..client import LogsResult
from ..listeners.log import log
from ..mux import stream_name
from ..run.agent_token import learn_agent_token
from ..waits.log_wait import LineWait, log_result
from . import LibraryComponent


class LogKeywords(LibraryComponent):
    """Reading a container's output: logs (one-shot, follow, retried) and WebSocket attach."""

    @keyword(tags=("Logs",))
    def get_container_logs(
        self,
        container_id: str,
        *,
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

        It returns *everything* the daemon sent, so its memory grows with the logs (about five
        times their size; ``docs/performance.md``); the log shows the first 40 lines, each cut
        after 1,000 characters. To wait for a line in long output, use
        `Wait Until Logs Contain Line`, which holds only the last 4 MiB.

        Example:
        | ${logs}= | Get Container Logs | ${id} | | |
        | ${logs}= | Get Container Logs | ${id} | timestamps=${TRUE} | tail=10 |
        | ${logs}= | Get Container Logs | ${id} | follow=${TRUE} | timeout=20s |
        """
        learn_agent_token(self.ctx, container_id)  # before the kit shows the container's output
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
        log_result(container_id, result, log)
        return result

    @keyword(tags=("Logs",))
    def get_container_log_lines(
        self,
        container_id: str,
        *,
        stdout: bool = True,
        stderr: bool = True,
        timestamps: bool = True,
        tail: str | None = None,
        since: datetime | float | str | None = None,
        until: datetime | float | str | None = None,
        timeout: timedelta | None = None,
    ) -> list[dict[str, Any]]:
        """Reads the container's logs once and returns their lines, each a dictionary with
        ``stream`` (``stdout`` or ``stderr``), ``text`` and ``timestamp``.

        | =Arguments= | =Description= |
        | ``stdout``, ``stderr`` | Which streams to ask for. |
        | ``timestamps`` | Ask for the daemon's timestamps (default: yes). |
        | ``tail`` | Number of lines from the end, or ``all``. |
        | ``since``, ``until`` | A date, epoch seconds, or a line's ``timestamp``. |
        | ``timeout`` | Read deadline. Default: ``logs_timeout`` (30 s). |

        ``timestamp`` is a ``datetime`` (``None`` when not asked for, or when the daemon sent
        none); ``raw_timestamp`` is the text the daemon sent. Lines are in the order the daemon
        sent them, stdout and stderr interleaved. CloudWatch delivery lags: wait for a line
        first (`Wait Until Logs Contain Line`), then read them all. Like `Get Container Logs`
        it returns every line, so its memory grows with the logs.

        Example:
        | ${lines}= | Get Container Log Lines | ${id} | |
        | Should Be Equal | ${lines}[0][stream] | stderr | msg=The first line's stream |
        | ${last}= | Get Container Log Lines | ${id} | tail=1 |
        | ${later}= | Get Container Log Lines | ${id} | since=${lines}[1][timestamp] |
        """
        result = self.get_container_logs(
            container_id,
            stdout=stdout,
            stderr=stderr,
            timestamps=timestamps,
            tail=tail,
            since=since,
            until=until,
            timeout=timeout,
        )
        return [asdict(line) for line in result.log_lines]

    @keyword(tags=("Logs", "Wait"))
    def wait_until_logs_contain_line(
        self,
        container_id: str,
        line: str,
        *,
        timeout: timedelta | None = None,
        stream: str = "stdout",
        timestamps: bool = False,
    ) -> LogsResult:
        """Waits until a whole ``stream`` line of the logs equals ``line``; returns that read.

        | =Arguments= | =Description= |
        | ``line`` | The whole line wanted (``echo hi`` does not satisfy ``hi``). |
        | ``timeout`` | The whole wait's budget. Default: ``logs_timeout`` (30 s). |
        | ``stream`` | ``stdout`` or ``stderr``. |
        | ``timestamps`` | Ask for timestamps (the prefix is removed before comparing). |

        The first request follows the logs (``follow=true``): the stream is decoded as it
        arrives and closed as soon as the line is there, so a wait costs one request however
        long CloudWatch lags. The daemon may end a follow stream before the line came (the
        container exited while CloudWatch still lags; sockerless answers an empty 200 until
        the stream exists): the WHOLE request is then retried with backoff (0.5 s doubling to
        4 s) for the rest of ``timeout``. A daemon that does not support follow (``405``,
        ``501``, a ``404`` that is not ``No such container``, or a complete body instead of a
        stream) gets those retries from the start; this is logged once per daemon, and later
        waits on it do not ask for follow again.

        A line equal to ``line`` that comes on the other stream fails the wait at once, saying
        where it came (``came on stdout, not on stderr``), rather than at the deadline; so does
        a line a daemon that frames everything as stdout sends for stderr.

        On timeout the failure shows the lines seen in the last read (at most 40 per stream,
        each cut after 1,000 characters). Error statuses are not retried: they fail at once, as
        does a malformed stream (``ProtocolError``). Returns the ``LogsResult`` of the read that
        held the line (attributes: see `Get Container Logs`); from a follow stream that is what
        arrived until the line (the stream is closed there), so lines written after it need a
        read of their own (`Get Container Logs`).

        Memory stays bounded by what it looks for: each read is looked through as it arrives,
        and only its last 4 MiB of output are held. After megabytes of logs the returned
        result therefore starts with the last whole lines of that window, and its ``dropped``
        says how many bytes came before them.

        Example:
        | ${logs}= | Wait Until Logs Contain Line | ${id} | hello from fargate | |
        | ${logs}= | Wait Until Logs Contain Line | ${id} | hello from fargate | timeout=60s |
        """
        learn_agent_token(self.ctx, container_id)
        waiting = LineWait(
            self.ctx,
            container_id,
            line,
            seconds(timeout, self.ctx.settings.logs_timeout),
            stream=stream_name(stream),
            timestamps=timestamps,
        )
        return waiting.run()

    @keyword("Attach To Container Over WebSocket", tags=("Attach",))
    def attach_to_container_over_websocket(
        self,
        container_id: str,
        *,
        send: str | None = None,
        timeout: timedelta | None = None,
    ) -> str:
        """Attaches with ``GET /containers/{id}/attach/ws`` and returns what arrived as text.

        ``send`` is written to the container's stdin first. Reads until the daemon closes the
        WebSocket or ``timeout`` (default: ``logs_timeout``) passes, and returns everything
        that arrived (memory grows with it; the log shows it capped). A daemon without this
        endpoint (real sockerless has none) fails with ``this daemon does not support attach
        over WebSocket``.

        Example:
        | ${output}= | Attach To Container Over WebSocket | ${id} | timeout=5s |
        | ${output}= | Attach To Container Over WebSocket | ${id} | send=hello\\n |
        """
        learn_agent_token(self.ctx, container_id)
        data = self.client.attach_websocket(
            container_id,
            send=None if send is None else send.encode(),
            timeout=self.ctx.timeouts(read=seconds(timeout, self.ctx.settings.logs_timeout)),
        )
        log(f"Attach to {container_id}: {len(data)} byte(s)\n{cap_output(data)}")
        return data.decode("utf-8", errors="replace")
