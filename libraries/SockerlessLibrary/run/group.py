"""The run's account over all its processes: what each pabot process reports, and the totals.

pabot runs one robot process per suite (or test) and merges their outputs, keeping one process's
top-level metadata. Each process has its own run id (its containers, journal and sweep), but the
processes of one pabot run share one budget id and its ledger file (``budget.py``). So the
figures that must add up travel through that ledger: each process appends

- a ``usage`` record when it measures its Fargate usage on AWS (`Set Fargate Usage Metadata`):
  its tasks and task-seconds, and
- an ``account`` record at its end: how many containers it created, cleaned and proved gone,
  what it left with the command that sweeps it, what went down, and its ``timeline.json``.

The latest record of each run id counts. ``GroupAccount`` sums them; under plain robot the
group is the one process, so the same code gives the same report. Pure: reading and writing
the ledger, and where the metadata goes, are the callers' business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# An address as Robot would link it in the report (``unix://...``, ``http://...``).
_ADDRESS = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]{2,8}://[^\s`]+")

USAGE = "usage"
ACCOUNT = "account"
MAX_LISTED_IDS = 50  # container IDs per process in a record; the journal has them all


@dataclass(frozen=True)
class ProcessAccount:
    """What one process (one run id) reports at its end."""

    run_id: str
    created: int = 0
    cleaned: int = 0
    proven_gone: int = 0
    left: tuple[str, ...] = ()  # 12-character IDs of containers whose cleanup did not finish
    left_count: int = 0
    sweep: str = ""  # the command that finishes this process's cleanup ("" when nothing to do)
    down: tuple[str, ...] = ()  # what went down, one line each
    timeline: str = ""  # this process's timeline.json ("" when it wrote none)
    # Under pabot, once the process runs no suite after the one this account ends: its place
    # in pabot's queue (the totals need not wait for it to exit).
    done_pabot_index: int | None = None

    def as_record(self) -> dict[str, Any]:
        """The ledger's ``account`` record."""
        record = {"event": ACCOUNT, **asdict(self)}
        return {**record, "left": list(self.left[:MAX_LISTED_IDS]), "down": list(self.down)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ProcessAccount:
        """Read an ``account`` record back (missing or mistyped fields count as nothing)."""

        def number(name: str) -> int:
            value = record.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else 0

        def texts(name: str) -> tuple[str, ...]:
            value = record.get(name)
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        index = record.get("done_pabot_index")
        return cls(
            run_id=str(record.get("run_id", "")),
            created=number("created"),
            cleaned=number("cleaned"),
            proven_gone=number("proven_gone"),
            left=texts("left"),
            left_count=number("left_count"),
            sweep=str(record.get("sweep") or ""),
            down=texts("down"),
            timeline=str(record.get("timeline") or ""),
            done_pabot_index=index if type(index) is int else None,
        )


def unlinked(text: str) -> str:
    """``text`` with each address written as code: Robot links a ``scheme://`` text in report
    metadata, unless it is a whole code span, and a daemon socket or an AWS endpoint is no page
    to open (the embedded simulator's are gone when the report is read)."""
    return _ADDRESS.sub(lambda match: f"``{match.group(0)}``", text)


def usage_record(run_id: str, tasks: int, task_seconds: float) -> dict[str, Any]:
    """The ledger's ``usage`` record of one process."""
    return {"event": USAGE, "run_id": run_id, "tasks": tasks, "task_seconds": task_seconds}


@dataclass(frozen=True)
class GroupAccount:
    """The latest ``usage`` and ``account`` of every process of the run."""

    usage_by_run: Mapping[str, tuple[int, float]] = field(default_factory=dict)
    accounts: Sequence[ProcessAccount] = ()

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> GroupAccount:
        """The latest record of each kind per run id, in the order the processes first wrote."""
        usage: dict[str, tuple[int, float]] = {}
        accounts: dict[str, ProcessAccount] = {}
        for record in records:
            run_id = str(record.get("run_id", ""))
            if record.get("event") == USAGE:
                tasks, seconds = record.get("tasks"), record.get("task_seconds")
                if isinstance(tasks, int) and isinstance(seconds, int | float):
                    usage[run_id] = (tasks, float(seconds))
            elif record.get("event") == ACCOUNT:
                accounts[run_id] = ProcessAccount.from_record(record)
        return cls(usage, tuple(accounts.values()))

    def usage_metadata(self) -> dict[str, str]:
        """``Fargate tasks`` and ``Fargate task-seconds`` summed over the processes that measured
        them (``{}`` when none did)."""
        if not self.usage_by_run:
            return {}
        seconds = sum(seconds for _, seconds in self.usage_by_run.values())
        return {
            "Fargate tasks": str(sum(tasks for tasks, _ in self.usage_by_run.values())),
            "Fargate task-seconds": str(round(seconds, 1)),
        }

    def summary(self) -> str:
        """``8 containers created, 8 cleaned, 8 proven gone on AWS, 0 left`` (+ processes)."""
        created = sum(a.created for a in self.accounts)
        cleaned = sum(a.cleaned for a in self.accounts)
        proven = sum(a.proven_gone for a in self.accounts)
        left = sum(a.left_count for a in self.accounts)
        text = (
            f"{created} container{'' if created == 1 else 's'} created, {cleaned} cleaned, "
            f"{proven} proven gone on AWS, {left} left"
        )
        if len(self.accounts) > 1:
            text += f" (over {len(self.accounts)} processes)"
        if left:
            text += ": see Cleanup left"
        return text

    def leftovers(self) -> list[ProcessAccount]:
        """The processes that left something, or saw something go down."""
        return [a for a in self.accounts if a.left_count or a.down]

    def left_text(self) -> str:
        """``Cleanup left``: per process, its containers and the command that sweeps them."""
        parts = []
        for account in self.leftovers():
            if not account.left_count:
                continue
            ids = ", ".join(account.left)
            more = account.left_count - len(account.left)
            if more > 0:
                ids += f" and {more} more"
            parts.append(
                f"run {account.run_id}: {account.left_count} container(s) ({ids}); "
                f"finish with: {unlinked(account.sweep)}"
            )
        return " | ".join(parts)

    def down_text(self) -> str:
        """``Down during the run``: every outage any process saw, once."""
        lines = list(dict.fromkeys(line for a in self.accounts for line in a.down))
        return " | ".join(unlinked(line) for line in lines)

    def metadata(self) -> dict[str, str]:
        """The report metadata of the cleanup: ``Cleanup`` always, the others when they apply.

        Under pabot the merged report keeps one process's value for each name, so every name
        a process may set is set here whenever any process has something to say under it.
        """
        data = {
            "Cleanup": self.summary(),
            "Cleanup left": self.left_text(),
            "Down during the run": self.down_text(),
        }
        return {name: value for name, value in data.items() if value}

    def done_pabot_indexes(self) -> set[int]:
        """The pabot queue indexes of the processes whose account is their last."""
        return {a.done_pabot_index for a in self.accounts if a.done_pabot_index is not None}

    def timelines(self) -> list[str]:
        """The processes' ``timeline.json`` files, in the order they reported."""
        return [a.timeline for a in self.accounts if a.timeline]
