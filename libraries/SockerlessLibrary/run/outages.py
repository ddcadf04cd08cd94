"""The run's outages at the keyword layer: no new work on a target that went down, and the
closing account of what the run could not clean (``aws/leftovers.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace

from ..aws.config import AwsConfig
from ..aws.leftovers import (
    CleanupLeft,
    credential_variables,
    daemon_address,
    leftover,
    sweep_arguments,
)
from ..aws.teardown import ContainerCleanupResult
from ..errors import AwsEndpointDown, DaemonDown, SockerlessError
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


def account_for_leftovers(
    ctx: LibraryContext,
    last_results: Mapping[str, ContainerCleanupResult],
    warn: Callable[[str], None],
    *,
    said: Collection[str] = (),
    outages_said: set[str] | None = None,
) -> CleanupLeft | None:
    """At the end of the run (or of one of its outermost suites): say what is left and how to
    finish, in the console (a warning) and the journal (a "left" line per container). Only what
    was not said before counts: containers in ``said``, outages whose address is in
    ``outages_said`` (which this adds to). Returns the account, ``None`` when there was nothing
    new to say or it could not be made; never raises (it runs in the listener)."""
    reported = outages_said if outages_said is not None else set()
    try:
        account = cleanup_left(ctx, last_results)
        account = replace(
            account,
            leftovers=[item for item in account.leftovers if item.container_id not in said],
            outages=[outage for outage in account.outages if outage.address not in reported],
        )
        if not account.needed:
            return None
        warn("\n".join(account.lines()))
        journal = ctx.journal
        for item in account.leftovers:
            journal.record_left(item.container_id, item.as_record())
        reported.update(outage.address for outage in account.outages)
    except (SockerlessError, ValueError, OSError) as error:
        warn(f"Could not account for what the run left: {error}")
        return None
    return account
