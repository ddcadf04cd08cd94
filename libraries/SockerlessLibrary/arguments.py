"""Keyword arguments the library converts itself: ``expected_status`` (an int, a comma list
("204,304") or "any", RequestsLibrary's convention, so QA reads one rule for both libraries) and
durations (``seconds``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

ANY_STATUS: Collection[int] = range(100, 600)
_ANY_WORDS = frozenset({"any", "anything"})


class ArgumentError(ValueError):
    """A keyword was called with an argument it cannot use (shown without a type prefix)."""

    ROBOT_SUPPRESS_NAME = True


class InvalidExpectedStatus(ArgumentError):
    """``expected_status`` could not be understood."""


def parse_expected_status(value: int | str | Collection[int | str]) -> Collection[int]:
    """The statuses a keyword accepts; ``ANY_STATUS`` for "any"."""
    if isinstance(value, bool):
        raise InvalidExpectedStatus(_message(value))
    if isinstance(value, int):
        return (_valid(value, value),)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in _ANY_WORDS:
            return ANY_STATUS
        parts = [part.strip() for part in text.split(",")]
        if not text or not all(part.isdigit() for part in parts):
            raise InvalidExpectedStatus(_message(value))
        return tuple(dict.fromkeys(_valid(int(part), value) for part in parts))
    statuses: list[int] = []
    for item in value:
        statuses.extend(parse_expected_status(item))
    if not statuses:
        raise InvalidExpectedStatus(_message(value))
    return tuple(dict.fromkeys(statuses))


def _valid(status: int, original: object) -> int:
    if not 100 <= status <= 599:
        raise InvalidExpectedStatus(_message(original))
    return status


def _message(value: object) -> str:
    return (
        f"Invalid expected_status '{value}': use an HTTP status code (204), "
        "a comma-separated list (204,304) or 'any'"
    )


def seconds(value: timedelta | float | None, default: float, *, name: str = "timeout") -> float:
    """A keyword's ``timeout`` (or other duration ``name``) in seconds, or the library default
    when not given. Zero or less is refused before anything is sent: a wait that cannot wait
    would only fail later, with a message about the daemon instead of the argument."""
    if value is None:
        return default
    given = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not given > 0:  # also refuses NaN
        raise ArgumentError(f"{name} must be more than 0 seconds, got {given:g}: nothing was sent")
    return given
