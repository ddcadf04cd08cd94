"""The preflight keyword: prove the target can run this suite before a Fargate task is paid for."""

from __future__ import annotations

import dataclasses
import functools
import time
from datetime import timedelta
from typing import Any

from robot.api import SkipExecution
from robot.api.deco import keyword

from ..arguments import seconds
from ..aws.config import AwsConfig, security_groups_variable
from ..aws.credentials import SKIP_MESSAGE
from ..aws.preflight import CredentialsUnavailable, Preflight, PreflightResult, log_group_check
from ..errors import SockerlessError
from ..listeners.log import log, set_top_metadata, warn
from ..masking import CREDENTIAL_VARIABLES
from ..run.outages import target_outages
from ..target import should_skip_for_credentials
from . import LibraryComponent
from .target import ping_problem

# Fewer botocore attempts than the proofs use: a dead endpoint should end the preflight fast.
PREFLIGHT_MAX_ATTEMPTS = 2


class PreflightKeywords(LibraryComponent):
    """Checks the daemon and the AWS side the run is configured for, read-only, in bounded time."""

    @keyword(tags=("Target", "AWS"))
    def target_should_be_ready(self, *, timeout: timedelta | None = None) -> dict[str, Any]:
        """Fails, before any container is created, unless this run can work on its target.

        | =Arguments= | =Description= |
        | ``timeout`` | Budget of all the AWS calls together (default: ``preflight_timeout``). |

        Checks, read-only, and reports every problem it finds at once, one sentence each,
        naming what is wrong and the variable that fixes it:

        - the daemon answers ``GET /_ping`` (``SOCKERLESS_HOST``);
        - the credentials are accepted (STS ``GetCallerIdentity``); the account goes to the
          report metadata as ``AWS account`` (never a key);
        - the cluster exists and is ACTIVE (``SOCKERLESS_ECS_CLUSTER``);
        - each configured subnet and security group exists, all in one VPC
          (``SOCKERLESS_ECS_SUBNETS``, ``SOCKERLESS_ECS_SECURITY_GROUP(S)``);
        - the log group exists (``SOCKERLESS_ECS_LOG_GROUP``). Against AWS itself a missing
          group is a problem (sockerless does not create it, so tasks could not start); with
          an endpoint override it is a warning, because an AWS simulator may create it at the
          first RunTask. ``SOCKERLESS_KIT_LOG_GROUP_CHECK=required`` or ``optional``
          overrides that choice.

        With a real target and no credentials (AC 1), or credentials that cannot be found at
        all, it skips with ``AWS credentials not available``. An operation the endpoint does
        not implement is logged as not checked. The outcome is kept for the rest of the run:
        a second call for the same target answers at once, so a misconfigured run fails
        every suite in well under a second after the first. A daemon or AWS endpoint that
        went down earlier in the run (see `Outages`) fails it at once, naming why and since
        when. Returns a dictionary with
        ``account``, ``identity_arn``, ``checked`` and ``notes``.

        Example:
        | Target Should Be Ready | |
        | ${ready}= | Target Should Be Ready | timeout=10s |
        | Log | ${ready}[account] | |
        """
        choice = self.ctx.choice()
        if should_skip_for_credentials(choice, self.ctx.env):
            raise SkipExecution(SKIP_MESSAGE)
        config = self.ctx.aws_config()
        key = f"{choice.host}|{sorted(config.describe().items())}"
        earlier = self.ctx.preflight_results.get(key)
        # A failed preflight names the fix; a target that went down since a passed one is new.
        down = target_outages(self.ctx) if earlier is None or earlier.passed else []
        if down:
            raise AssertionError(
                "The target went down earlier in this run and is not used again: "
                + "; ".join(outage.describe() for outage in down)
            )
        if earlier is not None:
            log("Preflight of this target already ran in this run; using its result")
            return self._outcome(earlier, again=True)
        started = time.monotonic()
        result = self._run(config, seconds(timeout, self.ctx.settings.preflight_timeout))
        log(f"Preflight took {time.monotonic() - started:.2f} s ({result.aws_calls} AWS call(s))")
        self.ctx.preflight_results[key] = result
        return self._outcome(result, again=False)

    def _run(self, config: AwsConfig, budget: float) -> PreflightResult:
        daemon_problem = self._daemon_problem()
        env = self.ctx.env
        fast = dataclasses.replace(config, total_max_attempts=PREFLIGHT_MAX_ATTEMPTS)
        preflight = Preflight(
            config=fast,
            client=functools.cache(fast.client),
            deadline_seconds=budget,
            log=log,
            security_groups_variable=security_groups_variable(env),
            log_group=log_group_check(env),
            secrets=tuple(env.get(name, "") for name in CREDENTIAL_VARIABLES),
            outages=self.ctx.outages,
        )
        try:
            result = preflight.run()
        except CredentialsUnavailable as missing:
            log(f"Preflight: {missing}")
            raise SkipExecution(SKIP_MESSAGE) from missing
        if daemon_problem:
            result.problems.insert(0, daemon_problem)
        return result

    def _daemon_problem(self) -> str | None:
        try:
            answer = self.client.ping()
        except SockerlessError as error:
            target = self.ctx.choice()
            fix = (
                "set SOCKERLESS_HOST to the address sockerless listens on"
                if not target.is_embedded
                else "see the simulator's log above"
            )
            return f"The daemon at {target.host} does not answer: {error}: {fix}"
        # Asked after the ping: an embedded simulator knows its address once it was started.
        return ping_problem(answer, self.ctx.choice().host)

    def _outcome(self, result: PreflightResult, *, again: bool) -> dict[str, Any]:
        for note in result.notes:
            (log if again else warn)(note)
        if not result.passed:
            suffix = " (found by the preflight earlier in this run)" if again else ""
            raise AssertionError(result.failure_message() + suffix)
        log("Preflight passed: " + "; ".join(["daemon answers", *result.checked]))
        if result.account:
            set_top_metadata("AWS account", result.account)
        return {
            "account": result.account,
            "identity_arn": result.identity_arn,
            "checked": list(result.checked),
            "notes": list(result.notes),
        }
