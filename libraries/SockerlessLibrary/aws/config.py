"""AWS settings of a target, and the boto3 clients built from them.

Two sources: the environment (a real sockerless target, spec AC 2) and the ready line of the
embedded simulator. Clients always get an explicit region, endpoint, retry policy and timeouts; the
simulator's static credentials are handed to boto3 directly and never written to ``os.environ``.

botocore retries throttling and 5xx answers (standard mode), but not an endpoint that answers
nothing: its standard mode would retry that for up to a minute per call, where the kit's
``AwsCaller`` decides within seconds (docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.loaders import Loader, create_loader

from ..masking import SECRETS
from .credentials import CredentialsState, credentials_state

DEFAULT_REGION = "us-east-1"
DEFAULT_CLUSTER = "sockerless"
DEFAULT_LOG_GROUP = "/sockerless"
SIMULATOR_ACCESS_KEY = "testing"  # moto accepts any value; these are the conventional ones

CLIENT_CONNECT_TIMEOUT = 5
# The kit's calls are small reads and deletes that AWS answers in well under a second; an
# endpoint silent for 10 s is not answering (a longer wait only delays the run's failure).
CLIENT_READ_TIMEOUT = 10
CLIENT_TOTAL_MAX_ATTEMPTS = 5
# What an endpoint that answers nothing raises; botocore does not retry these for the kit.
UNANSWERED_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)
# At DEBUG these log every request's headers (X-Amz-Security-Token: the session token) and
# response bodies (task definitions carry the agent token); Robot's --loglevel TRACE/DEBUG
# would copy them into output.xml and log.html. They never go below WARNING.
QUIET_AWS_SDK_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")


class SimulatorInfoLike(Protocol):
    """What the embedded simulator reports when it is ready (``SimulatorInfo``)."""

    aws_endpoint_url: str
    region: str
    cluster: str
    subnets: list[str]
    security_groups: list[str]
    log_group: str


def split_list(value: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``; ``None`` or blank -> ``[]``."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


@dataclass(frozen=True)
class AwsConfig:
    """Where the target's ECS tasks, task definitions and log streams live.

    ``static_credentials`` is only set for the embedded simulator; it is excluded from ``repr`` so
    that it can never end up in a log by accident.
    """

    region: str = DEFAULT_REGION
    endpoint_url: str | None = None
    cluster: str = DEFAULT_CLUSTER
    subnets: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    log_group: str = DEFAULT_LOG_GROUP
    credentials: CredentialsState = "missing"
    static_credentials: tuple[str, str] | None = field(default=None, repr=False, compare=False)
    total_max_attempts: int = CLIENT_TOTAL_MAX_ATTEMPTS
    connect_timeout: float = CLIENT_CONNECT_TIMEOUT
    read_timeout: float = CLIENT_READ_TIMEOUT

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AwsConfig:
        """The configuration of a real target, read from the environment (see the library docs)."""
        groups = env.get(security_groups_variable(env))
        return cls(
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            endpoint_url=env.get("SOCKERLESS_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL") or None,
            cluster=env.get("SOCKERLESS_ECS_CLUSTER") or DEFAULT_CLUSTER,
            subnets=split_list(env.get("SOCKERLESS_ECS_SUBNETS")),
            security_groups=split_list(groups),
            log_group=env.get("SOCKERLESS_ECS_LOG_GROUP") or DEFAULT_LOG_GROUP,
            credentials=credentials_state(env),
        )

    @classmethod
    def from_simulator(cls, info: SimulatorInfoLike) -> AwsConfig:
        """The configuration the embedded simulator reported in its ready line.

        In the simulator's IAM mode (``SOCKERLESS_SIM_IAM_POLICY``) the kit signs as the IAM
        user holding only that policy, whose keys the simulator keeps in a private file.
        """
        kit_credentials = getattr(info, "kit_credentials", None)
        keys = kit_credentials() if callable(kit_credentials) else None
        return cls(
            region=info.region,
            endpoint_url=info.aws_endpoint_url,
            cluster=info.cluster,
            subnets=list(info.subnets),
            security_groups=list(info.security_groups),
            log_group=info.log_group,
            credentials="simulator",
            static_credentials=keys or (SIMULATOR_ACCESS_KEY, SIMULATOR_ACCESS_KEY),
        )

    @property
    def endpoint_address(self) -> str:
        """Which AWS endpoint the clients talk to: the key of its outage (``outage.py``)."""
        if self.endpoint_url:
            return self.endpoint_url.rstrip("/")
        return f"https://<service>.{self.region}.amazonaws.com"

    def client_config(self) -> Config:
        """botocore settings for every client: standard retries and bounded timeouts."""
        return Config(
            region_name=self.region,
            retries={"mode": "standard", "total_max_attempts": self.total_max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` ("ecs", "logs") with this configuration."""
        quiet_aws_sdk_loggers()
        # None for both: boto3 resolves the credentials itself (environment, profile, ...).
        access_key, secret_key = self.static_credentials or (None, None)
        session = boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=self.region,
            botocore_session=_botocore_session(),
        )
        client = session.client(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=self.client_config(),
        )
        # Registered first, so it runs before botocore's own retry handler of the service:
        # raising the error ends the call there, after one attempt.
        event_name = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register_first(
            f"needs-retry.{event_name}",
            _no_retry_when_unanswered,
            unique_id=f"sockerless-kit-no-retry-when-unanswered-{event_name}",
        )
        # The secrets the report must never show: the keys this client signs with (resolved
        # when it was built) and the agent token of every task definition it reads. Without
        # usable credentials there is nothing to mask, and the calls will say why.
        with contextlib.suppress(BotoCoreError):
            SECRETS.add_credentials(session.get_credentials())
        client.meta.events.register(
            f"after-call.{event_name}.DescribeTaskDefinition",
            _learn_agent_tokens,
            unique_id=f"sockerless-kit-agent-tokens-{event_name}",
        )
        return client

    def describe(self) -> dict[str, Any]:
        """The non-secret settings, for reports and the journal."""
        return {
            "region": self.region,
            "aws_endpoint_url": self.endpoint_url,
            "cluster": self.cluster,
            "subnets": list(self.subnets),
            "security_groups": list(self.security_groups),
            "log_group": self.log_group,
            "credentials": self.credentials,
        }


def _no_retry_when_unanswered(caught_exception: Exception | None = None, **_: Any) -> None:
    """botocore's ``needs-retry`` hook: an endpoint that answered nothing is not retried here."""
    if isinstance(caught_exception, UNANSWERED_ERRORS):
        raise caught_exception


def _learn_agent_tokens(parsed: Any = None, **_: Any) -> None:
    """botocore's ``after-call`` hook of DescribeTaskDefinition: remember its agent tokens."""
    if isinstance(parsed, Mapping) and isinstance(parsed.get("taskDefinition"), Mapping):
        SECRETS.add_task_definition(parsed["taskDefinition"])


@functools.cache
def _shared_loader() -> Loader:
    return create_loader()


def _botocore_session() -> botocore.session.Session:
    """A fresh botocore session (credentials resolved anew) sharing one model loader.

    Every new session would otherwise parse the service models again: about 0.1 s for ECS or
    Logs and 0.3 s for EC2, paid each time a keyword builds its clients.
    """
    session = botocore.session.Session()
    session.register_component("data_loader", _shared_loader())
    return session


def security_groups_variable(env: Mapping[str, str]) -> str:
    """The variable the security groups are read from.

    sockerless itself reads the plural, the spec names the singular: both are accepted, and when
    both are set the one the daemon uses wins.
    """
    if env.get("SOCKERLESS_ECS_SECURITY_GROUPS") or not env.get("SOCKERLESS_ECS_SECURITY_GROUP"):
        return "SOCKERLESS_ECS_SECURITY_GROUPS"
    return "SOCKERLESS_ECS_SECURITY_GROUP"


def quiet_aws_sdk_loggers() -> None:
    """Hold the AWS SDK's loggers at WARNING so no secret reaches a log (see above)."""
    for name in QUIET_AWS_SDK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:  # NOTSET (0) would inherit the root's level
            logger.setLevel(logging.WARNING)
