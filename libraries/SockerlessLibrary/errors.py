"""The library's exception hierarchy (see docs/architecture.md).

Every daemon-side message names the operation (``create container``), the target
(``unix:///tmp/x.sock``) and, when there was a response, the HTTP status and what the daemon said,
so a failed Robot test explains itself without a debugger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .outage import Outage

BODY_EXCERPT_CHARS = 500


class StreamOutput(Protocol):
    """What a stream had carried when it failed: a ``mux.DecodedStream`` (named by its shape, so
    that the errors every module raises import none of them)."""

    stdout: bytes
    stderr: bytes


class SockerlessError(Exception):
    """Base class of every error this library raises on purpose."""


class ConfigurationError(SockerlessError):
    """A bad target string or a bad argument (e.g. ``filters`` that are not JSON)."""


class DaemonUnreachable(SockerlessError):
    """The socket is missing, the connection was refused, or it was reset before a response."""


class DaemonDown(DaemonUnreachable):
    """Nothing was sent: the daemon was marked down earlier in this run (``outage.py``).

    ``outage`` says since when and the first cause.
    """

    def __init__(self, operation: str, outage: Outage) -> None:
        super().__init__(f"{operation}: {outage.refusal()}")
        self.outage = outage


class DaemonTimeout(SockerlessError):
    """A connect or read deadline passed.

    ``partial`` holds the stream decoded so far when the deadline hit a streaming call
    (exec output), so a keyword can show what did arrive.
    """

    partial: StreamOutput | None = None


class DaemonResponseError(SockerlessError):
    """The daemon answered with a status the caller did not expect.

    ``message`` is the daemon's ``message`` field, or the plain-text body, or ``""`` for an empty
    body; ``body`` is the raw body bytes as received (possibly truncated).
    """

    def __init__(
        self,
        *,
        operation: str,
        target: str,
        status: int,
        reason: str,
        message: str,
        body: bytes,
        detail: str,
        expected: tuple[int, ...] = (),
    ) -> None:
        self.operation = operation
        self.target = target
        self.status = status
        self.reason = reason
        self.message = message
        self.body = body
        self.detail = detail
        self.expected = expected
        wanted = f" (expected {', '.join(map(str, expected))})" if expected else ""
        super().__init__(
            f"{operation} on {target} failed: HTTP {status} {reason}{wanted}: {detail}"
        )


class ProtocolError(SockerlessError):
    """Malformed HTTP, a bad frame header, an unknown stream type or a truncated frame.

    ``partial`` holds what was decoded before the problem, when there was a stream.
    """

    partial: StreamOutput | None = None


class DaemonStreamError(ProtocolError):
    """A stream-type-3 (systemerr) frame: the daemon reported an error inside the stream.

    ``payload`` is the frame's text; it is never mixed into stdout.
    """

    def __init__(self, message: str, *, payload: str) -> None:
        super().__init__(message)
        self.payload = payload


class AttachNotSupported(SockerlessError):
    """The daemon answered 404 to ``GET /containers/{id}/attach/ws``."""


class AwsError(SockerlessError):
    """An AWS call failed after retries (operation, resource, AWS error code)."""

    def __init__(self, *, operation: str, resource: str, code: str, message: str) -> None:
        self.operation = operation
        self.resource = resource
        self.code = code
        self.message = message
        super().__init__(f"AWS {operation} on {resource} failed: {code}: {message}")


class AwsEndpointDown(AwsError):
    """Nothing was sent: the AWS endpoint was marked down earlier in this run (``outage.py``)."""

    def __init__(self, *, operation: str, resource: str, outage: Outage, note: str = "") -> None:
        message = outage.refusal() + (f"; {note}" if note else "")
        super().__init__(
            operation=operation, resource=resource, code="EndpointDown", message=message
        )
        self.outage = outage


def with_context(error: ProtocolError, context: str) -> ProtocolError:
    """``error`` with its message prefixed by ``context`` (``exec start on unix://...``) once.

    The stream decoder does not know which call or daemon its bytes came from; the caller adds
    that, keeping the exception's type, ``partial`` and ``payload``.
    """
    prefix = f"{context}: "
    message = str(error)
    if not message.startswith(prefix):
        error.args = (prefix + message, *error.args[1:])
    return error


def excerpt(text: str, limit: int = BODY_EXCERPT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"
