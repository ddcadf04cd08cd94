"""What every container create goes through, whichever way it is sent.

`Create Container` and a ``POST .../containers/create`` on the kit's RequestsLibrary session
(`Create Sockerless Session`) share it, so both keep the kit's guarantees: the run's labels, the
Fargate task budget (counted before anything is sent), the cleanup registry and the journal
(written before the keyword returns), and the search for a container whose create was cut short.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..aws.resources import PROJECT, PROJECT_LABEL, RUN_ID_LABEL
from ..budget import BudgetSlot
from ..errors import ConfigurationError, DaemonResponseError
from .context import LibraryContext
from .outages import refuse_create_when_down
from .registry import UnconfirmedCreate


def kit_labels(ctx: LibraryContext) -> dict[str, str]:
    """The labels every container of this run carries (cleanup finds them by these)."""
    return {RUN_ID_LABEL: ctx.run_id, PROJECT_LABEL: PROJECT}


@dataclass
class CreateInFlight:
    """One create between its budget slot and the daemon's answer: the budget, registry and
    journal bookkeeping around it."""

    ctx: LibraryContext
    slot: BudgetSlot
    pending: UnconfirmedCreate
    scope: str
    name: str | None

    @classmethod
    def begin(cls, ctx: LibraryContext, name: str | None) -> CreateInFlight:
        """Count the create (or fail, unsent, beyond the budget or to a target that went down)
        and note it as unconfirmed."""
        refuse_create_when_down(ctx)
        scope = ctx.robot.current_scope()
        slot = ctx.task_budget().reserve(scope)
        # Until the ID is registered, an interruption (signal, Robot timeout, lost answer) may
        # leave a container the daemon is still making: cleanup then looks for it by label.
        pending = ctx.registry.expect_create(
            name, scope, deadline=time.monotonic() + ctx.timeouts().read
        )
        return cls(ctx, slot, pending, scope, name)

    def failed(self, error: Exception) -> None:
        """The create raised: give its slot back when no container can have come of it."""
        if isinstance(error, DaemonResponseError | ConfigurationError):
            self.ctx.registry.settle(self.pending)
            self.slot.settle_failed_create(error)

    def refused(self, status: int) -> None:
        """The daemon answered an error status: there is no container to clean."""
        self.ctx.registry.settle(self.pending)
        self.slot.give_back(f"the daemon refused the create: HTTP {status}")

    def answered(self, body: Any, *, tty: bool, image: str = "") -> str | None:
        """The daemon answered success: register the container (journal, cleanup) or, with no
        ID in the answer, give the slot back. Returns the container ID."""
        ctx = self.ctx
        container_id = body.get("Id") if isinstance(body, Mapping) else None
        if not container_id:
            ctx.registry.settle(self.pending)
            self.slot.give_back(f"the daemon answered {body} without a container ID")
            ctx.log(f"Create answered without a container ID: {body}")
            return None
        container_id = str(container_id)
        ctx.remember_created(container_id, tty=tty, scope=self.scope)
        ctx.registry.settle(self.pending)
        ctx.robot.debug(f"Registered {container_id[:12]} for cleanup in scope {self.scope}")
        ctx.log(
            f"Created container {container_id} ({image or 'image not named'}, "
            f"name {self.name or 'none'})"
        )
        for warning in body.get("Warnings") or []:
            ctx.log(f"Daemon warning: {warning}")
        return container_id
