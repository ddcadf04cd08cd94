"""Helpers for the AWS-plane tests: planes, polling, and boto3 clients of their own.

Workloads are real: the agent helper's ``WorkloadRunner`` starts the agent and the command as
child processes. The ``Aws`` helper talks to moto over HTTP with its own boto3 session (retries
off, so every fault is visible), exactly as a separate process would.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config

from sockerless_sim.aws.plane import AwsPlane
from sockerless_sim.config import SimConfig
from sockerless_sim.workloads import WorkloadRunner

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=10)


def start_plane(tmp_path_factory: pytest.TempPathFactory, **settings: Any) -> AwsPlane:
    """A started plane with real workloads (the caller stops it)."""
    settings.setdefault("seed", 7)
    config = SimConfig(workdir=str(tmp_path_factory.mktemp("sim")), **settings)
    plane = AwsPlane(config, lambda on_output: WorkloadRunner(config.workdir, on_output))
    plane.start()
    return plane


def wait_for(
    probe: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.02, what: str = ""
) -> Any:
    """Poll until ``probe`` returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or probe}")
        time.sleep(interval)


@dataclass
class Aws:
    """Plain boto3 clients against the plane's endpoint, and task helpers on top of them."""

    plane: AwsPlane
    session: Any = field(init=False)

    def __post_init__(self) -> None:
        self.session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=self.plane.region,
        )
        self.ecs = self.client("ecs")
        self.ec2 = self.client("ec2")
        self.logs = self.client("logs")

    def client(self, service: str, config: Config = NO_RETRIES) -> Any:
        return self.session.client(service, endpoint_url=self.plane.endpoint_url, config=config)

    def register(
        self,
        command: list[str],
        *,
        image: str = "alpine:latest",
        family: str | None = None,
        extra: dict[str, Any] | None = None,
        sidecar: bool = False,
        logs: bool = True,
        tags: list[dict[str, str]] | None = None,
        network_mode: str = "awsvpc",
    ) -> dict[str, Any]:
        """A Fargate task definition shaped like sockerless' (container ``main``, awslogs)."""
        family = family or f"sockerless-{uuid.uuid4().hex[:12]}"
        main: dict[str, Any] = {
            "name": "main",
            "image": image,
            "entryPoint": ["/sockerless-agent", "--"],
            "command": command,
            "essential": True,
            **(extra or {}),
        }
        if logs:
            main["logConfiguration"] = {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": self.plane.log_group,
                    "awslogs-region": self.plane.region,
                    "awslogs-stream-prefix": family.removeprefix("sockerless-"),
                },
            }
        definitions = [main]
        if sidecar:
            definitions.append({"name": "sidecar", "image": "busybox:latest", "essential": False})
        kwargs: dict[str, Any] = {"tags": tags} if tags else {}
        response = self.ecs.register_task_definition(
            family=family,
            networkMode=network_mode,
            requiresCompatibilities=["FARGATE"] if network_mode == "awsvpc" else ["EC2"],
            cpu="256",
            memory="512",
            containerDefinitions=definitions,
            **kwargs,
        )
        return dict(response["taskDefinition"])

    def run(self, task_definition: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """RunTask on FARGATE in the plane's subnets (no security group: the VPC default)."""
        kwargs.setdefault("cluster", self.plane.cluster)
        kwargs.setdefault(
            "networkConfiguration", {"awsvpcConfiguration": {"subnets": self.plane.subnets}}
        )
        response = self.ecs.run_task(
            taskDefinition=task_definition["taskDefinitionArn"], launchType="FARGATE", **kwargs
        )
        assert response["failures"] == []
        return dict(response["tasks"][0])

    def run_command(self, command: list[str], **register: Any) -> dict[str, Any]:
        return self.run(self.register(command, **register))

    def describe(self, task_arn: str, **kwargs: Any) -> dict[str, Any]:
        response = self.ecs.describe_tasks(cluster=self.plane.cluster, tasks=[task_arn], **kwargs)
        assert response["failures"] == [], response["failures"]
        return dict(response["tasks"][0])

    def wait_status(self, task_arn: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            task = self.describe(task_arn)
            return task if task["lastStatus"] == status else None

        return dict(wait_for(probe, timeout=timeout, what=f"{task_arn} {status}"))

    def watch(self, task_arn: str, timeout: float = 10.0) -> tuple[list[str], dict[str, Any]]:
        """Every lastStatus seen (deduplicated) until STOPPED, and the final description."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            task = self.describe(task_arn)
            if not seen or seen[-1] != task["lastStatus"]:
                seen.append(task["lastStatus"])
            if task["lastStatus"] == "STOPPED":
                return seen, task
            time.sleep(0.01)
        pytest.fail(f"{task_arn} not STOPPED after {timeout} s; saw {seen}")
