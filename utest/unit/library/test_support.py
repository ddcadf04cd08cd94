"""What counts as a daemon lacking a blocking call, and remembering it once per daemon."""

from __future__ import annotations

import pytest

from SockerlessLibrary.errors import DaemonResponseError
from SockerlessLibrary.support import LOGS_FOLLOW, WAIT, DaemonSupport, is_stream, lacks_call


def answer(status: int, message: str) -> DaemonResponseError:
    return DaemonResponseError(
        operation="wait container",
        target="unix:///d.sock",
        status=status,
        reason="",
        message=message,
        body=message.encode(),
        detail=message,
    )


@pytest.mark.parametrize(
    ("status", "message", "lacks"),
    [
        (404, "page not found", True),
        (404, "404 page not found", True),
        (404, "", True),  # ambiguous: the wait confirms with an inspect before it remembers
        (405, "Method Not Allowed", True),
        (501, "not implemented", True),
        (404, "No such container: c0ffee", False),
        (404, "no such container: ", False),  # sockerless may echo an empty reference
        (400, "invalid condition", False),
        (409, "conflict", False),
        (500, "boom", False),
    ],
)
def test_lacks_call(status: int, message: str, lacks: bool) -> None:
    assert lacks_call(answer(status, message)) is lacks


@pytest.mark.parametrize(
    ("headers", "stream"),
    [
        ({"transfer-encoding": "chunked"}, True),
        ({"transfer-encoding": "Chunked", "content-length": "3"}, True),
        ({}, True),  # until the connection closes
        ({"content-length": "120"}, False),
    ],
)
def test_is_stream(headers: dict[str, str], stream: bool) -> None:
    assert is_stream(headers) is stream


def test_daemon_support_is_learnt_once_per_daemon_and_call() -> None:
    support = DaemonSupport()
    assert not support.lacks("unix:///a.sock", WAIT)
    assert support.learn("unix:///a.sock", WAIT) is True
    assert support.learn("unix:///a.sock", WAIT) is False
    assert support.lacks("unix:///a.sock", WAIT)
    assert not support.lacks("unix:///a.sock", LOGS_FOLLOW)
    assert not support.lacks("unix:///b.sock", WAIT)
