"""List filters: which keys Docker accepts, which the simulator evaluates, and the matching.

A key Docker does not know answers 400 ``Invalid filter '<key>'``, as Docker does (measured on
Docker 20.10 for ``GET /containers/json`` and ``GET /images/json``; Docker 24 and later write
``invalid filter`` in lower case); a key Docker knows but the simulator does not evaluate
answers 400 too, naming the ones it does, rather than listing everything. Container filters:
label (``k`` / ``k=v``, all must match), name (part of the name), id, status. Under the
``unknown-filters-ignored`` quirk a key Docker does not know is dropped instead, as sockerless
does (``known_filters``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .errors import ApiError, bad_request

if TYPE_CHECKING:  # the image routes use this module too, and the backend imports them
    from .backend import ContainerView

# Docker's accepted keys (moby daemon/list.go ``acceptedPsFilterTags``, daemon/images
# ``acceptedImageFilterTags``).
CONTAINER_FILTERS = frozenset(
    {
        "ancestor", "before", "exited", "expose", "health", "id", "is-task", "isolation",
        "label", "name", "network", "publish", "since", "status", "volume",
    }
)  # fmt: skip
IMAGE_FILTERS = frozenset({"before", "dangling", "label", "reference", "since", "until"})
CONTAINER_FILTERS_EVALUATED = frozenset({"id", "label", "name", "status"})
IMAGE_FILTERS_EVALUATED = frozenset({"reference"})
# Docker's container states, the values the ``status`` filter accepts.
STATUSES = frozenset({"created", "restarting", "running", "removing", "paused", "exited", "dead"})


def invalid_filter(key: str, value: str | None = None) -> ApiError:
    """400 in Docker's words for a filter key (and value) it does not accept."""
    return bad_request(
        f"Invalid filter '{key}'" if value is None else f"Invalid filter '{key}={value}'"
    )


def check_filters(
    filters: Mapping[str, list[str]], accepted: frozenset[str], evaluated: frozenset[str]
) -> None:
    """400 for a key Docker does not accept (the first in sorted order; Docker names one of
    them), then for one the simulator does not evaluate."""
    for key in sorted(filters):
        if key not in accepted:
            raise invalid_filter(key)
    for key in sorted(filters):
        if key not in evaluated:
            raise bad_request(
                f"filter '{key}' is not supported by the embedded simulator (sockerless_sim): "
                f"it evaluates {', '.join(sorted(evaluated))}"
            )


def known_filters(
    filters: Mapping[str, list[str]], accepted: frozenset[str]
) -> dict[str, list[str]]:
    """``filters`` without the keys Docker does not accept: sockerless ignores them (020b7fa4
    ``core/filters.go:MatchContainerFilters`` has no default case), so a misspelt key lists
    every container there."""
    return {key: values for key, values in filters.items() if key in accepted}


def check_container_filters(filters: Mapping[str, list[str]]) -> None:
    """The ``GET /containers/json`` filters are ones the simulator can honour; 400 otherwise."""
    check_filters(filters, CONTAINER_FILTERS, CONTAINER_FILTERS_EVALUATED)
    for status in filters.get("status", []):
        if status not in STATUSES:
            raise invalid_filter("status", status)


def _label_matches(labels: Mapping[str, str], wanted: str) -> bool:
    key, sep, value = wanted.partition("=")
    if key not in labels:
        return False
    return not sep or labels[key] == value


def matches(view: ContainerView, filters: Mapping[str, list[str]]) -> bool:
    """Whether ``view`` passes every filter (checked by ``check_container_filters`` first).
    Label filters are ANDed (as in Docker); the values of ``name`` (part of the name, with or
    without its leading ``/``), ``id`` (prefix) and ``status`` are ORed.

    Docker's ``name`` value is a regular expression searched in ``/<name>``, so any part of a
    name matches; here, as in sockerless (``strings.Contains``), the value is plain text: a
    ``.`` is a dot, not any character."""
    record = view.record
    labels = record.config.labels
    if not all(_label_matches(labels, wanted) for wanted in filters.get("label", [])):
        return False
    names = filters.get("name")
    if names and not any(name in f"/{record.name}" for name in names):
        return False
    ids = filters.get("id")
    if ids and not any(record.id.startswith(prefix) for prefix in ids):
        return False
    statuses = filters.get("status")
    return not statuses or view.state.status in statuses
