"""Which blocking Docker API calls a daemon lacks, learnt from its answers, once per daemon.

The waits prefer calls that block until the awaited thing happens (``POST /containers/{id}/wait``,
``GET /containers/{id}/logs?follow=true``) to polling, which costs real sockerless one ECS
``DescribeTasks`` (or CloudWatch read) per request. A daemon that does not support such a call
gets the back-off polling instead, and is remembered by its address, so that later waits do not
ask again.

What counts as "does not support the call" (``lacks_call``): ``405`` (the method is not allowed
there), ``501`` (not implemented), or a ``404`` that is not ``No such container`` (the route is
missing, e.g. ``page not found``, not the container). For ``follow`` also an answer that is no
stream (``is_stream``): a complete body announced by ``Content-Length``, i.e. the daemon read the
logs once and did not follow them.

Example::

    support = DaemonSupport()
    support.lacks("unix:///x.sock", WAIT)          # False: not known to lack it
    support.learn("unix:///x.sock", WAIT)          # True: first time, say so in the log
    support.learn("unix:///x.sock", WAIT)          # False: already said
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from .errors import DaemonResponseError

WAIT = "POST /containers/{id}/wait"
LOGS_FOLLOW = "GET /containers/{id}/logs?follow=true"
UNSUPPORTED_STATUSES = (405, 501)
_NO_SUCH_CONTAINER = "no such container"


def lacks_call(error: DaemonResponseError) -> bool:
    """True when ``error`` says the daemon lacks the call, not that the container is missing.

    ``404 page not found``, ``405``, ``501``: True; ``404 No such container: x``, ``500``: False.
    """
    if error.status in UNSUPPORTED_STATUSES:
        return True
    return error.status == 404 and _NO_SUCH_CONTAINER not in error.message.lower()


def is_stream(headers: Mapping[str, str]) -> bool:
    """True for a body sent as it is produced (chunked, or until the connection closes).

    >>> is_stream({"transfer-encoding": "chunked"}), is_stream({"content-length": "12"})
    (True, False)
    """
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return True
    return "content-length" not in headers


class DaemonSupport:
    """The blocking calls each daemon (by address) was found to lack during this run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lacking: set[tuple[str, str]] = set()

    def lacks(self, daemon: str, call: str) -> bool:
        """True once ``daemon`` was found to lack ``call``."""
        with self._lock:
            return (daemon, call) in self._lacking

    def learn(self, daemon: str, call: str) -> bool:
        """Remember that ``daemon`` lacks ``call``; True the first time (log it then)."""
        with self._lock:
            if (daemon, call) in self._lacking:
                return False
            self._lacking.add((daemon, call))
            return True
