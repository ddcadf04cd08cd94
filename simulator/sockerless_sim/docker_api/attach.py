"""``POST /containers/{id}/attach``: the main process's streams on a hijacked connection.

What the Docker CLI's ``run`` (without ``-d``) and ``start -a`` use. The head is written at
once (``101 UPGRADED`` with an upgrade request, else ``200``; multiplexed frames, raw with a
TTY), so a client may attach before ``start``, as the CLI does. The output then comes from the
task's agent over the same WebSocket hop as exec: once the task is RUNNING the daemon opens an
agent ``attach`` session, asking for the output kept since the process started when the attach
came before the task ran. A task that already stopped before its agent could be reached (a fast
``echo``) is served from its CloudWatch stream instead, as ``logs --follow`` would. The stream
ends when the main process exits (or the container is removed, or the client goes away).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import time
from collections.abc import Iterable

from ..agent.client import AgentClient, AgentError, ExecSession
from . import framing
from .backend import START_TIMEOUT_SECONDS, EcsBackend
from .errors import bad_request
from .exchange import ClientGone, Exchange, Request
from .hijack import HIJACK_PAUSE_SECONDS, ClientInput, end_hijacked, hijack_head
from .logs import LogOptions, LogsRoute, open_reader
from .records import ContainerRecord
from .routing import Router

log = logging.getLogger(__name__)

AGENT_TIMEOUT = 10.0
RECV_TIMEOUT = 0.5
AGENT_POLL_SECONDS = 0.01  # the agent map is in-process: polling it is cheap
TASK_POLL_SECONDS = 0.2  # DescribeTasks, to learn that the task stopped without an agent


class _Attachment:
    """One attach request: what it wants and where it writes."""

    def __init__(self, request: Request, exchange: Exchange, record: ContainerRecord) -> None:
        query = request.query
        self.exchange = exchange
        self.record = record
        self.tty = record.config.tty
        # Stdin goes to the main process only when it has one (OpenStdin); Docker drops it
        # otherwise. With StdinOnce the client's end closes it.
        self.input = ClientInput(
            exchange,
            forward=query.flag("stdin") and record.config.open_stdin,
            close_at_end=record.config.stdin_once,
        )
        self.options = LogOptions(
            stdout=query.flag("stdout"), stderr=query.flag("stderr"), timestamps=False,
            follow=True, tail=None, since=time.time(), until=None,
        )  # fmt: skip

    def write(self, payloads: Iterable[tuple[int, bytes]]) -> None:
        """Frames (raw bytes with a TTY) for the streams asked for."""
        data = b"".join(
            framing.encode(stream, payload, tty=self.tty)
            for stream, payload in payloads
            if self.options.wants(stream)
        )
        if data:
            self.exchange.write_raw(data)


class AttachRoute:
    """The hijacked attach handler."""

    def __init__(self, backend: EcsBackend, logs: LogsRoute) -> None:
        self._backend = backend
        self._logs = logs

    def register(self, router: Router) -> None:
        """Add the route to ``router``."""
        router.add("POST", "/containers/{id}/attach", self.attach)

    def attach(self, request: Request, exchange: Exchange) -> None:
        """404 before the hijack; then ``logs`` (the past output), then ``stream``."""
        record = self._backend.resolve(request.params["id"])
        query = request.query
        if not (query.flag("stream") or query.flag("logs")):
            raise bad_request("Bad parameters: at least one of stream or logs must be true")
        exchange.hijack(hijack_head(tty=record.config.tty, upgrade=request.wants_upgrade))
        attachment = _Attachment(request, exchange, record)
        with record.lock:
            record.attachments += 1
        try:
            time.sleep(HIJACK_PAUSE_SECONDS)
            if query.flag("logs") and record.task_arns:
                past = dataclasses.replace(attachment.options, follow=False, since=None)
                reader = open_reader(self._backend, record, past)
                attachment.write(self._logs.payloads(reader.read_new(), past))
            if query.flag("stream"):
                self._stream(attachment)
        finally:
            with record.lock:
                record.attachments -= 1
            end_hijacked(exchange, attachment.input)

    def _stream(self, attachment: _Attachment) -> None:
        """Wait for a task of this container to run, then relay its agent (or its logs)."""
        record = attachment.record
        snapshot = self._backend.snapshot(record)
        # A stopped task is history: wait for the next start (``start -a`` of an exited one).
        stale = snapshot.arn if snapshot is not None and snapshot.stopped else None
        waited = snapshot is None or snapshot.last_status != "RUNNING"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        next_describe = 0.0
        while time.monotonic() < deadline:
            if not self._backend.exists(record.id) or attachment.exchange.peer_closed():
                return
            task_arn = record.current_task
            if task_arn is not None and task_arn != stale:
                agent = self._backend.plane.agent_for_task(task_arn)
                if agent is not None and self._relay_agent(attachment, agent, replay=waited):
                    return
                if time.monotonic() >= next_describe:
                    next_describe = time.monotonic() + TASK_POLL_SECONDS
                    current = self._backend.snapshot(record)
                    if current is not None and current.arn == task_arn and current.stopped:
                        if current.exit_code is not None:  # else it never ran (a pull failure)
                            self._relay_logs(attachment)
                        return
            if self._backend.stopping.wait(AGENT_POLL_SECONDS):
                return

    def _relay_agent(
        self, attachment: _Attachment, agent: tuple[str, str | None], *, replay: bool
    ) -> bool:
        """Relay the agent's attach session until the exit; False when nothing came from the
        agent (it could not be reached, or it went away before it answered, as an agent whose
        process just exited does): the caller then serves the output from CloudWatch."""
        try:
            session = AgentClient(agent[0], agent[1], timeout=AGENT_TIMEOUT).attach(replay=replay)
        except AgentError as exc:
            log.debug("attach %s: agent not reachable: %s", attachment.record.short_id, exc)
            return False
        log.debug("attach %s: from the agent (replay %s)", attachment.record.short_id, replay)
        with session:
            attachment.input.connect(session)
            try:
                return self._drain(attachment, session)
            finally:
                attachment.input.disconnect()

    def _drain(self, attachment: _Attachment, session: ExecSession) -> bool:
        """Relay until the exit (or a hang-up); False when the session ended before the agent
        sent anything."""
        answered = False
        while not self._backend.stopping.is_set():
            try:
                event = session.recv(RECV_TIMEOUT)
            except AgentError as exc:
                log.info("attach %s: agent session ended: %s", attachment.record.short_id, exc)
                return answered
            if event is None:
                if attachment.exchange.peer_closed():
                    return True
                continue
            answered = True
            kind, value = event
            if kind == "exit":
                return True
            if isinstance(value, bytes):
                try:
                    attachment.write([(framing.STREAM_TYPES[kind], value)])
                except ClientGone:
                    return True
        return True

    def _relay_logs(self, attachment: _Attachment) -> None:
        """The task stopped before its agent was reached: its output from CloudWatch."""
        record, options = attachment.record, attachment.options
        log.debug("attach %s: the task stopped first; from CloudWatch", record.short_id)
        reader = open_reader(self._backend, record, options)
        with contextlib.suppress(ClientGone):
            attachment.write(self._logs.payloads(reader.read_new(), options))
            emit = functools.partial(_Attachment.write, attachment)
            self._logs.follow(attachment.exchange.peer_closed, emit, reader, record, options)
