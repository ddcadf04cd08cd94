"""Where the simulator refuses or answers as Docker and ECS do (measured on Docker 20.10 with
``peers.docker_engine``): environment entries without ``=``, empty log lines, ECS's task
definition size limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from wire_helpers import RawClient, parse_frames

from sockerless_sim.launcher import SimulatorProcess

pytestmark = pytest.mark.timeout(60)


def test_an_env_entry_without_a_name_is_400_at_create(client: RawClient) -> None:
    for entry in ("=x", ""):
        response = client.request(
            "POST", "/containers/create", {"Image": "alpine", "Cmd": ["env"], "Env": [entry]}
        )
        assert (response.status, response.json()) == (
            400,
            {"message": f"invalid environment variable: {entry}"},
        )


def test_a_bare_env_name_at_create_is_kept_in_the_config_and_sets_nothing(
    client: RawClient, aws: Callable[[str], Any]
) -> None:
    container_id = client.run(["env"], Env=["FOO", "BAR=", "BAZ=1"])

    response = client.logs_when(container_id, "stdout=1", lambda body: b"BAZ=1" in body)

    names = {payload.split(b"=", 1)[0] for _s, payload in parse_frames(response.body)}
    assert {b"BAR", b"BAZ"} <= names
    assert b"FOO" not in names
    assert client.inspect(container_id)["Config"]["Env"] == ["FOO", "BAR=", "BAZ=1"]
    family = f"sockerless-{container_id[:12]}"
    definition = aws("ecs").describe_task_definition(taskDefinition=family)["taskDefinition"]
    declared = {pair["name"] for pair in definition["containerDefinitions"][0]["environment"]}
    assert "FOO" not in declared
    assert {"BAR", "BAZ"} <= declared


def test_a_bare_env_name_in_an_exec_unsets_the_container_variable(client: RawClient) -> None:
    container_id = client.run(["sleep", "30"], Env=["FOO=container", "KEEP=k"])
    exec_id = client.create_exec(
        container_id, ["env"], AttachStdout=True, Env=["FOO", "NEW", "KEEP="]
    )

    raw = client.exec_stream(exec_id)

    output = b"".join(payload for _s, payload in parse_frames(raw.partition(b"\r\n\r\n")[2]))
    names = dict(line.split("=", 1) for line in output.decode().splitlines())
    assert "FOO" not in names
    assert "NEW" not in names
    assert names["KEEP"] == ""


def test_an_exec_env_entry_without_a_name_fails_its_start_as_runc_does(client: RawClient) -> None:
    container_id = client.run(["sleep", "30"])
    exec_id = client.create_exec(container_id, ["env"], AttachStdout=True, Env=["=x"])

    raw = client.exec_stream(exec_id)

    text = (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        'environment variable name can\'t be empty: "=x": unknown\r\n'
    )
    assert parse_frames(raw.partition(b"\r\n\r\n")[2]) == [(1, text.encode())]
    assert client.request("GET", f"/exec/{exec_id}/json").json()["ExitCode"] == 126


def test_empty_log_lines_are_not_events_as_with_the_awslogs_driver(
    client: RawClient, aws: Callable[[str], Any], sim: SimulatorProcess
) -> None:
    # moby's awslogs driver (which Fargate's shim-loggers-for-containerd runs) makes no event of
    # an empty line: processEvent loops while the line has bytes. A blank line is kept.
    container_id = client.run(["printf", "a\\n\\nb\\n \\n"])

    response = client.logs_when(container_id, "stdout=1", lambda body: b" \n" in body)

    assert [payload for _s, payload in parse_frames(response.body)] == [b"a\n", b"b\n", b" \n"]
    ecs = aws("ecs")
    family = f"sockerless-{container_id[:12]}"
    (task_arn,) = ecs.list_tasks(cluster=sim.info.cluster, family=family, desiredStatus="STOPPED")[
        "taskArns"
    ]
    stream = f"{container_id[:12]}/main/{task_arn.rsplit('/', 1)[-1]}"
    events = aws("logs").get_log_events(logGroupName=sim.info.log_group, logStreamName=stream)
    assert [event["message"] for event in events["events"]] == ["a", "b", " "]


def test_a_task_definition_over_64_kib_is_refused_as_ecs_refuses_it(
    client: RawClient, aws: Callable[[str], Any]
) -> None:
    families_before = aws("ecs").list_task_definition_families(familyPrefix="sockerless-")
    command = ["echo", *["x"] * 100_000]

    response = client.request(
        "POST", "/containers/create?name=too-big", {"Image": "alpine", "Cmd": command}
    )

    assert response.status == 500
    message = response.json()["message"]
    prefix = "RegisterTaskDefinition: ClientException: Actual length: '"
    assert message.startswith(prefix)
    assert message.endswith("'. Max allowed length is '65536' bytes.")
    assert int(message[len(prefix) :].split("'", 1)[0]) > 100_000 * len('"x", ')
    families_after = aws("ecs").list_task_definition_families(familyPrefix="sockerless-")
    assert families_after["families"] == families_before["families"]
    # Nothing was created, so the name is free again.
    assert client.create(["true"], name="too-big")
