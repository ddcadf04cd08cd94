"""`Get Container Timeline`: what the kit saw of a container's time (``..timeline``; the report's
picture, metadata and ``timeline.json`` are ``listeners/timeline.py``'s)."""

from __future__ import annotations

from typing import Any

from robot.api.deco import keyword

from ..timeline import align, container_timeline, offset_bounds
from . import LibraryComponent


class TimelineKeywords(LibraryComponent):
    """Where a container's time went, for tests that want to assert on it themselves."""

    @keyword(tags=("Timeline",))
    def get_container_timeline(self, container_id: str) -> dict[str, Any]:
        """Returns what the kit has seen so far of the container's time: its Docker calls, its
        ECS task's timestamps and phases, and its figures in seconds.

        Makes no request: it reads what earlier keywords (the calls, the AWS proofs) already
        saw. The figures are ``provisioning``, ``pull``, ``container_start``, ``running``,
        ``stopping``, ``deprovisioning`` (from ECS's own timestamps), ``daemon_before_runtask``,
        ``start_to_running``, ``start_answer_after_running``, ``stop_to_stopped``,
        ``cloudwatch_delivery`` and ``log_delivery``; ``None`` where a timestamp is not known
        (yet, or ECS does not report it). See ``docs/timeline.md`` for each one.

        Example:
        | Start Fargate Container | ${id} | |
        | ${timeline}= | Get Container Timeline | ${id} |
        | Should Be True | ${timeline}[figures][provisioning] < 60 | |
        """
        trace = self.ctx.timeline.trace(container_id)
        if trace is None:
            raise AssertionError(
                f"No timeline for container {container_id}: only containers this library "
                "created are recorded"
            )
        return container_timeline(trace, align(offset_bounds(trace))["offset"])
