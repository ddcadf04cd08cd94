"""moto's server, in this process, on loopback only, with a WSGI middleware in front of it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from wsgiref.types import WSGIApplication

from moto.moto_api import state_manager
from moto.server import ThreadedMotoServer

LOOPBACK = "127.0.0.1"
TASK_MODEL = "ecs::task"
# moto advances a task one state per DescribeTasks; "manual" with a huge count means never.
_FROZEN_TRANSITION = {"progression": "manual", "times": 10**12}

log = logging.getLogger(__name__)


def freeze_task_transitions() -> None:
    """Stop moto from moving ECS tasks on its own; the lifecycle driver does it instead."""
    state_manager.set_transition(TASK_MODEL, _FROZEN_TRANSITION)


def unfreeze_task_transitions() -> None:
    """Give moto its default task transitions back."""
    state_manager.unset_transition(TASK_MODEL)


class MotoHost:
    """Runs ``ThreadedMotoServer`` on 127.0.0.1 with an ephemeral port."""

    def __init__(self, wrap_app: Callable[[WSGIApplication], WSGIApplication]) -> None:
        self._wrap_app = wrap_app
        self._server: ThreadedMotoServer | None = None
        self.endpoint_url = ""

    def start(self) -> str:
        """Start serving and return the endpoint URL (``http://127.0.0.1:<port>``)."""
        # moto's werkzeug server logs every request at INFO; the simulator's log is for events.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        started = time.perf_counter()
        server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
        server.start()
        # The port is not published yet, so no request can have reached the bare app.
        wsgi_server = server._server
        assert wsgi_server is not None, "ThreadedMotoServer.start() returns once it serves"
        wsgi_server.app = self._wrap_app(wsgi_server.app)
        host, port = server.get_host_and_port()
        self._server = server
        self.endpoint_url = f"http://{host}:{port}"
        log.debug("moto listening on %s after %.3f s", self.endpoint_url, _since(started))
        return self.endpoint_url

    def stop(self) -> None:
        """Stop serving; idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()


def _since(started: float) -> float:
    return time.perf_counter() - started
