"""Keywords that prove on AWS what the daemon claims (spec AC 2-8, 11-13, 18, TestECSStartTimeout).

Thin layers over ``aws.proof.AwsProver``; the ECS task found after start is kept per container
(``LibraryContext.evidence``) so the later proofs compare against the same task. Every proof is
about a container this run created, and the ones after start about the task proven then: given
anything else they fail, saying what is missing, since a proof about nothing proves nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from robot.api.deco import keyword

from ..arguments import seconds
from ..aws.evidence import TaskEvidence
from ..aws.proof import AwsProver
from ..aws.verify import AwsVerifier
from ..listeners.log import log, set_top_metadata
from ..waits.exit_wait import EXITED, ExitWait, container_state, describe_state
from . import LibraryComponent
from .streams import decoded_result

PROOF_DEADLINE_MARGIN_SECONDS = 30.0


class ProofKeywords(LibraryComponent):
    """Positive AWS-side proofs: the task, its network, its exit, its definition, its logs."""

    def _prover(self, timeout: float) -> AwsProver:
        resources = self.ctx.container_resources(timeout + PROOF_DEADLINE_MARGIN_SECONDS, log)
        return AwsProver(resources, log)

    def _timeout(self, timeout: timedelta | None) -> float:
        return seconds(timeout, self.ctx.settings.aws_timeout)

    def _evidence(self, container_id: str, keyword: str) -> TaskEvidence:
        self.ctx.require_created(container_id, keyword)
        evidence = self.ctx.evidence.get(container_id)
        if evidence is None:
            raise AssertionError(
                f"{keyword} compares against the ECS task proven after start, and no task of "
                f"container {container_id[:12]} was proven yet: run `Container Should Run As A "
                "Fargate Task` after starting it (`Start Fargate Container` does)"
            )
        return evidence

    @keyword("Container Should Run As A Fargate Task", tags=("AWS", "Proof"))
    def container_should_run_as_a_fargate_task(
        self, container_id: str, *, timeout: timedelta | None = None
    ) -> dict[str, Any]:
        """Proves on ECS that start really launched the container as a Fargate task (AC 3, 4, 8).

        Call it right after `Start Container` answered 204. ECS must show exactly one task for
        the container (found by task definition family ``sockerless-<id[:12]>``, else by the
        ``sockerless-container-id`` tag anywhere in the cluster), with launch type ``FARGATE``,
        launched from that family, ``lastStatus`` RUNNING or later (PROVISIONING or PENDING
        means start answered before the task ran), and its task definition ACTIVE.

        A task not visible yet is looked for again with backoff for ``timeout`` (default: the
        ``aws_timeout`` import argument, 15 s; ECS is eventually consistent); a task that is
        there and wrong fails at once. The failure says what was expected on AWS, what was
        found, and the AWS calls that looked.

        Returns the task as a dictionary: ``task_arn``, ``task_id``, ``cluster_arn``,
        ``launch_type``, ``task_definition_arn``, ``family``, ``last_status``, ``subnet_id``,
        ``eni_id``, ``private_ip``, ``security_groups``, ``log_stream``. The later proofs of
        this container compare against this task.

        *Evidence it needs:* a container this run created (`Create Container`), started.

        Example:
        | Start Container | ${id} | |
        | ${task}= | Container Should Run As A Fargate Task | ${id} |
        """
        self.ctx.require_created(container_id, "Container Should Run As A Fargate Task")
        timeout_seconds = self._timeout(timeout)
        evidence = self._prover(timeout_seconds).task_should_have_reached_running(
            container_id, timeout_seconds
        )
        self.ctx.evidence[container_id] = evidence
        return evidence.as_dict()

    @keyword("Fargate Task Should Use The Configured Network", tags=("AWS", "Proof"))
    def fargate_task_should_use_the_configured_network(self, container_id: str) -> dict[str, Any]:
        """Proves the container's task runs in the configured cluster, subnets and security
        groups (AC 2), read from the task and its ENI, not from the configuration.

        The cluster comes from the task's ``clusterArn``, the subnet from its ENI attachment,
        the security groups from EC2 ``DescribeNetworkInterfaces`` while the ENI exists (a
        stopped task's ENI is released; then they are reported as not read). Settings that are
        configured (``SOCKERLESS_ECS_SUBNETS``, ``SOCKERLESS_ECS_SECURITY_GROUP(S)``) must
        equal what the task used; settings that are not are reported as what the daemon used.

        Returns ``cluster``, ``subnets``, ``security_groups`` (``None`` when not read) and
        ``description`` (one line), which also goes to the report as the top suite's metadata
        ``ECS network used``: a run without ``SOCKERLESS_ECS_SUBNETS`` still says where its
        tasks ran.

        *Evidence it needs:* the task proven by `Container Should Run As A Fargate Task`.

        Example:
        | Fargate Task Should Use The Configured Network | ${id} | |
        | ${network}= | Fargate Task Should Use The Configured Network | ${id} |
        """
        evidence = self._evidence(container_id, "Fargate Task Should Use The Configured Network")
        prover = self._prover(self.ctx.settings.aws_timeout)
        prover.resources.ec2 = self.ctx.aws_client("ec2")  # the only proof that asks EC2
        used = prover.network_should_be_configured(evidence)
        set_top_metadata("ECS network used", used["description"])
        return used

    @keyword("Reported IP Should Be The Task ENI Address", tags=("AWS", "Proof"))
    def reported_ip_should_be_the_task_eni_address(self, container_id: str, address: str) -> None:
        """Proves the IP the daemon reports is the ``privateIPv4Address`` of the task's ENI
        (AC 5): any other private address, however plausible, fails.

        *Evidence it needs:* the task proven by `Container Should Run As A Fargate Task`.

        Example:
        | ${ip}= | Get Container IP Address | ${id} |
        | Reported IP Should Be The Task ENI Address | ${id} | ${ip} |
        """
        evidence = self._evidence(container_id, "Reported IP Should Be The Task ENI Address")
        self._prover(self.ctx.settings.aws_timeout).reported_ip_should_be_eni_ip(evidence, address)

    @keyword("Fargate Task Should Be Stopped", tags=("AWS", "Proof"))
    def fargate_task_should_be_stopped(
        self,
        container_id: str,
        *,
        exit_code: int | None = None,
        timeout: timedelta | None = None,
    ) -> dict[str, Any]:
        """Proves the container's task reached ``STOPPED`` on ECS (AC 7) and, with
        ``exit_code``, that ECS recorded that exit code for its container (AC 6).

        Waits up to ``timeout`` (default: ``stop_timeout``) for STOPPED. Returns the described
        task. A different exit code fails with ``ECS recorded exit code 0 for the task of
        container X, expected 137`` and the task as ECS describes it. To check the daemon and
        ECS together, use `Container Should Have Exited With Code`.

        *Evidence it needs:* the task proven by `Container Should Run As A Fargate Task`.

        Example:
        | Fargate Task Should Be Stopped | ${id} | exit_code=0 |
        | Fargate Task Should Be Stopped | ${id} | timeout=60s |
        """
        evidence = self._evidence(container_id, "Fargate Task Should Be Stopped")
        timeout_seconds = seconds(timeout, self.ctx.settings.stop_timeout)
        return self._prover(timeout_seconds).task_should_stop(evidence, timeout_seconds, exit_code)

    @keyword("Task Definition Should Be Deregistered", tags=("AWS", "Proof"))
    def task_definition_should_be_deregistered(self, container_id: str) -> None:
        """Proves the container's task definition is deregistered (AC 8): the revision its
        task ran from, seen ACTIVE after start, is now INACTIVE (or deleted), and no revision
        of the family ``sockerless-<id[:12]>`` is ACTIVE.

        *Evidence it needs:* the task proven after start (`Container Should Run As A Fargate
        Task`, which `Start Fargate Container` runs), whose definition it saw ACTIVE: a
        definition never seen ACTIVE fails, since its absence proves nothing.

        Example:
        | Remove Container | ${id} |
        | Task Definition Should Be Deregistered | ${id} |
        """
        evidence = self._evidence(container_id, "Task Definition Should Be Deregistered")
        prover = self._prover(self.ctx.settings.aws_timeout)
        prover.task_definition_should_be_deregistered(evidence)
        AwsVerifier(prover.resources).task_definition_should_be_inactive(container_id)

    @keyword("Container Should Have Exited With Code", tags=("Container", "AWS", "Proof"))
    def container_should_have_exited_with_code(
        self,
        container_id: str,
        exit_code: int,
        *,
        timeout: timedelta | None = None,
        aws_timeout: timedelta | None = None,
    ) -> dict[str, Any]:
        """Waits until the container has exited, then proves, on the daemon and on ECS, that
        it exited with ``exit_code`` (AC 6). Returns the inspect result.

        | =Arguments= | =Description= |
        | ``exit_code`` | The exit code wanted, e.g. ``0``, ``3``, ``137`` after `Kill Container`. |
        | ``timeout`` | How long the container may still run. Default: ``start_timeout``. |
        | ``aws_timeout`` | How long ECS may lag behind the daemon. Default: ``aws_timeout``. |

        The wait is `Wait Until Container Is Not Running` (one blocking request); then inspect
        must show ``State.Status`` ``exited`` with ``State.ExitCode`` ``exit_code``, and ECS the
        container's task STOPPED with the same ``exitCode`` for its container. The task is the
        one proven after start (`Container Should Run As A Fargate Task`), else the
        container's one task on ECS (then kept for the later proofs of the container). Each
        failure says which side disagrees: ``Container X exited with code 0, expected 3`` (the
        daemon), or ``ECS recorded exit code 0 for the task of container X, expected 3 (the
        daemon reports 3)``.

        *Evidence it needs:* a container this run created and started. For an exec, use
        `Exec Should Have Exited With Code`.

        Example:
        | Start Fargate Container | ${id} | |
        | Container Should Have Exited With Code | ${id} | 3 |
        | Kill Container | ${other} | |
        | Container Should Have Exited With Code | ${other} | 137 |
        """
        budget = seconds(timeout, self.ctx.settings.start_timeout)
        wait = seconds(aws_timeout, self.ctx.settings.aws_timeout, name="aws_timeout")
        self.ctx.require_created(container_id, "Container Should Have Exited With Code")
        inspect = ExitWait(self.ctx, container_id, budget).run()
        state = container_state(inspect)
        if state.get("Status") not in EXITED:
            raise AssertionError(
                f"Container {container_id} has not exited: State {describe_state(inspect)}"
            )
        actual = state.get("ExitCode")
        if actual != int(exit_code):
            raise AssertionError(
                f"Container {container_id} exited with code {actual}, expected {exit_code}: "
                f"State {describe_state(inspect)}"
            )
        prover = self._prover(wait)
        evidence = self.ctx.evidence.get(container_id)
        if evidence is None:
            # Kept, so that the teardown's check knows this very task too.
            evidence = self.ctx.evidence[container_id] = prover.task_of_container(
                container_id, wait
            )
        prover.task_should_stop(
            evidence, wait, int(exit_code), daemon_says=f"the daemon reports {actual}"
        )
        log(f"Container {container_id} exited with code {actual}, on the daemon and on ECS")
        return inspect

    @keyword("Log Lines Should Be CloudWatch Events", tags=("AWS", "Proof", "Logs"))
    def log_lines_should_be_cloudwatch_events(
        self, container_id: str, logs: Any, *, timeout: timedelta | None = None
    ) -> list[dict[str, Any]]:
        """Proves the daemon's log lines came from CloudWatch (AC 11, 12, 13).

        Every non-empty line of ``logs`` (a result of `Get Container Logs` or
        `Wait Until Logs Contain Line`) must be an event of the task's stream
        ``<id[:12]>/main/<task id>`` in the log group, in the same order; when ``logs`` was
        read with ``timestamps=true``, each printed timestamp must equal its event's own
        timestamp to the millisecond. Events not there yet are read again with backoff for
        ``timeout`` (default ``aws_timeout``). Returns the matched events.

        *Evidence it needs:* the task proven by `Container Should Run As A Fargate Task`, and
        logs with at least one line of text. Logs with none (read with ``tail=0``, or before
        CloudWatch delivered the first line, which real sockerless answers with an empty
        200) fail, since they prove nothing: wait for a line first (`Wait Until Logs Contain
        Line` returns the read that held it).

        Example:
        | ${logs}= | Get Container Logs | ${id} | timestamps=${TRUE} |
        | Log Lines Should Be CloudWatch Events | ${id} | ${logs} |
        """
        name = "Log Lines Should Be CloudWatch Events"
        evidence = self._evidence(container_id, name)
        lines = list(decoded_result(logs, name, logs=True).log_lines)
        timeout_seconds = self._timeout(timeout)
        return self._prover(timeout_seconds).log_lines_should_be_events(
            evidence, lines, timeout_seconds
        )

    @keyword("Fargate Task Should Have Failed To Start", tags=("AWS", "Proof"))
    def fargate_task_should_have_failed_to_start(
        self,
        container_id: str,
        *,
        reason: str = "(?i)pull",
        timeout: timedelta | None = None,
    ) -> dict[str, Any]:
        """Proves ECS launched a task for the container that stopped without running, for a
        reason matching the regular expression ``reason`` (its ``stoppedReason`` or its
        container's ``reason``). For the spec's TestECSStartTimeout. Returns the task.

        *Evidence it needs:* a container this run created and tried to start; the task must be
        there to be found.

        Example:
        | Fargate Task Should Have Failed To Start | ${id} | reason=CannotPullContainer |
        """
        self.ctx.require_created(container_id, "Fargate Task Should Have Failed To Start")
        timeout_seconds = self._timeout(timeout)
        return self._prover(timeout_seconds).task_should_have_failed_to_start(
            container_id, reason, timeout_seconds
        )
