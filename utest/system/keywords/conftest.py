"""Fixtures: moto in a child process, and AWS resources laid out the way sockerless makes them."""

from __future__ import annotations

import json
import os
import secrets
import select
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from SockerlessLibrary import SockerlessLibrary
from SockerlessLibrary.aws.config import AwsConfig
from SockerlessLibrary.aws.queries import ContainerResources
from SockerlessLibrary.aws.retry import AwsCaller, Deadline

HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
CLUSTER = "kit-test"
LOG_GROUP = "/sockerless"
START_TIMEOUT = 20.0


@dataclass
class MotoServer:
    """Handle on the moto child process."""

    endpoint: str

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.endpoint + path,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read()
        return json.loads(body) if body.strip().startswith(b"{") else {}

    def throttle(self, operation: str, count: int) -> None:
        """The next ``count`` calls of ``operation`` answer ThrottlingException."""
        self._post("/_throttle", {"operation": operation, "count": count})

    def throttle_stats(self) -> dict[str, dict[str, int]]:
        """Calls and throttles seen per operation since the last reset."""
        with urllib.request.urlopen(self.endpoint + "/_throttle", timeout=10) as answer:
            data: dict[str, dict[str, int]] = json.loads(answer.read())
        return data

    def reset(self) -> None:
        """Forget every AWS resource and every throttle."""
        self._post("/moto-api/reset", {})
        self._post("/_throttle", {"reset": True})


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto process for the session (about a second to start)."""
    process = subprocess.Popen(
        [sys.executable, str(HERE / "moto_process.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None and process.stdin is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    if not ready:
        process.kill()
        pytest.fail("moto did not start within 20 s")
    port = json.loads(process.stdout.readline())["port"]
    try:
        yield MotoServer(f"http://127.0.0.1:{port}")
    finally:
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture
def moto(moto_server: MotoServer) -> MotoServer:
    """The moto server, emptied before the test."""
    moto_server.reset()
    return moto_server


def new_container_id() -> str:
    """A random 64-hex container ID."""
    return secrets.token_hex(32)


@dataclass
class FakeSockerless:
    """Creates AWS resources exactly as sockerless' ECS backend names and tags them."""

    config: AwsConfig
    ecs: Any = field(init=False)
    logs: Any = field(init=False)
    subnets: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ecs = self.config.client("ecs")
        self.logs = self.config.client("logs")
        ec2 = self.config.client("ec2")
        self.ecs.create_cluster(clusterName=self.config.cluster)
        self.logs.create_log_group(logGroupName=self.config.log_group)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
        self.subnets = [
            s["SubnetId"]
            for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
                "Subnets"
            ]
        ][:1]
        self.security_groups = [
            g["GroupId"]
            for g in ec2.describe_security_groups(
                Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
            )["SecurityGroups"]
        ][:1]

    def register(self, family: str, container_id: str | None = None) -> str:
        """A Fargate task definition with one container ``main`` logging to the log group."""
        tags = [{"key": "sockerless-managed", "value": "true"}]
        if container_id:
            tags.append({"key": "sockerless-container-id", "value": container_id})
        prefix = container_id[:12] if container_id else family
        answer = self.ecs.register_task_definition(
            family=family,
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[
                {
                    "name": "main",
                    "image": "alpine:latest",
                    "memory": 512,
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": self.config.log_group,
                            "awslogs-region": self.config.region,
                            "awslogs-stream-prefix": prefix,
                        },
                    },
                }
            ],
            tags=tags,
        )
        return str(answer["taskDefinition"]["taskDefinitionArn"])

    def run(self, definition_arn: str, tag_id: str | None = None) -> str:
        """RunTask on Fargate, tagged like sockerless does when ``tag_id`` is given."""
        tags = [{"key": "sockerless-container-id", "value": tag_id}] if tag_id else []
        answer = self.ecs.run_task(
            cluster=self.config.cluster,
            taskDefinition=definition_arn,
            launchType="FARGATE",
            count=1,
            startedBy="sockerless",
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": self.subnets,
                    "securityGroups": self.security_groups,
                    "assignPublicIp": "DISABLED",
                }
            },
            **({"tags": tags} if tags else {}),
        )
        return str(answer["tasks"][0]["taskArn"])

    def stream(self, name: str, message: str = "hello from fargate") -> None:
        """A log stream with one event."""
        self.logs.create_log_stream(logGroupName=self.config.log_group, logStreamName=name)
        self.logs.put_log_events(
            logGroupName=self.config.log_group,
            logStreamName=name,
            logEvents=[{"timestamp": int(time.time() * 1000), "message": message}],
        )

    def launch(self, container_id: str, *, tag_id: str | None = None, revisions: int = 1) -> str:
        """Everything sockerless leaves for a started container; returns the task ARN."""
        family = "sockerless-" + container_id[:12]
        arn = ""
        for _ in range(revisions):
            arn = self.register(family, container_id)
        task = self.run(arn, tag_id or container_id)
        self.stream(f"{container_id[:12]}/main/{task.rsplit('/', 1)[-1]}")
        return task

    def task_status(self, arn: str) -> tuple[str, str]:
        """(lastStatus, desiredStatus) of one task."""
        task = self.ecs.describe_tasks(cluster=self.config.cluster, tasks=[arn])["tasks"][0]
        return str(task["lastStatus"]), str(task["desiredStatus"])

    def definition_status(self, arn: str) -> str:
        """Status of one task definition revision."""
        return str(
            self.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"]
        )

    def stream_names(self) -> list[str]:
        """Every stream in the log group."""
        streams = self.logs.describe_log_streams(logGroupName=self.config.log_group)["logStreams"]
        return sorted(s["logStreamName"] for s in streams)


def aws_config(moto: MotoServer, attempts: int = 5) -> AwsConfig:
    """Settings pointing at the moto process, with the simulator's static credentials."""
    return AwsConfig(
        region=REGION,
        endpoint_url=moto.endpoint,
        cluster=CLUSTER,
        log_group=LOG_GROUP,
        credentials="simulator",
        static_credentials=("testing", "testing"),
        total_max_attempts=attempts,
    )


@pytest.fixture
def sockerless_aws(moto: MotoServer) -> FakeSockerless:
    """A cluster, log group, subnet and security group in an empty moto."""
    return FakeSockerless(aws_config(moto))


def make_resources(
    config: AwsConfig,
    log: list[str],
    *,
    deadline: float = 30.0,
    first_backoff: float = 0.01,
) -> ContainerResources:
    """Look-ups with fast backoff; log lines go to ``log``."""
    caller = AwsCaller(
        Deadline(deadline), log.append, first_backoff=first_backoff, max_backoff=0.05
    )
    return ContainerResources(config.client("ecs"), config.client("logs"), config, caller)


class FailingOperations:
    """A boto3 client whose ``failing`` operations raise a ``ClientError`` with ``code`` and
    ``message`` (``{operation}`` in it names the operation): an endpoint that lacks them, or a
    caller that may not call them."""

    def __init__(self, client: Any, code: str, message: str, *failing: str) -> None:
        self._client = client
        self._code = code
        self._message = message
        self._failing = failing

    def __getattr__(self, name: str) -> Any:
        if name not in self._failing:
            return getattr(self._client, name)

        def fail(**_: Any) -> Any:
            error = {"Code": self._code, "Message": self._message.format(operation=name)}
            raise ClientError({"Error": error}, name)

        return fail


@pytest.fixture
def failing_operations() -> type[FailingOperations]:
    """``FailingOperations``, for tests that make a client fail some operations."""
    return FailingOperations


@pytest.fixture
def resources_for(moto: MotoServer) -> Any:
    """``resources_for(log, attempts=5, deadline=30.0)`` -> ContainerResources on moto."""

    def build(log: list[str], attempts: int = 5, deadline: float = 30.0) -> ContainerResources:
        return make_resources(aws_config(moto, attempts), log, deadline=deadline)

    return build


@pytest.fixture
def embedded_library(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[SockerlessLibrary]:
    """The library on its own embedded simulator, run id ``e2e-run``, journal in ``tmp_path``."""
    for name in ("SOCKERLESS_HOST", "SOCKERLESS_ECS_SOCKET", "SOCKERLESS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOCKERLESS_KIT_JOURNAL_DIR", str(tmp_path / "journal"))
    monkeypatch.setenv("SOCKERLESS_KIT_RUN_ID", "e2e-run")
    lib = SockerlessLibrary(logs_timeout=timedelta(seconds=20))
    try:
        yield lib
    finally:
        lib.close()
