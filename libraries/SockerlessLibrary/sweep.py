"""The out-of-band sweeper: clean what killed runs left behind.

Run it as ``python -m SockerlessLibrary.sweep`` (or ``python3 tasks.py sweep``)::

    python -m SockerlessLibrary.sweep                      # every run in .kit-journal/
    python -m SockerlessLibrary.sweep --run-id 20260223T101112Z-1a2b3c
    python -m SockerlessLibrary.sweep --host unix:///var/run/sockerless.sock  # + labelled ones
    python -m SockerlessLibrary.sweep --dry-run            # only list what would be cleaned

Candidates are the journal's containers without a "cleaned" line and, with ``--host``, the
daemon's containers labelled ``sockerless-kit.project=sockerless-ecs-acceptance`` (and the run id,
with ``--run-id``). Each is force-removed through the daemon, then its tasks are stopped, its task
definitions deregistered and its log streams deleted, with the region, cluster, endpoint and log
group recorded in the journal (the environment's for daemon-only finds). Containers that lived in
an embedded simulator that has since exited are recorded as gone: its state died with it.

Without the run's AWS credentials in the environment the daemon side is still cleaned and the
AWS side reported as not cleaned, with why; a daemon or AWS endpoint that does not answer is
tried for a few seconds, then skipped (``docs/reliability.md``, "The sweeper without AWS").

Exit status: 0 when everything found was cleaned (or nothing was found), 1 when something could
not be cleaned, 2 for bad arguments. The last line of output is a JSON summary.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import socket
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from .aws.config import SIMULATOR_ACCESS_KEY, AwsConfig
from .aws.credentials import credentials_state
from .aws.queries import ContainerResources
from .aws.resources import PROJECT, PROJECT_LABEL, RUN_ID_LABEL, kit_containers
from .aws.retry import AwsCaller
from .aws.teardown import ContainerCleanupResult, DaemonRemover, aws_cleaner, clean_up_container
from .errors import SockerlessError
from .journal import (
    CreatedEntry,
    RunJournal,
    journal_directory,
    journal_files,
    pending_entries,
    read_records,
    validate_run_id,
)
from .outage import Outages
from .target import EMBEDDED, open_client
from .transport import Timeouts

DEADLINE_SECONDS = 60.0
PROBE_TIMEOUT_SECONDS = 1.0
DAEMON_TIMEOUTS = Timeouts(connect=5.0, read=30.0)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
UNLABELLED_RUN = "daemon"

Log = Callable[[str], None]


class DaemonClient(Protocol):
    """The two Docker API calls the sweeper makes (``DockerClient`` provides them)."""

    def remove_container(
        self, container_id: str, *, force: bool = ..., expected: Collection[int] = ...
    ) -> int: ...

    def list_containers(
        self, *, all: bool = ..., filters: Mapping[str, Any] | None = ...
    ) -> list[dict[str, Any]]: ...


ClientFactory = Callable[[str], DaemonClient]


@dataclass
class Candidate:
    """A container to clean and where its resources live."""

    container_id: str
    run_id: str
    entry: CreatedEntry | None = None


@dataclass
class SweepReport:
    """What the sweep found and did."""

    found: int = 0
    cleaned: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    would_clean: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    aws_not_cleaned: dict[str, str] = field(default_factory=dict)
    down: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was left uncleaned."""
        return not self.failed and not self.errors

    def record(self, result: ContainerCleanupResult) -> None:
        """Count one container's outcome, the AWS side apart."""
        if result.complete:
            self.cleaned.append(result.container_id)
            return
        self.failed[result.container_id] = result.summary()
        if result.aws is None:
            self.aws_not_cleaned[result.container_id] = result.aws_skipped or "not attempted"
        elif not result.aws.complete:
            self.aws_not_cleaned[result.container_id] = result.aws.errors[0]


def endpoint_answers(endpoint_url: str | None) -> bool:
    """True when a loopback endpoint accepts a TCP connection (never dials anything else)."""
    if not endpoint_url:
        return False
    parts = urlsplit(endpoint_url)
    if parts.hostname not in LOOPBACK_HOSTS or parts.port is None:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port), PROBE_TIMEOUT_SECONDS):
            return True
    except OSError:
        return False


def aws_config_for(entry: CreatedEntry | None, env: Mapping[str, str]) -> AwsConfig:
    """Where a candidate's AWS resources live: from its journal entry, else the environment."""
    if entry is None:
        return AwsConfig.from_env(env)
    embedded = entry.target_kind == EMBEDDED
    return AwsConfig(
        region=entry.region,
        endpoint_url=entry.endpoint_url,
        cluster=entry.cluster,
        log_group=entry.log_group,
        credentials="simulator" if embedded else credentials_state(env),
        static_credentials=(SIMULATOR_ACCESS_KEY, SIMULATOR_ACCESS_KEY) if embedded else None,
    )


class Sweeper:
    """Finds and cleans leftovers; everything it needs comes in through the constructor."""

    def __init__(
        self,
        *,
        journal_dir: Path,
        env: Mapping[str, str],
        log: Log,
        host: str | None = None,
        run_id: str | None = None,
        deadline_seconds: float = DEADLINE_SECONDS,
        client_factory: ClientFactory | None = None,
    ) -> None:
        self.journal_dir = journal_dir
        self.env = env
        self.log = log
        self.host = host
        self.run_id = run_id
        self.deadline_seconds = deadline_seconds
        # Shared by every container of the sweep: a dead daemon or endpoint costs seconds once.
        self.outages = Outages()
        self.client_factory: ClientFactory = client_factory or (
            lambda host: open_client(host, DAEMON_TIMEOUTS, outages=self.outages)
        )

    def candidates(self, report: SweepReport) -> list[Candidate]:
        """Pending journal entries, then labelled containers on ``--host`` not in the journal."""
        found: dict[str, Candidate] = {}
        for path in journal_files(self.journal_dir, self.run_id):
            for entry in pending_entries(read_records(path)):
                found.setdefault(
                    entry.container_id, Candidate(entry.container_id, entry.run_id, entry)
                )
        if self.host:
            try:
                for container_id, run in self._labelled_on_daemon():
                    found.setdefault(container_id, Candidate(container_id, run))
            except SockerlessError as error:
                report.errors.append(f"listing containers on {self.host}: {error}")
                self.log(f"Could not list containers on {self.host}: {error}")
        return list(found.values())

    def run(self, *, dry_run: bool = False) -> SweepReport:
        """Clean every candidate (or only list them with ``dry_run``)."""
        report = SweepReport()
        candidates = self.candidates(report)
        report.found = len(candidates)
        self.log(f"Sweep: {len(candidates)} leftover container(s)")
        for candidate in candidates:
            if dry_run:
                report.would_clean.append(candidate.container_id)
                self.log(f"Would clean {candidate.container_id} (run {candidate.run_id})")
                continue
            report.record(self.clean(candidate))
        report.down = [outage.describe() for outage in self.outages.all()]
        return report

    def clean(self, candidate: Candidate) -> ContainerCleanupResult:
        """Clean one candidate through its daemon (if reachable) and its AWS."""
        entry = candidate.entry
        unlabelled = candidate.run_id == UNLABELLED_RUN
        journal = None if unlabelled else RunJournal(self.journal_dir, candidate.run_id)
        simulator_gone = (
            entry is not None
            and entry.target_kind == EMBEDDED
            and not endpoint_answers(entry.endpoint_url)
        )
        remove, cleaner, unavailable, skip = None, None, "", None
        if simulator_gone:
            skip = "its embedded simulator has exited; its state is gone"
        else:
            config = aws_config_for(entry, self.env)
            cleaner, unavailable = aws_cleaner(
                config,
                lambda: ContainerResources(
                    config.client("ecs"),
                    config.client("logs"),
                    config,
                    AwsCaller.for_endpoint(config, self.deadline_seconds, self.log, self.outages),
                ),
            )
            remove = self._remover_for(entry)
        return clean_up_container(
            candidate.container_id,
            remove_from_daemon=remove,
            cleaner=cleaner,
            aws_skip_reason=skip,
            aws_unavailable=unavailable,
            journal=journal,
            log=self.log,
        )

    def _remover_for(self, entry: CreatedEntry | None) -> DaemonRemover | None:
        host = self.host
        if host is None and entry is not None and entry.target:
            if entry.target_kind == EMBEDDED and not _socket_exists(entry.target):
                return None
            host = entry.target
        if host is None:
            return None
        client = self.client_factory(host)
        return lambda container_id: client.remove_container(
            container_id, force=True, expected=(204, 404)
        )

    def _labelled_on_daemon(self) -> list[tuple[str, str]]:
        assert self.host is not None
        client = self.client_factory(self.host)
        label = f"{RUN_ID_LABEL}={self.run_id}" if self.run_id else f"{PROJECT_LABEL}={PROJECT}"
        entries = client.list_containers(all=True, filters={"label": [label]})
        return [
            (str(entry["Id"]), str(entry["Labels"].get(RUN_ID_LABEL) or UNLABELLED_RUN))
            for entry in kit_containers(entries, self.run_id)
        ]


def _socket_exists(target: str) -> bool:
    path = target.removeprefix("unix://")
    return path.startswith("/") and Path(path).exists()


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m SockerlessLibrary.sweep",
        description="Clean containers and AWS resources that killed sockerless-kit runs left.",
    )
    parser.add_argument("--run-id", help="only this run (default: every run in the journal)")
    parser.add_argument(
        "--host",
        help="daemon to ask for labelled containers and to remove them through "
        "(default: the one each journal entry recorded)",
    )
    parser.add_argument(
        "--journal-dir",
        help="journal directory (default: $SOCKERLESS_KIT_JOURNAL_DIR or ./.kit-journal)",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=DEADLINE_SECONDS,
        help="seconds allowed per container (default: %(default)s)",
    )
    parser.add_argument("--dry-run", action="store_true", help="only list what would be cleaned")
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Entry point; returns the exit status."""
    arguments = build_parser().parse_args(argv)
    environment = os.environ if env is None else env
    try:
        if arguments.run_id:
            validate_run_id(arguments.run_id)
    except ValueError as error:
        print(f"sweep: {error}", file=sys.stderr)
        return 2
    journal_dir = Path(arguments.journal_dir or journal_directory(environment))

    sweeper = Sweeper(
        journal_dir=journal_dir,
        env=environment,
        log=functools.partial(print, file=sys.stderr, flush=True),
        host=arguments.host,
        run_id=arguments.run_id,
        deadline_seconds=arguments.deadline,
    )
    report = sweeper.run(dry_run=arguments.dry_run)
    done = len(report.would_clean) if arguments.dry_run else len(report.cleaned)
    verb = "would clean" if arguments.dry_run else "cleaned"
    print(f"sweep: {report.found} found, {done} {verb}, {len(report.failed)} failed", flush=True)
    if report.aws_not_cleaned:
        reasons = sorted(set(report.aws_not_cleaned.values()))
        print(
            f"sweep: AWS side not cleaned for {len(report.aws_not_cleaned)} container(s): "
            + " | ".join(reasons),
            flush=True,
        )
    for outage in report.down:
        print(f"sweep: down: {outage}", flush=True)
    print(json.dumps(asdict(report), sort_keys=True), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
