"""Images as sockerless' ECS backend answers them, without a registry.

Fargate pulls the image itself when RunTask starts the task, so sockerless never needs the
layers. Its pull (``POST /images/create``) fetches the manifest and config from the registry,
records the image in its in-memory store and streams a short JSON progress; create pulls the
same way when the image is not in the store yet (failures ignored); ``GET /images/json`` lists
that store. The simulator has no registry and no network: a "pull" records the reference only
(``Id`` is ``sha256:`` + the SHA-256 of the reference, ``Size`` 0, no ``Config``) and answers
the progress lines sockerless writes for a first pull or an image already in its store. A
reference matching the pull-failure pattern cannot be pulled (500); creating a container from
it still works, and its start fails as ECS reports (``CannotPullContainerError``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, bad_request
from .exchange import Exchange, Request
from .filters import IMAGE_FILTERS, IMAGE_FILTERS_EVALUATED, check_filters
from .routing import Router

DEFAULT_TAG = "latest"
# The Docker CLI pulls ``docker.io/library/alpine``; sockerless' store aliases it to ``alpine``.
DOCKER_HUB_PREFIXES = (
    "docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/",
)  # fmt: skip


def normalize_reference(ref: str) -> str:
    """The familiar form with a tag: ``alpine`` and ``docker.io/library/alpine`` ->
    ``alpine:latest``; a reference with a tag or a digest keeps it."""
    for prefix in DOCKER_HUB_PREFIXES:
        if ref.startswith(prefix):
            ref = ref.removeprefix(prefix)
            break
    last = ref.rsplit("/", 1)[-1]
    if "@" in ref or ":" in last:
        return ref
    return f"{ref}:{DEFAULT_TAG}"


def pull_reference(from_image: str, tag: str | None) -> str:
    """The reference of ``POST /images/create?fromImage=...&tag=...`` (tag may be a digest)."""
    if not tag:
        return normalize_reference(from_image)
    separator = "@" if tag.startswith("sha256:") else ":"
    return normalize_reference(f"{from_image}{separator}{tag}")


def repository_of(ref: str) -> str:
    """``alpine:latest`` -> ``alpine``; ``host:5000/x:1`` -> ``host:5000/x``."""
    name = ref.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


@dataclass(frozen=True)
class ImageRecord:
    """One recorded image reference."""

    ref: str
    created: int  # unix seconds of the first pull

    @property
    def id(self) -> str:
        """A stable stand-in for the config digest (the simulator never fetches it)."""
        return "sha256:" + hashlib.sha256(self.ref.encode()).hexdigest()

    @property
    def digest(self) -> str:
        """A stand-in for the manifest digest."""
        return "sha256:" + hashlib.sha256(b"manifest:" + self.ref.encode()).hexdigest()


class ImageStore:
    """The references pulled (or used by a create), as sockerless' in-memory image store."""

    def __init__(self, pull_failure_pattern: str) -> None:
        self._pull_failure = re.compile(pull_failure_pattern)
        self._lock = threading.Lock()
        self._images: dict[str, ImageRecord] = {}

    def pullable(self, ref: str) -> bool:
        """False for a reference matching the pull-failure pattern."""
        return not self._pull_failure.search(ref)

    def pull(self, ref: str) -> tuple[ImageRecord, bool]:
        """Record ``ref`` (normalized); returns the record and whether it was new. 500 when the
        reference matches the pull-failure pattern."""
        ref = normalize_reference(ref)
        if not self.pullable(ref):
            raise ApiError(
                500,
                f"image pull {ref!r}: the registry cannot serve this reference (the simulator "
                "has no registry; this reference matches its pull-failure pattern)",
            )
        with self._lock:
            record = self._images.get(ref)
            if record is not None:
                return record, False
            record = ImageRecord(ref, int(time.time()))
            self._images[ref] = record
            return record, True

    def resolve(self, ref: str) -> ImageRecord | None:
        """The record for ``ref`` (a reference or an ID), or None."""
        with self._lock:
            record = self._images.get(normalize_reference(ref))
            if record is not None:
                return record
            for candidate in self._images.values():
                if candidate.id == ref or candidate.id.removeprefix("sha256:") == ref:
                    return candidate
        return None

    def records(self) -> list[ImageRecord]:
        """Every recorded image, newest first."""
        with self._lock:
            return sorted(self._images.values(), key=lambda r: r.created, reverse=True)


def _summary(record: ImageRecord, containers: int) -> dict[str, Any]:
    return {
        "Id": record.id,
        "ParentId": "",
        "RepoTags": [record.ref] if "@" not in record.ref else [],
        "RepoDigests": [f"{repository_of(record.ref)}@{record.digest}"],
        "Created": record.created,
        "Size": 0,
        "VirtualSize": 0,
        "SharedSize": -1,
        "Labels": None,
        "Containers": containers,
    }


def _inspect(record: ImageRecord) -> dict[str, Any]:
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
    return {
        "Id": record.id,
        "RepoTags": [record.ref] if "@" not in record.ref else [],
        "RepoDigests": [f"{repository_of(record.ref)}@{record.digest}"],
        "Parent": "",
        "Comment": "",
        "Created": created,
        "Container": "",
        "DockerVersion": "",
        "Author": "",
        "Config": None,
        "Architecture": "amd64",
        "Os": "linux",
        "Size": 0,
        "VirtualSize": 0,
        "GraphDriver": {"Name": "", "Data": None},
        "RootFS": {"Type": "layers", "Layers": []},
        "Metadata": {"LastTagTime": created},
    }


class ImageRoutes:
    """``POST /images/create`` (pull), ``GET /images/json``, ``GET /images/{name*}/json``."""

    def __init__(self, store: ImageStore, images_in_use: Any) -> None:
        self._store = store
        self._images_in_use = images_in_use  # () -> list of the containers' image references

    def register(self, router: Router) -> None:
        """Add the routes to ``router``."""
        router.add("POST", "/images/create", self.pull)
        router.add("GET", "/images/json", self.list)
        router.add("GET", "/images/{name*}/json", self.inspect)

    def pull(self, request: Request, exchange: Exchange) -> None:
        """200 with JSON progress lines, as sockerless streams them; ``fromSrc`` (import) is
        refused."""
        query = request.query
        if query.get("fromSrc"):
            raise ApiError(501, "image import is not supported by the simulator")
        from_image = query.get("fromImage") or query.get("reference")
        if not from_image:
            raise bad_request("invalid image reference: image reference is required")
        record, new = self._store.pull(pull_reference(from_image, query.get("tag")))
        lines = [{"status": f"Pulling from {repository_of(record.ref)}"}]
        if new:
            lines.append({"status": f"Digest: {record.digest}"})
            lines.append({"status": f"Status: Downloaded newer image for {record.ref}"})
        else:
            lines.append({"status": f"Status: Image is up to date for {record.ref}"})
        body = "".join(json.dumps(line) + "\n" for line in lines).encode()
        stream = exchange.stream(200, "application/json")
        stream.write(body)
        stream.finish()

    def list(self, request: Request, exchange: Exchange) -> None:
        """The recorded images (``all`` accepted; of the filters only ``reference``, any other
        key is 400, see ``filters.check_filters``)."""
        filters = request.query.filters()
        check_filters(filters, IMAGE_FILTERS, IMAGE_FILTERS_EVALUATED)
        wanted = filters.get("reference", [])
        used: dict[str, int] = {}
        for ref in self._images_in_use():
            found = self._store.resolve(ref)
            if found is not None:
                used[found.id] = used.get(found.id, 0) + 1
        entries = [
            _summary(record, used.get(record.id, 0))
            for record in self._store.records()
            if not wanted or any(_reference_matches(pattern, record.ref) for pattern in wanted)
        ]
        exchange.send_json(200, entries)

    def inspect(self, request: Request, exchange: Exchange) -> None:
        """The recorded image, or 404 ``No such image: <name>``."""
        name = request.params["name"]
        record = self._store.resolve(name)
        if record is None:
            raise ApiError(404, f"No such image: {name}")
        exchange.send_json(200, _inspect(record))


def _reference_matches(pattern: str, ref: str) -> bool:
    """Docker's ``reference`` filter: a glob on ``repo:tag`` or on the repository alone."""
    regex = re.compile("^" + re.escape(pattern).replace(r"\*", "[^/]*") + "$")
    return bool(regex.match(ref) or regex.match(repository_of(ref)))
