"""The agent token of a container, learnt before the kit shows anything the container printed.

sockerless puts ``SOCKERLESS_AGENT_TOKEN`` into the task definition it registers for each
container, and the container's processes see it: ``env`` or ``printenv SOCKERLESS_AGENT_TOKEN``
run through exec, or a command that prints its environment into the logs, would put it in the
report. Before the kit logs a container's output (exec, logs, attach) it reads the container's
task definition once (``DescribeTaskDefinition`` of its family, whose answer the kit's ECS
clients hand to ``masking.SECRETS``), so the token is masked wherever it appears. A target the kit
cannot read on AWS (no credentials, a plain Docker engine, a container not started yet) has
nothing to learn; the ``SOCKERLESS_AGENT_TOKEN=`` form is masked anyway.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError

from ..aws.resources import task_definition_family
from ..errors import SockerlessError
from .context import LibraryContext

LOOKUP_SECONDS = 5.0  # at most this long, once per container

_learnt: set[str] = set()  # container IDs whose task definition was read in this process


def learn_agent_token(ctx: LibraryContext, container_id: str) -> None:
    """Read ``container_id``'s task definition once, so its agent token is a known secret."""
    if container_id in _learnt or ctx.aws_config().credentials == "missing":
        return
    family = task_definition_family(container_id)
    try:
        resources = ctx.container_resources(
            min(LOOKUP_SECONDS, ctx.settings.aws_timeout), ctx.robot.debug
        )
        definition = resources.task_definition(family)
    except (SockerlessError, BotoCoreError, OSError) as error:
        ctx.robot.debug(
            f"Could not read task definition {family} to learn its agent token: {error}"
        )
        return
    if definition is not None:
        _learnt.add(container_id)
