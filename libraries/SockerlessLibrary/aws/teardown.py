"""Clean up one container end to end: the daemon first, then AWS, then the journal.

Shared by the ``Clean Up Container`` keyword, the listener's automatic cleanup and the sweeper, so
all three behave the same. Only the library's own error types are caught: Robot's stop signal
(raised as an exception inside whatever runs) passes through, and because the "cleaned" line is
written only after every step succeeded, an interrupted cleanup leaves the container listed as
pending for the next sweep instead of wrongly marked clean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError

from ..errors import SockerlessError
from ..journal import RunJournal
from .cleanup import AwsCleaner, AwsCleanupReport
from .config import AwsConfig
from .queries import ContainerResources

Log = Callable[[str], None]
# Force-removes a container through the daemon; returns the status, 204 or 404 (already gone).
DaemonRemover = Callable[[str], int]
REMOVAL_OUTCOMES = {204: "removed (force)", 404: "already gone (404)"}
NO_CREDENTIALS = (
    "no AWS credentials in the environment: run the sweep with the run's AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"
)


def aws_cleaner(
    config: AwsConfig, resources: Callable[[], ContainerResources]
) -> tuple[AwsCleaner | None, str]:
    """A cleaner for ``config``'s AWS (``resources`` makes its look-ups), or ``None`` and why
    the AWS side cannot be cleaned (for `clean_up_container`'s ``aws_unavailable``)."""
    if config.credentials == "missing":
        return None, NO_CREDENTIALS
    try:
        return AwsCleaner(resources()), ""
    except BotoCoreError as error:  # e.g. AWS_PROFILE names a profile that does not exist
        return None, f"no AWS client ({type(error).__name__}: {error})"


@dataclass
class ContainerCleanupResult:
    """What happened to one container, on the daemon and on AWS."""

    container_id: str
    daemon: str = "not attempted"
    aws: AwsCleanupReport | None = None
    aws_skipped: str | None = None  # why AWS was not cleaned: nothing there, or not reachable
    aws_pending: bool = False  # not reachable: said in ``errors``, the container stays pending
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when nothing is known to be left behind."""
        return not self.errors and (self.aws is None or self.aws.complete)

    def summary(self) -> str:
        """One line for logs and failure messages."""
        parts = [f"Clean-up of container {self.container_id[:12]}: daemon {self.daemon}"]
        if self.aws is not None:
            parts.append(self.aws.summary())
        elif self.aws_skipped and not self.aws_pending:
            parts.append(f"AWS side skipped: {self.aws_skipped}")
        parts.extend(self.errors)
        return "; ".join(parts)


def clean_up_container(
    container_id: str,
    *,
    remove_from_daemon: DaemonRemover | None,
    cleaner: AwsCleaner | None,
    aws_skip_reason: str | None = None,
    aws_unavailable: str = "no AWS access",
    journal: RunJournal | None = None,
    log: Log,
) -> ContainerCleanupResult:
    """Force-remove through the daemon, clean AWS, and record the container as cleaned.

    ``cleaner=None`` with an ``aws_skip_reason`` means there is nothing on AWS to clean (e.g. the
    embedded simulator that held it has gone); without a reason it means AWS could not be reached
    (``aws_unavailable`` says why) and the container stays pending.
    """
    result = ContainerCleanupResult(container_id)
    if remove_from_daemon is None:
        result.daemon = "skipped (no daemon to ask)"
    else:
        try:
            result.daemon = REMOVAL_OUTCOMES[remove_from_daemon(container_id)]
        except SockerlessError as error:
            result.daemon = "removal failed"
            result.errors.append(f"daemon: {error}")
    if cleaner is None:
        result.aws_skipped = aws_skip_reason or aws_unavailable
        if aws_skip_reason is None:
            result.aws_pending = True
            result.errors.append(f"AWS side not cleaned: {aws_unavailable}")
    else:
        result.aws = cleaner.clean(container_id)
    if result.complete and journal is not None:
        journal.record_cleaned(container_id, task_arns=result.aws.task_arns if result.aws else [])
    log(result.summary())
    return result
