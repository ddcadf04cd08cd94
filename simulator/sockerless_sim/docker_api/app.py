"""The Docker API application: routes, per-route counters, fault hooks and error mapping."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from email.message import Message
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from ..config import SimConfig
from .attach import AttachRoute
from .attach_ws import AttachWsRoute
from .backend import EcsBackend
from .containers import ContainerRoutes
from .control import INJECTED_MESSAGE, ControlRoutes, DockerFaults
from .errors import ApiError, from_aws_error, not_supported
from .exchange import ClientGone, Exchange, Request
from .exec import ExecRoutes
from .exec_store import ExecStore
from .images import ImageRoutes
from .logs import LogsRoute
from .params import Query
from .ports import Plane
from .routing import Router, strip_version
from .system import SystemRoutes

log = logging.getLogger(__name__)

UNMATCHED = "unmatched"


class DockerApi:
    """Dispatches one parsed request to its handler and turns failures into Docker errors."""

    def __init__(self, plane: Plane, config: SimConfig) -> None:
        self.backend = EcsBackend(plane, config)
        self.execs = ExecStore()
        self.router = Router()
        self.faults = DockerFaults(self.router.templates)
        self._info: dict[str, Any] = {}
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        SystemRoutes(self.backend).register(self.router)
        ContainerRoutes(self.backend, self.execs).register(self.router)
        logs = LogsRoute(self.backend, config)
        logs.register(self.router)
        ExecRoutes(self.backend, self.execs).register(self.router)
        AttachWsRoute(self.backend).register(self.router)
        AttachRoute(self.backend, logs).register(self.router)
        ImageRoutes(self.backend.images, self._images_in_use).register(self.router)
        ControlRoutes(
            plane, self.faults, self.info, self.docker_stats, config.delay_log.records
        ).register(self.router)

    def _images_in_use(self) -> list[str]:
        return [record.config.image for record in self.backend.records()]

    def set_info(self, info: dict[str, Any]) -> None:
        """What ``GET /_sim/info`` answers (the ready line)."""
        self._info = dict(info)

    def info(self) -> dict[str, Any]:
        """The ready information."""
        return dict(self._info)

    def docker_stats(self) -> dict[str, Any]:
        """Requests per route template and the number of known containers."""
        with self._counts_lock:
            requests = dict(self._counts)
        return {"requests": requests, "containers": len(self.backend.records())}

    def handle(
        self, method: str, target: str, headers: Message, body: bytes, exchange: Exchange
    ) -> None:
        """Answer one request on ``exchange`` (never raises, except for a lost client)."""
        began = time.monotonic()
        raw_path, _, raw_query = target.partition("?")
        path = strip_version(raw_path)
        request = Request(method, path, target, Query(raw_query), headers, body)
        found = self.router.match(method, path)
        request.route = found[0].template if found else UNMATCHED
        with self._counts_lock:
            self._counts[request.route] += 1
        try:
            if found is None:
                raise not_supported(method, raw_path)
            route, params = found
            # Matched on the raw path, so an escaped "/" (%2F) stays inside its parameter.
            request.params = {name: unquote(value) for name, value in params.items()}
            fault = self.faults.take(route.template)
            if fault is not None and fault.status is not None:
                raise ApiError(fault.status, INJECTED_MESSAGE)
            if fault is not None:
                exchange.drop_after_bytes = fault.drop_after_bytes
            route.handler(request, exchange)
        except ApiError as exc:
            self._fail(exchange, exc)
        except (ClientError, BotoCoreError) as exc:
            self._fail(exchange, from_aws_error(exc))
        except ClientGone as exc:
            exchange.close_after = True
            log.debug("%s %s: client gone: %s", method, target, exc)
        except Exception as exc:
            log.exception("%s %s failed", method, target)
            self._fail(exchange, ApiError(500, f"internal error: {type(exc).__name__}: {exc}"))
        finally:
            elapsed = (time.monotonic() - began) * 1000
            log.debug("%s %s -> %s (%.1f ms)", method, target, exchange.status, elapsed)

    @staticmethod
    def _fail(exchange: Exchange, error: ApiError) -> None:
        level = logging.WARNING if error.status >= 500 else logging.DEBUG
        log.log(level, "answering %d: %s", error.status, error.message)
        if exchange.started:
            # Too late for a status: end the connection so the client sees the body cut short.
            exchange.abort()
            return
        try:
            exchange.send_error(error)
        except ClientGone:
            exchange.close_after = True
