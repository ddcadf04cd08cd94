"""Fault injection through ``/_sim/faults``, and the ``/_sim`` info and stats endpoints."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator

import pytest
from wire_helpers import RawClient, build_request, recv_all

from sockerless_sim.launcher import SimulatorProcess

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _no_faults_left(client: RawClient) -> Iterator[None]:
    yield
    assert client.request("DELETE", "/_sim/faults").status == 204


def test_sim_info_is_the_ready_line(client: RawClient, sim: SimulatorProcess) -> None:
    info = client.request("GET", "/_sim/info").json()
    assert info["event"] == "ready"
    assert info["socket_path"] == sim.info.socket_path
    assert info["aws_endpoint_url"] == sim.info.aws_endpoint_url
    assert info["pid"] == sim.pid


def test_aws_throttling_after_retries_is_a_500_naming_the_operation(client: RawClient) -> None:
    container_id = client.run(["tail", "-f", "/dev/null"])
    # botocore makes 3 attempts (standard retries), so 3 throttles exhaust them.
    added = client.request(
        "POST", "/_sim/faults", {"target": "aws", "operation": "DescribeTasks", "count": 3}
    )
    assert added.status == 201
    response = client.request("GET", f"/containers/{container_id}/json")
    assert response.status == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "DescribeTasks: ThrottlingException: Rate exceeded"}
    assert client.request("GET", f"/containers/{container_id}/json").status == 200
    stats = client.request("GET", "/_sim/stats").json()
    assert stats["aws"]["faults_injected"]["DescribeTasks"] == 3


def test_stats_list_the_delays_the_simulator_drew(client: RawClient) -> None:
    began = time.time()
    container_id = client.run(["tail", "-f", "/dev/null"])
    ended = time.time()
    delays = client.request("GET", "/_sim/stats").json()["delays"]
    # RunTask drew PROVISIONING, entering PENDING drew its dwell time, both while start blocked
    # (earlier tests' tasks may add deprovisioning and log delivery delays of their own).
    during = [d for d in delays if began <= d["started"] <= ended]
    assert {"provisioning", "pending"} <= {d["kind"] for d in during}, delays[-10:]
    assert all(d["seconds"] >= 0 for d in delays)
    assert client.inspect(container_id)["State"]["Status"] == "running"


def test_aws_fault_on_run_task_fails_start(client: RawClient) -> None:
    container_id = client.create(["true"])
    client.request(
        "POST",
        "/_sim/faults",
        {
            "target": "aws",
            "operation": "RunTask",
            "error_code": "AccessDeniedException",
            "message": "not allowed",
            "count": 1,
        },
    )
    response = client.request("POST", f"/containers/{container_id}/start")
    assert response.status == 500
    assert response.json()["message"] == "RunTask: AccessDeniedException: not allowed"
    assert client.inspect(container_id)["State"]["Status"] == "created"


def test_docker_status_fault_hits_only_its_route_and_count(client: RawClient) -> None:
    container_id = client.create(["true"])
    added = client.request(
        "POST",
        "/_sim/faults",
        {"target": "docker", "route": "GET /containers/{id}/json", "status": 500, "count": 2},
    )
    assert added.status == 201
    assert client.request("GET", "/_ping").status == 200
    for _ in range(2):
        response = client.request("GET", f"/containers/{container_id}/json")
        assert (response.status, response.json()) == (500, {"message": "injected fault"})
    assert client.request("GET", f"/containers/{container_id}/json").status == 200
    docker = client.request("GET", "/_sim/stats").json()["docker"]
    assert docker["faults_injected"]["GET /containers/{id}/json"] == 2
    assert docker["requests"]["GET /containers/{id}/json"] >= 3


def test_docker_drop_fault_cuts_the_logs_stream(client: RawClient) -> None:
    container_id = client.run(["sh", "-c", "echo 0123456789; echo abcdefghij"])
    client.logs_when(container_id, "stdout=1", lambda body: b"abcdefghij" in body)
    client.request(
        "POST",
        "/_sim/faults",
        {
            "target": "docker",
            "route": "GET /containers/{id}/logs",
            "drop_after_bytes": 12,
            "count": 1,
        },
    )
    with client.connect() as sock:
        sock.sendall(build_request("GET", f"/containers/{container_id}/logs?stdout=1"))
        raw = recv_all(sock)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    # The chunk promises both frames (38 bytes) but only 12 payload bytes arrive.
    assert body == b"26\r\n" + b"\x01\x00\x00\x00\x00\x00\x00\x0b0123"
    connection = http.client.HTTPConnection("localhost", timeout=10)
    connection.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.sock.connect(client.socket_path)
    connection.request("GET", f"/containers/{container_id}/logs?stdout=1")
    assert connection.getresponse().read().endswith(b"abcdefghij\n")  # count was 1
    connection.close()


def test_invalid_fault_descriptions_are_400(client: RawClient) -> None:
    cases = [
        {"target": "nowhere"},
        {"target": "aws"},
        {"target": "aws", "operation": "StopTask", "rate": 2},
        {"target": "docker", "route": "GET /nope", "status": 500},
        {"target": "docker", "route": "GET /_ping"},
        {"target": "docker", "route": "GET /_ping", "status": 500, "drop_after_bytes": 1},
    ]
    for case in cases:
        response = client.request("POST", "/_sim/faults", case)
        assert response.status == 400, case
        assert response.json()["message"]


def test_delete_faults_clears_both_kinds(client: RawClient) -> None:
    client.request("POST", "/_sim/faults", {"target": "aws", "operation": "ListTasks"})
    client.request(
        "POST", "/_sim/faults", {"target": "docker", "route": "GET /_ping", "status": 503}
    )
    assert client.request("GET", "/_ping").status == 503
    assert client.request("DELETE", "/_sim/faults").status == 204
    assert client.request("GET", "/_ping").status == 200
    assert client.request("GET", "/_sim/stats").json()["docker"]["faults_active"] == []
