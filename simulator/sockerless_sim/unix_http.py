"""``http.client`` over a unix socket: how tools and tests reach the simulator's control endpoints.

The kit's library has its own transport; this is the plain standard-library client the simulator's
helpers, the benchmarks and the test harnesses share.
"""

from __future__ import annotations

import http.client
import socket


class UnixHTTPConnection(http.client.HTTPConnection):
    """An ``HTTPConnection`` whose socket is the unix socket at ``path`` (Host: localhost)."""

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock
