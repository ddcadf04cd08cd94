"""``GET /containers/json`` filters: label (``k`` / ``k=v``, all must match), name, id, status."""

from __future__ import annotations

from collections.abc import Mapping

from .backend import ContainerView


def _label_matches(labels: Mapping[str, str], wanted: str) -> bool:
    key, sep, value = wanted.partition("=")
    if key not in labels:
        return False
    return not sep or labels[key] == value


def matches(view: ContainerView, filters: Mapping[str, list[str]]) -> bool:
    """Whether ``view`` passes every filter. Label filters are ANDed (as in Docker); the values
    of ``name`` (exact, leading ``/`` optional, as in sockerless), ``id`` (prefix) and
    ``status`` are ORed. Unknown filter keys are ignored, as sockerless does."""
    record = view.record
    labels = record.config.labels
    if not all(_label_matches(labels, wanted) for wanted in filters.get("label", [])):
        return False
    names = filters.get("name")
    if names and record.name not in {n.removeprefix("/") for n in names}:
        return False
    ids = filters.get("id")
    if ids and not any(record.id.startswith(prefix) for prefix in ids):
        return False
    statuses = filters.get("status")
    return not statuses or view.state.status in statuses
