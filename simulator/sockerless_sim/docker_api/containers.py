"""HTTP handlers of the container routes: request parsing and status codes around the backend."""

from __future__ import annotations

import json
from typing import Any

from .backend import EcsBackend
from .errors import bad_request
from .exchange import ChunkedStream, Exchange, Request
from .exec_store import ExecStore
from .filters import matches
from .records import ContainerConfig
from .routing import Router
from .views import inspect_json, list_entry


def parse_create_body(request: Request) -> ContainerConfig:
    """The ``POST /containers/create`` body as a ``ContainerConfig``; 400 when invalid."""
    body = request.body_fields()
    image = body.string("Image")
    if not image:
        raise bad_request("Image is required: the container config has no Image")
    stop_timeout = body.get("StopTimeout")
    if stop_timeout is not None and (
        not isinstance(stop_timeout, int) or isinstance(stop_timeout, bool)
    ):
        raise bad_request("invalid JSON: StopTimeout must be an integer")
    host_config: Any = body.get("HostConfig", {})
    if not isinstance(host_config, dict):
        raise bad_request("invalid JSON: HostConfig must be an object")
    return ContainerConfig(
        image=image,
        cmd=body.string_list("Cmd", allow_string=True),
        entrypoint=body.string_list("Entrypoint", allow_string=True),
        env=body.string_list("Env", allow_string=False) or [],
        labels=body.string_map("Labels"),
        tty=body.boolean("Tty"),
        open_stdin=body.boolean("OpenStdin"),
        working_dir=body.string("WorkingDir"),
        user=body.string("User"),
        hostname=body.string("Hostname"),
        stop_timeout=stop_timeout,
        host_config=dict(host_config),
    )


class ContainerRoutes:
    """create, list, inspect, start, stop, kill, wait, remove."""

    def __init__(self, backend: EcsBackend, execs: ExecStore) -> None:
        self._backend = backend
        self._execs = execs

    def register(self, router: Router) -> None:
        """Add the routes to ``router``."""
        router.add("POST", "/containers/create", self.create)
        router.add("GET", "/containers/json", self.list)
        router.add("GET", "/containers/{id}/json", self.inspect)
        router.add("POST", "/containers/{id}/start", self.start)
        router.add("POST", "/containers/{id}/stop", self.stop)
        router.add("POST", "/containers/{id}/kill", self.kill)
        router.add("POST", "/containers/{id}/wait", self.wait)
        router.add("DELETE", "/containers/{id}", self.remove)

    def create(self, request: Request, exchange: Exchange) -> None:
        """201 ``{"Id", "Warnings"}``; the task definition is registered now."""
        config = parse_create_body(request)
        record = self._backend.create(request.query.get("name") or None, config)
        exchange.send_json(201, {"Id": record.id, "Warnings": []})

    def list(self, request: Request, exchange: Exchange) -> None:
        """Running containers, or all with ``all=1|true``, newest first. ``limit``, ``size`` and
        ``trunc_cmd`` are accepted and ignored, as sockerless does."""
        query = request.query
        filters = query.filters()
        show_all = query.flag("all")
        views = self._backend.views(self._backend.records())
        selected = [v for v in views if (show_all or v.state.running) and matches(v, filters)]
        exchange.send_json(200, [list_entry(v) for v in selected])

    def inspect(self, request: Request, exchange: Exchange) -> None:
        """The Docker-shaped container document."""
        view = self._backend.view(self._backend.resolve(request.params["id"]))
        config = self._backend.config
        exchange.send_json(
            200,
            inspect_json(
                view,
                log_group=self._backend.plane.log_group,
                region=self._backend.plane.region,
                ip_in_networks_only="ip-in-networks-only" in config.quirks,
            ),
        )

    def start(self, request: Request, exchange: Exchange) -> None:
        """204 once the task is RUNNING (or already finished); 304 when already running."""
        record = self._backend.resolve(request.params["id"])
        exchange.send_empty(self._backend.start(record))

    def stop(self, request: Request, exchange: Exchange) -> None:
        """204 once the task is STOPPED; 304 when not running. ``t`` is accepted; ECS applies
        the task definition's stopTimeout."""
        record = self._backend.resolve(request.params["id"])
        exchange.send_empty(self._backend.stop(record, request.query.integer("t")))

    def kill(self, request: Request, exchange: Exchange) -> None:
        """204; 409 when not running."""
        record = self._backend.resolve(request.params["id"])
        self._backend.kill(record, request.query.get("signal"))
        exchange.send_empty(204)

    def wait(self, request: Request, exchange: Exchange) -> None:
        """``{"StatusCode": N, "Error": null}`` once the condition holds.

        When it already holds: a plain 200 with ``Content-Length``. Otherwise the ``200`` head
        goes out (chunked) before blocking, as sockerless flushes it: the Docker CLI's ``run``
        sends ``wait?condition=next-exit`` before ``start`` and waits for that head. The body
        follows when the condition holds; the client closing the connection ends the wait.
        """
        record = self._backend.resolve(request.params["id"])
        condition = request.query.get("condition") or "not-running"
        streams: list[ChunkedStream] = []

        def flush_head() -> None:
            streams.append(exchange.stream(200, "application/json"))

        code = self._backend.wait(record, condition, exchange.client_gone, flush_head)
        body = {"StatusCode": code, "Error": None}
        if not streams:
            exchange.send_json(200, body)
            return
        streams[0].write((json.dumps(body) + "\n").encode())
        streams[0].finish()

    def remove(self, request: Request, exchange: Exchange) -> None:
        """204; 409 for a running container unless ``force=1|true``."""
        record = self._backend.resolve(request.params["id"])
        self._backend.remove(record, force=request.query.flag("force"))
        self._execs.forget_container(record.id)
        exchange.send_empty(204)
