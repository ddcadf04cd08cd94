"""Cleanup as the library runs it: one container, a scope's containers, or a whole run's leftovers.

Used by the cleanup keywords and by the listener (end of test, end of suite, library close).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from ..aws.leftovers import CleanupLeft
from ..aws.resources import RUN_ID_LABEL, kit_containers
from ..aws.teardown import ContainerCleanupResult, DaemonRemover, aws_cleaner, clean_up_container
from ..errors import SockerlessError
from ..journal import RunJournal, journal_directory
from ..polling import Poller, PollTimeout, poll_until
from .context import LibraryContext
from .outages import cleanup_left
from .registry import Selection, UnconfirmedCreate, everything

CLEANUP_DEADLINE_SECONDS = 60.0
DAEMON_REMOVE_READ_TIMEOUT = 30.0
UNCONFIRMED_POLL_INTERVAL = 0.25
UNCONFIRMED_MAX_POLL_INTERVAL = 2.0

Log = Callable[[str], None]

NO_AWS_SIDE = "Docker-only mode without AWS credentials: the target has no AWS side to clean"


def no_aws_side(docker_only: bool, credentials: str) -> str | None:
    """Why a cleanup skips AWS and is still complete (Docker-only mode, no credentials), or
    ``None``: with credentials the AWS side is cleaned as in any run."""
    if docker_only and credentials == "missing":
        return NO_AWS_SIDE
    return None


class Janitor:
    """Cleans containers through the daemon and on AWS, and keeps registry and journal in step."""

    def __init__(self, context: LibraryContext, log: Log) -> None:
        self.ctx = context
        self.log = log
        # The latest attempt for each container: what the end-of-run account reports.
        self.last_results: dict[str, ContainerCleanupResult] = {}
        # What that account reported: the run's last word on them, not retried after it.
        self.accounted: set[str] = set()
        self.outages_said: set[str] = set()

    def clean(self, container_id: str, journal: RunJournal | None = None) -> ContainerCleanupResult:
        """Clean one container (idempotent; bounded by ``CLEANUP_DEADLINE_SECONDS``)."""
        ctx = self.ctx
        remove: DaemonRemover | None = self._remove_from_daemon
        if ctx.connected_target() is None and ctx.choice().is_embedded:
            # The simulator was never started by this library, so it holds nothing of ours.
            remove, cleaner, unavailable = None, None, ""
            skip: str | None = "the embedded simulator is not running; its state is gone"
        else:
            cleaner, unavailable = aws_cleaner(
                ctx.aws_config(),
                lambda: ctx.container_resources(CLEANUP_DEADLINE_SECONDS, self.log),
            )
            skip = no_aws_side(ctx.docker_only, ctx.aws_config().credentials)
        result = clean_up_container(
            container_id,
            remove_from_daemon=remove,
            cleaner=cleaner,
            aws_skip_reason=skip,
            aws_unavailable=unavailable,
            journal=journal or ctx.journal,
            log=self.log,
        )
        self.last_results[container_id] = result
        if result.complete:
            ctx.registry.mark_cleaned(container_id)
        return result

    def claim(self, selection: Selection) -> list[str]:
        """The containers the selected scopes still have to clean, creates cut short included."""
        self.resolve_unconfirmed(selection)
        return self.ctx.registry.pending(selection)

    def resolve_unconfirmed(self, selection: Selection) -> None:
        """Find the containers of the selected scopes' creates that were cut short and register
        them for cleanup, in the create's scope like any other container.

        The daemon may finish a create after the library stopped waiting for its answer, so
        each one is looked for among this run's labelled containers (by name when it had one)
        until its deadline, the moment its answer was due.
        """
        for create in self.ctx.registry.unconfirmed(selection):
            try:
                container_id = self._await_container_of(create)
            except PollTimeout:
                self.log(
                    f"The {create.describe()} was cut short and no container of it appeared "
                    "on the daemon before its answer was due: nothing to clean"
                )
            except SockerlessError as error:
                self.log(
                    f"Could not look for the container of the {create.describe()} that was cut "
                    f"short: {error}. The sweeper finds it by its run-id label."
                )
            else:
                self.ctx.remember_created(container_id, tty=False, scope=create.scope)
                self.log(f"The {create.describe()} was cut short; it made {container_id[:12]}")
            self.ctx.registry.settle(create)

    def _await_container_of(self, create: UnconfirmedCreate) -> str:
        if self.ctx.connected_target() is None:
            raise PollTimeout("no daemon was ever contacted")
        known = set(self.ctx.created)

        def made_by_create(entries: list[Mapping[str, Any]]) -> str | None:
            # A known ID is already registered (or cleaned): only a new one is the create's.
            for entry in entries:
                named = create.name is None or f"/{create.name}" in (entry.get("Names") or [])
                if named and str(entry["Id"]) not in known:
                    return str(entry["Id"])
            return None

        self.log(
            f"The {create.describe()} was cut short before its answer: looking for its "
            f"container for up to {max(0.0, create.deadline - time.monotonic()):.0f} s"
        )
        container_id = poll_until(
            Poller[str | None](
                probe=lambda: made_by_create(self._labelled_entries(self.ctx.run_id)),
                done=lambda found: found is not None,
                describe=lambda found: found or "none yet",
            ),
            what=f"container of the {create.describe()}",
            timeout=max(0.0, create.deadline - time.monotonic()),
            interval=UNCONFIRMED_POLL_INTERVAL,
            max_interval=UNCONFIRMED_MAX_POLL_INTERVAL,
            log=lambda _: None,
        )
        if container_id is None:  # poll_until only returns an observation that is done
            raise PollTimeout(f"no container of the {create.describe()}")
        return container_id

    def sweep(self, run_id: str | None = None) -> dict[str, Any]:
        """Clean what a run left: labelled containers on the daemon and pending journal entries.

        Containers registered by a scope that is still running are left to that scope.
        """
        ctx = self.ctx
        run = run_id or ctx.run_id
        if run == ctx.run_id:
            self.resolve_unconfirmed(everything)
        journal = RunJournal(journal_directory(ctx.env), run)
        candidates: list[str] = []
        daemon_error = ""
        if ctx.connected_target() is not None or not ctx.choice().is_embedded:
            try:
                candidates.extend(str(entry["Id"]) for entry in self._labelled_entries(run))
            except SockerlessError as error:
                daemon_error = str(error)
                self.log(f"Could not list run {run}'s containers on the daemon: {error}")
        candidates.extend(entry.container_id for entry in journal.pending())
        candidates = list(dict.fromkeys(candidates))
        live = [cid for cid in candidates if run == ctx.run_id and ctx.registry.is_pending(cid)]
        to_clean = [cid for cid in candidates if cid not in live]
        self.log(
            f"Sweep of run {run}: {len(candidates)} leftover container(s), "
            f"{len(live)} still owned by a running test or suite"
        )
        results = [self.clean(cid, journal) for cid in to_clean]
        summary: dict[str, Any] = {
            "run_id": run,
            "found": len(candidates),
            "cleaned": [r.container_id for r in results if r.complete],
            "failed": {r.container_id: r.summary() for r in results if not r.complete},
            "left_to_running_scopes": live,
        }
        if daemon_error:
            summary["daemon_error"] = daemon_error
        return summary

    def account_for_leftovers(self, warn: Callable[[str], None]) -> CleanupLeft | None:
        """At the end of the run (or of one of its outermost suites): say what is left and how
        to finish, in the console (a warning) and the journal (a "left" line per container).
        Each container and outage is said once, however often the run ends a suite that
        accounts (``listeners/run_account.py``). Returns the account of what was new to say,
        else ``None``; never raises (it runs in the listener)."""
        try:
            account = cleanup_left(self.ctx, self.last_results)
            said, said_down = self.accounted, self.outages_said
            new = replace(
                account,
                leftovers=[item for item in account.leftovers if item.container_id not in said],
                outages=[outage for outage in account.outages if outage.address not in said_down],
            )
            if new.needed:
                warn("\n".join(new.lines()))
                for item in new.leftovers:
                    self.ctx.journal.record_left(item.container_id, item.as_record())
        except (SockerlessError, ValueError, OSError) as error:
            warn(f"Could not account for what the run left: {error}")
            return None
        if new.needed:
            self.accounted |= {item.container_id for item in new.leftovers}
            self.outages_said |= {outage.address for outage in new.outages}
            return new
        if account.needed:
            # A later outermost suite of a run of several paths: the run's last lines still
            # end with what is left and the command, said in full above.
            warn(
                f"Still left from run {account.run_id}: {len(account.leftovers)} container(s), "
                f"and {len(account.outages)} address(es) down (said above); finish the cleanup "
                f"with: {account.command()}"
            )
        return None

    def sweep_command(self) -> str:
        """The sweeper command that finishes this run's cleanup."""
        return cleanup_left(self.ctx, self.last_results).command()

    def _remove_from_daemon(self, container_id: str) -> int:
        return self.ctx.client().remove_container(
            container_id,
            force=True,
            expected=(204, 404),
            timeout=self.ctx.timeouts(read=DAEMON_REMOVE_READ_TIMEOUT),
        )

    def _labelled_entries(self, run_id: str) -> list[Mapping[str, Any]]:
        entries = self.ctx.client().list_containers(
            all=True,
            filters={"label": [f"{RUN_ID_LABEL}={run_id}"]},
            timeout=self.ctx.timeouts(read=DAEMON_REMOVE_READ_TIMEOUT),
        )
        return kit_containers(entries, run_id)
