"""Parsing of query parameters and JSON bodies, with sockerless' (and Docker's) rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from .errors import bad_request

# sockerless compares booleans with exactly these strings: "True" (what `requests` sends for
# Python's True) is false, so a client that does not lowercase its booleans is caught here.
TRUE_VALUES = frozenset({"1", "true"})


class Query:
    """A form-decoded query string (``+`` is a space); the first value of a key wins."""

    def __init__(self, raw: str) -> None:
        self._values = parse_qs(raw, keep_blank_values=True)

    def get(self, name: str) -> str | None:
        """The first value of ``name``, or None when absent."""
        values = self._values.get(name)
        return values[0] if values else None

    def flag(self, name: str) -> bool:
        """True only for the literal ``1`` or ``true``."""
        return self.get(name) in TRUE_VALUES

    def has(self, name: str) -> bool:
        """Whether ``name`` was given at all."""
        return name in self._values

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter; 400 when present but not an integer."""
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise bad_request(f"invalid value for {name}: {value!r}") from None

    def unix_time(self, name: str) -> float | None:
        """``seconds[.fraction]`` as a float; None when absent or empty; 400 when malformed."""
        value = self.get(name)
        if value is None or value == "":
            return None
        try:
            seconds = float(value)
        except ValueError:
            raise bad_request(f"invalid value for {name}: {value!r}") from None
        if seconds < 0:
            raise bad_request(f"invalid value for {name}: {value!r}")
        return seconds

    def filters(self) -> dict[str, list[str]]:
        """``filters`` JSON in either Docker shape: ``{"k": ["v"]}`` or ``{"k": {"v": true}}``."""
        raw = self.get("filters")
        if raw is None or raw.strip() == "":
            return {}
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise bad_request(f"invalid filters: {raw!r} is not JSON") from None
        if not isinstance(parsed, dict):
            raise bad_request(f"invalid filters: {raw!r} is not a JSON object")
        result: dict[str, list[str]] = {}
        for key, value in parsed.items():
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                result[key] = list(value)
            elif isinstance(value, dict):
                result[key] = [k for k, enabled in value.items() if enabled is True]
            elif isinstance(value, str):
                result[key] = [value]
            else:
                raise bad_request(f"invalid filters: bad value for {key!r}")
        return result


def size_query(query: Query) -> tuple[int, int]:
    """``h`` and ``w`` of a resize (rows, columns); 400 when either is missing or not a
    non-negative integer."""
    sizes = []
    for name in ("h", "w"):
        value = query.integer(name)
        if value is None or value < 0:
            raise bad_request(f"invalid resize: {name} must be a non-negative integer")
        sizes.append(value)
    return sizes[0], sizes[1]


def parse_json_body(body: bytes) -> dict[str, Any]:
    """A JSON object body; an empty body is ``{}``; 400 for anything else."""
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"invalid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise bad_request("invalid JSON: the body is not a JSON object")
    return parsed


class Body:
    """A JSON object read with Go's case-insensitive keys (docker-py sends ``detachKeys``)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = {key.lower(): value for key, value in data.items()}

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` matched case-insensitively, or ``default``."""
        value = self._data.get(key.lower(), default)
        return default if value is None else value

    def boolean(self, key: str) -> bool:
        """A JSON boolean field; 400 when it has another type."""
        value = self.get(key, False)
        if not isinstance(value, bool):
            raise bad_request(f"invalid JSON: {key} must be a boolean")
        return value

    def string(self, key: str, default: str = "") -> str:
        """A JSON string field; 400 when it has another type."""
        value = self.get(key, default)
        if not isinstance(value, str):
            raise bad_request(f"invalid JSON: {key} must be a string")
        return value

    def string_list(self, key: str, *, allow_string: bool) -> list[str] | None:
        """A list of strings (or, with ``allow_string``, one string, as Docker's strslice)."""
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, str) and allow_string:
            return [value]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
        raise bad_request(f"invalid JSON: {key} must be an array of strings")

    def string_map(self, key: str) -> dict[str, str]:
        """An object of string values (labels)."""
        value = self.get(key, {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise bad_request(f"invalid JSON: {key} must be an object of strings")
        return dict(value)
