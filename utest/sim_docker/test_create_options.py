"""The create body field by field, on the wire: what the Docker CLI 28 sends, what is refused, what
is reported in ``Warnings``, and what reaches the ECS task definition.

``cli28_create_bodies.json`` holds two bodies ``/usr/local/bin/docker`` 28.2.2 sent, captured by
a logging proxy in front of the simulator: ``plain`` (``docker create --name plain2 alpine
true``) and ``every_option`` (``docker create`` with every option of ``docker run --help`` that
the CLI accepts together; the command is in simulator/README.md, "Create options").
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from wire_helpers import RawClient

from sockerless_sim.docker_api import create_options as options

BODIES = json.loads((Path(__file__).parent / "cli28_create_bodies.json").read_text())
CREATE = "/v1.44/containers/create"


def _create(client: RawClient, body: dict[str, Any], query: str = "") -> Any:
    response = client.request("POST", CREATE + (f"?{query}" if query else ""), body)
    if response.status == 201:
        client.created.append(response.json()["Id"])
    return response


def _task_definition(aws: Callable[[str], Any], container_id: str) -> dict[str, Any]:
    family = f"sockerless-{container_id[:12]}"
    found = aws("ecs").describe_task_definition(taskDefinition=family)
    return dict(found["taskDefinition"])


def test_the_clis_plain_body_draws_no_warning(client: RawClient) -> None:
    response = _create(client, BODIES["plain"]["body"])
    assert response.status == 201, response.raw
    assert response.json()["Warnings"] == []


def test_every_field_the_cli_sends_has_a_rule() -> None:
    body = BODIES["every_option"]["body"]
    assert set(body) - set(options.CONFIG_FIELDS) == set()
    assert set(body["HostConfig"]) - set(options.HOST_CONFIG_FIELDS) == set()


def test_every_option_is_refused_or_reported_or_honoured(client: RawClient) -> None:
    body = copy.deepcopy(BODIES["every_option"]["body"])
    refused = _create(client, body, BODIES["every_option"]["query"])
    assert refused.status == 400
    assert refused.json()["message"].startswith(
        "HostConfig.Binds is not supported by the embedded simulator"
    )
    del body["HostConfig"]["Binds"]
    body["User"] = ""  # resolvable or not on this host: tested apart
    response = _create(client, body, BODIES["every_option"]["query"])
    assert response.status == 201, response.raw
    warnings = response.json()["Warnings"]
    reported = {w.split(" ", 1)[0] for w in warnings}
    expected = {
        f"Config.{name}"
        for name, value in body.items()
        if options.CONFIG_FIELDS[name].handling is options.Handling.REPORTED
        and not options.is_unset(value, options.CONFIG_FIELDS[name])
    } | {
        f"HostConfig.{name}"
        for name, value in body["HostConfig"].items()
        if options.HOST_CONFIG_FIELDS[name].handling is options.Handling.REPORTED
        and not options.is_unset(value, options.HOST_CONFIG_FIELDS[name])
    }
    expected |= {
        "HostConfig.LogConfig",
        "NetworkingConfig.EndpointsConfig.bridge",
        "query.platform",
    }
    assert reported == expected
    assert len(expected) > 50
    assert all("is accepted but has no effect on the embedded simulator: " in w for w in warnings)


def test_an_unknown_or_misspelt_field_is_reported(client: RawClient) -> None:
    response = _create(client, {"Image": "alpine", "Cmd": ["true"], "Workdir": "/tmp"})
    assert response.status == 201
    assert response.json()["Warnings"] == [
        "Config.Workdir is not a field of the Docker create body; ignored (Docker ignores "
        "unknown fields too: check its spelling)"
    ]
    lower = _create(client, {"image": "alpine", "cmd": ["true"], "workingdir": "/tmp"})
    assert lower.json()["Warnings"] == []  # Docker matches keys case-insensitively


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"WorkingDir": "tmp"}, "the working directory 'tmp' is invalid"),
        ({"WorkingDir": "/no/such/dir"}, "Config.WorkingDir is not supported"),
        ({"User": "no-such-user"}, "unable to find user no-such-user"),
        ({"User": "0:no-such-group"}, "unable to find group no-such-group"),
        ({"StopSignal": "SIGNOPE"}, "Invalid signal: SIGNOPE"),
        ({"StopTimeout": "10"}, "StopTimeout must be an integer"),
        ({"HostConfig": {"NetworkMode": "mynet"}}, "HostConfig.NetworkMode is not supported"),
        ({"HostConfig": {"Memory": 200 * 1024**3}}, "no Fargate task size has"),
        (
            {"NetworkingConfig": {"EndpointsConfig": {"mynet": {}}}},
            "NetworkingConfig.EndpointsConfig.mynet is not supported",
        ),
    ],
)
def test_invalid_or_refused_values_are_400(
    client: RawClient, body: dict[str, Any], message: str
) -> None:
    response = _create(client, {"Image": "alpine", "Cmd": ["true"], **body})
    assert response.status == 400, response.raw
    assert message in response.json()["message"]


def test_honoured_fields_reach_the_task_definition(
    client: RawClient, aws: Callable[[str], Any]
) -> None:
    container_id = client.create(
        ["true"],
        WorkingDir="/tmp",
        User="nobody",
        StopSignal="SIGUSR1",
        StopTimeout=7,
        OpenStdin=True,
        HostConfig={"Memory": 3 * 1024**3, "NanoCpus": 1_000_000_000},
    )
    definition = _task_definition(aws, container_id)
    container = definition["containerDefinitions"][0]
    assert container["workingDirectory"] == "/tmp"
    assert container["user"] == "nobody"
    assert container["stopTimeout"] == 7
    assert container["interactive"] is True
    assert container["entryPoint"][:4] == [
        "/sockerless-agent", "--stop-signal", "SIGUSR1", "--"
    ]  # fmt: skip
    assert container["entryPoint"][4:] == ["true"]
    assert (definition["cpu"], definition["memory"]) == ("1024", "3072")
    default = _task_definition(aws, client.create(["true"]))
    assert (default["cpu"], default["memory"]) == ("256", "512")
    config = client.inspect(container_id)["Config"]
    assert (config["StopSignal"], config["StopTimeout"], config["OpenStdin"]) == (
        "SIGUSR1", 7, True,
    )  # fmt: skip


def test_stop_timeout_above_fargates_maximum_is_capped_and_reported(
    client: RawClient, aws: Callable[[str], Any]
) -> None:
    response = _create(client, {"Image": "alpine", "Cmd": ["true"], "StopTimeout": 300})
    assert response.json()["Warnings"] == [
        "Config.StopTimeout 300 is more than Fargate's maximum stop timeout: the task gets 120 s"
    ]
    definition = _task_definition(aws, response.json()["Id"])
    assert definition["containerDefinitions"][0]["stopTimeout"] == 120
