"""moto's server, in this process, on loopback only, with a WSGI middleware in front of it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from wsgiref.types import WSGIApplication

from moto.moto_api import state_manager
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

LOOPBACK = "127.0.0.1"
# How often the server thread looks for a stop request. moto's own ThreadedMotoServer serves with
# socketserver's default, 0.5 s, which every stop of the simulator then waited out.
SHUTDOWN_POLL_SECONDS = 0.05
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
    """Serves moto's app (as ``ThreadedMotoServer`` builds it) on 127.0.0.1, an ephemeral port,
    behind the plane's middleware, in a thread of its own."""

    def __init__(self, wrap_app: Callable[[WSGIApplication], WSGIApplication]) -> None:
        self._wrap_app = wrap_app
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.endpoint_url = ""

    def start(self) -> str:
        """Start serving and return the endpoint URL (``http://127.0.0.1:<port>``)."""
        # moto's werkzeug server logs every request at INFO; the simulator's log is for events.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        started = time.perf_counter()
        app = self._wrap_app(DomainDispatcherApplication(create_backend_app))
        server = make_server(LOOPBACK, 0, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name="moto-server",
            daemon=True,
        )
        self._thread.start()
        self._server = server
        self.endpoint_url = f"http://{LOOPBACK}:{server.server_port}"
        log.debug("moto listening on %s after %.3f s", self.endpoint_url, _since(started))
        return self.endpoint_url

    def stop(self) -> None:
        """Stop serving and close the listening socket; idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()


def _since(started: float) -> float:
    return time.perf_counter() - started
