"""ECS's size limit on a task definition, which moto does not enforce.

ECS refuses a ``RegisterTaskDefinition`` larger than 64 KiB with ``ClientException: Actual
length: '66420'. Max allowed length is '65536' bytes.`` (the CloudTrail record quoted in
awsdocs/amazon-ecs-developer-guide pull request 149, which set the documented quota to 64 KiB).
AWS does not say exactly which bytes it counts; the simulator counts the request's JSON body,
which is the task definition as the client sent it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.ecs.exceptions import EcsClientException

MAX_TASK_DEFINITION_BYTES = 65_536


def too_large_message(length: int) -> str:
    """ECS's message for a task definition of ``length`` bytes, over the limit."""
    return f"Actual length: '{length}'. Max allowed length is '{MAX_TASK_DEFINITION_BYTES}' bytes."


def within_size_limit(
    register: Callable[[Any], ActionResult],
) -> Callable[[Any], ActionResult]:
    """moto's ``register_task_definition`` handler, refusing what ECS refuses for size."""

    def register_task_definition(response: Any) -> ActionResult:
        body = response.body
        length = len(body.encode("utf-8") if isinstance(body, str) else body or b"")
        if length > MAX_TASK_DEFINITION_BYTES:
            raise EcsClientException(too_large_message(length))
        return register(response)

    return register_task_definition
