"""``expected_status`` as the keywords accept it: an int, a comma list ("204,304") or "any".

The same convention as RequestsLibrary, so QA reads one rule for both libraries.
"""

from __future__ import annotations

from collections.abc import Collection

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


def describe_expected(statuses: Collection[int]) -> str:
    """``"204"``, ``"204 or 304"``, or ``"any"``."""
    if statuses is ANY_STATUS:
        return "any"
    return " or ".join(str(status) for status in statuses)


def _valid(status: int, original: object) -> int:
    if not 100 <= status <= 599:
        raise InvalidExpectedStatus(_message(original))
    return status


def _message(value: object) -> str:
    return (
        f"Invalid expected_status '{value}': use an HTTP status code (204), "
        "a comma-separated list (204,304) or 'any'"
    )
