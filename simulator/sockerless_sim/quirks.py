"""Quirks: switches that reproduce real sockerless where it departs from Docker or the spec.

A quirk is a behaviour observed on the real daemon; a profile names a set of them. Quirks are
never faults (those are lies, see ``config.LIES``): each one makes the simulator more like the
daemon the suites are meant to test.
"""

from __future__ import annotations

from collections.abc import Iterable

QUIRKS = frozenset(
    {
        "ip-in-networks-only",
        "ms-timestamps",
        "command-echo-event",
        "exec-exit-code-zero",
        "running-before-pull",
        "stop-exit-code-one",
        "image-rewritten",
        "logs-stdout-only",
        "conflict-without-slash",
        # Measured by the conformance suite on sockerless 94239b82 (docs/sockerless.md):
        "workdir-and-user-dropped",
        "kill-without-signal",
        "stop-grace-fixed",
        "auto-remove-ignored",
        "no-attach-ws",
        "tty-output-lost",
        "logs-tail-from-head",
        "logs-after-exit",
        "follow-ends-late",
        "unknown-filters-ignored",
    }
)

# A profile names a set of quirks. Every quirk so far is a behaviour observed on sockerless
# 020b7fa4 and 94239b82 (ECS backend with its own AWS simulator), so "sockerless" stands for all
# of them; a quirk that was not observed there must be left out of it.
QUIRK_PROFILES: dict[str, frozenset[str]] = {"sockerless": QUIRKS}

# What ``--quirk`` accepts: a quirk or a profile.
QUIRK_CHOICES = (*sorted(QUIRKS), *sorted(QUIRK_PROFILES))

# Under "running-before-pull" a task whose image cannot be pulled stays RUNNING this long (before
# the time scale) while the pull is tried, then stops with exit code -1.
PULL_ATTEMPT_SECONDS = 1.0

# Under "stop-grace-fixed" StopTask gives every task this long (before the time scale) between
# SIGTERM and SIGKILL, whatever its stopTimeout: sockerless' AWS simulator stops the task's
# container with the Docker Engine's default grace (simulators/aws/ecs.go:handleStopTask).
FIXED_STOP_GRACE_SECONDS = 10

# Under "follow-ends-late" a follow stream goes on this long (before the time scale) after the
# container exited: sockerless' log follower fetches 6 more times, 3 s apart, once the container
# is terminal (backends/core/log_cloud.go).
FOLLOW_TAIL_SECONDS = 18.0


def expand_quirks(names: Iterable[str]) -> frozenset[str]:
    """The quirks ``names`` stand for (a profile stands for its quirks); a ValueError naming the
    known quirks and profiles when a name is neither."""
    wanted = frozenset(names)
    unknown = wanted - QUIRKS - QUIRK_PROFILES.keys()
    if unknown:
        raise ValueError(
            f"unknown quirks {sorted(unknown)}; known quirks: {sorted(QUIRKS)}; "
            f"profiles: {sorted(QUIRK_PROFILES)}"
        )
    expanded = set(wanted & QUIRKS)
    for name in wanted & QUIRK_PROFILES.keys():
        expanded |= QUIRK_PROFILES[name]
    return frozenset(expanded)
