"""AWS-side checks that a container left nothing behind (spec AC 8 and 18).

Each check raises ``AssertionError`` with what it found, so a Robot failure names the resource.
These are checks of absence, and absence alone proves nothing: a container that never had a task
passes them all. So no keyword offers one on its own. `Container Should Leave No AWS Resources`
runs them only for a container the run created, next to the positive proof of the task found
after start (``aws.proof``), and says which resources were proven to exist first; `Task
Definition Should Be Deregistered` runs the definition check after the revision was seen ACTIVE.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .cleanup import wait_until_stopped
from .queries import ContainerResources
from .resources import log_stream_prefix, task_definition_family
from .retry import error_code

Log = Callable[[str], None]


class AwsCheckFailed(AssertionError):
    """An AWS-side expectation did not hold."""

    ROBOT_SUPPRESS_NAME = True


def _no_active_definition(error: ClientError) -> bool:
    # DescribeTaskDefinition(family) answers ClientException when no ACTIVE revision exists.
    return error_code(error) == "ClientException"


@dataclass
class AwsVerifier:
    """Checks on the AWS resources derived from container IDs."""

    resources: ContainerResources

    def active_task_definitions(self, container_id: str) -> list[str]:
        """ACTIVE revisions of the family, cross-checked with DescribeTaskDefinition."""
        res = self.resources
        family = task_definition_family(container_id)
        active = res.task_definition_arns(container_id, "ACTIVE")
        described = res.caller.call(
            "ECS DescribeTaskDefinition",
            family,
            lambda: res.ecs.describe_task_definition(taskDefinition=family),
            tolerate=_no_active_definition,
        )
        if described:
            definition = described.get("taskDefinition", {})
            if definition.get("status") == "ACTIVE":
                active.append(str(definition.get("taskDefinitionArn")))
        return list(dict.fromkeys(active))

    def task_definition_should_be_inactive(self, container_id: str) -> list[str]:
        """Every revision is INACTIVE or deleted; returns the INACTIVE revisions."""
        family = task_definition_family(container_id)
        active = self.active_task_definitions(container_id)
        if active:
            raise AwsCheckFailed(
                f"Task definition family {family} still has ACTIVE revision(s): {', '.join(active)}"
            )
        inactive = self.resources.task_definition_arns(container_id, "INACTIVE")
        self.resources.caller.log(
            f"Task definition family {family}: no ACTIVE revision; INACTIVE: "
            f"{', '.join(inactive) or 'none (deleted or never registered)'}"
        )
        return inactive

    def tasks_should_be_stopped(
        self, container_id: str, *, timeout: float, interval: float = 1.0
    ) -> list[dict[str, Any]]:
        """Every task of the container reaches lastStatus STOPPED within ``timeout``."""
        try:
            return wait_until_stopped(
                self.resources, container_id, timeout=timeout, interval=interval, max_interval=4.0
            )
        except AssertionError as error:
            raise AwsCheckFailed(str(error)) from None

    def log_streams_should_not_exist(self, container_id: str) -> str:
        """No stream ``<id[:12]>/...`` in the log group (a missing group passes); returns what
        was found, in a few words, for the caller's summary."""
        res = self.resources
        prefix = log_stream_prefix(container_id)
        streams = res.log_streams(container_id)
        if streams is None:
            outcome = f"log group {res.config.log_group} does not exist: no stream {prefix}*"
        elif streams and "Logs DeleteLogStream" in res.unsupported:
            # Not a leftover of sockerless': the endpoint refused the kit's own delete.
            outcome = (
                f"log stream(s) {', '.join(streams)} kept: the AWS endpoint "
                f"{res.config.endpoint_url} does not implement DeleteLogStream (on AWS the kit "
                "deletes them)"
            )
        elif streams:
            raise AwsCheckFailed(
                f"Log group {res.config.log_group} still has stream(s) {prefix}*: "
                + ", ".join(streams)
            )
        else:
            outcome = f"no log stream {prefix}* in {res.config.log_group}"
        res.caller.log(outcome[0].upper() + outcome[1:])
        return outcome
