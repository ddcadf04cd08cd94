"""Query encoding: lowercase booleans, filters, since/until, exec commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest

from SockerlessLibrary.create_options import environment
from SockerlessLibrary.encoding import (
    command_list,
    encode_filters,
    encode_query,
    encode_time,
)
from SockerlessLibrary.errors import ConfigurationError
from utest.wire_codecs import find_uppercase_booleans


def test_booleans_are_lowercase_and_none_is_left_out() -> None:
    query = encode_query({"all": True, "force": False, "t": 5, "name": None, "tail": "all"})
    assert query == "all=true&force=false&t=5&tail=all"
    assert not find_uppercase_booleans(query)


def test_values_are_url_encoded() -> None:
    assert encode_query({"filters": '{"label":["a=b c"]}'}) == (
        "filters=%7B%22label%22%3A%5B%22a%3Db%20c%22%5D%7D"
    )


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("all=True", ["all=True"]),
        ("/v1.44/containers/json?all=1&force=False", ["force=False"]),
        ("a=true&b=false&c=1", []),
        ("v=False&link=False&force=False", ["v=False", "link=False", "force=False"]),
        ("label=True%20story", []),
    ],
)
def test_uppercase_boolean_detection(query: str, found: list[str]) -> None:
    assert find_uppercase_booleans(query) == found


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"label": ["test-run=ecs"]}, {"label": ["test-run=ecs"]}),
        ({"label": {"test-run=ecs": True}}, {"label": {"test-run=ecs": True}}),
        ({"label": "k=v"}, {"label": ["k=v"]}),
        (
            {"status": ["exited", "created"], "name": ["web"]},
            {"name": ["web"], "status": ["exited", "created"]},
        ),
        ('{"label": ["k=v"]}', {"label": ["k=v"]}),
        ('{"label": {"k=v": true}}', {"label": {"k=v": True}}),
    ],
)
def test_filters_both_shapes_and_json_strings(filters: object, expected: object) -> None:
    encoded = encode_filters(filters)  # type: ignore[arg-type]
    assert encoded is not None
    assert json.loads(encoded) == expected
    assert " " not in encoded  # compact: no '+' or %20 noise on the wire


def test_filters_none_stays_none() -> None:
    assert encode_filters(None) is None


@pytest.mark.parametrize(
    "filters",
    ['{"label": [', "label=k=v", "[1, 2]", '"text"', {"label": [1]}, {"label": {"k": "yes"}}],
)
def test_bad_filters_are_configuration_errors(filters: object) -> None:
    with pytest.raises(ConfigurationError, match="filters"):
        encode_filters(filters)  # type: ignore[arg-type]


def test_filters_round_trip_through_the_query() -> None:
    query = encode_query({"all": True, "filters": encode_filters({"label": ["a=b"]})})
    parsed = parse_qs(query)
    assert parsed["all"] == ["true"]
    assert json.loads(parsed["filters"][0]) == {"label": ["a=b"]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (1700000000, "1700000000"),
        (1700000000.25, "1700000000.25"),
        ("1700000000", "1700000000"),
        ("1700000000.123456789", "1700000000.123456789"),
        (datetime(2024, 1, 1, tzinfo=UTC), "1704067200"),
        (datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=UTC), "1704067200.500000"),
        (datetime(2024, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))), "1704067200"),
        (datetime(2024, 1, 1), "1704067200"),  # naive means UTC
        ("2024-01-01T00:00:00Z", "1704067200"),
        ("2024-01-01T00:00:00.25Z", "1704067200.250000"),
    ],
)
def test_since_and_until(value: object, expected: str | None) -> None:
    assert encode_time(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["yesterday", "-5", -1, True, datetime(1960, 1, 1, tzinfo=UTC)])
def test_bad_times_are_configuration_errors(value: object) -> None:
    with pytest.raises(ConfigurationError, match="until"):
        encode_time(value, name="until")  # type: ignore[arg-type]


def test_exec_command_is_always_a_list() -> None:
    assert command_list(["echo", "exec-works"]) == ["echo", "exec-works"]
    assert command_list(("sh", "-c", "exit 7")) == ["sh", "-c", "exit 7"]
    assert command_list("echo 'hello from fargate'") == ["echo", "hello from fargate"]
    with pytest.raises(ConfigurationError):
        command_list("echo 'unbalanced")
    with pytest.raises(ConfigurationError):
        command_list([1, 2])  # type: ignore[list-item]


def test_env_becomes_key_value_strings() -> None:
    assert environment({"A": "1", "B": 2}) == ["A=1", "B=2"]
    assert environment(["A=1"]) == ["A=1"]
