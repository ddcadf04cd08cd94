"""``GET /containers/{id}/logs``: CloudWatch events of the container's tasks as a Docker stream.

Under the ``logs-not-cloudwatch`` lie the events come from the simulator's own capture instead
(``CapturedLogReader``), framed and followed exactly the same way. With the ``logs-stdout-only``
quirk every event is framed as stdout, as it is in CloudWatch, like real sockerless does.
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ..config import SimConfig
from ..quirks import FOLLOW_TAIL_SECONDS
from . import framing
from .backend import EcsBackend
from .ecs import CONTAINER_NAME, EcsGateway, LogEvent
from .errors import ApiError, bad_request, from_aws_error
from .exchange import ChunkedStream, ClientGone, Exchange, Request
from .params import Query
from .ports import Plane
from .records import ContainerRecord
from .routing import Router

log = logging.getLogger(__name__)
T = TypeVar("T")

FOLLOW_POLL_SECONDS = 0.5
STDERR_MARKER = "[stderr] "
BATCH_BYTES = 64 * 1024
DELIVERY_DRAWS = 8
STDOUT_ONLY_QUIRK = "logs-stdout-only"
NEVER_STARTED = "can not get logs from container which is dead or marked for removal"


@dataclass(frozen=True)
class LogOptions:
    """The logs query parameters."""

    stdout: bool
    stderr: bool
    timestamps: bool
    follow: bool
    tail: int | None  # None: all
    since: float | None
    until: float | None

    @classmethod
    def from_query(cls, query: Query) -> LogOptions:
        """Parse (booleans are true only for ``1``/``true``); 400 when no stream is chosen."""
        options = cls(
            stdout=query.flag("stdout"),
            stderr=query.flag("stderr"),
            timestamps=query.flag("timestamps"),
            follow=query.flag("follow"),
            tail=_parse_tail(query.get("tail")),
            since=query.unix_time("since"),
            until=query.unix_time("until"),
        )
        if not (options.stdout or options.stderr):
            raise bad_request("Bad parameters: you must choose at least one stream")
        return options

    def wants(self, stream: int) -> bool:
        """Whether events of ``stream`` are shown."""
        return self.stdout if stream == framing.STDOUT else self.stderr

    def in_window(self, timestamp_ms: int) -> bool:
        """``since`` <= t (and t <= ``until`` unless it is 0 or absent)."""
        seconds = timestamp_ms / 1000
        if self.since is not None and seconds < self.since:
            return False
        return not self.until or seconds <= self.until


def _parse_tail(value: str | None) -> int | None:
    if value is None or value in ("", "all"):
        return None
    try:
        number = int(value)
    except ValueError:
        return None  # Docker treats an unparsable tail as "all"
    return number if number >= 0 else None


def docker_timestamp(timestamp_ms: int) -> str:
    """Docker's log timestamp: always nine fraction digits, UTC ``Z``."""
    moment = datetime.fromtimestamp(timestamp_ms // 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(timestamp_ms % 1000) * 1_000_000:09d}Z"


def sockerless_timestamp(timestamp_ms: int) -> str:
    """sockerless' timestamp: Go RFC3339Nano of the millisecond value, trailing zeros trimmed
    (``...12.3Z``, ``...12Z``)."""
    moment = datetime.fromtimestamp(timestamp_ms // 1000, UTC)
    fraction = f"{timestamp_ms % 1000:03d}".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def split_event(event: LogEvent, *, stdout_only: bool = False) -> tuple[int, str]:
    """The stream an event belongs to and its text without the agent's stderr marker; with
    ``stdout_only`` (the quirk) stdout and the text as it is."""
    if not stdout_only and event.message.startswith(STDERR_MARKER):
        return framing.STDERR, event.message[len(STDERR_MARKER) :]
    return framing.STDOUT, event.message


class ContainerLogReader:
    """Reads the log streams of every task of one container, remembering where each stopped."""

    def __init__(self, gateway: EcsGateway, record: ContainerRecord, options: LogOptions) -> None:
        self._gateway = gateway
        self._record = record
        self._tokens: dict[str, str | None] = {}
        self._start_ms = int(options.since * 1000) if options.since is not None else None
        self._end_ms = int(options.until * 1000) + 999 if options.until else None

    def read_new(self) -> Iterator[LogEvent]:
        """Events that arrived since the last call, task by task, each in stream order; read
        one GetLogEvents page at a time as they are consumed (consume them all)."""
        for task_arn in list(self._record.task_arns):
            stream = f"{self._record.short_id}/{CONTAINER_NAME}/{task_arn.rsplit('/', 1)[-1]}"
            pages = self._gateway.log_event_pages(
                stream, self._tokens.get(stream), start_ms=self._start_ms, end_ms=self._end_ms
            )
            for page, self._tokens[stream] in pages:
                yield from page


class CapturedLogReader:
    """The ``logs-not-cloudwatch`` lie: the same events, read from the simulator's own capture of
    each task's output (capture time as the timestamp) instead of CloudWatch."""

    def __init__(self, plane: Plane, record: ContainerRecord, *, mark_stderr: bool = True) -> None:
        self._plane = plane
        self._record = record
        self._offsets: dict[str, int] = {}
        self._stderr_marker = STDERR_MARKER if mark_stderr else ""

    def read_new(self) -> list[LogEvent]:
        """Lines captured since the last call, task by task, in arrival order."""
        events: list[LogEvent] = []
        for task_arn in list(self._record.task_arns):
            offset = self._offsets.get(task_arn, 0)
            lines = self._plane.captured_output(task_arn, offset)
            self._offsets[task_arn] = offset + len(lines)
            events.extend(
                LogEvent(
                    line.timestamp_ms,
                    self._stderr_marker + line.text if line.stream == "stderr" else line.text,
                )
                for line in lines
            )
        return events


class LogReader(Protocol):
    """Where a container's log events come from."""

    def read_new(self) -> Iterable[LogEvent]:
        """Events that arrived since the last call (consume them all before the next call)."""


def open_reader(backend: EcsBackend, record: ContainerRecord, options: LogOptions) -> LogReader:
    """CloudWatch, or under the ``logs-not-cloudwatch`` lie the simulator's own capture (the
    ``since``/``until`` window is applied to its lines when they are framed)."""
    if backend.impostor.logs_from_capture:
        stdout_only = STDOUT_ONLY_QUIRK in backend.config.quirks
        return CapturedLogReader(backend.plane, record, mark_stderr=not stdout_only)
    return ContainerLogReader(backend.gateway, record, options)


def _first_read(items: Iterable[T]) -> Iterable[T]:
    """``items`` with its first element already made: a failure to read it is raised here."""
    iterator = iter(items)
    for first in iterator:
        return itertools.chain((first,), iterator)
    return ()


class LogsRoute:
    """The logs handler: one frame per event, ``follow`` by polling CloudWatch."""

    def __init__(self, backend: EcsBackend, config: SimConfig) -> None:
        self._backend = backend
        self._ms_timestamps = "ms-timestamps" in config.quirks
        self._stdout_only = STDOUT_ONLY_QUIRK in config.quirks
        # logs-tail-from-head: sockerless' AWS simulator applies GetLogEvents' limit from the
        # head whatever startFromHead says, so `tail=N` gives the first N events.
        self._tail_from_head = "logs-tail-from-head" in config.quirks
        # follow-ends-late: sockerless keeps fetching for a while after the container exited.
        self._follow_tail = (
            FOLLOW_TAIL_SECONDS * config.time_scale if "follow-ends-late" in config.quirks else 0.0
        )
        delays = config.delays(record=False)  # an estimate: nothing waits on these draws
        # How long a line may take to reach CloudWatch: the slowest of a few draws from the
        # profile (the plane draws each delay itself; there is no way to know it exactly).
        self._delivery_window = max(delays.log_delivery() for _ in range(DELIVERY_DRAWS))

    def register(self, router: Router) -> None:
        """Add the route to ``router``."""
        router.add("GET", "/containers/{id}/logs", self.logs)

    def payloads(
        self, events: Iterable[LogEvent], options: LogOptions
    ) -> Iterator[tuple[int, bytes]]:
        """The (stream, bytes) to send for ``events``: filtered, stamped, newline-terminated;
        made as they are consumed, so a reader holds no more than a page of them."""
        for event in events:
            stream, text = split_event(event, stdout_only=self._stdout_only)
            if not options.wants(stream) or not options.in_window(event.timestamp_ms):
                continue
            if options.timestamps:
                printed_ms = self._backend.impostor.printed_ms(event)
                stamp = (
                    sockerless_timestamp(printed_ms)
                    if self._ms_timestamps
                    else docker_timestamp(printed_ms)
                )
                text = f"{stamp} {text}"
            if not text.endswith("\n"):
                text += "\n"
            yield stream, text.encode()

    @staticmethod
    def _write(body: ChunkedStream, payloads: Iterable[tuple[int, bytes]], *, tty: bool) -> None:
        batch = bytearray()
        for stream, payload in payloads:
            batch += framing.encode(stream, payload, tty=tty)
            if len(batch) >= BATCH_BYTES:
                body.write(bytes(batch))
                batch.clear()
        body.write(bytes(batch))

    def logs(self, request: Request, exchange: Exchange) -> None:
        """200 with a multiplexed (raw with a TTY) chunked body; 400 for a never-started
        container; an empty body when the log stream does not exist yet."""
        record = self._backend.resolve(request.params["id"])
        options = LogOptions.from_query(request.query)
        if not record.task_arns:
            raise bad_request(NEVER_STARTED)
        tty = record.config.tty
        reader = open_reader(self._backend, record, options)
        payloads: Iterable[tuple[int, bytes]] = self.payloads(reader.read_new(), options)
        if options.tail is not None and self._tail_from_head:
            payloads = list(itertools.islice(payloads, options.tail))
        elif options.tail is not None:
            payloads = deque(payloads, maxlen=options.tail) if options.tail else ()
        else:  # the first page is read before the answer starts: a failure is still an error
            payloads = _first_read(payloads)
        body = exchange.stream(200, framing.content_type(tty=tty))
        try:
            self._write(body, payloads, tty=tty)
            if options.follow:
                emit = functools.partial(self._write, body, tty=tty)
                self.follow(exchange.client_gone, emit, reader, record, options)
        except (ClientError, BotoCoreError, ApiError) as exc:
            message = exc.message if isinstance(exc, ApiError) else from_aws_error(exc).message
            log.warning("logs of %s: %s", record.short_id, message)
            error = f"Error grabbing logs: {message}\n".encode()
            body.write(error if tty else framing.frame(3, error))
        body.finish()

    def follow(
        self,
        client_gone: Callable[[], bool],
        emit: Callable[[Iterable[tuple[int, bytes]]], None],
        reader: LogReader,
        record: ContainerRecord,
        options: LogOptions,
    ) -> None:
        """Hand new events to ``emit`` until the container exited and one delivery delay passed
        (or it is removed, the daemon stops, or the client goes away)."""
        tail_until: float | None = None
        while True:
            if tail_until is None:
                if not self._backend.exists(record.id):
                    return
                view = self._backend.view(record)
                if view.state.status == "exited":
                    # The last lines may still be on their way to CloudWatch: keep reading
                    # until delivery could have happened since the task stopped.
                    stopped_at = view.snapshot.stopped_at if view.snapshot else None
                    since_stop = (
                        (datetime.now(UTC) - stopped_at).total_seconds() if stopped_at else 0.0
                    )
                    tail_until = time.monotonic() + max(
                        self._delivery_window - since_stop, self._follow_tail
                    )
            now = time.monotonic()
            if tail_until is not None and now >= tail_until:
                emit(self.payloads(reader.read_new(), options))
                return
            pause = FOLLOW_POLL_SECONDS if tail_until is None else tail_until - now
            if self._backend.stopping.wait(min(pause, FOLLOW_POLL_SECONDS)):
                return
            if client_gone():
                raise ClientGone("client went away during logs follow")
            emit(self.payloads(reader.read_new(), options))
