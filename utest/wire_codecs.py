"""Test-side encoders for what the library only decodes or never builds itself.

The library reads multiplexed streams and sends lowercase booleans; tests need to write such
streams (as a daemon would) and to prove that no request carries Python-style booleans.
``create_container`` builds a create body from a few options, as the keywords do, for tests that
talk to a ``DockerClient`` directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from SockerlessLibrary.client import DockerClient
from SockerlessLibrary.create_options import container_create_body
from SockerlessLibrary.encoding import command_list
from SockerlessLibrary.mux import frame_header


def encode_frames(frames: Sequence[tuple[int, bytes]]) -> bytes:
    """``[(stream, payload), ...]`` as a multiplexed stream."""
    return b"".join(frame_header(stream, len(payload)) + payload for stream, payload in frames)


def find_uppercase_booleans(query: str) -> list[str]:
    """The ``key=value`` pairs of ``query`` whose value is a Python-style ``True``/``False``."""
    query = query.partition("?")[2] if "?" in query else query
    return [
        f"{key}={value}"
        for key, value in parse_qsl(query, keep_blank_values=True)
        if value in ("True", "False")
    ]


def create_container(
    client: DockerClient,
    image: str,
    *,
    cmd: str | Sequence[str] | None = None,
    entrypoint: str | Sequence[str] | None = None,
    env: Mapping[str, object] | Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    name: str | None = None,
    tty: bool = False,
) -> dict[str, Any]:
    """``POST /containers/create?name=...`` through ``client``: ``{"Id": ..., "Warnings": [...]}``.

    A string ``cmd`` or ``entrypoint`` is split like a shell would."""
    command = () if cmd is None else command_list(cmd, what="cmd")
    body = container_create_body(
        image,
        command,
        {},
        entrypoint=None if entrypoint is None else command_list(entrypoint, what="entrypoint"),
        env=env,
        labels=labels,
        tty=tty,
    )
    return client.create_container_from_body(body, name=name)
