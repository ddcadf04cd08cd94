"""An AWS endpoint that answers nothing is down, not throttled; throttling keeps its back-off.

A scripted ECS endpoint on loopback (JSON protocol) counts every request it gets, so "botocore
made one attempt" and "nothing more was sent" are counted, not inferred. Retry delays of the kit's
own caller run on a fake clock.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from SockerlessLibrary.aws.cleanup import AwsCleaner
from SockerlessLibrary.aws.config import AwsConfig
from SockerlessLibrary.aws.queries import ContainerResources
from SockerlessLibrary.aws.retry import AwsCaller, Deadline
from SockerlessLibrary.errors import AwsEndpointDown, AwsError
from SockerlessLibrary.outage import Outages

pytestmark = pytest.mark.timeout(60)

CONTAINER = "c0ffee" * 10 + "abcd"
SERVER_HOLD_SECONDS = 10.0


class EcsEndpoint:
    """An ECS endpoint answering ListClusters as scripted: ``answers`` is consumed per request
    (``"ok"``, ``"throttle"``, ``"500"``, ``"silent"``); once it is empty every request is "ok"."""

    def __init__(self, answers: list[str], port: int = 0) -> None:
        self.answers = list(answers)
        self.requests = 0
        self.released = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                endpoint.requests += 1
                answer = endpoint.answers.pop(0) if endpoint.answers else "ok"
                if answer == "silent":
                    endpoint.released.wait(SERVER_HOLD_SECONDS)
                    return
                status, body = {
                    "ok": (200, {"clusterArns": []}),
                    "throttle": (
                        400,
                        {"__type": "ThrottlingException", "message": "Rate exceeded"},
                    ),
                    "500": (500, {"__type": "ServerException", "message": "boom"}),
                }[answer]
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Callable[..., EcsEndpoint]]:
    started: list[EcsEndpoint] = []

    def start(answers: list[str], port: int = 0) -> EcsEndpoint:
        started.append(EcsEndpoint(answers, port))
        return started[-1]

    yield start
    for server in started:
        server.close()


def refused_url() -> str:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def config(url: str, **kwargs: Any) -> AwsConfig:
    return AwsConfig(
        endpoint_url=url,
        credentials="simulator",
        static_credentials=("testing", "testing"),
        **kwargs,
    )


def fake_time_outages(sleeps: list[float]) -> Outages:
    """Outages whose clock is the sum of the delays slept so far (only sleeping moves it)."""
    return Outages(clock=lambda: sum(sleeps), sleep=sleeps.append)


def caller_for(aws: AwsConfig, outages: Outages, log: list[str] | None = None) -> AwsCaller:
    return AwsCaller(
        Deadline(60),
        (log if log is not None else []).append,
        sleep=outages.sleep,
        endpoint=aws.endpoint_address,
        outages=outages,
    )


def test_botocore_makes_one_attempt_at_a_refusing_endpoint() -> None:
    client = config(refused_url()).client("ecs")
    started = time.monotonic()
    with pytest.raises(EndpointConnectionError):
        client.list_clusters()
    # botocore's standard mode would sleep and retry four times (several seconds).
    assert time.monotonic() - started < 0.5


def test_botocore_makes_one_attempt_at_a_silent_endpoint(
    endpoint: Callable[..., EcsEndpoint],
) -> None:
    silent = endpoint(["silent"] * 5)
    client = config(silent.url, read_timeout=0.5).client("ecs")
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        client.list_clusters()
    assert time.monotonic() - started < 1.5
    assert silent.requests == 1


@pytest.mark.parametrize("answer", ["throttle", "500"])
def test_throttling_and_server_errors_keep_botocores_retries(
    endpoint: Callable[..., EcsEndpoint], answer: str
) -> None:
    busy = endpoint([answer, answer])
    response = config(busy.url).client("ecs").list_clusters()
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert busy.requests == 3


def test_a_refusing_endpoint_is_retried_for_the_bound_then_down_for_the_run(
    endpoint: Callable[..., EcsEndpoint],
) -> None:
    sleeps: list[float] = []
    outages = fake_time_outages(sleeps)
    url = refused_url()
    aws = config(url)
    client = aws.client("ecs")
    log: list[str] = []
    with pytest.raises(AwsError) as first:
        caller_for(aws, outages, log).call("ECS ListClusters", "the account", client.list_clusters)
    assert not isinstance(first.value, AwsEndpointDown)
    assert sleeps == [0.25, 0.5, 1.0, 2.0]
    assert first.value.code == "EndpointConnectionError"
    assert first.value.message.endswith(
        f"(no answer in 5 attempt(s) over 3.8 s: the AWS endpoint {url} is marked down for the "
        "rest of the run)"
    )
    assert log[0] == (
        f"AWS ECS ListClusters for the account: the endpoint {url} did not answer "
        "(EndpointConnectionError); trying again in 0.25 s (attempt 2; it counts as down after "
        "4 s without an answer)"
    )
    [outage] = outages.all()

    # It comes back: the run does not use it again. Another caller sharing the run's outages
    # fails at once, naming the first cause and since when.
    back = endpoint([], port=int(url.rsplit(":", 1)[1]))
    with pytest.raises(AwsEndpointDown) as later:
        caller_for(aws, outages).call("ECS ListTasks", "family x", client.list_clusters)
    assert back.requests == 0
    assert sleeps == [0.25, 0.5, 1.0, 2.0]
    assert str(later.value) == (
        f"AWS ECS ListTasks on family x failed: EndpointDown: not attempted: the AWS endpoint "
        f"{url} down since {outage.since} (EndpointConnectionError: Could not connect to the "
        f'endpoint URL: "{url}/"; 5 attempt(s) over 3.8 s); this run sends it nothing more'
    )


def test_a_silent_endpoint_is_down_after_its_read_timeout(
    endpoint: Callable[..., EcsEndpoint],
) -> None:
    """Real clock: one read timeout (0.5 s) already outlasts the bound (0.4 s)."""
    silent = endpoint(["silent"] * 5)
    outages = Outages(down_after=0.4)
    aws = config(silent.url, read_timeout=0.5)
    client = aws.client("ecs")
    with pytest.raises(AwsError, match=r"ReadTimeoutError: Read timeout on endpoint URL"):
        caller_for(aws, outages).call("ECS ListClusters", "the account", client.list_clusters)
    started = time.monotonic()
    with pytest.raises(AwsEndpointDown, match="ReadTimeoutError"):
        caller_for(aws, outages).call("ECS ListClusters", "the account", client.list_clusters)
    assert time.monotonic() - started < 0.1
    assert silent.requests == 1


def test_the_cleanup_stops_at_a_down_endpoint_and_says_so() -> None:
    sleeps: list[float] = []
    outages = fake_time_outages(sleeps)
    aws = config(refused_url())
    resources = ContainerResources(
        aws.client("ecs"), aws.client("logs"), aws, caller_for(aws, outages)
    )
    report = AwsCleaner(resources).clean(CONTAINER)
    # The first step met the dead endpoint (and marked it down); the next was refused at once,
    # and nothing after it was tried: two errors, not one per step.
    assert len(report.errors) == 2, report.errors
    assert "is marked down for the rest of the run" in report.errors[0]
    assert report.errors[1].endswith("(the remaining steps were not attempted)")
    assert "EndpointDown: not attempted" in report.errors[1]
    assert sleeps == [0.25, 0.5, 1.0, 2.0]
