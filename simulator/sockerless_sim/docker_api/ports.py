"""What the Docker API needs from the AWS plane (``sockerless_sim.aws.plane.AwsPlane``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..aws.faults import AwsFaultInjector
    from ..capture import CapturedLine


class Plane(Protocol):
    """The subset of ``AwsPlane`` the daemon uses."""

    endpoint_url: str
    region: str
    cluster: str
    subnets: list[str]
    security_groups: list[str]
    log_group: str
    faults: AwsFaultInjector

    def client(self, service: str, *, internal: bool = False) -> Any:
        """A boto3 client to the plane's moto server."""

    def agent_for_task(self, task_arn: str) -> tuple[str, str | None] | None:
        """(agent socket, token) while the task is RUNNING, else None."""

    def captured_output(self, task_arn: str, start: int = 0) -> list[CapturedLine]:
        """The simulator's own copy of a task's output (``logs-not-cloudwatch`` lie only)."""

    def stats(self) -> dict[str, Any]:
        """Counters: tasks launched, task-seconds, calls per operation, faults injected."""
