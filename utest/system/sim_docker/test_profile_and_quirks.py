"""The fargate profile (scaled down) and the quirk switches that make the simulator answer like
real sockerless instead of Docker."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
from wire_helpers import RawClient, aws_client, parse_frames

from sockerless_sim.launcher import SimulatorProcess

pytestmark = pytest.mark.timeout(60)

# Go's RFC3339Nano of a millisecond value: 0-3 fraction digits, never a trailing zero.
SOCKERLESS_TS = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,2}[1-9])?Z$")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    # Fargate's shape at 2 % of its duration: 0.2-0.9 s to RUNNING, logs 0.1-0.3 s late.
    process = SimulatorProcess.start(
        profile="fargate",
        time_scale=0.02,
        quirks=("ms-timestamps", "ip-in-networks-only"),
        ready_timeout=20,
    )
    yield process
    process.stop()


def test_ms_timestamps_are_trimmed_rfc3339nano(client: RawClient) -> None:
    container_id = client.run(["seq", "1", "40"])
    response = client.logs_when(
        container_id, "stdout=1&timestamps=1", lambda body: body.endswith(b" 40\n")
    )
    frames = parse_frames(response.body)
    assert len(frames) == 40
    for number, (stream, payload) in enumerate(frames, start=1):
        stamp, _, text = payload.partition(b" ")
        assert stream == 1
        assert SOCKERLESS_TS.match(stamp), stamp
        assert text == f"{number}\n".encode()


def test_ip_only_in_networks(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    network_settings = client.inspect(container_id)["NetworkSettings"]
    assert network_settings["IPAddress"] == ""
    assert network_settings["Networks"]["default"]["IPAddress"].startswith("10.")


@pytest.fixture
def phased_sim() -> Iterator[SimulatorProcess]:
    # 10 % of Fargate: each phase lasts >= 0.5 s, so a watcher on a busy machine cannot miss one.
    process = SimulatorProcess.start(profile="fargate", time_scale=0.1, ready_timeout=20)
    yield process
    process.stop()


def test_start_blocks_while_the_task_passes_provisioning_and_pending(
    phased_sim: SimulatorProcess,
) -> None:
    sim = phased_sim
    client = RawClient(sim.info.socket_path)
    container_id = client.create(["tail", "-f", "/dev/null"])
    ecs = aws_client(sim.info, "ecs")
    family = f"sockerless-{container_id[:12]}"
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            arns = ecs.list_tasks(cluster=sim.info.cluster, family=family)["taskArns"]
            if arns:
                tasks = ecs.describe_tasks(cluster=sim.info.cluster, tasks=arns)["tasks"]
                status = tasks[0]["lastStatus"]
                if not seen or seen[-1] != status:
                    seen.append(status)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    began = time.monotonic()
    try:
        response = client.request("POST", f"/containers/{container_id}/start")
    finally:
        elapsed = time.monotonic() - began
        time.sleep(0.05)
        done.set()
        watcher.join()
    assert response.status == 204
    assert elapsed >= 1.0  # provisioning + pending: 10-45 s x 0.1
    assert seen == ["PROVISIONING", "PENDING", "RUNNING"]
    assert client.inspect(container_id)["State"]["Status"] == "running"
