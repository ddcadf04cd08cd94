"""AWS fault injection and call counting: a WSGI middleware in front of moto's application.

Faults are chosen per operation (the ``X-Amz-Target`` suffix such as ``StopTask``, or the
query-protocol ``Action`` such as EC2's ``DescribeNetworkInterfaces``) and answered in the wire
format the client's protocol expects, so botocore parses and retries them exactly as it would
real throttling. Requests carrying ``INTERNAL_HEADER`` (the plane's own clients) are never
faulted and are counted apart from the calls the daemon and the tests make.
"""

from __future__ import annotations

import io
import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment
from xml.sax.saxutils import escape

INTERNAL_HEADER = "X-Sockerless-Sim-Internal"
_INTERNAL_ENVIRON_KEY = "HTTP_" + INTERNAL_HEADER.upper().replace("-", "_")
_SERVER_ERROR_CODES = frozenset({"ServerException", "InternalFailure", "ServiceUnavailable"})
_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_HTTP_REASONS = {400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error"}
_HTTP_REASONS.update({503: "Service Unavailable"})


@dataclass
class _Rule:
    error_code: str
    http_status: int
    message: str
    remaining: int | None  # faults still to inject; None: no limit
    rate: float | None  # probability per call; None: every call


@dataclass(frozen=True)
class _Fault:
    operation: str
    error_code: str
    http_status: int
    message: str


class AwsFaultInjector:
    """Per-operation fault rules, the WSGI middleware applying them, and call counts."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)  # noqa: S311 - fault sampling, not security
        self._rules: dict[str, _Rule] = {}
        self._injected: Counter[str] = Counter()
        self._calls: Counter[str] = Counter()
        self._internal_calls: Counter[str] = Counter()

    def add(
        self,
        operation: str,
        *,
        error_code: str = "ThrottlingException",
        http_status: int | None = None,
        count: int | None = None,
        rate: float | None = None,
        message: str = "Rate exceeded",
    ) -> None:
        """Fault the next ``count`` calls of ``operation``, or a ``rate`` fraction of them.

        With both, each call is faulted with probability ``rate`` until ``count`` faults were
        injected; with neither, every call is faulted until ``clear``. ``http_status`` defaults
        to 500 for server-side codes (``ServerException``, ...) and 400 otherwise. A new rule
        replaces the operation's previous one.
        """
        if not operation:
            raise ValueError("operation must name an AWS operation, e.g. 'StopTask'")
        if count is not None and count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {rate}")
        status = http_status or (500 if error_code in _SERVER_ERROR_CODES else 400)
        with self._lock:
            self._rules[operation] = _Rule(error_code, status, message, count, rate)

    def clear(self, operation: str | None = None) -> None:
        """Remove one operation's rule, or all rules (counts are kept)."""
        with self._lock:
            if operation is None:
                self._rules.clear()
            else:
                self._rules.pop(operation, None)

    def injected(self) -> dict[str, int]:
        """Faults answered so far, per operation."""
        with self._lock:
            return dict(self._injected)

    def calls(self) -> dict[str, int]:
        """Calls received from outside the plane (faulted ones included), per operation."""
        with self._lock:
            return dict(self._calls)

    def internal_calls(self) -> dict[str, int]:
        """Calls made by the plane's own clients, per operation."""
        with self._lock:
            return dict(self._internal_calls)

    def _decide(self, operation: str, internal: bool) -> _Fault | None:
        with self._lock:
            (self._internal_calls if internal else self._calls)[operation] += 1
            rule = None if internal else self._rules.get(operation)
            if rule is None:
                return None
            if rule.remaining is not None and rule.remaining <= 0:
                del self._rules[operation]
                return None
            if rule.rate is not None and self._rng.random() >= rule.rate:
                return None
            if rule.remaining is not None:
                rule.remaining -= 1
            self._injected[operation] += 1
            return _Fault(operation, rule.error_code, rule.http_status, rule.message)

    def wrap(self, app: WSGIApplication) -> WSGIApplication:
        """The middleware: count, maybe answer with a fault, else pass on to ``app``."""

        def middleware(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            operation, json_protocol = operation_of(environ)
            if operation is None:
                return app(environ, start_response)
            internal = environ.get(_INTERNAL_ENVIRON_KEY) == "1"
            fault = self._decide(operation, internal)
            if fault is None:
                return app(environ, start_response)
            _drain(environ)
            body, content_type = _error_body(fault, json_protocol)
            reason = _HTTP_REASONS.get(fault.http_status, "Error")
            start_response(
                f"{fault.http_status} {reason}",
                [
                    ("Content-Type", content_type),
                    ("Content-Length", str(len(body))),
                    ("x-amzn-RequestId", str(uuid.uuid4())),
                ],
            )
            return [body]

        return middleware


def operation_of(environ: WSGIEnvironment) -> tuple[str | None, bool]:
    """(operation name, is a JSON-protocol call); the body is re-wound for the next app."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1], True
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if action:
        return action[0], False
    if not str(environ.get("CONTENT_TYPE", "")).startswith(_FORM_CONTENT_TYPE):
        return None, False
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None, False
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    return (action[0], False) if action else (None, False)


def _drain(environ: WSGIEnvironment) -> None:
    """Read the unanswered request body so the client is never left mid-send."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if length > 0:
        environ["wsgi.input"].read(length)


def _error_body(fault: _Fault, json_protocol: bool) -> tuple[bytes, str]:
    return error_document(fault.error_code, fault.message, json_protocol)


def error_document(code: str, message: str, json_protocol: bool) -> tuple[bytes, str]:
    """(body, content type) of an AWS error in the wire format of the client's protocol."""
    if json_protocol:
        payload = {"__type": code, "message": message}
        return json.dumps(payload).encode(), "application/x-amz-json-1.1"
    # Query-protocol services (EC2) expect their XML error document.
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"</Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
    )
    return xml.encode(), "text/xml"
