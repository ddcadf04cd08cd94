"""Method + path-template routing with the optional ``/vX.Y[.Z]`` prefix Docker clients send."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .exchange import Exchange, Request

Handler = Callable[[Request, Exchange], None]

_VERSION_PREFIX = re.compile(r"^/v[0-9]+(?:\.[0-9]+){1,2}(?=/)")
_PARAM = re.compile(r"\{(\w+)(\*?)\}")


def strip_version(path: str) -> str:
    """``/v1.44/containers/json`` -> ``/containers/json``; unversioned paths are unchanged."""
    return _VERSION_PREFIX.sub("", path, count=1)


@dataclass(frozen=True)
class Route:
    """One route: ``template`` is ``"GET /containers/{id}/json"``."""

    method: str
    pattern: re.Pattern[str]
    template: str
    handler: Handler


class Router:
    """Finds the handler and path parameters for a request."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` on ``path`` (``{name}`` matches one segment,
        ``{name*}`` one or more: an image reference such as ``ghcr.io/org/app:1``)."""
        regex = _PARAM.sub(
            lambda m: f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})",
            re.escape(path).replace(r"\{", "{").replace(r"\*\}", "*}").replace(r"\}", "}"),
        )
        self._routes.append(Route(method, re.compile(f"^{regex}$"), f"{method} {path}", handler))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and its parameters, or None (Docker answers 404 for both unknown paths and
        known paths with the wrong method)."""
        for route in self._routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
        return None

    def templates(self) -> list[str]:
        """Every registered ``"METHOD /path"``."""
        return [route.template for route in self._routes]
