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


def sanitise_name(text: str) -> str:
    """Lowercase, invalid runs -> ``-``, no separator at either end, ``MAX_BASE_LENGTH`` at most."""
    base = _INVALID.sub("-", text.lower())
    base = re.sub(r"-{2,}", "-", base).strip("-_.")
    base = base[:MAX_BASE_LENGTH].rstrip("-_.")
    return base or FALLBACK_BASE


def unique_container_name(text: str) -> str:
    """``sanitise_name(text)`` + ``-`` + 8 random hex digits."""
    return f"{sanitise_name(text)}-{secrets.token_hex(4)}"
