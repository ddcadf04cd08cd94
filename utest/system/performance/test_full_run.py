"""One full ECS run (``robot --include ecs suites``) against an external simulator, measured.

The simulator is started here and handed to robot as a real sockerless target (``SOCKERLESS_HOST``
plus its AWS endpoint), so what the run launched is counted where it is billed: on the AWS side,
with boto3 ``ListTasks`` against the simulator's endpoint, and by the simulator's own counters.
Its per-request log gives requests per test, how fast each resource was polled, and that the
waits the API can block on did block (one request each).
"""

from __future__ import annotations

import bisect
import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from utest.intervals import union_length

from .conftest import (
    ExternalSimulator,
    Request,
    UnixHTTPConnection,
    run_robot,
    start_external_simulator,
    stop_external_simulator,
)

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

MAX_FARGATE_TASKS = 3
TESTS_IN_FULL_RUN = 4
POLLED_ROUTES = ("GET /containers/{id}/json", "GET /exec/{id}/json", "GET /containers/{id}/logs")
MAX_REQUESTS_PER_TEST = 40
WINDOW_SECONDS = 5.0
MAX_IN_WINDOW = 10
# The lifecycle flow waits once for its container to exit and once for a log line.
EXIT_WAITS = 1
LOG_LINE_WAITS = 1


def sim_stats(simulator: ExternalSimulator) -> dict[str, Any]:
    connection = UnixHTTPConnection(simulator.process.info.socket_path)
    try:
        connection.request("GET", "/_sim/stats")
        response = connection.getresponse()
        assert response.status == 200
        stats: dict[str, Any] = json.loads(response.read())
    finally:
        connection.close()
    return stats


def task_arns(simulator: ExternalSimulator, status: str) -> list[str]:
    info = simulator.process.info
    ecs = boto3.client(
        "ecs",
        endpoint_url=info.aws_endpoint_url,
        region_name=info.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3}),
    )
    arns: list[str] = []
    for page in ecs.get_paginator("list_tasks").paginate(
        cluster=info.cluster, desiredStatus=status
    ):
        arns.extend(page["taskArns"])
    return arns


@dataclass
class FullRun:
    passed: int
    failed: int
    metadata: dict[str, str]
    requests: list[Request]
    stopped: list[str]
    running: list[str]
    stats: dict[str, Any]
    timeline: dict[str, Any]
    pictures: dict[str, int]  # per test name: the timeline pictures in its log


@pytest.fixture(scope="module")
def simulator() -> Iterator[ExternalSimulator]:
    """The fargate latency profile at a tenth of the wait: start blocks, logs lag, waits poll."""
    started = start_external_simulator(profile="fargate", time_scale=0.1)
    try:
        yield started
    finally:
        stop_external_simulator(started)


@pytest.fixture(scope="module")
def full_run(simulator: ExternalSimulator, tmp_path_factory: pytest.TempPathFactory) -> FullRun:
    simulator.log.clear()
    workdir = tmp_path_factory.mktemp("full-run")
    env = simulator.robot_environment(workdir / "journal", "perf-full-run")
    output = run_robot(["--include", "ecs", "suites"], env, workdir / "robot")
    root = ET.parse(output).getroot()
    total = root.find("./statistics/total/stat")
    assert total is not None
    metadata = {str(meta.get("name")): meta.text or "" for meta in root.iter("meta")}
    pictures = {
        str(test.get("name")): sum(
            1
            for msg in test.findall("msg")
            if msg.get("html") == "true" and "<svg" in (msg.text or "")
        )
        for test in root.iter("test")
    }
    timeline = json.loads((workdir / "robot" / "timeline.json").read_text())
    simulator.sync()
    return FullRun(
        passed=int(total.get("pass", 0)),
        failed=int(total.get("fail", 0)),
        metadata=metadata,
        requests=[
            r
            for r in simulator.log.requests()
            if not r.path.startswith("/_sim/") and "sync=" not in r.target
        ],
        stopped=task_arns(simulator, "STOPPED"),
        running=task_arns(simulator, "RUNNING"),
        stats=sim_stats(simulator),
        timeline=timeline,
        pictures=pictures,
    )


def busiest_window(requests: list[Request], route: str, window: float) -> tuple[int, str]:
    """The most requests on one resource of ``route`` within ``window`` seconds, and which."""
    by_resource: dict[str, list[float]] = {}
    for request in requests:
        if request.route == route:
            by_resource.setdefault(request.resource, []).append(request.started)
    best, which = 0, ""
    for resource, starts in by_resource.items():
        for index, start in enumerate(starts):
            count = bisect.bisect_right(starts, start + window) - index
            if count > best:
                best, which = count, resource
    return best, which


def test_full_run_launches_at_most_three_fargate_tasks_counted_on_aws(full_run: FullRun) -> None:
    assert (full_run.passed, full_run.failed) == (TESTS_IN_FULL_RUN, 0)
    launched = set(full_run.stopped) | set(full_run.running)
    assert 1 <= len(launched) <= MAX_FARGATE_TASKS, sorted(launched)
    assert full_run.running == [], "tasks still running after the run"
    assert full_run.stats["aws"]["tasks_launched"] == len(launched)


def test_report_metadata_names_the_fargate_task_count_aws_reports(full_run: FullRun) -> None:
    launched = len(set(full_run.stopped) | set(full_run.running))
    assert full_run.metadata.get("Fargate tasks") == str(launched), full_run.metadata


def test_requests_per_test_and_polling_rate_of_the_full_run(full_run: FullRun) -> None:
    routes = Counter(request.route for request in full_run.requests)
    per_test = len(full_run.requests) / TESTS_IN_FULL_RUN
    print(f"\n{len(full_run.requests)} requests, {per_test:.1f} per test: {dict(routes)}")
    for route in POLLED_ROUTES:
        for window in (1.0, WINDOW_SECONDS):
            count, resource = busiest_window(full_run.requests, route, window)
            print(f"{route}: at most {count} request(s) on one resource in {window:g} s")
    assert per_test <= MAX_REQUESTS_PER_TEST
    for route in POLLED_ROUTES:
        count, resource = busiest_window(full_run.requests, route, WINDOW_SECONDS)
        assert count <= MAX_IN_WINDOW, f"{resource}: {count} requests within {WINDOW_SECONDS} s"


def test_waits_block_with_one_request_each(full_run: FullRun) -> None:
    """``Container Should Have Exited With Code`` waits with one ``POST /wait`` (plus one
    inspect), ``Wait Until Logs Contain Line`` with one follow stream; only the stop's check and
    the exec waits poll."""
    waits = [r for r in full_run.requests if r.route == "POST /containers/{id}/wait"]
    follows = [
        r
        for r in full_run.requests
        if r.route == "GET /containers/{id}/logs" and "follow=true" in r.target
    ]
    assert len(waits) == EXIT_WAITS, [r.target for r in waits]
    assert all("condition=not-running" in r.target for r in waits)
    assert len(follows) == LOG_LINE_WAITS, [r.target for r in follows]


SLOW_TESTS = 3  # every test but the configuration check launches a task
ADD_UP_WITHIN = 0.05


def test_every_slow_test_has_one_timeline_picture_and_an_entry_in_timeline_json(
    full_run: FullRun,
) -> None:
    assert sorted(full_run.pictures.values()) == [0] + [1] * SLOW_TESTS, full_run.pictures
    entries = full_run.timeline["tests"]
    assert [entry["test"] for entry in entries if entry["containers"]] == [
        name for name, count in full_run.pictures.items() if count
    ]
    for suite in ("Lifecycle", "Exec", "Start Timeout"):
        assert full_run.metadata[f"Timeline {suite}"].startswith("start: "), full_run.metadata


AWS_WAIT_PHASES = ("provisioning", "pull", "deprovisioning", "CloudWatch delivery")


def aws_wait_intervals(tests: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """The phases in which AWS, not the kit or the daemon, was the one taking time: each task's
    provisioning, pull and deprovisioning, and CloudWatch's delivery of its first line."""
    return [
        (float(phase["start"]), float(phase["end"]))
        for test in tests
        for container in test["containers"]
        for phase in container["phases"]
        if phase["name"] in AWS_WAIT_PHASES
    ]


def test_timeline_phases_add_up_to_the_simulators_delays(full_run: FullRun) -> None:
    """On the fargate profile the picture's AWS phases (provisioning, pull, deprovisioning,
    CloudWatch delivery) cover the intervals the simulator spent waiting on purpose, within 5 %:
    in total, and where they lie on the axis."""
    delays = [(d["started"], d["started"] + d["seconds"]) for d in full_run.stats["delays"]]
    drawn = aws_wait_intervals(full_run.timeline["tests"])
    waited, pictured = union_length(delays), union_length(drawn)
    overlap = waited + pictured - union_length(delays + drawn)
    kinds = Counter(d["kind"] for d in full_run.stats["delays"])
    print(f"\nsimulator waited {waited:.3f} s ({dict(kinds)}); the timelines show {pictured:.3f} s")
    assert waited > 0
    assert abs(pictured - waited) <= ADD_UP_WITHIN * waited
    assert overlap >= (1 - ADD_UP_WITHIN) * waited


def test_the_timeline_costs_no_aws_call_in_a_passing_run(full_run: FullRun) -> None:
    """Every task was seen STOPPED by a proof, so no DescribeTasks was made for the timeline."""
    assert full_run.timeline["run"]["cost"] == {"aws_calls": 0}
    clock = full_run.timeline["run"]["clock"]
    assert clock["offset"] == 0, clock  # one machine, one clock: the bounds must allow 0
