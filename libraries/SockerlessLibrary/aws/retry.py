"""One AWS call under a deadline: botocore's own retries, then ours for throttling, logged.

botocore (standard mode, 5 attempts in total) already retries throttling and 5xx answers. When AWS
is still throttling after that, cleanup must not give up and leak a task, so the call is retried
again with a short backoff for as long as the caller's deadline allows, and every such retry is
logged saying what was retried and why.

An endpoint that answers nothing at all is down, not busy: botocore does not retry it
(``config.py``), this caller tries for a few seconds, then marks it down for the run
(``outage.py``, docs/reliability.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError

from ..errors import AwsEndpointDown, AwsError
from ..outage import AWS_ENDPOINT, Outages, RetryStreak
from .config import UNANSWERED_ERRORS, AwsConfig

T = TypeVar("T")

# The codes botocore itself treats as throttling (botocore/retries/standard.py), plus the
# server-side failures that are worth another attempt.
RETRIED_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
        "ServerException",
        "ServiceUnavailableException",
        "InternalFailure",
        "ServiceUnavailable",
    }
)
# The endpoint answered, then the connection broke: worth another attempt within the deadline.
TRANSIENT_NETWORK_ERRORS = (ConnectionClosedError,)

# What an AWS-compatible endpoint answers for an operation it does not implement (sockerless' own
# AWS simulator lacks e.g. ECS ListTaskDefinitions and Logs DeleteLogStream). AWS itself never does.
UNSUPPORTED_ERROR_CODES = frozenset(
    {"UnknownOperationException", "UnknownOperation", "InvalidAction", "NotImplemented"}
)

# What AWS answers a caller whose IAM policies do not allow the action (EC2 says it its own way).
ACCESS_DENIED_ERROR_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
)
# The IAM service prefix of each operation family the kit calls ("ECS StopTask" -> ecs:StopTask).
IAM_PREFIXES = {"ECS": "ecs", "Logs": "logs", "EC2": "ec2", "STS": "sts"}
KIT_POLICY_FILE = "iam/sockerless-kit-policy.json"

FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 4.0


@dataclass
class Deadline:
    """A point in time after which no new attempt is started."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.started + self.seconds - self.clock())


def error_code(error: AwsError | ClientError) -> str:
    """The AWS error code of an error ("" when the response has none)."""
    if isinstance(error, AwsError):
        return error.code
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    """The AWS error message of a ``ClientError``."""
    return str(error.response.get("Error", {}).get("Message", ""))


def http_status(error: ClientError) -> int:
    """The HTTP status of a ``ClientError`` (0 when unknown)."""
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def iam_action(operation: str) -> str:
    """The IAM action of a kit operation name: ``"ECS StopTask"`` -> ``"ecs:StopTask"``."""
    family, _, name = operation.partition(" ")
    prefix = IAM_PREFIXES.get(family)
    return f"{prefix}:{name}" if prefix and name else operation


def is_unsupported(error: AwsError | ClientError) -> bool:
    """The endpoint does not implement the operation at all (not a failure of this call)."""
    return error_code(error) in UNSUPPORTED_ERROR_CODES


def is_retried(error: ClientError) -> bool:
    """Throttling or a server-side failure: worth another attempt."""
    return error_code(error) in RETRIED_ERROR_CODES or http_status(error) >= 500


@dataclass
class AwsCaller:
    """Runs AWS calls with a bounded extra retry on throttling; logs every retry.

    ``deadline`` bounds the whole sequence of calls made through this caller (e.g. one container's
    cleanup); ``sleep`` and the backoffs are injectable so tests stay fast. ``endpoint`` names the
    endpoint the calls go to (``AwsConfig.endpoint_address``) and ``outages`` is the run's record
    of what is down: a caller of its own keeps the few-seconds bound, a shared one also makes
    every later call to a dead endpoint fail at once.
    """

    deadline: Deadline
    log: Callable[[str], None]
    sleep: Callable[[float], None] = time.sleep
    first_backoff: float = FIRST_BACKOFF_SECONDS
    max_backoff: float = MAX_BACKOFF_SECONDS
    endpoint: str = ""
    outages: Outages = field(default_factory=Outages)

    @classmethod
    def for_endpoint(
        cls, config: AwsConfig, seconds: float, log: Callable[[str], None], outages: Outages
    ) -> AwsCaller:
        """Calls to ``config``'s endpoint, all within ``seconds``, sharing the run's ``outages``."""
        return cls(Deadline(seconds), log, endpoint=config.endpoint_address, outages=outages)

    def call(
        self,
        operation: str,
        resource: str,
        function: Callable[[], T],
        *,
        tolerate: Callable[[ClientError], bool] | None = None,
    ) -> T | None:
        """``function()``; ``None`` when it failed with an error ``tolerate`` accepts.

        Raises ``AwsError`` (operation, resource, AWS error code) when the call fails for good or
        the deadline leaves no room for another attempt, ``AwsEndpointDown`` without calling when
        the endpoint was marked down earlier in the run.
        """
        outage = self.outages.down(self.endpoint)
        if outage is not None:
            raise AwsEndpointDown(operation=operation, resource=resource, outage=outage)
        backoff = self.first_backoff
        attempt = 1
        unanswered = self.outages.streak()
        while True:
            if self.deadline.remaining() <= 0.0:
                raise make_aws_error(
                    operation,
                    resource,
                    "DeadlineExceeded",
                    f"not attempted: the {self.deadline.seconds:.0f} s deadline had passed",
                )
            began = self.outages.clock()
            try:
                result = function()
            except ClientError as error:
                # An access denied is never "not found" or "unsupported": it always fails loudly.
                denied = error_code(error) in ACCESS_DENIED_ERROR_CODES
                if tolerate is not None and not denied and tolerate(error):
                    self._note_botocore_retries(operation, resource, error.response)
                    return None
                if not is_retried(error) or not self._room_for(backoff):
                    raise self._failure(operation, resource, error, attempt) from error
                reason = error_code(error) or f"HTTP {http_status(error)}"
            except UNANSWERED_ERRORS as error:
                self._unanswered(
                    operation, resource, error, streak=unanswered, began=began, attempt=attempt
                )
                attempt += 1
                continue
            except TRANSIENT_NETWORK_ERRORS as error:
                if not self._room_for(backoff):
                    raise self._failure(operation, resource, error, attempt) from error
                reason = type(error).__name__
            except BotoCoreError as error:
                raise self._failure(operation, resource, error, attempt) from error
            else:
                self._note_botocore_retries(operation, resource, result)
                return result
            self.log(
                f"AWS {operation} for {resource} failed with {reason} after botocore's retries; "
                f"retrying in {backoff:.1f} s (attempt {attempt + 1}, "
                f"{self.deadline.remaining():.0f} s left)"
            )
            self.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)
            attempt += 1

    def _unanswered(
        self,
        operation: str,
        resource: str,
        error: Exception,
        *,
        streak: RetryStreak,
        began: float,
        attempt: int,
    ) -> None:
        """Wait before the next attempt at an endpoint that answered nothing, or give up."""
        delay = streak.failed(began)
        if delay is None:  # the endpoint is down for the run; this call's error says so
            self.outages.mark(
                AWS_ENDPOINT, self.endpoint, f"{type(error).__name__}: {error}", streak
            )
            raise make_aws_error(
                operation,
                resource,
                type(error).__name__,
                f"{error} (no answer in {streak.attempts} attempt(s) over {streak.elapsed:.1f} s: "
                f"the AWS endpoint {self.endpoint or '(unnamed)'} is marked down for the rest of "
                "the run)",
            ) from error
        if not self._room_for(delay):
            raise self._failure(operation, resource, error, attempt) from error
        self.log(
            f"AWS {operation} for {resource}: the endpoint {self.endpoint or '(unnamed)'} did "
            f"not answer ({type(error).__name__}); trying again in {delay:.2f} s (attempt "
            f"{attempt + 1}; "
            f"it counts as down after {self.outages.down_after:g} s without an answer)"
        )
        self.sleep(delay)

    def _note_botocore_retries(self, operation: str, resource: str, response: object) -> None:
        """Log the retries botocore made silently before this answer (throttling, 5xx, network)."""
        metadata = response.get("ResponseMetadata", {}) if isinstance(response, dict) else {}
        retried = int(metadata.get("RetryAttempts", 0) or 0) if isinstance(metadata, dict) else 0
        if retried:
            self.log(
                f"AWS {operation} for {resource}: botocore retried it {retried} time(s) "
                "(throttling, a server error or a dropped connection) before this answer"
            )

    def _room_for(self, backoff: float) -> bool:
        return self.deadline.remaining() > backoff

    def _failure(self, operation: str, resource: str, error: Exception, attempts: int) -> AwsError:
        if isinstance(error, ClientError):
            code, message = error_code(error), error_message(error)
        else:
            code, message = type(error).__name__, str(error)
        if attempts > 1:
            message = f"{message} (gave up after {attempts} attempts)"
        return make_aws_error(operation, resource, code, message)


def make_aws_error(operation: str, resource: str, code: str, message: str) -> AwsError:
    """An ``AwsError`` naming the operation, the resource and the AWS error code.

    An access denied also names the IAM permission the kit's identity is missing.
    """
    if code in ACCESS_DENIED_ERROR_CODES:
        message = (
            f"{message} [ACCESS DENIED: the AWS identity the kit runs as lacks the IAM "
            f"permission {iam_action(operation)}; {KIT_POLICY_FILE} grants what the kit needs]"
        )
    return AwsError(operation=operation, resource=resource, code=code, message=message)
