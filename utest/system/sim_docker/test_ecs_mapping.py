"""What the daemon does on ECS, seen through a separate boto3 client (like the kit's checks)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from wire_helpers import RawClient

from sockerless_sim.launcher import SimulatorProcess

pytestmark = pytest.mark.timeout(60)


def _tags(items: list[dict[str, str]]) -> dict[str, str]:
    return {item["key"]: item["value"] for item in items}


def test_create_registers_the_task_definition(
    client: RawClient, aws: Callable[[str], Any], sim: SimulatorProcess
) -> None:
    container_id = client.create(
        ["echo", "hello"], name="taskdef", Env=["GREETING=hi"], Labels={"test-run": "ecs"},
        Entrypoint=["/bin/sh", "-c"],
    )  # fmt: skip
    family = f"sockerless-{container_id[:12]}"
    described = aws("ecs").describe_task_definition(taskDefinition=family, include=["TAGS"])
    definition = described["taskDefinition"]
    assert definition["family"] == family
    assert definition["networkMode"] == "awsvpc"
    assert definition["requiresCompatibilities"] == ["FARGATE"]
    assert (definition["cpu"], definition["memory"]) == ("256", "512")
    (container,) = definition["containerDefinitions"]
    assert container["name"] == "main"
    assert container["image"] == "alpine:latest"
    assert container["entryPoint"] == ["/sockerless-agent", "--", "/bin/sh", "-c", "echo", "hello"]
    environment = {pair["name"]: pair["value"] for pair in container["environment"]}
    assert environment["GREETING"] == "hi"
    assert len(environment["SOCKERLESS_AGENT_TOKEN"]) == 64
    assert container["dockerLabels"] == {"test-run": "ecs"}
    assert container["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": sim.info.log_group,
            "awslogs-region": sim.info.region,
            "awslogs-stream-prefix": container_id[:12],
        },
    }
    tags = _tags(described["tags"])
    assert tags["sockerless-managed"] == "true"
    assert tags["sockerless-container-id"] == container_id
    assert tags["sockerless-backend"] == "ecs"
    assert tags["sockerless-name"] == "/taskdef"
    assert tags["sockerless-created-at"].endswith("Z")
    assert "sockerless-instance" in tags
    # The token is a secret: inspect never shows it.
    assert "SOCKERLESS_AGENT_TOKEN" not in json.dumps(client.inspect(container_id))


def test_start_runs_a_tagged_fargate_task_and_stop_stops_it(
    client: RawClient, sim: SimulatorProcess, aws: Callable[[str], Any]
) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"], Labels={"a": "b"})
    ecs = aws("ecs")
    family = f"sockerless-{container_id[:12]}"
    (task_arn,) = ecs.list_tasks(cluster=sim.info.cluster, family=family)["taskArns"]
    (task,) = ecs.describe_tasks(cluster=sim.info.cluster, tasks=[task_arn], include=["TAGS"])[
        "tasks"
    ]
    assert task["launchType"] == "FARGATE"
    assert task["startedBy"] == "sockerless"
    assert task["lastStatus"] == "RUNNING"  # start answered 204 only once it was
    tags = _tags(task["tags"])
    assert tags["sockerless-container-id"] == container_id
    labels = tags["sockerless-labels-b64"]
    assert "=" not in labels
    assert json.loads(base64.urlsafe_b64decode(labels + "=" * (-len(labels) % 4))) == {"a": "b"}
    eni = next(a for a in task["attachments"] if a["type"] == "ElasticNetworkInterface")
    details = {d["name"]: d["value"] for d in eni["details"]}
    assert details["subnetId"] in sim.info.subnets
    ip = client.inspect(container_id)["NetworkSettings"]["IPAddress"]
    assert ip == details["privateIPv4Address"]
    assert client.request("POST", f"/containers/{container_id}/stop").status == 204
    (stopped,) = ecs.describe_tasks(cluster=sim.info.cluster, tasks=[task_arn])["tasks"]
    assert stopped["lastStatus"] == "STOPPED"  # stop answered 204 only once it was
    assert stopped["stoppedReason"] == "Container stopped via API"


def test_remove_deregisters_the_task_definition(
    client: RawClient, aws: Callable[[str], Any]
) -> None:
    container_id = client.run(["echo", "bye"])
    family = f"sockerless-{container_id[:12]}"
    client.wait_status(container_id, "exited")
    assert client.request("DELETE", f"/containers/{container_id}").status == 204
    definition = aws("ecs").describe_task_definition(taskDefinition=family)["taskDefinition"]
    assert definition["status"] == "INACTIVE"


def test_logs_come_from_the_cloudwatch_stream(
    client: RawClient, aws: Callable[[str], Any], sim: SimulatorProcess
) -> None:
    container_id = client.run(["echo", "hello from fargate"])
    client.logs_when(container_id, "stdout=1", lambda body: b"hello from fargate" in body)
    task_arn = aws("ecs").list_tasks(
        cluster=sim.info.cluster, family=f"sockerless-{container_id[:12]}", desiredStatus="STOPPED"
    )["taskArns"][0]
    stream = f"{container_id[:12]}/main/{task_arn.rsplit('/', 1)[-1]}"
    events = aws("logs").get_log_events(logGroupName=sim.info.log_group, logStreamName=stream)
    assert [e["message"] for e in events["events"]] == ["hello from fargate"]


def test_logs_paginate_past_one_page(client: RawClient) -> None:
    # More than one GetLogEvents page only happens above 10,000 events or 1 MB; 12,000 short
    # lines cross the event-count page limit of moto and of CloudWatch.
    container_id = client.run(["seq", "1", "12000"])
    response = client.logs_when(
        container_id, "stdout=1", lambda body: body.endswith(b"12000\n"), timeout=20
    )
    assert response.body.count(b"\n") == 12000


def test_an_unpullable_image_fails_start_with_the_stopped_reason(client: RawClient) -> None:
    container_id = client.create(["true"], Image="registry.invalid/alpine:latest")
    began = time.monotonic()
    response = client.request("POST", f"/containers/{container_id}/start")
    assert time.monotonic() - began < 5
    assert response.status == 500
    message = response.json()["message"]
    assert message.startswith("task failed to start: task stopped: ")
    assert "CannotPullContainerError" in message
    state = client.inspect(container_id)["State"]
    assert state["Status"] == "exited"
    assert "CannotPullContainerError" in state["Error"]


def test_a_fast_command_may_have_exited_when_start_returns(client: RawClient) -> None:
    container_id = client.run(["sh", "-c", "exit 5"])
    document = client.wait_status(container_id, "exited")
    assert document["State"]["ExitCode"] == 5
    assert document["State"]["FinishedAt"] != "0001-01-01T00:00:00Z"


def test_a_stopped_container_can_be_started_again(client: RawClient) -> None:
    container_id = client.run(["echo", "again"])
    client.wait_status(container_id, "exited")
    assert client.request("POST", f"/containers/{container_id}/start").status == 204
    client.logs_when(container_id, "stdout=1", lambda body: body.count(b"again") == 2)
    assert client.inspect(container_id)["RestartCount"] == 1


# Figures for the report (run with -s); the bounds are loose for shared CI cores.
CALLS = 200


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=10)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self._path)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.timing
def test_inspect_latency_and_memory(client: RawClient, sim: SimulatorProcess) -> None:
    running = client.run(["tail", "-f", "/dev/null"])
    exited = client.run(["true"])
    client.wait_status(exited, "exited")
    connection = _UnixConnection(sim.info.socket_path)
    figures = {}
    try:
        for label, container_id in (("running", running), ("exited", exited)):
            samples = []
            for _ in range(CALLS):
                began = time.perf_counter()
                connection.request("GET", f"/v1.44/containers/{container_id}/json")
                response = connection.getresponse()
                response.read()
                samples.append((time.perf_counter() - began) * 1000)
                assert response.status == 200
            quantiles = statistics.quantiles(samples, n=100)
            figures[label] = (quantiles[49], quantiles[94])
    finally:
        connection.close()
    rss = _rss_kib(sim.pid)
    print(
        f"\nGET /containers/{{id}}/json over {CALLS} keep-alive calls: "
        f"running p50 {figures['running'][0]:.2f} ms p95 {figures['running'][1]:.2f} ms; "
        f"exited (state cached) p50 {figures['exited'][0]:.2f} ms "
        f"p95 {figures['exited'][1]:.2f} ms; simulator RSS {rss / 1024:.0f} MiB"
    )
    assert figures["running"][1] < 250
    assert rss < 1024 * 1024
