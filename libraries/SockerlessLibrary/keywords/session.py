"""RequestsLibrary interop: a session whose requests go to the target daemon."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from ..listeners.log import log
from ..run.session_guard import CreateGuardAdapter
from ..transport import Target
from ..unix_adapter import UNIX_SESSION_BASE, UnixSocketAdapter
from . import LibraryComponent

REQUESTS_LIBRARY = "RequestsLibrary"
OPERATION = "create session"


def session_base_url(host: str, api_version: str | None) -> tuple[str, str | None]:
    """``(base URL, unix socket path or None)`` for a target address and API version."""
    target = Target.parse(host)
    prefix = f"/v{api_version}" if api_version else ""
    if target.socket_path:
        return UNIX_SESSION_BASE + prefix, target.socket_path
    return f"http://{target.host_header}{prefix}", None


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
        default. Returns the ``requests.Session``.

        *Raw creates keep the kit's guarantees.* A ``POST /containers/create`` sent on this
        session (``POST On Session``) is treated like `Create Container`: the run's labels are
        added to its JSON body, it counts against the `Fargate task budget` (one beyond it fails
        before it is sent), and the container in the answer is registered for cleanup and
        written to the journal, so the test's teardown (and the library's automatic cleanup)
        removes it and proves nothing is left on AWS. The body must be a JSON object
        (``json=${body}``). Other requests are sent as they are.

        ``resources/sockerless.resource`` imports RequestsLibrary, so ``POST On Session`` and
        friends resolve in ``--dryrun`` too; a suite that imports SockerlessLibrary directly
        needs ``Library    RequestsLibrary`` for that (this keyword imports it at run time).

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
            inner = UnixSocketAdapter(socket_path, (timeouts.connect, timeouts.read))
            mount_point = UNIX_SESSION_BASE + "/"
            log(f"Session '{alias}': {base_url} over unix socket {socket_path}")
        else:
            parts = urlsplit(base_url)
            mount_point = f"{parts.scheme}://{parts.netloc}/"
            inner = session.get_adapter(mount_point)
            log(f"Session '{alias}': {base_url}")
        session.mount(mount_point, CreateGuardAdapter(inner, self.ctx))
        return session
