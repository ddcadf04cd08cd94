"""A moto server in its own process, with a throttling switch in front of it.

Run as ``python moto_process.py``: prints ``{"port": N}`` once listening on 127.0.0.1. moto keeps
its state in module globals (and the simulator's tests patch moto classes in-process), so the AWS
tests get a separate process to stay independent of whatever else ran in the pytest session.

Control endpoints, handled before moto sees the request:
``POST /_throttle`` ``{"operation": "StopTask", "count": 7}`` -> the next 7 calls of that
operation answer HTTP 400 ``ThrottlingException``; ``GET /_throttle`` -> calls and throttles seen
per operation.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class Throttler:
    """WSGI middleware: answers ThrottlingException for the next N calls of chosen operations."""

    def __init__(self, app: Callable[[Environ, StartResponse], Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.pending: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/_throttle":
            return self.control(environ, start_response)
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        operation = target.rsplit(".", 1)[-1] if target else ""
        with self.lock:
            self.calls[operation] += 1
            throttle = self.pending[operation] > 0
            if throttle:
                self.pending[operation] -= 1
                self.throttled[operation] += 1
        if throttle:
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
            start_response(
                "400 Bad Request",
                [
                    ("Content-Type", "application/x-amz-json-1.1"),
                    ("Content-Length", str(len(body))),
                ],
            )
            return [body.encode()]
        return self.app(environ, start_response)

    def control(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            order = json.loads(environ["wsgi.input"].read(size) or b"{}")
            with self.lock:
                if order.get("reset"):
                    self.pending.clear()
                    self.calls.clear()
                    self.throttled.clear()
                else:
                    self.pending[str(order["operation"])] += int(order["count"])
        with self.lock:
            body = json.dumps({"calls": self.calls, "throttled": self.throttled}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]


class ThrottledMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer with the ``Throttler`` in front of moto's WSGI app."""

    def _server_entry(self) -> None:
        app = Throttler(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThrottledMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(json.dumps({"port": port}), flush=True)
    # Serve until the parent closes our stdin (or dies).
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
