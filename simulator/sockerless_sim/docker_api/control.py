"""``/_sim/*``: the simulator's own endpoints (info, stats, faults) on the Docker socket."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from .errors import bad_request
from .exchange import Exchange, Request
from .params import Body
from .ports import Plane
from .routing import Router

INJECTED_MESSAGE = "injected fault"


@dataclass
class DockerFault:
    """Make the next ``remaining`` requests of ``route`` (None: all) fail or drop mid-body."""

    route: str
    status: int | None
    drop_after_bytes: int | None
    remaining: int | None


class DockerFaults:
    """Faults on the Docker API itself, by route template (``"GET /containers/{id}/json"``)."""

    def __init__(self, known_routes: Callable[[], list[str]]) -> None:
        self._known_routes = known_routes
        self._lock = threading.Lock()
        self._faults: list[DockerFault] = []
        self._injected: Counter[str] = Counter()

    def add(
        self,
        route: str,
        *,
        status: int | None = None,
        drop_after_bytes: int | None = None,
        count: int | None = None,
    ) -> DockerFault:
        """Register a fault; exactly one of ``status`` and ``drop_after_bytes``."""
        if route not in self._known_routes():
            raise bad_request(f"unknown route {route!r}; known: {sorted(self._known_routes())}")
        if (status is None) == (drop_after_bytes is None):
            raise bad_request("a docker fault needs exactly one of 'status' or 'drop_after_bytes'")
        if status is not None and not 400 <= status <= 599:
            raise bad_request(f"fault status must be 4xx or 5xx, got {status}")
        if drop_after_bytes is not None and drop_after_bytes < 0:
            raise bad_request("drop_after_bytes must be >= 0")
        if count is not None and count < 1:
            raise bad_request("count must be >= 1 (omit it for every request)")
        fault = DockerFault(route, status, drop_after_bytes, count)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, route: str) -> DockerFault | None:
        """The fault to apply to this request of ``route`` (used up when counted)."""
        with self._lock:
            for fault in self._faults:
                if fault.route != route:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                self._injected[route] += 1
                return fault
        return None

    def clear(self) -> None:
        """Remove every fault (the injected counts stay)."""
        with self._lock:
            self._faults.clear()

    def injected(self) -> dict[str, int]:
        """How many requests each route's faults hit."""
        with self._lock:
            return dict(self._injected)

    def active(self) -> list[dict[str, Any]]:
        """The faults still armed."""
        with self._lock:
            return [asdict(fault) for fault in self._faults]


def _optional_int(body: Body, key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_request(f"{key} must be an integer")
    return value


class ControlRoutes:
    """``GET /_sim/info``, ``GET /_sim/stats``, ``POST /_sim/faults``, ``DELETE /_sim/faults``."""

    def __init__(
        self,
        plane: Plane,
        faults: DockerFaults,
        info: Callable[[], dict[str, Any]],
        docker_stats: Callable[[], dict[str, Any]],
        delays: Callable[[], list[dict[str, Any]]] = list,
    ) -> None:
        self._plane = plane
        self._faults = faults
        self._info = info
        self._docker_stats = docker_stats
        self._delays = delays

    def register(self, router: Router) -> None:
        """Add the routes to ``router``."""
        router.add("GET", "/_sim/info", self.info)
        router.add("GET", "/_sim/stats", self.stats)
        router.add("POST", "/_sim/faults", self.add_fault)
        router.add("DELETE", "/_sim/faults", self.clear_faults)

    def info(self, request: Request, exchange: Exchange) -> None:
        """The ready line's information."""
        exchange.send_json(200, self._info())

    def stats(self, request: Request, exchange: Exchange) -> None:
        """AWS plane counters, Docker request counts per route, and the delays drawn so far."""
        docker = {
            **self._docker_stats(),
            "faults_injected": self._faults.injected(),
            "faults_active": self._faults.active(),
        }
        body = {"aws": self._plane.stats(), "docker": docker, "delays": self._delays()}
        exchange.send_json(200, body)

    def add_fault(self, request: Request, exchange: Exchange) -> None:
        """201 with the fault as registered; 400 for an invalid description."""
        body = request.body_fields()
        target = body.string("target")
        if target == "aws":
            exchange.send_json(201, {"target": "aws", **self._add_aws_fault(body)})
        elif target == "docker":
            fault = self._faults.add(
                body.string("route"),
                status=_optional_int(body, "status"),
                drop_after_bytes=_optional_int(body, "drop_after_bytes"),
                count=_optional_int(body, "count"),
            )
            exchange.send_json(201, {"target": "docker", **asdict(fault)})
        else:
            raise bad_request("'target' must be 'aws' or 'docker'")

    def _add_aws_fault(self, body: Body) -> dict[str, Any]:
        operation = body.string("operation")
        if not operation:
            raise bad_request("an aws fault needs 'operation' (e.g. DescribeTasks)")
        options: dict[str, Any] = {}
        if body.get("error_code") is not None:
            options["error_code"] = body.string("error_code")
        status = _optional_int(body, "http_status")
        if status is not None:
            options["http_status"] = status
        count = _optional_int(body, "count")
        if count is not None:
            options["count"] = count
        rate = body.get("rate")
        if rate is not None:
            if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 < rate <= 1:
                raise bad_request("rate must be a number in (0, 1]")
            options["rate"] = float(rate)
        if body.get("message") is not None:
            options["message"] = body.string("message")
        try:
            self._plane.faults.add(operation, **options)
        except (ValueError, TypeError) as exc:
            raise bad_request(f"invalid aws fault: {exc}") from None
        return {"operation": operation, **options}

    def clear_faults(self, request: Request, exchange: Exchange) -> None:
        """204; both AWS and Docker faults are gone."""
        self._plane.faults.clear()
        self._faults.clear()
        exchange.send_empty(204)
