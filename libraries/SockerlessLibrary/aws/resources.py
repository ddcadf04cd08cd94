"""The AWS resources sockerless derives from a container ID, and nothing else.

sockerless names the task definition family ``sockerless-<id[:12]>``, tags tasks with
``sockerless-container-id`` (the first 12 characters in some versions, all 64 in others) and writes
logs to streams ``<id[:12]>/main/<task-id>``. Cleanup and verification only ever touch resources
matched by these rules, so they cannot reach anything another project or run created.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

CONTAINER_ID_TAG = "sockerless-container-id"
# Labels the kit puts on every container it creates; sweeps only ever consider these.
PROJECT = "sockerless-ecs-acceptance"
PROJECT_LABEL = "sockerless-kit.project"
RUN_ID_LABEL = "sockerless-kit.run-id"
SHORT_ID_LENGTH = 12
FAMILY_PREFIX = "sockerless-"
DESCRIBE_TASKS_BATCH = 100  # the DescribeTasks limit on AWS

_CONTAINER_ID = re.compile(r"^[0-9a-f]{12,64}$")


def kit_containers(
    entries: Iterable[Mapping[str, Any]], run_id: str | None
) -> list[Mapping[str, Any]]:
    """The listed containers labelled as the kit's (and as run ``run_id``'s, given one). Both
    labels are checked here: a daemon that ignores filters must not widen a sweep."""
    return [
        entry
        for entry in entries
        if (labels := entry.get("Labels") or {}).get(PROJECT_LABEL) == PROJECT
        and (run_id is None or labels.get(RUN_ID_LABEL) == run_id)
    ]


def is_container_id(reference: str) -> bool:
    """Whether ``reference`` is a container ID (12 to 64 lowercase hex characters), not a name."""
    return bool(_CONTAINER_ID.fullmatch(reference))


def short_id(container_id: str) -> str:
    """The first 12 characters, validated: odd IDs are refused so prefixes cannot match widely."""
    if not is_container_id(container_id):
        raise ValueError(
            f"'{container_id}' is not a container ID (12 to 64 lowercase hex characters)"
        )
    return container_id[:SHORT_ID_LENGTH]


def task_definition_family(container_id: str) -> str:
    """``sockerless-<id[:12]>``."""
    return FAMILY_PREFIX + short_id(container_id)


def log_stream_prefix(container_id: str) -> str:
    """``<id[:12]>/``: the trailing slash keeps ``abc`` from matching ``abcd...`` streams."""
    return short_id(container_id) + "/"


def arn_name(arn: str) -> str:
    """The last segment of an ECS ARN: a task's ID (``...:task/cluster/abc`` -> ``abc``), a
    cluster's name (``...:cluster/name`` -> ``name``); a bare name stays as it is."""
    return arn.rsplit("/", 1)[-1]


def family_of_task_definition_arn(arn: str) -> str:
    """``arn:aws:ecs:r:a:task-definition/sockerless-abc:3`` -> ``sockerless-abc``."""
    return arn_name(arn).rsplit(":", 1)[0]


def tag_value(tags: Sequence[Mapping[str, Any]] | None, key: str) -> str | None:
    """The value of tag ``key`` in an ECS tag list (``[{"key": .., "value": ..}]``)."""
    for tag in tags or ():
        if tag.get("key") == key:
            value = tag.get("value")
            return None if value is None else str(value)
    return None


def task_belongs_to(task: Mapping[str, Any], container_id: str) -> bool:
    """True when a described task was launched for this container (by tag or by family)."""
    wanted = short_id(container_id)
    tagged = tag_value(task.get("tags"), CONTAINER_ID_TAG)
    if tagged is not None and tagged[:SHORT_ID_LENGTH] == wanted:
        return True
    family = family_of_task_definition_arn(str(task.get("taskDefinitionArn", "")))
    return family == FAMILY_PREFIX + wanted


def batches(items: Sequence[str], size: int = DESCRIBE_TASKS_BATCH) -> Iterator[list[str]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
