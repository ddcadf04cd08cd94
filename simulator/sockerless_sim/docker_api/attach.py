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
import socket
import time

from ..agent.client import AgentClient, AgentError, ExecSession
from . import framing
from .backend import START_TIMEOUT_SECONDS, EcsBackend
from .errors import bad_request
from .exchange import ClientGone, Exchange, Request
from .exec import HIJACK_PAUSE_SECONDS, StdinPump, hijack_head
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
        self.stdin = query.flag("stdin")
        self.options = LogOptions(
            stdout=query.flag("stdout"), stderr=query.flag("stderr"), timestamps=False,
            follow=True, tail=None, since=time.time(), until=None,
        )  # fmt: skip

    def write(self, payloads: list[tuple[int, bytes]]) -> None:
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
        attachment = _Attachment(request, exchange, record)
        with record.lock:
            record.attachments += 1
        try:
            exchange.hijack(hijack_head(tty=attachment.tty, upgrade=request.wants_upgrade))
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
            with contextlib.suppress(OSError):
                exchange.sock.shutdown(socket.SHUT_RDWR)

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
        """Relay the agent's attach session until the exit; False when the agent could not
        be reached (it is going away: the caller falls back to the logs)."""
        try:
            session = AgentClient(agent[0], agent[1], timeout=AGENT_TIMEOUT).attach(replay=replay)
        except AgentError as exc:
            log.debug("attach %s: agent not reachable: %s", attachment.record.short_id, exc)
            return False
        log.debug("attach %s: from the agent (replay %s)", attachment.record.short_id, replay)
        with session:
            pump = StdinPump(attachment.exchange, session) if attachment.stdin else None
            try:
                self._drain(attachment, session, watch_client=pump is None)
            finally:
                if pump is not None:
                    with contextlib.suppress(OSError):
                        attachment.exchange.sock.shutdown(socket.SHUT_RDWR)
                    pump.stop()
        return True

    def _drain(self, attachment: _Attachment, session: ExecSession, *, watch_client: bool) -> None:
        while not self._backend.stopping.is_set():
            try:
                event = session.recv(RECV_TIMEOUT)
            except AgentError as exc:
                log.info("attach %s: agent session ended: %s", attachment.record.short_id, exc)
                return
            if event is None:
                if watch_client and attachment.exchange.peer_closed():
                    return
                continue
            kind, value = event
            if kind == "exit":
                return
            if isinstance(value, bytes):
                try:
                    attachment.write([(framing.STREAM_TYPES[kind], value)])
                except ClientGone:
                    return

    def _relay_logs(self, attachment: _Attachment) -> None:
        """The task stopped before its agent was reached: its output from CloudWatch."""
        record, options = attachment.record, attachment.options
        log.debug("attach %s: the task stopped first; from CloudWatch", record.short_id)
        reader = open_reader(self._backend, record, options)
        with contextlib.suppress(ClientGone):
            attachment.write(self._logs.payloads(reader.read_new(), options))
            emit = functools.partial(_Attachment.write, attachment)
            self._logs.follow(attachment.exchange.peer_closed, emit, reader, record, options)
