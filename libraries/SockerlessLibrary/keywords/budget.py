"""The Fargate task budget: how much of it the run has used (the guard itself is in create)."""

from __future__ import annotations

from typing import Any

from robot.api.deco import keyword

from ..listeners.log import log
from . import LibraryComponent


class BudgetKeywords(LibraryComponent):
    """Reports the run's Fargate task budget (see ``SockerlessLibrary.budget``)."""

    @keyword(tags=("AWS", "Usage"))
    def get_fargate_task_budget(self) -> dict[str, Any]:
        """Returns the run's `Fargate task budget` and how much of it is used, as a dictionary.

        | =Key= | =Value= |
        | ``budget`` | creates the run may send (``None``: unlimited; ``auto``: see below) |
        | ``used`` | creates counted so far by all processes sharing it (``None``: unlimited) |
        | ``remaining`` | ``budget - used`` (``None``: unlimited) |
        | ``enforced`` | whether a create beyond ``budget`` fails |
        | ``denied`` | creates that failed because the budget was used up |
        | ``given_back`` | creates the daemon refused, whose slot was given back |
        | ``budget_id`` | the id the budget is counted under |
        | ``shared_by`` | ``process``, ``pabot`` or ``environment`` (``SOCKERLESS_KIT_BUDGET_ID``) |
        | ``source`` | where the budget came from |
        | ``description`` | e.g. ``2 of 5 used (budget id 20261129T101112Z-1a2b3c)`` |

        With ``auto`` (the default), ``budget`` is the sum of the selected tests'
        ``fargate-tasks:N`` tags, and it is not ``enforced`` on the kit's simulator (see
        `Fargate task budget`).

        Sends nothing to the daemon and makes no AWS call.

        Example:
        | ${budget}= | Get Fargate Task Budget | |
        | Should Be True | ${budget}[remaining] >= 1 | |
        """
        summary = self.ctx.task_budget().summary()
        log(f"Fargate task budget: {summary['description']} (from {summary['source']})")
        return summary
