"""The run's outages at the keyword layer: no new work on a target that went down, and the
account of what the run could not clean (``aws/leftovers.py``; said by ``janitor.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..aws.config import AwsConfig
from ..aws.leftovers import (
    CleanupLeft,
    credential_variables,
    daemon_address,
    leftover,
    sweep_arguments,
)
from ..aws.teardown import ContainerCleanupResult
from ..errors import AwsEndpointDown, DaemonDown
from ..outage import DAEMON, Outage
from .context import LibraryContext

CREATE_REFUSED = "a container created now could be neither proven nor cleaned on AWS"


def target_outages(ctx: LibraryContext) -> list[Outage]:
    """The outages of the daemon and the AWS endpoint the run uses now (starts nothing)."""
    target = ctx.connected_target()
    if target is not None:
        addresses = {daemon_address(target.host), target.aws.endpoint_address}
    else:
        choice = ctx.choice()
        if choice.is_embedded:
            return []  # not started yet: nothing of it can have gone down
        addresses = {AwsConfig.from_env(ctx.env).endpoint_address}
        if choice.host:
            addresses.add(daemon_address(choice.host))
    return [outage for outage in ctx.outages.all() if outage.address in addresses]


def refuse_create_when_down(ctx: LibraryContext) -> None:
    """A create on a target whose daemon or AWS endpoint went down fails before it is sent
    (and before it is counted in the Fargate task budget)."""
    for outage in target_outages(ctx):
        if outage.kind == DAEMON:
            raise DaemonDown("create container", outage)
        raise AwsEndpointDown(
            operation="create container",
            resource="a new container",
            outage=outage,
            note=CREATE_REFUSED,
        )


def cleanup_left(
    ctx: LibraryContext, last_results: Mapping[str, ContainerCleanupResult]
) -> CleanupLeft:
    """What this run could not clean, from its journal and its last cleanup attempts."""
    journal = ctx.journal
    outages = ctx.outages.all()
    down = {outage.address for outage in outages}
    leftovers = [
        leftover(
            entry,
            last_results.get(entry.container_id),
            ctx.evidence.get(entry.container_id),
            down,
        )
        for entry in journal.pending()
    ]
    target = ctx.connected_target()
    embedded = target.simulator is not None if target is not None else ctx.choice().is_embedded
    host = None if embedded else (target.host if target is not None else ctx.choice().host)
    return CleanupLeft(
        run_id=ctx.run_id,
        journal=journal.path.resolve(),
        leftovers=leftovers,
        outages=outages,
        sweep=sweep_arguments(ctx.run_id, journal.directory, host),
        credentials=[] if embedded else credential_variables(ctx.env),
        embedded=embedded,
    )
