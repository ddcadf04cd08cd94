"""A ``requests`` transport adapter that sends HTTP over a unix domain socket.

Mounted on a RequestsLibrary session whose base URL is ``http://sockerless/v1.NN``: requests picks
the adapter with the longest matching prefix, so every ``* On Session`` call for that alias goes
to the socket, while the URL joining RequestsLibrary does keeps working (an ``http+unix://`` base
URL breaks it). urllib3 (requests' pool) runs on ``http.client`` as the library's own transport
does, and the socket comes from the transport's ``open_socket``, so both say alike why a daemon
cannot be reached. Every request has a timeout, also when the caller passes none
(RequestsLibrary's default is no timeout at all).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from .errors import DaemonTimeout, DaemonUnreachable
from .transport import Target, Timeouts, open_socket

UNIX_SESSION_BASE = "http://sockerless"


class UnixHTTPConnection(HTTPConnection):
    """An urllib3 connection whose socket is a unix domain socket."""

    def __init__(self, *args: Any, socket_path: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.socket_path = socket_path

    def _new_conn(self) -> socket.socket:
        timeout = self.timeout
        limit = float(timeout) if isinstance(timeout, int | float) else Timeouts().connect
        try:
            return open_socket(Target("unix", self.socket_path), "session request", limit)
        except DaemonTimeout as error:
            raise ConnectTimeoutError(self, str(error)) from error
        except DaemonUnreachable as error:
            raise NewConnectionError(self, str(error)) from error


class UnixHTTPConnectionPool(HTTPConnectionPool):
    """A keep-alive pool of ``UnixHTTPConnection`` to one socket (``socket_path=``)."""

    ConnectionCls = UnixHTTPConnection


class UnixSocketAdapter(HTTPAdapter):
    """Sends every request of a ``requests.Session`` prefix to ``socket_path``."""

    def __init__(
        self, socket_path: str, default_timeout: tuple[float, float], pool_maxsize: int = 4
    ) -> None:
        super().__init__(max_retries=0)
        self.default_timeout = default_timeout
        self._pool = UnixHTTPConnectionPool(
            "localhost", maxsize=pool_maxsize, socket_path=socket_path
        )

    def get_connection_with_tls_context(
        self,
        request: PreparedRequest,
        verify: bool | str | None,
        proxies: Mapping[str, str] | None = None,
        cert: Any = None,
    ) -> HTTPConnectionPool:
        """Always the unix socket pool: the URL's host name is only a label."""
        return self._pool

    def get_connection(self, url: Any, proxies: Any = None) -> HTTPConnectionPool:
        """Older requests versions call this instead of ``get_connection_with_tls_context``."""
        return self._pool

    def request_url(self, request: PreparedRequest, proxies: Any) -> str:
        """Only the path and query go on the request line."""
        return str(request.path_url)

    def send(  # noqa: PLR0917 - requests' own signature
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        """Send with the adapter's default (connect, read) timeout when none is given."""
        return super().send(
            request,
            stream=stream,
            timeout=self.default_timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=dict(proxies) if proxies is not None else None,
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.close()
        super().close()
