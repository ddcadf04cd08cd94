"""The lies: switches that make the simulator an impostor daemon (faults, not quirks).

Each test starts a simulator with one lie and proves two things: through the Docker API on the
socket, the daemon still looks healthy and consistent; through boto3 against the simulator's
moto endpoint, independently of the daemon, the AWS effect the daemon claims did not happen.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from wire_helpers import RawClient, aws_client, parse_frames

from sockerless_sim.docker_api.impostor import not_eni_ip
from sockerless_sim.launcher import SimulatorInfo, SimulatorProcess
from SockerlessLibrary.aws.cleanup import AwsCleaner
from SockerlessLibrary.aws.config import AwsConfig
from SockerlessLibrary.aws.queries import ContainerResources
from SockerlessLibrary.aws.retry import AwsCaller, Deadline

pytestmark = pytest.mark.timeout(60)

TIME_SCALE = 0.2  # instant profile at a fifth: log delivery 0.1 s, each task state 10 ms
EARLY = ("PROVISIONING", "PENDING")


@contextmanager
def lying(*lies: str, quirks: tuple[str, ...] = ()) -> Iterator[tuple[SimulatorProcess, RawClient]]:
    """A simulator started with ``lies`` and a raw client whose containers are removed after."""
    process = SimulatorProcess.start(
        time_scale=TIME_SCALE, quirks=quirks, lies=lies, ready_timeout=20.0
    )
    client = RawClient(process.info.socket_path)
    try:
        assert process.info.lies == tuple(sorted(lies))
        yield process, client
    finally:
        try:
            client.cleanup()
        finally:
            process.stop()


def container_task(sim: SimulatorProcess, container_id: str) -> dict[str, Any]:
    """The container's one task, found by its ``sockerless-container-id`` tag (not by family,
    which one of the lies changes)."""
    ecs = aws_client(sim.info, "ecs")
    arns: list[str] = []
    for status in ("RUNNING", "STOPPED"):
        arns += ecs.list_tasks(
            cluster=sim.info.cluster, startedBy="sockerless", desiredStatus=status
        )["taskArns"]
    assert arns, "no task at all"
    tasks = ecs.describe_tasks(cluster=sim.info.cluster, tasks=arns, include=["TAGS"])["tasks"]
    mine = [
        task
        for task in tasks
        if {t["key"]: t["value"] for t in task.get("tags", [])}.get("sockerless-container-id")
        == container_id
    ]
    assert len(mine) == 1, mine
    return dict(mine[0])


def eni_details(task: dict[str, Any]) -> dict[str, str]:
    eni = next(a for a in task["attachments"] if a["type"] == "ElasticNetworkInterface")
    return {d["name"]: d["value"] for d in eni["details"]}


def task_status(sim: SimulatorProcess, task_arn: str) -> str:
    (task,) = aws_client(sim.info, "ecs").describe_tasks(
        cluster=sim.info.cluster, tasks=[task_arn]
    )["tasks"]
    return str(task["lastStatus"])


def wait_exit(client: RawClient, container_id: str) -> int:
    response = client.request("POST", f"/containers/{container_id}/wait")
    assert response.status == 200, response.raw
    return int(response.json()["StatusCode"])


def docker_ms(stamp: bytes) -> int:
    """Milliseconds of a Docker log timestamp (nine fraction digits, the last six zero)."""
    whole, _, fraction = stamp.decode().removesuffix("Z").partition(".")
    assert len(fraction) == 9 and fraction.endswith("000000"), stamp
    seconds = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    return int(seconds) * 1000 + int(fraction[:3])


def families(sim: SimulatorProcess, prefix: str, status: str) -> list[str]:
    answer = aws_client(sim.info, "ecs").list_task_definitions(familyPrefix=prefix, status=status)
    return list(answer["taskDefinitionArns"])


# -- not_eni_ip ------------------------------------------------------------------------------


def test_the_fake_ip_is_fixed_per_task_and_never_the_enis() -> None:
    assert not_eni_ip("10.0.1.17", "task-a") == not_eni_ip("10.0.1.17", "task-a")
    for task_id in (f"task-{n}" for n in range(200)):
        fake = ipaddress.IPv4Address(not_eni_ip("10.0.1.17", task_id))
        assert fake != ipaddress.IPv4Address("10.0.1.17")
        assert fake in ipaddress.IPv4Network("10.0.1.0/24") and fake.is_private
        assert 4 <= int(fake) & 0xFF <= 253
    # The one address the task ID would pick is taken by the ENI: the next one is used.
    host = 4 + int.from_bytes(hashlib.sha256(b"task-x").digest()[:4], "big") % 250
    assert not_eni_ip(f"10.0.1.{host}", "task-x") == f"10.0.1.{4 + (host - 3) % 250}"


def test_the_ready_line_names_lies_only_when_there_are_some() -> None:
    line = (
        '{"event": "ready", "socket_path": "/s", "aws_endpoint_url": "http://127.0.0.1:1", '
        '"region": "r", "cluster": "c", "subnets": [], "security_groups": [], '
        '"log_group": "/g", "pid": 1%s}'
    )
    assert SimulatorInfo.from_ready_line(line % "").lies == ()
    lying_line = line % ', "lies": ["ip-not-eni"]'
    assert SimulatorInfo.from_ready_line(lying_line).lies == ("ip-not-eni",)


# -- the lies, against a real simulator each -------------------------------------------------


@pytest.mark.parametrize("quirks", [(), ("ip-in-networks-only",)], ids=["docker", "networks-only"])
def test_ip_not_eni_reports_a_private_ip_that_is_not_the_task_enis(
    quirks: tuple[str, ...],
) -> None:
    with lying("ip-not-eni", quirks=quirks) as (sim, client):
        container_id = client.run(["tail", "-f", "/dev/null"])
        document = client.inspect(container_id)
        assert document["State"]["Status"] == "running"
        settings = document["NetworkSettings"]
        reported = settings["Networks"]["default"]["IPAddress"]
        assert settings["IPAddress"] == ("" if quirks else reported)
        (listed,) = client.request("GET", "/containers/json").json()
        assert listed["NetworkSettings"]["Networks"]["default"]["IPAddress"] == reported
        assert client.inspect(container_id)["NetworkSettings"] == settings  # a steady lie

        task = container_task(sim, container_id)
        assert task["lastStatus"] == "RUNNING"
        details = eni_details(task)
        eni_ip = details["privateIPv4Address"]
        assert ipaddress.ip_address(reported).is_private
        assert reported != eni_ip
        assert reported.rsplit(".", 1)[0] == eni_ip.rsplit(".", 1)[0]  # same /24
        # The AWS side is the truth: the ENI itself carries the address the daemon did not report.
        (eni,) = aws_client(sim.info, "ec2").describe_network_interfaces(
            NetworkInterfaceIds=[details["networkInterfaceId"]]
        )["NetworkInterfaces"]
        assert eni["PrivateIpAddress"] == eni_ip


def test_logs_not_cloudwatch_serves_output_that_never_reached_cloudwatch() -> None:
    with lying("logs-not-cloudwatch") as (sim, client):
        before_ms = int(time.time() * 1000)
        script = "echo hello from fargate; echo oops >&2; echo done"
        container_id = client.run(["sh", "-c", script])
        assert wait_exit(client, container_id) == 0
        after_ms = int(time.time() * 1000)

        response = client.request("GET", f"/containers/{container_id}/logs?stdout=1&stderr=1")
        assert response.status == 200
        assert response.headers["content-type"] == "application/vnd.docker.multiplexed-stream"
        frames = parse_frames(response.body)
        assert [p for s, p in frames if s == 1] == [b"hello from fargate\n", b"done\n"]
        assert [p for s, p in frames if s == 2] == [b"oops\n"]
        stamped = parse_frames(
            client.request("GET", f"/containers/{container_id}/logs?stdout=1&timestamps=1").body
        )
        assert [p.partition(b" ")[2] for _, p in stamped] == [b"hello from fargate\n", b"done\n"]
        for _, payload in stamped:
            assert before_ms <= docker_ms(payload.partition(b" ")[0]) <= after_ms
        followed = client.request("GET", f"/containers/{container_id}/logs?stdout=1&follow=1")
        assert parse_frames(followed.body) == [(1, b"hello from fargate\n"), (1, b"done\n")]

        # A follow on a running container delivers lines as they come and ends with the task.
        slow = client.run(["sh", "-c", "echo one; sleep 0.3; echo two"])
        live = client.request("GET", f"/containers/{slow}/logs?stdout=1&follow=1", timeout=15.0)
        assert parse_frames(live.body) == [(1, b"one\n"), (1, b"two\n")]

        task = container_task(sim, container_id)
        assert (task["lastStatus"], task["containers"][0]["exitCode"]) == ("STOPPED", 0)
        logs = aws_client(sim.info, "logs")
        stream = f"{container_id[:12]}/main/{task['taskArn'].rsplit('/', 1)[-1]}"
        with pytest.raises(ClientError) as missing:
            logs.get_log_events(logGroupName=sim.info.log_group, logStreamName=stream)
        assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
        streams = logs.describe_log_streams(
            logGroupName=sim.info.log_group, logStreamNamePrefix=f"{container_id[:12]}/"
        )["logStreams"]
        assert streams == []
        everything = logs.filter_log_events(logGroupName=sim.info.log_group)["events"]
        assert not [e for e in everything if "hello from fargate" in e["message"]]


def test_log_timestamps_not_cloudwatch_prints_the_ingestion_time() -> None:
    with lying("log-timestamps-not-cloudwatch") as (sim, client):
        container_id = client.run(["seq", "1", "20"])
        assert wait_exit(client, container_id) == 0
        task = container_task(sim, container_id)
        stream = f"{container_id[:12]}/main/{task['taskArn'].rsplit('/', 1)[-1]}"
        events = aws_client(sim.info, "logs").get_log_events(
            logGroupName=sim.info.log_group, logStreamName=stream, startFromHead=True
        )["events"]
        assert [e["message"] for e in events] == [str(n) for n in range(1, 21)]

        plain = client.request("GET", f"/containers/{container_id}/logs?stdout=1")
        assert parse_frames(plain.body) == [(1, f"{n}\n".encode()) for n in range(1, 21)]
        stamped = parse_frames(
            client.request("GET", f"/containers/{container_id}/logs?stdout=1&timestamps=1").body
        )
        assert len(stamped) == len(events)
        for (stream_type, payload), event in zip(stamped, events, strict=True):
            stamp, _, text = payload.partition(b" ")
            assert (stream_type, text) == (1, f"{event['message']}\n".encode())
            printed = docker_ms(stamp)
            assert printed == event["ingestionTime"]
            assert printed - event["timestamp"] >= 10  # never the event's own timestamp


def test_no_task_definition_runs_the_task_from_another_family() -> None:
    with lying("no-task-definition") as (sim, client):
        info = client.request("GET", "/_sim/info").json()
        assert info["lies"] == ["no-task-definition"]
        container_id = client.run(["tail", "-f", "/dev/null"])
        family = f"sockerless-{container_id[:12]}"
        assert client.inspect(container_id)["State"]["Running"] is True

        task = container_task(sim, container_id)
        assert (task["launchType"], task["lastStatus"]) == ("FARGATE", "RUNNING")
        definition_family = task["taskDefinitionArn"].rsplit("/", 1)[-1].rsplit(":", 1)[0]
        assert definition_family == f"impostor-{container_id[:12]}"
        for status in ("ACTIVE", "INACTIVE"):
            assert families(sim, family, status) == []
        with pytest.raises(ClientError):
            aws_client(sim.info, "ecs").describe_task_definition(taskDefinition=family)

        # The kit's own cleanup only touches sockerless-<id12>: it finds nothing and fails nothing.
        log: list[str] = []
        config = AwsConfig.from_simulator(sim.info)
        resources = ContainerResources(
            config.client("ecs"), config.client("logs"), config, AwsCaller(Deadline(30), log.append)
        )
        report = AwsCleaner(resources).clean(container_id)
        assert report.complete, report.summary()
        assert report.deregistered_task_definitions == []

        assert client.request("DELETE", f"/containers/{container_id}?force=true").status == 204
        client.created.remove(container_id)
        for status in ("ACTIVE", "INACTIVE"):
            assert families(sim, family, status) == []
        # The daemon cleaned up its own (lying) family as sockerless cleans its real one.
        assert families(sim, f"impostor-{container_id[:12]}", "ACTIVE") == []
        assert families(sim, f"impostor-{container_id[:12]}", "INACTIVE") != []


def test_start_before_running_answers_while_the_task_is_still_provisioning_or_pending() -> None:
    with lying("start-before-running") as (sim, client):
        container_id = client.create(["tail", "-f", "/dev/null"])
        began = time.monotonic()
        response = client.request("POST", f"/containers/{container_id}/start")
        elapsed = time.monotonic() - began
        assert response.status == 204
        assert elapsed < 1.0  # the task needs >= 2 s to reach RUNNING under this lie

        task = container_task(sim, container_id)
        assert task["lastStatus"] in EARLY
        document = client.inspect(container_id)
        assert task_status(sim, task["taskArn"]) in EARLY  # still, after the inspect
        state = document["State"]
        assert (state["Status"], state["Running"]) == ("running", True)
        assert state["StartedAt"] != "0001-01-01T00:00:00Z"
        eni_ip = eni_details(task)["privateIPv4Address"]
        assert document["NetworkSettings"]["IPAddress"] == eni_ip  # only the timing lies
        listed = client.request("GET", "/containers/json").json()
        assert [(c["Id"], c["State"]) for c in listed] == [(container_id, "running")]
        again = client.request("POST", f"/containers/{container_id}/start")
        assert again.status == 304  # "already running"

        # An exec waits (bounded) for the agent the task does not have yet.
        created = client.request(
            "POST", f"/containers/{container_id}/exec", {"Cmd": ["echo", "hi"]}
        )
        assert created.status == 201, created.raw
        exec_id = created.json()["Id"]
        started = client.request("POST", f"/exec/{exec_id}/start", {"Detach": False}, timeout=10.0)
        assert parse_frames(started.body) == [(1, b"hi\n")]
        assert task_status(sim, task["taskArn"]) == "RUNNING"
        assert client.request("POST", f"/containers/{container_id}/stop").status == 204
        assert task_status(sim, task["taskArn"]) == "STOPPED"

        # A start the simulator knows will fail still waits and fails, as the honest one does.
        doomed = client.create(["true"], Image="registry.invalid/alpine:latest")
        failed = client.request("POST", f"/containers/{doomed}/start")
        assert failed.status == 500
        assert "CannotPullContainerError" in failed.json()["message"]
