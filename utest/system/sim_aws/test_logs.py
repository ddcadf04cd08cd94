"""Log shipping: the awslogs stream, the delivery delay, the stderr marker, no lost lines."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aws_helpers import Aws, wait_for
from botocore.exceptions import ClientError

from sockerless_sim.aws.logship import STDERR_MARKER, LogShipper
from sockerless_sim.aws.plane import AwsPlane
from sockerless_sim.aws.task_spec import LogTarget

pytestmark = pytest.mark.timeout(60)
PLANE_SETTINGS = {"time_scale": 2.0}

LOG_DELAY = 1.0  # instant profile (0.5 s) x time_scale 2


def stream_of(task: dict[str, Any], task_definition: dict[str, Any]) -> str:
    prefix = task_definition["family"].removeprefix("sockerless-")
    return f"{prefix}/main/{task['taskArn'].rsplit('/', 1)[-1]}"


def events(aws: Aws, stream: str) -> list[dict[str, Any]]:
    try:
        response = aws.logs.get_log_events(
            logGroupName=aws.plane.log_group, logStreamName=stream, startFromHead=True
        )
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
        return []
    return list(response["events"])


def wait_events(aws: Aws, stream: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    def enough() -> list[dict[str, Any]] | None:
        got = events(aws, stream)
        return got if len(got) >= count else None

    found = wait_for(
        enough,
        timeout=timeout,
        interval=0.1,
        what=f"{count} events in {stream}",
    )
    return list(found)


def test_output_arrives_in_the_task_stream_after_the_delivery_delay(
    aws: Aws, plane: AwsPlane
) -> None:
    # A task without awslogs, started first: had it shipped, it would be before the other.
    unlogged = aws.run(aws.register(["echo", "unlogged"], logs=False))
    command = ["sh", "-c", "echo out-line; echo err-line >&2; sleep 0.2"]
    task_definition = aws.register(command)
    task = aws.run(task_definition)
    stream = stream_of(task, task_definition)
    aws.wait_status(task["taskArn"], "RUNNING")
    # Whether this read comes before the delivery delay is up depends on the machine's load, so
    # it is judged by the events' own ingestion times: it holds exactly those delivered by then.
    read_from_ms = time.time() * 1000
    early = events(aws, stream)
    read_to_ms = time.time() * 1000

    got = wait_events(aws, stream, 3)

    messages = [e["message"] for e in got]
    assert messages[0] == " ".join(["/sockerless-agent", "--", *command])  # command-echo quirk
    assert sorted(messages[1:]) == sorted(["out-line", f"{STDERR_MARKER}err-line"])
    first = got[0]
    assert first["ingestionTime"] - first["timestamp"] >= LOG_DELAY * 1000 * 0.95
    assert all(e["ingestionTime"] >= e["timestamp"] for e in got)
    assert got[: len(early)] == early  # the early read saw the start of the stream
    assert all(e["ingestionTime"] <= read_to_ms for e in early)  # none before its delivery
    assert all(e in early for e in got if e["ingestionTime"] < read_from_ms)  # none missed
    timestamps = [e["timestamp"] for e in got]
    assert timestamps == sorted(timestamps)
    assert task["createdAt"].timestamp() * 1000 <= timestamps[0] + 1
    unlogged_id = unlogged["taskArn"].rsplit("/", 1)[-1]
    streams = aws.logs.describe_log_streams(logGroupName=plane.log_group)["logStreams"]
    assert not [s for s in streams if unlogged_id in s["logStreamName"]]


def test_no_line_is_lost_and_order_is_kept(aws: Aws) -> None:
    script = "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done"
    task_definition = aws.register(["sh", "-c", script])
    task = aws.run(task_definition)
    aws.watch(task["taskArn"])

    got = wait_events(aws, stream_of(task, task_definition), 301)

    assert [e["message"] for e in got[1:]] == [f"line-{i}" for i in range(300)]


def test_buffered_lines_are_flushed_when_the_task_is_stopped(aws: Aws) -> None:
    task_definition = aws.register(["sh", "-c", "echo before-stop; exec sleep 60"])
    task = aws.run(task_definition)
    aws.wait_status(task["taskArn"], "RUNNING")
    aws.ecs.stop_task(cluster=aws.plane.cluster, task=task["taskArn"])
    aws.wait_status(task["taskArn"], "STOPPED")
    stopped_at = time.monotonic()

    got = wait_events(aws, stream_of(task, task_definition), 2, timeout=LOG_DELAY + 2)

    assert got[1]["message"] == "before-stop"
    assert time.monotonic() - stopped_at < LOG_DELAY + 2


def test_shipper_without_echo_quirk_sends_only_output(aws: Aws, plane: AwsPlane) -> None:
    shipper = LogShipper(
        log_delivery=lambda started=None, *, key="": 0.05,
        logs_client=plane.client("logs", internal=True),
        command_echo=False,
    )
    target = LogTarget(group="/sim-utest/created-on-demand", stream="p/main/t1", create_group=True)
    shipper.start()
    try:
        shipper.register("arn:t1", target)
        shipper.task_launching("arn:t1", ["echo", "hi"], 1_000)
        shipper.on_output("arn:t1", "stdout", b"", int(time.time() * 1000))
        shipper.on_output("arn:t1", "stdout", b"only", int(time.time() * 1000))
        shipper.on_output("arn:unknown", "stdout", b"dropped", int(time.time() * 1000))
        got = wait_for(
            lambda: (
                aws.logs.get_log_events(logGroupName=target.group, logStreamName=target.stream)[
                    "events"
                ]
                if shipper.counters()["events_shipped"]
                else None
            ),
            what="shipped event",
        )
    finally:
        shipper.stop()
    assert [e["message"] for e in got] == ["only"]
    assert shipper.counters() == {"events_shipped": 1, "events_dropped": 0, "put_calls": 1}


def test_a_stopped_task_has_delivered_every_line_and_writes_no_more(aws: Aws) -> None:
    # Fargate reports STOPPED only after its log driver flushed: a cleanup that deletes the
    # task's stream once the task reads STOPPED must not see the stream come back.
    command = ["sh", "-c", "echo first; echo last"]
    task_definition = aws.register(command)
    task = aws.run(task_definition)
    stream = stream_of(task, task_definition)

    aws.wait_status(task["taskArn"], "STOPPED")

    assert [e["message"] for e in events(aws, stream)][-2:] == ["first", "last"]
    aws.logs.delete_log_stream(logGroupName=aws.plane.log_group, logStreamName=stream)
    time.sleep(LOG_DELAY * 1.5)  # longer than any delivery delay still pending
    assert events(aws, stream) == []
