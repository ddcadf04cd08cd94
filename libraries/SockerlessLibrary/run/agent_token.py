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

from ..aws.resources import is_container_id, task_definition_family
from ..errors import SockerlessError
from .context import LibraryContext

LOOKUP_SECONDS = 5.0  # at most this long, once per container

_learnt: set[str] = set()  # container IDs whose task definition was read in this process


def learn_agent_token(ctx: LibraryContext, container_id: str) -> None:
    """Read ``container_id``'s task definition once, so its agent token is a known secret.

    ``container_id`` may be anything Docker takes for a container, a name too: the task
    definition's family is named after the ID the daemon then gives for it."""
    if container_id in _learnt or ctx.aws_config().credentials == "missing":
        return
    if not is_container_id(container_id):
        resolved = _id_of(ctx, container_id)
        if resolved is None or resolved in _learnt:
            return
        container_id = resolved
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


def _id_of(ctx: LibraryContext, reference: str) -> str | None:
    """The ID of the container a name (or an ID prefix) stands for, from the daemon; ``None``
    when there is none (the keyword's own request then gets the daemon's 404)."""
    try:
        answer = ctx.client().inspect_container(reference, expected=(200, 404))
    except (SockerlessError, ValueError) as error:
        ctx.robot.debug(f"Could not find the container {reference!r} stands for: {error}")
        return None
    found = answer.get("Id")
    return found if isinstance(found, str) and is_container_id(found) else None
