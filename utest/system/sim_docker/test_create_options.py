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
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from wire_helpers import RawClient

from sockerless_sim.docker_api import create_options as options

BODIES = json.loads((Path(__file__).parent / "cli28_create_bodies.json").read_text())
README = Path(__file__).resolve().parents[3] / "simulator" / "README.md"
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


def test_a_tty_container_gets_a_terminal_of_its_console_size(client: RawClient) -> None:
    container_id = client.run(
        ["sh", "-c", "stty size"], Tty=True, HostConfig={"ConsoleSize": [30, 100]}
    )
    response = client.logs_when(container_id, "stdout=1", lambda body: b"30 100" in body)
    assert response.headers["content-type"] == "application/vnd.docker.raw-stream"
    bad = _create(client, {"Image": "alpine", "Tty": True, "HostConfig": {"ConsoleSize": [1]}})
    assert bad.status == 400
    assert bad.json()["message"] == "invalid JSON: HostConfig.ConsoleSize must be [rows, columns]"


def test_an_exec_console_size_that_is_no_size_is_refused_naming_the_exec(
    client: RawClient,
) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    body = {"Cmd": ["true"], "Tty": True, "ConsoleSize": [1]}
    created = client.request("POST", f"/containers/{container_id}/exec", body)
    assert (created.status, created.json()["message"]) == (
        400,
        "invalid JSON: exec.ConsoleSize must be [rows, columns]",
    )
    exec_id = client.create_exec(container_id, ["true"], Tty=True)
    started = client.request("POST", f"/exec/{exec_id}/start", {"Tty": True, "ConsoleSize": "big"})
    assert (started.status, started.json()["message"]) == (
        400,
        "invalid JSON: exec start.ConsoleSize must be [rows, columns]",
    )


def test_resize_sets_the_terminal_size_of_the_container_and_of_an_exec(
    client: RawClient,
) -> None:
    container_id = client.run(["sh", "-c", "tty; exec tail -f /dev/null"], Tty=True)
    logs = client.logs_when(container_id, "stdout=1", lambda body: b"/dev/pts/" in body)
    terminal = logs.body.split(b"/dev/pts/", 1)[1].split(b"\r", 1)[0].decode()
    resized = client.request("POST", f"/containers/{container_id}/resize?h=40&w=120")
    assert resized.status == 200, resized.raw
    seen = client.create_exec(container_id, ["stty", "-F", f"/dev/pts/{terminal}", "size"])
    assert b"40 120" in client.exec_stream(seen)
    missing = client.request("POST", f"/containers/{container_id}/resize?h=40")
    assert missing.status == 400
    exec_id = client.create_exec(container_id, ["stty", "size"], Tty=True, ConsoleSize=[33, 99])
    assert b"33 99" in client.exec_stream(exec_id, tty=True)
    ended = client.request("POST", f"/exec/{exec_id}/resize?h=1&w=1")
    assert ended.status == 409
    stopped = client.create(["true"])
    assert client.request("POST", f"/containers/{stopped}/resize?h=1&w=1").status == 409


def test_exec_options_it_cannot_honour_are_refused(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    for field, value in (("Privileged", True), ("DetachKeys", "ctrl-x")):
        response = client.request(
            "POST", f"/containers/{container_id}/exec", {"Cmd": ["true"], field: value}
        )
        assert response.status == 400
        assert response.json()["message"].startswith(
            f"exec.{field} is not supported by the embedded simulator"
        )
    assert client.create_exec(container_id, ["true"], Privileged=False, DetachKeys="")


def _readme_rows(section: str) -> dict[str, str]:
    """``field -> handling`` from simulator/README.md's "Create options" table: rows whose first
    cell names one or more `` `Section.Field` `` and whose second starts with ``**handling**``."""
    rows = {}
    for line in README.read_text().splitlines():
        cells = line.split(" | ")
        handling = re.match(r"\*\*(\w+)\*\*", cells[1]) if len(cells) > 2 else None
        if not line.startswith("| `") or handling is None:
            continue
        for name in re.findall(rf"`{section}\.(\w+)`", cells[0]):
            assert name not in rows, f"{section}.{name} is in two rows"
            rows[name] = handling.group(1)
    return rows


@pytest.mark.parametrize(
    ("section", "rules"),
    [("Config", options.CONFIG_FIELDS), ("HostConfig", options.HOST_CONFIG_FIELDS)],
)
def test_the_readme_table_lists_every_field_with_its_handling(
    section: str, rules: dict[str, options.Rule]
) -> None:
    assert _readme_rows(section) == {name: rule.handling.value for name, rule in rules.items()}


def test_an_env_entry_without_equals_sets_nothing(
    client: RawClient, aws: Callable[[str], Any]
) -> None:
    container_id = client.create(["true"], Env=["SET=1", "UNSET", "EMPTY="])
    environment = _task_definition(aws, container_id)["containerDefinitions"][0]["environment"]
    names = {pair["name"]: pair["value"] for pair in environment}
    assert (names.get("SET"), names.get("EMPTY"), "UNSET" in names) == ("1", "", False)
