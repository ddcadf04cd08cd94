"""What a run could not clean, and the exact command that finishes the job.

At the end of a run whose cleanup could not finish (the daemon or AWS went down, a step kept
failing), the journal still lists the containers without a "cleaned" line. This module turns
them, with the last cleanup attempt and the task proven after start, into what a user needs:
which container and which AWS resources may be left, what was down, and the sweeper command for
this run id with the environment it needs. Pure: the listener prints it and puts it in the
report metadata, and writes one "left" line per container to the journal.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import ConfigurationError, excerpt
from ..journal import CreatedEntry
from ..outage import Outage
from ..transport import Target
from .config import AwsConfig
from .evidence import TaskEvidence
from .resources import log_stream_prefix, task_definition_family
from .teardown import REMOVAL_OUTCOMES, ContainerCleanupResult

SWEEP_MODULE = "python -m SockerlessLibrary.sweep"
SWEEP_TASK = "python3 tasks.py sweep"
MAX_LISTED = 10  # containers named one by one in the closing lines; the journal has them all
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class Leftover:
    """One container whose cleanup did not finish: where it stands on the daemon and on AWS."""

    container_id: str
    target: str
    daemon: str  # the daemon step of the last attempt, or "not attempted"
    aws: str  # "cleaned", or why not
    may_remain: tuple[str, ...]  # resources that may still exist, most precise name known

    def describe(self) -> str:
        """One line: the container, both sides, and what may be left."""
        left = "; may remain: " + ", ".join(self.may_remain) if self.may_remain else ""
        return (
            f"container {self.container_id[:12]} on {self.target} (daemon: {self.daemon}; "
            f"AWS: {self.aws}){left}"
        )

    def as_record(self) -> dict[str, object]:
        """The journal's "left" line (without event, run id and time)."""
        return {**asdict(self), "may_remain": list(self.may_remain)}


def leftover(
    entry: CreatedEntry,
    last: ContainerCleanupResult | None,
    evidence: TaskEvidence | None,
    down: Collection[str] = (),
) -> Leftover:
    """What may be left of one pending container, from its last cleanup attempt and evidence.

    ``down``: the addresses marked down in the run, named instead of repeating their errors.
    """
    daemon = last.daemon if last is not None else "not attempted"
    may_remain: list[str] = []
    if daemon not in REMOVAL_OUTCOMES.values():
        may_remain.append("the container on the daemon")
        if daemon_address(entry.target) in down:
            daemon = f"{daemon}: the daemon is down"
    report = last.aws if last is not None else None
    if report is not None and report.complete:
        aws = "cleaned"
    else:
        endpoint = AwsConfig(region=entry.region, endpoint_url=entry.endpoint_url).endpoint_address
        if endpoint in down:
            aws = f"not cleaned: the AWS endpoint {endpoint} is down"
        elif report is not None:
            aws = "not cleaned: " + excerpt(report.errors[0], MAX_ERROR_CHARS)
        elif last is not None and last.aws_skipped:
            aws = f"not cleaned: {last.aws_skipped}"
        else:
            aws = "not cleaned"
        may_remain.extend(_aws_resources(entry, evidence))
    return Leftover(entry.container_id, entry.target, daemon, aws, tuple(may_remain))


def daemon_address(target: str) -> str:
    """``target`` as the outage record keys a daemon (``str(Target)``), or as given when it
    does not parse (then no outage can be about it)."""
    try:
        return str(Target.parse(target))
    except ConfigurationError:
        return target


def _aws_resources(entry: CreatedEntry, evidence: TaskEvidence | None) -> list[str]:
    family = task_definition_family(entry.container_id)
    group = entry.log_group
    if evidence is None:
        return [
            f"ECS tasks of family {family} in cluster {entry.cluster}",
            f"ACTIVE task definitions of family {family}",
            f"log streams {group}:{log_stream_prefix(entry.container_id)}*",
        ]
    return [
        f"ECS task {evidence.task_arn}",
        f"task definition {evidence.task_definition_arn}",
        f"log stream {group}:{evidence.log_stream}",
    ]


def credential_variables(env: Mapping[str, str]) -> list[str]:
    """The names (never the values) of the credential variables this run had."""
    if env.get("AWS_PROFILE"):
        return ["AWS_PROFILE"]
    names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    if env.get("AWS_SESSION_TOKEN"):
        names.append("AWS_SESSION_TOKEN")
    return names


def sweep_arguments(run_id: str, journal_dir: Path, host: str | None) -> list[str]:
    """The sweeper's arguments for this run: its id, its journal, its daemon."""
    arguments = ["--run-id", run_id, "--journal-dir", str(journal_dir.resolve())]
    if host:
        arguments.append(f"--host={host}")  # a report never makes "=unix://..." a link
    return arguments


@dataclass(frozen=True)
class CleanupLeft:
    """The end-of-run account: what is left, what was down, and how to finish."""

    run_id: str
    journal: Path
    leftovers: Sequence[Leftover]
    outages: Sequence[Outage]
    sweep: list[str]  # the sweeper's arguments
    credentials: list[str]  # variable names the sweeper needs; [] for the embedded simulator
    embedded: bool = False

    @property
    def needed(self) -> bool:
        """Whether there is anything to say at all."""
        return bool(self.leftovers or self.outages)

    def command(self) -> str:
        """The sweeper command line, ready to paste."""
        return f"{SWEEP_MODULE} {shlex.join(self.sweep)}"

    def lines(self) -> list[str]:
        """The closing lines of the run."""
        lines: list[str] = []
        if self.leftovers:
            lines.append(
                f"Cleanup could not finish: {len(self.leftovers)} container(s) of run "
                f"{self.run_id} may have left resources (journal {self.journal}):"
            )
            lines += [f"  {item.describe()}" for item in self.leftovers[:MAX_LISTED]]
            if len(self.leftovers) > MAX_LISTED:
                lines.append(f"  ... and {len(self.leftovers) - MAX_LISTED} more in the journal")
        else:
            lines.append(f"Run {self.run_id}: the journal lists nothing left to clean.")
        if self.outages:
            lines.append("Down during this run (nothing more was sent to them):")
            lines += [f"  {outage.describe()}" for outage in self.outages]
        lines.append(self._how_to_finish())
        return lines

    def _how_to_finish(self) -> str:
        if self.embedded:
            return (
                "The embedded simulator held them and stops with this run, so nothing outlives "
                f"it; the sweep only closes the journal's entries: {self.command()}"
            )
        if self.leftovers:
            when = "Finish the cleanup once the daemon and AWS answer again"
        else:
            when = "To be sure nothing of the run is left (containers a down daemon could not list)"
        credentials = " and ".join(self.credentials)
        return (
            f"{when}: {self.command()} (or {SWEEP_TASK} with the same arguments). It reads each "
            "container's region, AWS endpoint, cluster and log group from the journal; its "
            f"environment needs this run's AWS credentials: {credentials}."
        )

    def metadata(self) -> dict[str, str]:
        """Report metadata: what is left and how to finish, what was down."""
        data: dict[str, str] = {}
        if self.leftovers:
            ids = ", ".join(item.container_id[:12] for item in self.leftovers)
            data["Cleanup left"] = (
                f"{len(self.leftovers)} container(s) ({ids}); journal {self.journal}; "
                f"finish with: {self.command()}"
            )
        if self.outages:
            data["Down during the run"] = " | ".join(o.describe() for o in self.outages)
        return data
