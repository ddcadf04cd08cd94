"""Container identities: IDs, Docker's name rules, generated names, and ECS tag values."""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Container, Mapping

NAME_PATTERN = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
TAG_VALUE_LIMIT = 256  # ECS tag values are at most 256 characters

_ADJECTIVES = (
    "admiring", "brave", "clever", "eager", "focused", "gallant", "happy", "jolly",
    "keen", "nifty", "quirky", "serene", "vibrant", "zen",
)  # fmt: skip
_SURNAMES = (
    "babbage", "curie", "darwin", "euler", "fermi", "hopper", "lovelace", "noether",
    "pascal", "turing", "wozniak", "yalow",
)  # fmt: skip


def new_id() -> str:
    """64 lowercase hex digits (32 random bytes), like Docker and sockerless."""
    return secrets.token_hex(32)


def new_agent_token() -> str:
    """The per-container agent token: 32 random bytes as hex."""
    return secrets.token_hex(32)


def valid_name(name: str) -> bool:
    """Docker's container name rule (a leading ``/`` is allowed and ignored)."""
    return NAME_PATTERN.match(name) is not None


def generate_name(taken: Container[str]) -> str:
    """A Docker-style ``adjective_surname`` not in ``taken``."""
    while True:
        name = f"{secrets.choice(_ADJECTIVES)}_{secrets.choice(_SURNAMES)}"
        if name not in taken:
            return name
        name = f"{name}{secrets.randbelow(10)}"
        if name not in taken:
            return name


def labels_b64_tags(labels: Mapping[str, str]) -> dict[str, str]:
    """sockerless' ``sockerless-labels-b64`` tag: unpadded URL-safe base64 of the labels JSON,
    split into ``sockerless-labels-b64-0..N`` when longer than a tag value may be."""
    if not labels:
        return {}
    # Go's json.Marshal of a map: sorted keys, no spaces.
    text = json.dumps(dict(labels), sort_keys=True, separators=(",", ":"))
    encoded = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    if len(encoded) <= TAG_VALUE_LIMIT:
        return {"sockerless-labels-b64": encoded}
    parts = [encoded[i : i + TAG_VALUE_LIMIT] for i in range(0, len(encoded), TAG_VALUE_LIMIT)]
    return {f"sockerless-labels-b64-{index}": part for index, part in enumerate(parts)}
