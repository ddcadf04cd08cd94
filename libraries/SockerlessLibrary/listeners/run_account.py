"""The end-of-run account, for every way a run is started: ``robot`` on a directory, on one file or
on several, and ``pabot``.

The library's listener calls `RunAccountant.end_of_run` when a suite ends above which no suite
had the library in scope: the run's top suite when it loads the library (the kit's
``suites/__init__.robot``, a team repository's), else each outermost suite that does (a top
suite made of several paths, or a top ``__init__.robot`` without the library). There:

1. what this process could not clean and what went down is said once (``outages.py``: the
   console warning, the sweep command, a "left" journal line per container);
2. this process's account (created, cleaned, proven gone, left, the sweep, what went down, its
   ``timeline.json``) goes to the run's shared ledger (``run/group.py``);
3. the report metadata gets the account of the whole run, read back from that ledger:
   ``Cleanup`` and, when they apply, ``Cleanup left`` and ``Down during the run``, and the
   Fargate usage and budget of every process. Under pabot the process pabot started last
   first waits for the others (``listeners/pabot.py``), so the merged report adds up, and it merges
   their ``timeline.json`` files into pabot's output directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..budget import SHARED_BY_PABOT, BudgetLedger, TaskBudgetError
from ..errors import SockerlessError
from ..journal import journal_counts
from ..run.context import LibraryContext
from ..run.group import GroupAccount, ProcessAccount, usage_record
from ..run.janitor import Janitor
from ..timeline import merge_documents
from .log import log, warn
from .pabot import merged_output_dir, pabot_process, wait_for_the_others
from .timeline import TIMELINE_FILE, TimelineReporter, write_timeline


def record_usage(ctx: LibraryContext, tasks: int, task_seconds: float) -> dict[str, str]:
    """Add this process's measured Fargate usage to the run's ledger; returns the usage metadata
    of the whole run so far (`Set Fargate Usage Metadata`; the end of the run sets it again)."""
    ledger = ctx.task_budget().ledger
    ledger.append(usage_record(ctx.run_id, tasks, task_seconds))
    return GroupAccount.from_records(ledger.records()).usage_metadata()


def runs_nothing_after(data: Any) -> bool:
    """Whether no suite of this robot process runs after the running suite ``data``: it and
    each suite above it are the last child of their parent."""
    while data.parent is not None:
        if data.parent.suites[-1] is not data:
            return False
        data = data.parent
    return True


class ReportedByLedger:
    """The pabot queue indexes whose processes have put their last account in the ledger (none
    while it cannot be read: the wait then goes by pabot's own word alone). The ledger is only
    ever appended to, so it is read again only when its size changed."""

    def __init__(self, ledger: BudgetLedger) -> None:
        self._ledger = ledger
        self._size = -1
        self._indexes: set[int] = set()

    def __call__(self) -> set[int]:
        try:
            size = self._ledger.path.stat().st_size
            if size != self._size:
                records = self._ledger.records()
                self._indexes = GroupAccount.from_records(records).done_pabot_indexes()
                self._size = size
        except (TaskBudgetError, ValueError, OSError):
            return set()
        return self._indexes


class RunAccountant:
    """Knows which suites the library saw start, and accounts for the run when it ends."""

    def __init__(
        self, context: LibraryContext, janitor: Janitor, timeline: TimelineReporter
    ) -> None:
        self.ctx = context
        self.janitor = janitor
        self.timeline = timeline
        self._seen: set[str] = set()

    def start_suite(self, data: Any) -> None:
        """Remember the suite: its children are not outermost."""
        self._seen.add(str(data.id))

    def is_outermost(self, data: Any) -> bool:
        """Whether no suite above ``data`` had the library in scope (an ``__init__.robot`` in
        between may load nothing)."""
        parent = data.parent
        while parent is not None:
            if str(parent.id) in self._seen:
                return False
            parent = parent.parent
        return True

    def end_of_run(self, result: Any, *, done: bool = False) -> None:
        """Account for the run at the end of an outermost suite (see the module); ``result`` is
        that suite's result, whose top suite gets the metadata; ``done``: this process runs no
        suite after it (``runs_nothing_after``). Never raises."""
        root = result
        while root.parent is not None:
            root = root.parent
        self.janitor.account_for_leftovers(warn)
        if not self._library_was_used():
            return
        process = pabot_process()
        try:
            budget = self.ctx.task_budget()
            done_index = process.queue_index if process and done else None
            budget.ledger.append(self._process_account(done_index).as_record())
        except (TaskBudgetError, SockerlessError, ValueError, OSError) as error:
            warn(f"Could not add this process to the run's account: {error}")
            return
        if process is not None and process.last:
            # Only a ledger this pabot run agreed on holds no other run's accounts.
            this_run_only = budget.scope.shared_by == SHARED_BY_PABOT
            why = wait_for_the_others(
                process, reported=ReportedByLedger(budget.ledger) if this_run_only else None
            )
            if why is not None:
                warn(f"The report's totals may be short: {why}")
        try:
            group = GroupAccount.from_records(budget.ledger.records())
            root.metadata.update(group.metadata())
            usage = group.usage_metadata()
            if usage:
                # The processes reported their usage (`Set Fargate Usage Metadata`): the usage
                # and the budget now, with every process in, are the ones the report keeps.
                root.metadata.update(usage)
                root.metadata["Fargate task budget"] = budget.summary()["description"]
        except (TaskBudgetError, SockerlessError, ValueError, OSError) as error:
            warn(f"Could not read the run's account: {error}")
            return
        if process is not None and process.last:
            self._merge_timelines(group, budget.scope.budget_id)
            self._say_what_others_left(group)

    def _library_was_used(self) -> bool:
        """Whether this process made a target usable or wrote a journal: else it has nothing
        to account for (a dry run, a run that selected none of its tests)."""
        return self.ctx.connected_target() is not None or self.ctx.journal.path.exists()

    def _process_account(self, done_pabot_index: int | None) -> ProcessAccount:
        counts = journal_counts(self.ctx.journal.records())
        sweep = self.janitor.sweep_command() if counts.pending else ""
        written = self.timeline.written_to
        return ProcessAccount(
            run_id=self.ctx.run_id,
            created=counts.created,
            cleaned=counts.cleaned,
            proven_gone=counts.verified,
            left=tuple(container_id[:12] for container_id in counts.pending),
            left_count=len(counts.pending),
            sweep=sweep,
            down=tuple(outage.describe() for outage in self.ctx.outages.all()),
            timeline=str(written.resolve()) if written is not None else "",
            done_pabot_index=done_pabot_index,
        )

    def _merge_timelines(self, group: GroupAccount, run_id: str) -> None:
        """pabot's merged output gets one ``timeline.json`` of every process's containers."""
        own = self.timeline.written_to
        target_dir = merged_output_dir(own.parent) if own is not None else None
        sources = [Path(path) for path in group.timelines()]
        if target_dir is None or not sources:
            return
        documents, problems = [], []
        for source in sources:
            try:
                loaded = json.loads(source.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                problems.append(f"{source}: {error}")
                continue
            if isinstance(loaded, dict):
                documents.append(loaded)
            else:
                problems.append(f"{source}: not a timeline document")
        try:
            merged = merge_documents(run_id, documents)
            write_timeline(target_dir / TIMELINE_FILE, merged)
        except (OSError, ValueError, KeyError, TypeError) as error:
            warn(f"Could not merge the processes' timelines into {target_dir}: {error}")
            return
        for problem in problems:
            warn(f"A process's timeline was left out of the merged one: {problem}")
        log(
            f"Timeline: {len(merged['tests'])} test(s) of {len(sources)} process(es) merged into "
            f"{target_dir / TIMELINE_FILE}"
        )

    def _say_what_others_left(self, group: GroupAccount) -> None:
        """The merged log's errors name every process's leftovers (each said its own already,
        in its own output, which pabot keeps one value of per metadata name)."""
        others = [a for a in group.leftovers() if a.run_id != self.ctx.run_id and a.left_count]
        if others:
            warn(
                "Cleanup could not finish in other processes of this pabot run: "
                + group.left_text()
            )
