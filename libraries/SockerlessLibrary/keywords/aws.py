"""AWS keywords: prove nothing is left (AC 8, 18), clean up, sweep, and count Fargate usage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from ..arguments import ArgumentError
from ..aws.evidence import TaskEvidence
from ..aws.proof import AwsProver
from ..aws.resources import task_definition_family
from ..aws.usage import measure_usage
from ..aws.verify import AwsVerifier
from ..journal import recorded_task_arns
from ..listeners.log import current_scope, log, warn
from ..listeners.run_account import record_usage
from ..run.janitor import CLEANUP_DEADLINE_SECONDS, Janitor
from ..run.registry import RUN_SCOPE, Selection, everything, only, within_suite
from . import LibraryComponent

VERIFY_DEADLINE_SECONDS = 60.0
SCOPES = ("test", "suite", "all")


def left_behind_summary(
    container_id: str, evidence: TaskEvidence | None, streams: str
) -> list[str]:
    """What `Container Should Leave No AWS Resources` found, saying which resources an earlier
    proof had shown to exist and which were only looked for now."""
    family = task_definition_family(container_id)
    if evidence is None:
        return [
            f"no task running and no ACTIVE revision in family {family} (absence only: no "
            "task of the container was proven earlier)",
            f"{streams} (absence only: no log stream of it was proven to exist)",
        ]
    definition = (
        f"task definition {evidence.task_definition_arn} (proven ACTIVE after start) is not "
        "ACTIVE, nor any revision of its family"
        if evidence.definition_seen_active
        else f"no ACTIVE revision in family {family} (its task definition was never proven ACTIVE)"
    )
    stream = (
        f"{streams} (its stream {evidence.log_stream} was proven to hold the container's output)"
        if evidence.log_stream_seen
        else f"{streams} (its stream {evidence.log_stream} was never proven to exist)"
    )
    return [f"task {evidence.task_id} (proven earlier) is STOPPED", definition, stream]


class AwsKeywords(LibraryComponent):
    """AWS-side checks and cleanup, limited to resources derived from this run's container IDs."""

    def __init__(self, context: Any, janitor: Janitor) -> None:
        super().__init__(context)
        self.janitor = janitor

    @keyword("Container Should Leave No AWS Resources", tags=("AWS", "Cleanup", "Proof"))
    def container_should_leave_no_aws_resources(self, container_id: str) -> None:
        """Checks that no ACTIVE task definition, no running task and no log stream of a
        container this run created is left, and reports every problem together (spec AC 18).

        *Evidence it needs:* the full ID of a container this run created (by `Create
        Container`, a resource keyword built on it, or a create on the kit's session); any
        other ID fails at once, since the absence of what never existed proves nothing. What
        it proves depends on what earlier proofs found:

        - the task proven after start (`Container Should Run As A Fargate Task`, or found by
          `Container Should Have Exited With Code`) must be STOPPED, found by its ARN whatever
          its family;
        - no revision of the family ``sockerless-<id[:12]>`` may be ACTIVE; its task definition
          counts as proven gone when it was seen ACTIVE after start;
        - no log stream ``<id[:12]>/...`` may be left; its stream counts as proven gone when
          `Log Lines Should Be CloudWatch Events` matched the container's output to it.

        For a container created but never started or proven (e.g. one created only to be
        filtered out of a list), only absence can be checked, and the log says so ("absence
        only"): the standard teardown (`Clean Up And Verify Test Containers`) runs it for every
        container of its test. Tasks are found by family ``sockerless-<id[:12]>`` and checked by
        the ``sockerless-container-id`` tag; waiting for them to stop takes up to the
        ``stop_timeout`` import argument. A stream the AWS endpoint cannot delete (sockerless'
        own AWS simulator has no DeleteLogStream) is reported as kept, not gone.

        Example:
        | Clean Up Container | ${id} |
        | Container Should Leave No AWS Resources | ${id} |
        """
        self.ctx.require_created(container_id, "Container Should Leave No AWS Resources")
        verifier = AwsVerifier(self.ctx.container_resources(VERIFY_DEADLINE_SECONDS, log))
        evidence = self.ctx.evidence.get(container_id)
        problems: list[str] = []

        def check(run: Callable[[], object]) -> object:
            try:
                return run()
            except AssertionError as error:
                problems.append(str(error))
                return None

        check(lambda: verifier.task_definition_should_be_inactive(container_id))
        check(
            lambda: verifier.tasks_should_be_stopped(
                container_id, timeout=self.ctx.settings.stop_timeout
            )
        )
        streams = check(lambda: verifier.log_streams_should_not_exist(container_id))
        if evidence is not None:
            prover = AwsProver(verifier.resources, log)
            check(lambda: prover.task_should_stop(evidence, self.ctx.settings.stop_timeout))
        if problems:
            raise AssertionError(
                f"Container {container_id[:12]} left AWS resources: " + " | ".join(problems)
            )
        log(
            f"Container {container_id[:12]} left no AWS resources: "
            + "; ".join(left_behind_summary(container_id, evidence, str(streams)))
        )
        if container_id in self.ctx.created:
            # The run's account counts the containers proven gone (the report's "Cleanup").
            self.ctx.journal.record_verified(container_id)

    @keyword(tags=("AWS", "Cleanup"))
    def clean_up_container(self, container_id: str) -> None:
        """Removes the container and every AWS resource derived from it; idempotent.

        1. Force-removes it through the daemon (404 counts as done).
        2. Stops its ECS tasks (ListTasks by family, DescribeTasks with tags, matched on the
           ``sockerless-container-id`` tag or the family).
        3. Deregisters every ACTIVE revision of ``sockerless-<id[:12]>``.
        4. Deletes the log streams ``<id[:12]>/...`` (never the log group).

        Bounded by a 60 s deadline; AWS throttling is retried (logged). Every step runs even
        if one fails; the failure lists what is left. On success the container is marked
        cleaned in the journal and the registry.

        Example:
        | Clean Up Container | ${id} |
        """
        result = self.janitor.clean(container_id)
        if not result.complete:
            raise AssertionError(result.summary())

    @keyword(tags=("Cleanup",))
    def clean_up_registered_resources(self, *, scope: str = "test") -> list[str]:
        """Cleans every container registered in ``scope`` and returns their IDs.

        | =Arguments= | =Description= |
        | ``scope`` | ``test``, ``suite`` or ``all``. |

        ``test`` is the current test; ``suite`` the current suite with its tests and child
        suites; ``all`` everything still registered.

        The library's listener does this automatically at the end of each test and suite;
        call it to clean earlier, e.g. at the start of a teardown. Fails listing what could
        not be cleaned after trying every container.

        Example:
        | Clean Up Registered Resources | | |
        | Clean Up Registered Resources | scope=suite | |
        """
        ids = self.janitor.claim(self._selection(scope))
        log(f"Cleaning {len(ids)} container(s) registered in scope {scope.strip().lower()}")
        results = [self.janitor.clean(container_id) for container_id in ids]
        failures = [r.summary() for r in results if not r.complete]
        if failures:
            raise AssertionError(
                f"{len(failures)} of {len(results)} container(s) not fully cleaned: "
                + " | ".join(failures)
            )
        return [r.container_id for r in results]

    @keyword(tags=("Cleanup",))
    def get_created_containers(self, *, scope: str = "test") -> list[str]:
        """Returns the IDs of the containers created in ``scope``, in creation order, cleaned
        or not: by `Create Container` (and the resource keywords built on it) and by a
        ``POST /containers/create`` on the kit's session (`Create Sockerless Session`).

        | =Arguments= | =Description= |
        | ``scope`` | ``test``, ``suite`` (with its tests and child suites) or ``all``. |

        A teardown that proves every container of its test left nothing on AWS starts here
        (``resources/cleanup.resource``'s `Clean Up And Verify Test Containers` does).

        Example:
        | ${ids}= | Get Created Containers | |
        | FOR | ${id} | IN | @{ids} |
        | | Container Should Leave No AWS Resources | ${id} |
        | END | | | |
        """
        selection = self._selection(scope)
        return [
            container_id for container_id, owner in self.ctx.created.items() if selection(owner)
        ]

    def _selection(self, scope: str) -> Selection:
        wanted = scope.strip().lower()
        if wanted not in SCOPES:
            raise ArgumentError(f"Unknown scope '{scope}': use test, suite or all")
        here = current_scope()
        if wanted == "all" or here == RUN_SCOPE:
            return everything
        if wanted == "test":
            return only(here)
        return within_suite(str(BuiltIn().get_variable_value("${SUITE NAME}")))

    @keyword(tags=("Cleanup",))
    def sweep_run_leftovers(self, *, run_id: str | None = None) -> dict[str, Any]:
        """Cleans what a run left behind and returns a summary dictionary.

        Candidates: containers on the daemon labelled ``sockerless-kit.run-id=<run id>`` (and
        the project label), plus journal entries of that run not marked cleaned. Each goes
        through `Clean Up Container`. ``run_id`` defaults to this run's id; containers a
        running test or suite still owns are left to it.

        The summary has ``run_id``, ``found``, ``cleaned`` (IDs), ``failed`` (ID -> reason)
        and ``left_to_running_scopes``. Failures are logged as warnings, not raised: a sweep
        is a safety net. For killed runs use the command line sweeper
        (``python -m SockerlessLibrary.sweep``).

        Example:
        | ${summary}= | Sweep Run Leftovers | |
        | Sweep Run Leftovers | run_id=20260223T101112Z-1a2b3c | |
        """
        summary = self.janitor.sweep(run_id)
        for container_id, reason in summary["failed"].items():
            warn(f"Sweep could not fully clean {container_id[:12]}: {reason}")
        log(
            f"Sweep of run {summary['run_id']}: {summary['found']} found, "
            f"{len(summary['cleaned'])} cleaned, {len(summary['failed'])} failed"
        )
        return summary

    @keyword(tags=("AWS", "Usage"))
    def get_fargate_task_usage(self) -> dict[str, Any]:
        """Returns ``{"tasks": <int>, "task_seconds": <float>}`` for this run's containers.

        Counted on the AWS side: the ECS tasks of every container this run created (from the
        journal), each from its image pull start (or start) to its stop (or now).

        Example:
        | ${usage}= | Get Fargate Task Usage | |
        | Should Be True | ${usage}[tasks] <= 3 | |
        """
        if self.ctx.connected_target() is None and self.ctx.choice().is_embedded:
            log("The embedded simulator was never started: no Fargate task was launched")
            return {"tasks": 0, "task_seconds": 0.0}
        records = self.ctx.journal.records()
        ids = [str(r["container_id"]) for r in records if r["event"] == "created"]
        ids.extend(self.ctx.created)
        resources = self.ctx.container_resources(CLEANUP_DEADLINE_SECONDS, log)
        usage = measure_usage(resources, ids, recorded_task_arns(records))
        result = {"tasks": usage.tasks, "task_seconds": round(usage.task_seconds, 1)}
        log(
            f"Fargate usage of run {self.ctx.run_id}: {result['tasks']} task(s), "
            f"{result['task_seconds']} task-second(s)"
            + (
                f" ({usage.unknown_duration} task(s) no longer known to ECS)"
                if usage.unknown_duration
                else ""
            )
        )
        return result

    @keyword(tags=("AWS", "Usage"))
    def set_fargate_usage_metadata(self) -> None:
        """Puts `Get Fargate Task Usage` in the top-level suite metadata, for the whole run.

        Sets ``Fargate tasks`` and ``Fargate task-seconds``, summed over the processes of the
        run (all pabot processes report theirs to the run's shared budget file), and ``Fargate
        task budget`` from `Get Fargate Task Budget` (e.g. ``2 of 5 used (budget id ...)``).

        Example:
        | Set Fargate Usage Metadata |
        """
        usage = self.get_fargate_task_usage()
        builtin = BuiltIn()
        # Every process of a pabot run adds its own to the run's ledger: the figures are the
        # run's, over all of them (the end of the run sets them once more, when all are in).
        totals = record_usage(self.ctx, int(usage["tasks"]), float(usage["task_seconds"]))
        for name, value in totals.items():
            builtin.set_suite_metadata(name, value, top=True)
        budget = self.ctx.task_budget().summary()["description"]
        builtin.set_suite_metadata("Fargate task budget", budget, top=True)
