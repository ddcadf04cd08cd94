"""RequestsLibrary interop: a session whose requests go to the target daemon."""

from __future__ import annotations

from typing import Any

from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from ..transport import Target
from .base import LibraryComponent, log
from .unix_adapter import UNIX_SESSION_BASE, UnixSocketAdapter

REQUESTS_LIBRARY = "RequestsLibrary"
OPERATION = "create session"


def session_base_url(host: str, api_version: str | None) -> tuple[str, str | None]:
    """``(base URL, unix socket path or None)`` for a target address and API version."""
    target = Target.parse(host)
    prefix = f"/v{api_version}" if api_version else ""
    if target.socket_path:
        return UNIX_SESSION_BASE + prefix, target.socket_path
    return f"http://{target.host}:{target.port}{prefix}", None


class SessionKeywords(LibraryComponent):
    """Lets suites send raw Docker API requests with RequestsLibrary's ``* On Session`` keywords."""

    @keyword(tags=("Requests",))
    def create_sockerless_session(self, alias: str = "sockerless") -> Any:
        """Creates a RequestsLibrary session ``alias`` that talks to the target daemon.

        The base URL is ``http://sockerless/v<version>`` with the version the library's own
        requests use: pinned, or negotiated with the daemon (one ``GET /_ping`` if no keyword
        has talked to it yet; see `API version`), e.g. ``http://sockerless/v1.44``. For a unix
        socket target an adapter that sends every request over the socket is mounted on the
        session (TCP targets need none), with the library's connect/read timeouts as the
        default. Imports RequestsLibrary if the suite has not. Returns the ``requests.Session``.

        Example:
        | Create Sockerless Session | | | |
        | ${resp}= | GET On Session | sockerless | /containers/json |
        | ${resp}= | POST On Session | sockerless | /containers/create | json=${body} |
        """
        target = self.ctx.target()
        version = self.client.transport.ensure_api_version(OPERATION, self.ctx.timeouts())
        base_url, socket_path = session_base_url(target.host, version)
        builtin = BuiltIn()
        builtin.import_library(REQUESTS_LIBRARY)
        session = builtin.run_keyword(f"{REQUESTS_LIBRARY}.Create Session", alias, base_url)
        if socket_path is not None:
            timeouts = self.ctx.timeouts()
            adapter = UnixSocketAdapter(socket_path, (timeouts.connect, timeouts.read))
            session.mount(UNIX_SESSION_BASE + "/", adapter)
            log(f"Session '{alias}': {base_url} over unix socket {socket_path}")
        else:
            log(f"Session '{alias}': {base_url}")
        return session
