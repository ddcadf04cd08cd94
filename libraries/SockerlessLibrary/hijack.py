"""Exec start over a hijacked connection (``POST /exec/{id}/start`` with ``Upgrade: tcp``).

The status line and headers are parsed from our own buffer and every byte that arrived after
the blank line is the start of the stream: daemons often send ``101 UPGRADED`` and the first frame
in one write, and docker-py loses exactly those bytes (docker/docker-py#3332). Stdin is written
raw on the same socket and ended with a half-close; output keeps being read until the daemon
closes, all under one read deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from .errors import DaemonTimeout, DaemonUnreachable, ProtocolError, with_context
from .mux import MULTIPLEXED_CONTENT_TYPE, DecodedStream, MuxDecoder
from .transport import (
    Deadline,
    HttpConnection,
    NoResponse,
    ResponseHead,
    Timeouts,
    Transport,
    TruncatedBody,
    read_error_response,
)

OPERATION = "exec start"
HIJACK_STATUSES = (101, 200)


@dataclass
class ExecStream:
    """The outcome of a hijacked exec start: status line, headers and the decoded output."""

    status: int
    reason: str
    headers: dict[str, str]
    output: DecodedStream


def is_multiplexed(tty: bool, headers: dict[str, str]) -> bool:
    """Framing: no TTY means framed; a multiplexed Content-Type also means framed.

    A ``raw-stream`` Content-Type does not mean raw: below API 1.42 daemons send it for framed
    streams too.
    """
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return not tty or content_type == MULTIPLEXED_CONTENT_TYPE


def start_exec(
    transport: Transport,
    exec_id: str,
    *,
    stdin: bytes | None = None,
    tty: bool = False,
    timeout: Timeouts | None = None,
) -> ExecStream:
    """Start ``exec_id`` attached and read its output to the end.

    ``stdin`` (if given) is sent after the upgrade and followed by a half-close
    (``shutdown(SHUT_WR)``). A status other than 101/200 raises ``DaemonResponseError`` with the
    daemon's message; the deadline passing raises ``DaemonTimeout`` naming ``exec start``.
    """
    timeouts = timeout or transport.timeouts
    transport.ensure_api_version(OPERATION, timeouts)
    request = transport.build_request(
        "POST",
        f"/exec/{quote(exec_id, safe='')}/start",
        body={"Detach": False, "Tty": tty},
        headers={"Connection": "Upgrade", "Upgrade": "tcp"},
    )
    connection = transport.connect(OPERATION, timeouts)
    deadline = Deadline(timeouts.read, OPERATION, transport.target)
    transport.count_request()
    try:
        head = _upgrade(connection, request, deadline)
        output = _read_output(connection, head, deadline, stdin=stdin, tty=tty)
    except ProtocolError as error:
        raise with_context(error, f"{OPERATION} on {transport.target}") from None
    finally:
        connection.close()
    return ExecStream(head.status, head.reason, head.headers, output)


def _upgrade(connection: HttpConnection, request: bytes, deadline: Deadline) -> ResponseHead:
    try:
        connection.send(request, deadline)
        head = connection.read_head(deadline)
    except NoResponse:
        raise DaemonUnreachable(
            f"{OPERATION} on {connection.target}: the daemon closed the connection without "
            f"answering"
        ) from None
    if head.status not in HIJACK_STATUSES:
        raise read_error_response(connection, head, "POST", deadline, HIJACK_STATUSES)
    return head


def _read_output(
    connection: HttpConnection,
    head: ResponseHead,
    deadline: Deadline,
    *,
    stdin: bytes | None,
    tty: bool,
) -> DecodedStream:
    decoder = MuxDecoder(multiplexed=is_multiplexed(tty, head.headers))
    upgraded = head.status == 101
    if upgraded:
        # Everything after the blank line is stream data, even if it came in the head's recv.
        decoder.consume(connection.take_buffered())
    try:
        if stdin is not None:
            connection.send_while_reading(stdin, deadline)
            connection.shutdown_write()
        for chunk in connection.body_chunks(head, "POST", deadline, raw=upgraded):
            decoder.consume(chunk)
    except DaemonTimeout as error:
        error.args = (f"{error.args[0]} (the exec stream had not ended)",)
        error.partial = decoder.finish(incomplete_ok=True)
        raise
    except TruncatedBody as error:
        raise ProtocolError(
            f"{OPERATION} on {connection.target}: {error.description}",
            partial=decoder.finish(incomplete_ok=True),
        ) from None
    return decoder.finish()
