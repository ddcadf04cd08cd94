"""The run journal: one JSON line per container created and per container cleaned.

A run that ends with containers not cleaned adds one "left" line for each: what the last cleanup
attempt did on the daemon and on AWS, and which resources may remain (readers that only want the
pending containers ignore it: a "created" line without a "cleaned" one is what is pending). A
"verified" line says that a check after the cleanup proved the container's AWS resources gone
(`Container Should Leave No AWS Resources`); the run's account counts them.

``.kit-journal/<run-id>.jsonl`` (directory from ``SOCKERLESS_KIT_JOURNAL_DIR``). A "created" line is
written before the create keyword returns, so even a run killed a moment later leaves enough for the
sweeper to find the container and the AWS resources derived from it. Each line is written with a
single ``write`` on a file opened with ``O_APPEND``: lines from concurrent writers never interleave,
and a process killed mid-run leaves at most one torn last line, which readers skip.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

JOURNAL_DIR_ENV = "SOCKERLESS_KIT_JOURNAL_DIR"
DEFAULT_JOURNAL_DIR = ".kit-journal"
CREATED = "created"
CLEANED = "cleaned"
VERIFIED = "verified"
LEFT = "left"

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def validate_run_id(run_id: str) -> str:
    """A run id is used as a file name and a Docker label value: keep it to a safe alphabet."""
    if not _RUN_ID.fullmatch(run_id):
        raise ValueError(
            f"Invalid run id '{run_id}': use 1-63 characters from [A-Za-z0-9_.-], "
            "starting with a letter or digit"
        )
    return run_id


def new_run_id() -> str:
    """``20260223T101112Z-1a2b3c``: sortable by time, unique per process."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def journal_directory(env: Mapping[str, str], cwd: Path | None = None) -> Path:
    """``$SOCKERLESS_KIT_JOURNAL_DIR`` or ``./.kit-journal``."""
    configured = env.get(JOURNAL_DIR_ENV)
    if configured:
        return Path(configured)
    return (cwd or Path.cwd()) / DEFAULT_JOURNAL_DIR


def utc_now() -> str:
    """Now, in UTC, to the millisecond: ``2026-11-29T09:30:13.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_lines(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON-lines text; torn lines (a writer killed mid-line) and lines
    that are not objects are skipped."""
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            yield record


@dataclass(frozen=True)
class CreatedEntry:
    """A container the run created, with where its AWS resources live."""

    run_id: str
    container_id: str
    target: str
    target_kind: str
    region: str
    cluster: str
    endpoint_url: str | None
    log_group: str
    time: str

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CreatedEntry:
        """Build from a parsed "created" line."""
        texts: dict[str, Any] = {f.name: str(record.get(f.name, "")) for f in fields(cls)}
        texts["container_id"] = str(record["container_id"])  # a record without one is no entry
        texts["endpoint_url"] = record.get("endpoint_url")
        return cls(**texts)


class RunJournal:
    """Appends to and reads one run's journal file. Nothing touches the disk until a write."""

    def __init__(self, directory: Path, run_id: str) -> None:
        self.directory = directory
        self.run_id = validate_run_id(run_id)

    @property
    def path(self) -> Path:
        """``<directory>/<run-id>.jsonl``."""
        return self.directory / f"{self.run_id}.jsonl"

    def record_created(
        self,
        container_id: str,
        *,
        target: str,
        target_kind: str,
        region: str,
        cluster: str,
        endpoint_url: str | None,
        log_group: str,
    ) -> None:
        """Write the "created" line (call before the container is handed to the test)."""
        where = {"target": target, "target_kind": target_kind, "region": region, "cluster": cluster}
        self._append(
            CREATED, container_id, {**where, "endpoint_url": endpoint_url, "log_group": log_group}
        )

    def record_cleaned(self, container_id: str, *, task_arns: Iterable[str] = ()) -> None:
        """Write the "cleaned" line, with the task ARNs found (they feed the usage figures)."""
        self._append(CLEANED, container_id, {"task_arns": list(task_arns)})

    def record_verified(self, container_id: str) -> None:
        """Write the "verified" line: no AWS resource of the container is left, checked."""
        self._append(VERIFIED, container_id, {})

    def record_left(self, container_id: str, details: Mapping[str, Any]) -> None:
        """Write a "left" line: what is known to remain of a container the run could not clean."""
        self._append(LEFT, container_id, details)

    def records(self) -> list[dict[str, Any]]:
        """Every readable line of this run's journal."""
        return read_records(self.path)

    def pending(self) -> list[CreatedEntry]:
        """Containers created and not yet recorded as cleaned."""
        return pending_entries(self.records())

    def _append(self, event: str, container_id: str, details: Mapping[str, Any]) -> None:
        record = {**details, "event": event, "run_id": self.run_id, "container_id": container_id}
        line = (json.dumps({**record, "time": utc_now()}, sort_keys=True) + "\n").encode()
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)


def read_records(path: Path) -> list[dict[str, Any]]:
    """Parsed lines of a journal file (torn or foreign lines skipped; missing file: empty)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [r for r in json_lines(text) if "container_id" in r and "event" in r]


def pending_entries(records: Iterable[Mapping[str, Any]]) -> list[CreatedEntry]:
    """Created entries without a later "cleaned" line for the same container, in creation order."""
    created: dict[str, CreatedEntry] = {}
    for record in records:
        container_id = str(record["container_id"])
        if record["event"] == CREATED:
            created[container_id] = CreatedEntry.from_record(record)
        elif record["event"] == CLEANED:
            created.pop(container_id, None)
    return list(created.values())


@dataclass(frozen=True)
class JournalCounts:
    """What a run's journal says of its containers, for the run's account."""

    created: int
    cleaned: int
    verified: int
    pending: tuple[str, ...]  # container IDs created and not cleaned, in creation order


def journal_counts(records: Iterable[Mapping[str, Any]]) -> JournalCounts:
    """Containers created, cleaned, proven gone (each counted once) and still pending."""
    records = list(records)
    by_event: dict[str, set[str]] = {CREATED: set(), CLEANED: set(), VERIFIED: set()}
    for record in records:
        if record["event"] in by_event:
            by_event[record["event"]].add(str(record["container_id"]))
    pending = tuple(entry.container_id for entry in pending_entries(records))
    return JournalCounts(
        created=len(by_event[CREATED]),
        cleaned=len(by_event[CLEANED] & by_event[CREATED]),
        verified=len(by_event[VERIFIED] & by_event[CREATED]),
        pending=pending,
    )


def recorded_task_arns(records: Iterable[Mapping[str, Any]]) -> set[str]:
    """Task ARNs recorded by cleanups (usage counts them even after AWS forgot the tasks)."""
    arns: set[str] = set()
    for record in records:
        if record["event"] == CLEANED:
            arns.update(str(arn) for arn in record.get("task_arns", []))
    return arns


def journal_files(directory: Path, run_id: str | None = None) -> list[Path]:
    """One run's journal, or every run's, oldest first."""
    if run_id is not None:
        path = RunJournal(directory, run_id).path
        return [path] if path.exists() else []
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.jsonl"))
