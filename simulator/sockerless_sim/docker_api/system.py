"""``/_ping``, ``/version`` and ``/info``."""

from __future__ import annotations

import os
import platform
from collections import Counter
from importlib import metadata

from .backend import EcsBackend
from .exchange import API_VERSION, MIN_API_VERSION, Exchange, Request
from .routing import Router

_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def simulator_version() -> str:
    """The kit's package version."""
    try:
        return metadata.version("sockerless-ecs-acceptance")
    except metadata.PackageNotFoundError:
        return "0.0.0"


class SystemRoutes:
    """Daemon identity and health."""

    def __init__(self, backend: EcsBackend) -> None:
        self._backend = backend
        self._version = simulator_version()
        self._arch = _ARCH.get(platform.machine(), platform.machine())

    def register(self, router: Router) -> None:
        """Add the routes to ``router``."""
        router.add("GET", "/_ping", self.ping)
        router.add("HEAD", "/_ping", self.ping)
        router.add("GET", "/version", self.version)
        router.add("GET", "/info", self.info)

    def ping(self, request: Request, exchange: Exchange) -> None:
        """200 ``OK`` (headers only for HEAD)."""
        exchange.send(
            200,
            b"OK",
            content_type="text/plain; charset=utf-8",
            headers=[
                ("Cache-Control", "no-cache, no-store, must-revalidate"),
                ("Pragma", "no-cache"),
                ("Swarm", "inactive"),
            ],
        )

    def version(self, request: Request, exchange: Exchange) -> None:
        """API 1.44, minimum 1.24, as sockerless reports."""
        details = {
            "ApiVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "Os": "linux",
            "Arch": self._arch,
            "KernelVersion": platform.release(),
        }
        exchange.send_json(
            200,
            {
                "Platform": {"Name": "sockerless-sim (ECS Fargate simulator)"},
                "Components": [{"Name": "Engine", "Version": self._version, "Details": details}],
                "Version": self._version,
                "GitCommit": "",
                "GoVersion": "",
                "BuildTime": "",
                **details,
            },
        )

    def info(self, request: Request, exchange: Exchange) -> None:
        """A Docker-shaped summary; container counts come from ECS."""
        views = self._backend.views(self._backend.records())
        states = Counter(view.state.status for view in views)
        plane = self._backend.plane
        exchange.send_json(
            200,
            {
                "ID": "sockerless-sim",
                "Containers": len(views),
                "ContainersRunning": states["running"],
                "ContainersPaused": 0,
                "ContainersStopped": states["exited"],
                "Images": 0,
                "Driver": "ecs-fargate",
                "LoggingDriver": "awslogs",
                "Name": self._backend.hostname,
                "OperatingSystem": "sockerless-sim (ECS Fargate simulator)",
                "OSType": "linux",
                "Architecture": platform.machine(),
                "NCPU": os.cpu_count() or 1,
                "MemTotal": 0,
                "ServerVersion": self._version,
                "KernelVersion": platform.release(),
                "Labels": [
                    "sockerless.backend=ecs",
                    f"sockerless.cluster={plane.cluster}",
                    f"sockerless.region={plane.region}",
                ],
                "ExperimentalBuild": False,
            },
        )
