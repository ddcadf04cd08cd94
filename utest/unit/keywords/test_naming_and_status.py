"""Container name generation and expected_status parsing."""

from __future__ import annotations

import re

import pytest

from SockerlessLibrary.arguments import (
    ANY_STATUS,
    InvalidExpectedStatus,
    parse_expected_status,
)
from SockerlessLibrary.naming import (
    MAX_BASE_LENGTH,
    sanitise_name,
    unique_container_name,
)

# Docker's rule for a container name (moby's daemon/names: ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``).
_DOCKER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


def is_valid_container_name(name: str) -> bool:
    return bool(_DOCKER_NAME.fullmatch(name))


@pytest.mark.parametrize(
    ("text", "base"),
    [
        ("Short-Lived Container Runs To Completion", "short-lived-container-runs-to-completion"),
        (
            "Start Of An Unpullable Image Fails, Instead Of Hanging!",
            "start-of-an-unpullable-image-fails-instead-of-hang",
        ),
        ("  __weird**name__ ", "weird-name"),
        ("Ünïcödé tëst", "n-c-d-t-st"),
        ("Suites.Ecs.Lifecycle", "suites.ecs.lifecycle"),
        ("***", "container"),
        ("", "container"),
        ("a" * 80, "a" * MAX_BASE_LENGTH),
    ],
)
def test_sanitised_base(text: str, base: str) -> None:
    assert sanitise_name(text) == base
    assert is_valid_container_name(base + "-0123abcd")


def test_unique_names_are_valid_lowercase_and_differ() -> None:
    names = {unique_container_name("Long-Running Container Serves Exec") for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert re.fullmatch(r"long-running-container-serves-exec-[0-9a-f]{8}", name)
        assert is_valid_container_name(name)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (201, (201,)),
        ("204", (204,)),
        ("204,304", (204, 304)),
        (" 204 , 304 ,204", (204, 304)),
        ([204, "304"], (204, 304)),
    ],
)
def test_expected_status_values(value: object, expected: tuple[int, ...]) -> None:
    assert tuple(parse_expected_status(value)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("word", ["any", "ANY", " anything "])
def test_any_accepts_every_status(word: str) -> None:
    statuses = parse_expected_status(word)
    assert statuses is ANY_STATUS
    assert 101 in statuses and 404 in statuses and 599 in statuses


@pytest.mark.parametrize("value", ["", "ok", "204;304", "20x", "99", 600, True, "204,", []])
def test_invalid_expected_status(value: object) -> None:
    with pytest.raises(InvalidExpectedStatus, match=r"Invalid expected_status .*'any'"):
        parse_expected_status(value)  # type: ignore[arg-type]
