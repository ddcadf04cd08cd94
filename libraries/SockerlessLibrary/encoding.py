"""Query and body encoding the daemon parses literally.

sockerless compares ``all``, ``force``, ``follow``, ``timestamps`` and ``stderr`` against exactly
``"1"``/``"true"``: Python's ``True`` sent as ``True`` silently means false there. Every boolean
leaves this module as lowercase ``true``/``false``.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote, urlencode

from .errors import ConfigurationError
from .logstream import try_parse_timestamp

QueryValue = bool | int | float | str | None
FiltersArg = Mapping[str, object] | str | None
TimeArg = datetime | int | float | str | None

_UNIX_SECONDS = re.compile(r"\d+(\.\d{1,20})?")


def encode_query(params: Mapping[str, QueryValue]) -> str:
    """A URL-encoded query string; ``None`` values are left out, booleans are lowercase."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        elif value is not None:
            pairs.append((key, str(value)))
    return urlencode(pairs, quote_via=quote)


def encode_filters(filters: FiltersArg) -> str | None:
    """``filters`` as compact JSON for the ``filters`` query parameter (``None`` stays ``None``).

    Accepts either Docker shape, ``{"label": ["k=v"]}`` or ``{"label": {"k=v": true}}`` (a single
    string value becomes a one-item list), or a JSON string, which must parse to an object.
    """
    if filters is None:
        return None
    if isinstance(filters, str):
        try:
            parsed = json.loads(filters)
        except json.JSONDecodeError as error:
            raise ConfigurationError(f"filters is not valid JSON ({error}): {filters!r}") from None
        if not isinstance(parsed, dict):
            raise ConfigurationError(f"filters must be a JSON object, got: {filters!r}")
        filters = parsed
    normalised: dict[str, list[str] | dict[str, bool]] = {}
    for key, value in filters.items():
        normalised[str(key)] = _filter_values(str(key), value)
    return json.dumps(normalised, separators=(",", ":"), sort_keys=True)


def _filter_values(key: str, value: object) -> list[str] | dict[str, bool]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        if all(isinstance(flag, bool) for flag in value.values()):
            return {str(item): bool(flag) for item, flag in value.items()}
    elif isinstance(value, Iterable) and all(isinstance(item, str) for item in value):
        return list(value)
    raise ConfigurationError(
        f"filters[{key!r}] must be a list of strings or a mapping of string to boolean, "
        f"got {value!r}"
    )


def encode_time(value: TimeArg, *, name: str = "since") -> str | None:
    """``since``/``until`` as ``seconds[.fraction]`` since the epoch, what the daemon parses.

    Accepts an aware ``datetime`` (a naive one is taken as UTC, like every daemon timestamp),
    int/float seconds, a numeric string, or an RFC 3339 string.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} must be a time, got {value!r}")
    if isinstance(value, datetime):
        return _datetime_seconds(name, value)
    if isinstance(value, int):
        return _non_negative(name, str(value))
    if isinstance(value, float):
        return _non_negative(name, _decimal_text(Decimal(repr(value))))
    text = value.strip()
    if _UNIX_SECONDS.fullmatch(text):
        return text
    parsed = try_parse_timestamp(text)
    if parsed is None:
        raise ConfigurationError(
            f"{name} must be a datetime, seconds since the epoch or an RFC 3339 timestamp, "
            f"got {value!r}"
        )
    return _datetime_seconds(name, parsed)


def _datetime_seconds(name: str, value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    seconds = delta.days * 86400 + delta.seconds
    text = f"{seconds}.{delta.microseconds:06d}" if delta.microseconds else str(seconds)
    return _non_negative(name, text)


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _non_negative(name: str, text: str) -> str:
    if text.startswith("-"):
        raise ConfigurationError(f"{name} must not be before 1970-01-01, got {text}")
    return text


def command_list(cmd: str | Sequence[str], *, what: str = "cmd") -> list[str]:
    """A command as the JSON array Docker requires (a string is split like a shell would)."""
    if isinstance(cmd, str):
        try:
            return shlex.split(cmd)
        except ValueError as error:
            raise ConfigurationError(f"{what} {cmd!r} cannot be split: {error}") from None
    items = list(cmd)
    if not all(isinstance(item, str) for item in items):
        raise ConfigurationError(f"{what} must be a list of strings, got {cmd!r}")
    return items
