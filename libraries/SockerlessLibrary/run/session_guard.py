"""The kit's guarantees for containers created through its RequestsLibrary session.

`Create Sockerless Session` mounts `CreateGuardAdapter` in front of the adapter that reaches the
daemon: a ``POST .../containers/create`` goes through the same `CreateInFlight` as `Create
Container` (labels, budget, registry, journal, all before the keyword returns) and is told to the
timeline as the client tells its own creates. Every other request passes untouched.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter

from ..client import DockerCall
from ..create_options import with_kit_labels
from ..errors import ConfigurationError
from .context import LibraryContext
from .creation import CreateInFlight, kit_labels

_CREATE_PATH = re.compile(r"^(/v\d+(\.\d+)*)?/containers/create/?$")


def is_create(request: PreparedRequest) -> bool:
    """``POST [/vX.Y]/containers/create`` (the base URL's own prefix included)."""
    return (request.method or "").upper() == "POST" and bool(
        _CREATE_PATH.match(urlsplit(request.url or "").path)
    )


def create_name(request: PreparedRequest) -> str | None:
    """The ``name`` query parameter of a create, if any."""
    names = parse_qs(urlsplit(request.url or "").query).get("name")
    return names[0] if names else None


def labelled_body(request: PreparedRequest, labels: Mapping[str, str]) -> dict[str, Any]:
    """The create's JSON body with the kit's labels added; a body that is not a JSON object
    fails (the kit could not label the container, so cleanup could not find it)."""
    raw = request.body
    text = raw.decode() if isinstance(raw, bytes) else (raw or "")
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ConfigurationError(
            "A POST /containers/create on the kit's session needs a JSON object body (json=...), "
            f"so the kit can label the container for cleanup; got {text[:200]!r}"
        )
    return with_kit_labels(body, labels)


class CreateGuardAdapter(BaseAdapter):
    """Sends through ``inner``; creates go through the kit's `CreateInFlight` on the way."""

    def __init__(self, inner: BaseAdapter, ctx: LibraryContext) -> None:
        super().__init__()
        self.inner = inner
        self.ctx = ctx

    def send(  # noqa: PLR0917 - requests' own adapter signature
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        """One request; a create is labelled, counted and, once answered, registered."""
        if not is_create(request):
            return self.inner.send(request, stream, timeout, verify, cert, proxies)
        body = labelled_body(request, kit_labels(self.ctx))
        encoded = json.dumps(body).encode()
        request.body = encoded
        request.headers["Content-Type"] = "application/json"
        request.headers["Content-Length"] = str(len(encoded))
        create = CreateInFlight.begin(self.ctx, create_name(request))
        path = urlsplit(request.url or "").path
        sent = time.time()
        try:
            response = self.inner.send(request, stream, timeout, verify, cert, proxies)
        except Exception as error:
            create.failed(error)
            raise
        self.ctx.timeline.docker_call(
            DockerCall(
                "create container",
                "POST",
                path,
                sent,
                time.time(),
                response.status_code,
                body,
                response.content,
            )
        )
        if response.status_code >= 400:
            create.refused(response.status_code)
            return response
        try:
            answer = response.json()
        except ValueError:
            answer = None
        create.answered(answer, tty=bool(body.get("Tty")), image=str(body.get("Image", "")))
        return response

    def close(self) -> None:
        """Close the adapter that reaches the daemon."""
        self.inner.close()
