"""Pure functions of the Docker API layer: parameters, timestamps, framing, routing, naming."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from sockerless_sim.docker_api import framing
from sockerless_sim.docker_api.ecs import LogEvent
from sockerless_sim.docker_api.errors import ApiError
from sockerless_sim.docker_api.logs import docker_timestamp, sockerless_timestamp, split_event
from sockerless_sim.docker_api.naming import labels_b64_tags, valid_name
from sockerless_sim.docker_api.params import Body, Query
from sockerless_sim.docker_api.records import TaskSnapshot, docker_state
from sockerless_sim.docker_api.routing import Router, strip_version


def test_flags_are_true_only_for_1_and_lowercase_true() -> None:
    query = Query("a=1&b=true&c=True&d=TRUE&e=yes&f=&g=0")
    assert [query.flag(k) for k in "abcdefgh"] == [True, True] + [False] * 6


def test_filters_accept_both_shapes_and_plus_as_space() -> None:
    assert Query("filters=%7B%22label%22%3A+%5B%22k%3Dv%22%5D%7D").filters() == {"label": ["k=v"]}
    mapped = json.dumps({"label": {"k=v": True, "off": False}, "status": ["running"]})
    assert Query(f"filters={mapped}").filters() == {"label": ["k=v"], "status": ["running"]}
    with pytest.raises(ApiError) as bad:
        Query("filters=%5B1%5D").filters()
    assert bad.value.status == 400


def test_unix_time_and_integers() -> None:
    query = Query("since=1700000000.5&until=0&t=x")
    assert query.unix_time("since") == 1700000000.5
    assert query.unix_time("until") == 0
    with pytest.raises(ApiError):
        query.integer("t")


def test_body_keys_match_case_insensitively() -> None:
    body = Body({"detachKeys": "x", "tty": True, "Cmd": ["a"]})
    assert body.string("DetachKeys") == "x"
    assert body.boolean("Tty") is True
    assert body.string_list("cmd", allow_string=False) == ["a"]
    with pytest.raises(ApiError):
        Body({"Tty": "yes"}).boolean("Tty")


@pytest.mark.parametrize(
    ("ms", "docker", "sockerless"),
    [
        (1_700_000_000_123, "2023-11-14T22:13:20.123000000Z", "2023-11-14T22:13:20.123Z"),
        (1_700_000_000_300, "2023-11-14T22:13:20.300000000Z", "2023-11-14T22:13:20.3Z"),
        (1_700_000_000_000, "2023-11-14T22:13:20.000000000Z", "2023-11-14T22:13:20Z"),
        (1_700_000_000_010, "2023-11-14T22:13:20.010000000Z", "2023-11-14T22:13:20.01Z"),
    ],
)
def test_timestamp_formats(ms: int, docker: str, sockerless: str) -> None:
    assert docker_timestamp(ms) == docker
    assert sockerless_timestamp(ms) == sockerless


def test_stderr_marker_selects_stream_2() -> None:
    assert split_event(LogEvent(1, "[stderr] boom")) == (2, "boom")
    assert split_event(LogEvent(1, "plain [stderr] ")) == (1, "plain [stderr] ")


def test_frames() -> None:
    assert framing.frame(2, b"hi") == b"\x02\x00\x00\x00\x00\x00\x00\x02hi"
    assert framing.encode(1, b"hi", tty=True) == b"hi"
    assert framing.chunk(b"x" * 17) == b"11\r\n" + b"x" * 17 + b"\r\n"


def test_version_prefix_is_optional() -> None:
    assert strip_version("/v1.44/containers/json") == "/containers/json"
    assert strip_version("/v1.44.1/_ping") == "/_ping"
    assert strip_version("/version") == "/version"
    assert strip_version("/v1/x") == "/v1/x"
    router = Router()
    router.add("GET", "/containers/{id}/json", lambda request, exchange: None)
    found = router.match("GET", "/containers/abc/json")
    assert found is not None and found[1] == {"id": "abc"}
    assert router.match("POST", "/containers/abc/json") is None
    assert router.match("GET", "/containers/a/b/json") is None


def test_names_and_label_tags() -> None:
    assert valid_name("web-1.x_y")
    assert valid_name("/web")
    assert not valid_name("-web")
    assert not valid_name("a")  # Docker wants at least two characters
    tags = labels_b64_tags({"b": "2", "a": "1"})
    value = tags["sockerless-labels-b64"]
    assert not value.endswith("=")
    assert base64.urlsafe_b64decode(value + "==") == b'{"a":"1","b":"2"}'
    big = labels_b64_tags({"k": "v" * 400})
    assert sorted(big) == [f"sockerless-labels-b64-{i}" for i in range(3)]
    assert all(len(part) <= 256 for part in big.values())
    assert labels_b64_tags({}) == {}


def _snapshot(status: str, *, exit_code: int | None = None, started: bool = True) -> TaskSnapshot:
    moment = datetime(2026, 1, 1, tzinfo=UTC) if started else None
    return TaskSnapshot("arn:task/x", status, exit_code, "why", moment, moment, "10.0.0.5")


def test_state_mapping_follows_the_spec_table() -> None:
    assert docker_state(None).status == "created"
    assert docker_state(_snapshot("PROVISIONING", started=False)).status == "created"
    assert docker_state(_snapshot("PENDING", started=False)).status == "created"
    running = docker_state(_snapshot("RUNNING"))
    assert (running.status, running.ip) == ("running", "10.0.0.5")
    assert docker_state(_snapshot("DEPROVISIONING")).status == "running"
    assert docker_state(_snapshot("DEPROVISIONING", started=False)).status == "created"
    exited = docker_state(_snapshot("STOPPED", exit_code=3))
    assert (exited.status, exited.exit_code, exited.ip) == ("exited", 3, "")
    failed = docker_state(_snapshot("STOPPED", started=False))
    assert (failed.status, failed.exit_code, failed.error) == ("exited", 128, "why")
