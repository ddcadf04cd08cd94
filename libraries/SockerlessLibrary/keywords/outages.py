"""The run's outages at the keyword layer: no new work on a target that went down."""

from __future__ import annotations

from ..aws.config import AwsConfig
from ..errors import AwsEndpointDown, ConfigurationError, DaemonDown
from ..outage import DAEMON, Outage
from ..transport import Target
from .context import LibraryContext

CREATE_REFUSED = "a container created now could be neither proven nor cleaned on AWS"


def _daemon_address(host: str | None) -> str | None:
    try:
        return str(Target.parse(host)) if host else None
    except ConfigurationError:
        return None


def target_outages(ctx: LibraryContext) -> list[Outage]:
    """The outages of the daemon and the AWS endpoint the run uses now (starts nothing)."""
    target = ctx.connected_target()
    if target is not None:
        addresses = {_daemon_address(target.host), target.aws.endpoint_address}
    else:
        choice = ctx.choice()
        if choice.is_embedded:
            return []  # not started yet: nothing of it can have gone down
        addresses = {_daemon_address(choice.host), AwsConfig.from_env(ctx.env).endpoint_address}
    return [outage for outage in ctx.outages.all() if outage.address in addresses]


def refuse_create_when_down(ctx: LibraryContext, image: str) -> None:
    """A create on a target whose daemon or AWS endpoint went down fails before it is sent."""
    for outage in target_outages(ctx):
        if outage.kind == DAEMON:
            raise DaemonDown("create container", outage)
        raise AwsEndpointDown(
            operation="create container", resource=image, outage=outage, note=CREATE_REFUSED
        )
