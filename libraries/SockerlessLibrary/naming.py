"""Unique, valid Docker container names derived from the test (or suite) name.

Docker accepts ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``; the name is lowercased (easy to grep in AWS tags
and logs), truncated so the random suffix always fits, and made unique with 8 random hex digits,
the Robot counterpart of the spec's ``t.Name()`` plus a random suffix.
"""

from __future__ import annotations

import re
import secrets

MAX_BASE_LENGTH = 50
FALLBACK_BASE = "container"
_INVALID = re.compile(r"[^a-z0-9_.-]+")
_VALID_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


def sanitise_name(text: str, max_length: int = MAX_BASE_LENGTH) -> str:
    """Lowercase, invalid runs -> ``-``, no leading/trailing separators, at most ``max_length``."""
    base = _INVALID.sub("-", text.lower())
    base = re.sub(r"-{2,}", "-", base).strip("-_.")
    base = base[:max_length].rstrip("-_.")
    return base or FALLBACK_BASE


def unique_container_name(text: str, suffix: str | None = None) -> str:
    """``sanitise_name(text)`` + ``-`` + 8 random hex digits."""
    return f"{sanitise_name(text)}-{suffix or secrets.token_hex(4)}"


def is_valid_container_name(name: str) -> bool:
    """True when Docker would accept ``name``."""
    return bool(_VALID_NAME.fullmatch(name))
