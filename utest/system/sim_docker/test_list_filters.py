"""Unknown list filter keys answer 400 as Docker does (measured on Docker 20.10 with
``peers.docker_engine``); keys Docker knows but the simulator does not evaluate are refused."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from wire_helpers import RawClient

pytestmark = pytest.mark.timeout(60)


def _list(client: RawClient, path: str, filters: object) -> tuple[int, Any]:
    response = client.request(
        "GET", f"{path}?all=1&filters={urllib.parse.quote(json.dumps(filters))}"
    )
    return response.status, response.json()


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"lable": ["qa-group=m1"]}, "Invalid filter 'lable'"),
        ({"lable": {"qa-group=m1": True}}, "Invalid filter 'lable'"),
        ({"label": ["qa-group=m1"], "Label": ["x"]}, "Invalid filter 'Label'"),
        ({"status": ["bogus"]}, "Invalid filter 'status=bogus'"),
    ],
)
def test_a_container_filter_docker_does_not_know_is_400(
    client: RawClient, filters: object, message: str
) -> None:
    client.create(["true"], Labels={"qa-group": "m1"})  # something a wrong filter would list
    assert _list(client, "/containers/json", filters) == (400, {"message": message})


def test_a_docker_filter_the_simulator_does_not_evaluate_is_400_naming_those_it_does(
    client: RawClient,
) -> None:
    status, body = _list(client, "/containers/json", {"ancestor": ["alpine"]})
    assert status == 400
    assert body["message"] == (
        "filter 'ancestor' is not supported by the embedded simulator (sockerless_sim): it "
        "evaluates id, label, name, status"
    )


def test_an_image_filter_docker_does_not_know_is_400(client: RawClient) -> None:
    assert _list(client, "/images/json", {"lable": ["x"]}) == (
        400,
        {"message": "Invalid filter 'lable'"},
    )
    status, _ = _list(client, "/images/json", {"reference": ["alpine"]})
    assert status == 200
