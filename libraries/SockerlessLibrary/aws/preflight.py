"""Before any task is launched: can this run work at all on the AWS side it is configured for?

Read-only, under one deadline: the credentials first (STS GetCallerIdentity; rejected ones would
make every other answer the same refusal), then the cluster, the subnets and security groups (one
VPC) and the log group. What a run reads then: docs/proofs.md, "Before any task: the preflight".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from botocore import xform_name
from botocore.exceptions import BotoCoreError, ProfileNotFound

from ..errors import AwsError
from ..outage import Outages
from .config import UNANSWERED_ERRORS, AwsConfig
from .queries import iter_pages
from .retry import ACCESS_DENIED_ERROR_CODES, KIT_POLICY_FILE, AwsCaller, is_unsupported

T = TypeVar("T")
LOG_GROUP_CHECK_ENV = "SOCKERLESS_KIT_LOG_GROUP_CHECK"
LogGroupCheck = Literal["auto", "required", "optional"]
LOG_GROUP_CHECKS: tuple[LogGroupCheck, ...] = ("auto", "required", "optional")
MAX_LOG_GROUP_PAGES = 20

REJECTED_CREDENTIALS = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidAccessKeyId",
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
    }
)
ACCESS_DENIED = ACCESS_DENIED_ERROR_CODES | {"UnauthorizedAccess"}
# The codes ``AwsCaller`` gives a call that got no answer in time (see retry.py).
UNREACHABLE = frozenset(
    {"DeadlineExceeded", "EndpointDown", "ConnectionClosedError"}
    | {error.__name__ for error in UNANSWERED_ERRORS}
)
# An access key ID (AKIA.../ASIA...) never goes into a report, even inside an AWS message.
_ACCESS_KEY_ID = re.compile(r"\b(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b")


class CredentialsUnavailable(Exception):
    """No credentials could be found at all: the run is skipped (spec AC 1), not failed."""


@dataclass
class PreflightResult:
    """What the preflight found: the identity, what it checked, problems and notes."""

    account: str | None = None
    identity_arn: str | None = None
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    aws_calls: int = 0

    @property
    def passed(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def failure_message(self) -> str:
        """One line per problem, under a heading that says no task was launched."""
        heading = f"Preflight found {len(self.problems)} problem(s) before any Fargate task was "
        return "\n".join([heading + "launched:", *(f"- {problem}" for problem in self.problems)])


def log_group_check(env: Mapping[str, str]) -> LogGroupCheck:
    """``SOCKERLESS_KIT_LOG_GROUP_CHECK`` (``auto`` when unset); anything else is an error."""
    value = (env.get(LOG_GROUP_CHECK_ENV) or "auto").strip().lower()
    if value in LOG_GROUP_CHECKS:
        return value
    raise ValueError(f"{LOG_GROUP_CHECK_ENV}={value!r} is not one of {', '.join(LOG_GROUP_CHECKS)}")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` without access key IDs or any of ``secrets``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return _ACCESS_KEY_ID.sub("<access key id>", text)


@dataclass
class Preflight:
    """The checks, over boto3 clients made by ``client`` (``"sts"``, ``"ecs"``, ...)."""

    config: AwsConfig
    client: Callable[[str], Any]
    deadline_seconds: float
    log: Callable[[str], None]
    security_groups_variable: str = "SOCKERLESS_ECS_SECURITY_GROUPS"
    log_group: LogGroupCheck = "auto"
    secrets: tuple[str, ...] = ()
    result: PreflightResult = field(default_factory=PreflightResult)
    outages: Outages = field(default_factory=Outages)  # the run's (see outage.py)
    _caller: AwsCaller = field(init=False)

    def __post_init__(self) -> None:
        self._caller = AwsCaller.for_endpoint(
            self.config, self.deadline_seconds, self.log, self.outages
        )

    def run(self) -> PreflightResult:
        """Every check in order; stops early when the credentials or the endpoint fail."""
        try:
            self._credentials()
            self._cluster()
            self._network()
            self._log_group()
        except _EndpointUnusable as unusable:
            self.result.problems.append(str(unusable))
        return self.result

    # -- the checks -------------------------------------------------------------------------

    def _credentials(self) -> None:
        answer = self._ask(
            "STS GetCallerIdentity",
            "the credentials",
            lambda sts: sts.get_caller_identity(),
            service="sts",
        )
        if answer is None:
            return  # the endpoint has no STS: the other calls will tell
        self.result.account = str(answer.get("Account", "")) or None
        self.result.identity_arn = str(answer.get("Arn", "")) or None
        self.result.checked.append(f"credentials of account {self.result.account}")

    def _cluster(self) -> None:
        name = self.config.cluster
        try:
            answer = self._ask(
                "ECS DescribeClusters",
                f"cluster {name}",
                lambda ecs: ecs.describe_clusters(clusters=[name]),
                service="ecs",
            )
        except _NotFound:
            answer = {"clusters": []}
        if answer is None:
            return
        clusters = [c for c in answer.get("clusters", []) if _names_cluster(c, name)]
        if not clusters:
            self.result.problems.append(
                f"ECS cluster '{name}' does not exist in {self._where()}: set "
                "SOCKERLESS_ECS_CLUSTER to the cluster sockerless runs its tasks in"
            )
            return
        status = str(clusters[0].get("status", ""))
        if status != "ACTIVE":
            self.result.problems.append(
                f"ECS cluster '{name}' is {status or 'in no status'}, not ACTIVE, in "
                f"{self._where()}: set SOCKERLESS_ECS_CLUSTER to an ACTIVE cluster"
            )
            return
        self.result.checked.append(f"cluster {name} ACTIVE")

    def _network(self) -> None:
        vpcs: dict[str, str] = {}
        for subnet in self.config.subnets:
            vpc = self._vpc_of(
                SUBNET,
                subnet,
                missing=f"Subnet {subnet} does not exist in {self._where()}: set "
                "SOCKERLESS_ECS_SUBNETS to subnets of the VPC the tasks should run in",
            )
            if vpc:
                vpcs[subnet] = vpc
        for group in self.config.security_groups:
            vpc = self._vpc_of(
                SECURITY_GROUP,
                group,
                missing=f"Security group {group} does not exist in {self._where()}: set "
                f"{self.security_groups_variable} to groups of the VPC the tasks run in",
            )
            if vpc:
                vpcs[group] = vpc
        if len(set(vpcs.values())) > 1:
            where = ", ".join(f"{name} in {vpc}" for name, vpc in vpcs.items())
            self.result.problems.append(
                f"The subnets and security groups are not in one VPC ({where}): set "
                f"SOCKERLESS_ECS_SUBNETS and {self.security_groups_variable} to ones of the "
                "same VPC"
            )
        elif vpcs:
            self.result.checked.append(
                f"{len(vpcs)} subnet(s)/security group(s) in {next(iter(vpcs.values()))}"
            )

    def _log_group(self) -> None:
        name = self.config.log_group

        def listed(logs: Any) -> bool:
            # DescribeLogGroups matches a prefix: only the exact name counts.
            pages = iter_pages(
                self._caller,
                "CloudWatch Logs DescribeLogGroups",
                f"log group {name}",
                lambda **params: self._counted(logs.describe_log_groups(**params)),
                {"logGroupNamePrefix": name},
                max_pages=MAX_LOG_GROUP_PAGES,
            )
            return any(g.get("logGroupName") == name for p in pages for g in p.get("logGroups", []))

        found = self._guarded("CloudWatch Logs DescribeLogGroups", "logs", listed)
        if found is None:
            return
        if found:
            self.result.checked.append(f"log group {name}")
            return
        required = self.log_group == "required" or (
            self.log_group == "auto" and self.config.endpoint_url is None
        )
        if required:
            self.result.problems.append(
                f"CloudWatch log group '{name}' does not exist in {self._where()}: create it, "
                "or set SOCKERLESS_ECS_LOG_GROUP to the group sockerless writes to (sockerless "
                "does not create it, so every task would fail to start)"
            )
        else:
            self.result.notes.append(
                f"CloudWatch log group '{name}' does not exist yet at "
                f"{self.config.endpoint_url}; an AWS simulator may create it at the first "
                f"RunTask, as sockerless' own does (on AWS this is an error; "
                f"{LOG_GROUP_CHECK_ENV}=required makes it one here)"
            )

    # -- calls ------------------------------------------------------------------------------

    def _vpc_of(self, kind: _Ec2Kind, wanted: str, *, missing: str) -> str | None:
        """The VPC of one subnet or security group; a problem when AWS does not know it."""
        try:
            answer = self._ask(
                f"EC2 {kind.operation}",
                wanted,
                lambda ec2: getattr(ec2, xform_name(kind.operation))(**{kind.parameter: [wanted]}),
                service="ec2",
            )
        except _NotFound:
            self.result.problems.append(missing)
            return None
        if answer is None:
            return None
        # One ID per call and a match on the ID: some AWS simulators ignore the ID and list all.
        items = [i for i in answer.get(kind.collection, []) if i.get(kind.id_key) == wanted]
        if not items:
            self.result.problems.append(missing)
            return None
        return str(items[0].get("VpcId", "")) or None

    def _ask(
        self,
        operation: str,
        resource: str,
        call: Callable[[Any], Any],
        *,
        service: str,
    ) -> dict[str, Any] | None:
        """One read-only call; ``None`` when the endpoint does not implement it (noted)."""

        def ask(client: Any) -> dict[str, Any]:
            answer = self._caller.call(operation, resource, lambda: self._counted(call(client)))
            return dict(answer) if isinstance(answer, Mapping) else {}

        return self._guarded(operation, service, ask)

    def _guarded(self, operation: str, service: str, work: Callable[[Any], T]) -> T | None:
        """``work(client)``, its failures turned into problems; ``None`` when the endpoint does
        not implement ``operation`` (noted)."""
        try:
            client = self.client(service)
            return work(client)
        except ProfileNotFound as error:
            raise _EndpointUnusable(
                f"AWS_PROFILE names a profile that is not configured ({error}): set AWS_PROFILE "
                "to a profile in ~/.aws/config, or unset it and set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY"
            ) from error
        except BotoCoreError as error:
            raise _EndpointUnusable(self._unreachable(operation, type(error).__name__)) from error
        except AwsError as error:
            self._refused(error, operation, service)
            return None

    def _counted(self, answer: T) -> T:
        self.result.aws_calls += 1
        return answer

    def _refused(self, error: AwsError, operation: str, service: str) -> None:
        code = error.code
        message = redact(error.message, self.secrets)
        if code == "NoCredentialsError":
            raise CredentialsUnavailable(message)
        if is_unsupported(error):
            self.result.notes.append(
                f"not checked: the endpoint does not implement {operation} ({code})"
            )
            return
        if code in REJECTED_CREDENTIALS:
            raise _EndpointUnusable(
                f"AWS rejected the credentials ({code}: {message}): set a valid "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for "
                "temporary ones), or AWS_PROFILE"
            )
        if code in ACCESS_DENIED:
            who = self.result.identity_arn or "these credentials"
            action = f"{service}:{operation.rsplit(' ', 1)[-1]}"  # the IAM action of the call
            raise _EndpointUnusable(
                f"AWS denied {action} to {who} ({code}): attach the kit's policy "
                f"{KIT_POLICY_FILE} to it (how: iam/README.md)"
            )
        # ClusterNotFoundException, InvalidSubnetID.NotFound, InvalidGroupId.Malformed, ...
        if code.endswith((".NotFound", "NotFoundException", ".Malformed")):
            raise _NotFound(code)
        if code in UNREACHABLE:
            raise _EndpointUnusable(self._unreachable(operation, code))
        raise _EndpointUnusable(
            f"AWS answered {operation} with {code}: {message} (region {self.config.region}; "
            "check AWS_REGION and the endpoint)"
        )

    def _unreachable(self, operation: str, why: str) -> str:
        if self.config.endpoint_url:
            return (
                f"The AWS endpoint {self.config.endpoint_url} did not answer {operation} "
                f"({why}) within {self.deadline_seconds:.0f} s: set SOCKERLESS_ENDPOINT_URL "
                "(or AWS_ENDPOINT_URL) to a running endpoint"
            )
        return (
            f"AWS in region {self.config.region} did not answer {operation} ({why}) within "
            f"{self.deadline_seconds:.0f} s: check the network and AWS_REGION"
        )

    def _where(self) -> str:
        account = f" of account {self.result.account}" if self.result.account else ""
        return f"region {self.config.region}{account}"


@dataclass(frozen=True)
class _Ec2Kind:
    """How to describe one EC2 resource by ID and read its VPC."""

    operation: str
    parameter: str
    collection: str
    id_key: str


SUBNET = _Ec2Kind("DescribeSubnets", "SubnetIds", "Subnets", "SubnetId")
SECURITY_GROUP = _Ec2Kind("DescribeSecurityGroups", "GroupIds", "SecurityGroups", "GroupId")


class _EndpointUnusable(Exception):
    """A problem that makes every further check pointless (credentials, endpoint, access)."""


class _NotFound(Exception):
    """AWS says the one resource asked for does not exist."""


def _names_cluster(cluster: Mapping[str, Any], name: str) -> bool:
    return cluster.get("clusterName") == name or cluster.get("clusterArn") == name
