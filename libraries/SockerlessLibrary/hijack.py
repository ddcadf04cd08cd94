"""Exec start over a hijacked connection (``POST /exec/{id}/start`` with ``Upgrade: tcp``).

The answer is ``101 UPGRADED`` and then the stream, often in the same write as the head; the
transport reads the stream from the response's own buffer on, so those first bytes are kept
(docker-py loses them: docker/docker-py#3332). Stdin is written raw on the same socket and ended
with a half-close; output keeps being read until the daemon closes, all under one read deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from .errors import DaemonTimeout, ProtocolError, with_context
from .mux import MULTIPLEXED_CONTENT_TYPE, DecodedStream, MuxDecoder
from .transport import Timeouts, Transport

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
    with transport.open_stream(
        "POST",
        f"/exec/{quote(exec_id, safe='')}/start",
        operation=OPERATION,
        body={"Detach": False, "Tty": tty},
        headers={"Connection": "Upgrade", "Upgrade": "tcp"},
        expected=HIJACK_STATUSES,
        timeout=timeout,
    ) as stream:
        decoder = MuxDecoder(multiplexed=is_multiplexed(tty, stream.headers))
        try:
            if stdin is not None:
                stream.send_while_reading(stdin, decoder.feed)
                stream.shutdown_write()
            for chunk in stream.chunks():
                decoder.feed(chunk)
            output = decoder.finish()
        except DaemonTimeout as error:
            error.args = (f"{error.args[0]} (the exec stream had not ended)",)
            error.partial = decoder.finish(incomplete_ok=True)
            raise
        except ProtocolError as error:
            if error.partial is None:  # the connection broke off; the decoder had no fault
                error.partial = decoder.finish(incomplete_ok=True)
            raise with_context(error, f"{OPERATION} on {transport.target}") from None
    return ExecStream(stream.status, stream.reason, stream.headers, output)
