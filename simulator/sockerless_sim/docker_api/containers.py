"""HTTP handlers of the container routes: request parsing and status codes around the backend."""

from __future__ import annotations

import json
from typing import Any

from ..image_programs import no_program_list_warning, program_list
from . import create_options as options
from .backend import EcsBackend
from .errors import bad_request
from .exchange import ChunkedStream, Exchange, Request
from .exec_store import ExecStore
from .filters import CONTAINER_FILTERS, check_container_filters, known_filters, matches
from .params import Body, size_query
from .records import ContainerConfig
from .routing import Router
from .views import inspect_json, list_entry


def parse_create_body(request: Request) -> tuple[ContainerConfig, list[str]]:
    """The ``POST /containers/create`` body as a ``ContainerConfig`` and the answer's
    ``Warnings``; 400 when invalid or when it asks for what the simulator refuses (see
    ``create_options``)."""
    raw = request.json()
    body = Body(raw)
    warnings: list[str] = []
    image = body.string("Image")
    if not image:
        raise bad_request("Image is required: the container config has no Image")
    host_config: Any = body.get("HostConfig", {})
    if not isinstance(host_config, dict):
        raise bad_request("invalid JSON: HostConfig must be an object")
    host = Body(host_config)
    options.screen("Config", raw, options.CONFIG_FIELDS, warnings)
    options.screen("HostConfig", host_config, options.HOST_CONFIG_FIELDS, warnings)
    if request.query.get("platform"):
        warnings.append(
            options.report("query", "platform", options.QUERY_FIELDS["platform"].reason)
        )
    working_dir = body.string("WorkingDir")
    options.check_working_dir(working_dir)
    user = body.string("User")
    options.check_user(user)
    stop_signal = body.string("StopSignal")
    options.check_stop_signal(stop_signal)
    env = body.string_list("Env", allow_string=False) or []
    options.check_env(env)
    if program_list(image) is None:
        warnings.append(no_program_list_warning(image))
    stop_timeout = options.stop_timeout(body, warnings)
    options.log_config(host, warnings)
    options.check_network(host, body.get("NetworkingConfig"), warnings)
    cpu, memory = options.task_size(host)
    auto_remove = host.get("AutoRemove", False)
    if not isinstance(auto_remove, bool):
        raise bad_request("invalid JSON: HostConfig.AutoRemove must be a boolean")
    config = ContainerConfig(
        image=image,
        cmd=body.string_list("Cmd", allow_string=True),
        entrypoint=body.string_list("Entrypoint", allow_string=True),
        env=env,
        labels=body.string_map("Labels"),
        tty=body.boolean("Tty"),
        open_stdin=body.boolean("OpenStdin"),
        working_dir=working_dir,
        user=user,
        hostname=body.string("Hostname"),
        stop_timeout=stop_timeout,
        host_config=dict(host_config),
        stop_signal=stop_signal,
        stdin_once=body.boolean("StdinOnce"),
        attach_stdin=body.boolean("AttachStdin"),
        attach_stdout=body.boolean("AttachStdout"),
        attach_stderr=body.boolean("AttachStderr"),
        domainname=body.string("Domainname"),
        task_cpu=cpu,
        task_memory=memory,
        console_size=options.console_size(host, "HostConfig"),
    )
    return config, warnings


class ContainerRoutes:
    """create, list, inspect, start, stop, kill, wait, remove."""

    def __init__(self, backend: EcsBackend, execs: ExecStore) -> None:
        self._backend = backend
        self._execs = execs
        self._unknown_filters_ignored = "unknown-filters-ignored" in backend.config.quirks

    def register(self, router: Router) -> None:
        """Add the routes to ``router``."""
        router.add("POST", "/containers/create", self.create)
        router.add("GET", "/containers/json", self.list)
        router.add("GET", "/containers/{id}/json", self.inspect)
        router.add("POST", "/containers/{id}/start", self.start)
        router.add("POST", "/containers/{id}/stop", self.stop)
        router.add("POST", "/containers/{id}/kill", self.kill)
        router.add("POST", "/containers/{id}/wait", self.wait)
        router.add("POST", "/containers/{id}/resize", self.resize)
        router.add("DELETE", "/containers/{id}", self.remove)

    def create(self, request: Request, exchange: Exchange) -> None:
        """201 ``{"Id", "Warnings"}``; the task definition is registered now. ``Warnings`` names
        every field that was set but has no effect here."""
        config, warnings = parse_create_body(request)
        record = self._backend.create(request.query.get("name") or None, config)
        exchange.send_json(201, {"Id": record.id, "Warnings": warnings})

    def list(self, request: Request, exchange: Exchange) -> None:
        """Running containers, or all with ``all=1|true``, newest first. ``limit``, ``size`` and
        ``trunc_cmd`` are accepted and ignored, as sockerless does; an unknown filter key is 400,
        as in Docker (``filters.check_container_filters``), or ignored under the
        ``unknown-filters-ignored`` quirk, as in sockerless."""
        query = request.query
        filters = query.filters()
        if self._unknown_filters_ignored:
            filters = known_filters(filters, CONTAINER_FILTERS)
        check_container_filters(filters)
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
                workdir_and_user_dropped=self._backend.workdir_and_user_dropped,
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

    def resize(self, request: Request, exchange: Exchange) -> None:
        """200 once the main process's terminal (a Tty container's) has the size ``h`` x
        ``w``; 409 when the container is not running."""
        height, width = size_query(request.query)
        record = self._backend.resolve(request.params["id"])
        self._backend.resize(record, height, width)
        exchange.send(200)

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
