"""The fargate profile's ECS timestamps are its latency model: each phase a client reads off
DescribeTasks (and each log event's ingestion lag) is the delay the simulator drew and recorded
in its delay log (``GET /_sim/stats`` ``delays``), to the millisecond ECS reports.

The tick that notices a transition comes 20 ms or more late, more on a busy machine; were the
timestamps taken then, a client's timeline would not add up to the simulator's delays.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from aws_helpers import Aws, wait_for

from sockerless_sim.aws.plane import AwsPlane
from sockerless_sim.config import SimConfig

pytestmark = pytest.mark.timeout(90)

# fargate at 0.05: provisioning 0.25-1 s, pending 0.25-1.25 s, deprovisioning 0.1-0.25 s,
# log delivery 0.25-0.75 s. A command that prints, then outlives the delivery, so the log
# driver has flushed before deprovisioning ends.
PLANE_SETTINGS = {"profile": "fargate", "time_scale": 0.05, "seed": 11, "quirks": frozenset()}
MILLISECOND = 0.0011  # ECS and CloudWatch timestamps are whole milliseconds (plus float error)


def seconds(task: dict[str, Any], later: str, earlier: str) -> float:
    return (task[later] - task[earlier]).total_seconds()


def draws(plane: AwsPlane, since: float, kind: str) -> list[dict[str, Any]]:
    records = plane.config.delay_log.records()
    return [d for d in records if d["started"] >= since and d["kind"] == kind]


def test_each_phase_of_a_task_is_the_delay_drawn_for_it(aws: Aws, plane: AwsPlane) -> None:
    since = time.time() - 0.001
    task = aws.run_command(["sh", "-c", "echo drawn; sleep 1"])
    stopped = aws.wait_status(task["taskArn"], "STOPPED", timeout=30)

    (provisioning,) = draws(plane, since, "provisioning")
    (pending,) = draws(plane, since, "pending")
    (deprovisioning,) = draws(plane, since, "deprovisioning")
    assert seconds(stopped, "pullStartedAt", "createdAt") == pytest.approx(
        provisioning["seconds"], abs=MILLISECOND
    )
    assert seconds(stopped, "pullStoppedAt", "pullStartedAt") == pytest.approx(
        pending["seconds"], abs=MILLISECOND
    )
    assert seconds(stopped, "stoppedAt", "executionStoppedAt") == pytest.approx(
        deprovisioning["seconds"], abs=MILLISECOND
    )
    # Each delay is recorded as beginning where the timestamps say its phase began.
    assert provisioning["started"] == pytest.approx(
        stopped["createdAt"].timestamp(), abs=MILLISECOND
    )
    assert pending["started"] == pytest.approx(
        stopped["pullStartedAt"].timestamp(), abs=MILLISECOND
    )
    assert deprovisioning["started"] == pytest.approx(
        stopped["executionStoppedAt"].timestamp(), abs=MILLISECOND
    )


def test_a_log_event_is_ingested_the_drawn_delivery_delay_after_its_timestamp(
    aws: Aws, plane: AwsPlane
) -> None:
    since = time.time() - 0.001
    task_definition = aws.register(["sh", "-c", "echo delivered; sleep 2"])
    task = aws.run(task_definition)
    group = task_definition["containerDefinitions"][0]["logConfiguration"]["options"]
    stream = f"{group['awslogs-stream-prefix']}/main/{task['taskArn'].rsplit('/', 1)[-1]}"
    (event,) = wait_for(
        lambda: _events(aws, group["awslogs-group"], stream), what="the event", timeout=30
    )
    (delivery,) = draws(plane, since, "log_delivery")
    lag = (event["ingestionTime"] - event["timestamp"]) / 1000
    # The shipper's own HTTP call to CloudWatch comes on top of the drawn delay.
    assert delivery["seconds"] - MILLISECOND <= lag <= delivery["seconds"] + 0.25
    assert delivery["started"] == pytest.approx(event["timestamp"] / 1000, abs=MILLISECOND)
    aws.wait_status(task["taskArn"], "STOPPED", timeout=30)


def _events(aws: Aws, group: str, stream: str) -> list[dict[str, Any]] | None:
    try:
        events = aws.logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
    except aws.logs.exceptions.ResourceNotFoundException:
        return None
    return events or None


def test_a_seeded_task_draws_the_delays_of_its_workload_whatever_ran_before(aws: Aws) -> None:
    # Under pabot with one simulator the suites' tasks reach RunTask interleaved; each task still
    # gets the delays a simulator with the same seed gives the first task running that command.
    aws.run_command(["sh", "-c", "echo another workload first"])
    command = ["sh", "-c", f"echo keyed {time.time_ns()}; sleep 1"]  # outlives the delivery
    task_definition = aws.register(command)
    task = aws.run(task_definition)
    stopped = aws.wait_status(task["taskArn"], "STOPPED", timeout=30)
    group = task_definition["containerDefinitions"][0]["logConfiguration"]["options"]
    stream = f"{group['awslogs-stream-prefix']}/main/{task['taskArn'].rsplit('/', 1)[-1]}"
    (event,) = wait_for(
        lambda: _events(aws, group["awslogs-group"], stream), what="the event", timeout=30
    )

    alone = SimConfig(**PLANE_SETTINGS).delays(record=False)
    key = "\x1f".join(["alpine:latest", *command])
    assert seconds(stopped, "pullStartedAt", "createdAt") == pytest.approx(
        alone.provisioning(key=key), abs=MILLISECOND
    )
    assert seconds(stopped, "pullStoppedAt", "pullStartedAt") == pytest.approx(
        alone.pending(key=key), abs=MILLISECOND
    )
    assert seconds(stopped, "stoppedAt", "executionStoppedAt") == pytest.approx(
        alone.deprovisioning(key=key), abs=MILLISECOND
    )
    delivery = alone.log_delivery(key=key)
    lag = (event["ingestionTime"] - event["timestamp"]) / 1000
    assert delivery - MILLISECOND <= lag <= delivery + 0.25
