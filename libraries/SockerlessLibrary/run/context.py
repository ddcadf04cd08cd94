"""State shared by the keyword components: settings, the target, the client, AWS access, cleanup.

Everything is created on first use, never at library import: importing the library (``--dryrun``,
robocop, libdoc) starts no simulator, opens no socket and makes no AWS call.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..aws.config import AwsConfig
from ..aws.evidence import TaskEvidence
from ..aws.preflight import PreflightResult
from ..aws.queries import ContainerResources
from ..aws.retry import AwsCaller
from ..budget import AutoBudget, TaskBudget, open_task_budget
from ..client import DockerClient
from ..declarations import TaskDeclarations
from ..errors import SockerlessError
from ..journal import RunJournal, journal_directory, new_run_id, validate_run_id
from ..outage import Outages
from ..support import DaemonSupport
from ..target import (
    ActiveTarget,
    TargetChoice,
    choose_target,
    open_client,
    simulator_options,
    start_target,
)
from ..timeline import TimelineRecorder
from ..transport import AUTO, ApiVersion, Timeouts, pinned_api_version
from .registry import CleanupRegistry

RUN_ID_ENV = "SOCKERLESS_KIT_RUN_ID"
SIMULATOR_INFO_READ_TIMEOUT = 5.0


@dataclass(frozen=True)
class LibrarySettings:
    """The import arguments, timeouts in seconds; ``None`` where the environment may fill in."""

    host: str | None
    connect_timeout: float
    read_timeout: float
    start_timeout: float
    stop_timeout: float
    exec_timeout: float
    logs_timeout: float
    aws_timeout: float
    preflight_timeout: float
    simulator_profile: str | None
    simulator_time_scale: float | None
    simulator_quirks: str | None
    api_version: str | None  # None or "auto": negotiate; "1.41": pinned
    task_budget: int | str | None  # None: SOCKERLESS_KIT_TASK_BUDGET, else auto


@dataclass(frozen=True)
class RobotRun:
    """What the run learns from Robot, handed in by the library (``listeners``): the scope a
    resource made now belongs to, the budget id the pabot processes agreed on, DEBUG logging."""

    current_scope: Callable[[], str]
    pabot_budget_id: Callable[[], str | None]
    debug: Callable[[str], None]


class LibraryContext:
    """The one place that knows the target, the client, the run id, the journal and the registry."""

    def __init__(
        self,
        settings: LibrarySettings,
        log: Callable[[str], None],
        warn: Callable[[str], None],
        robot: RobotRun,
    ) -> None:
        self.settings = settings
        self.log = log  # INFO in the Robot log: the keyword layer passes its logger
        self.warn = warn  # WARN in the Robot log and on the console
        self.robot = robot
        self._host: str | None = settings.host
        self._connect_timeout = settings.connect_timeout
        self._read_timeout = settings.read_timeout
        self._api_version = settings.api_version or AUTO
        # Negotiated API versions by daemon address: a reconnect to the same daemon reuses it.
        self._negotiated: dict[str, ApiVersion] = {}
        self._target: ActiveTarget | None = None
        self._client: DockerClient | None = None
        self._run_id: str | None = None
        self._run_id_generated = False
        self._task_budget: TaskBudget | None = None
        self._aws_clients: dict[str, Any] = {}
        self._exit_hook_registered = False
        self._retired: list[ActiveTarget] = []
        self.registry = CleanupRegistry()
        self.tty_by_container: dict[str, bool] = {}
        self.attach_stdin_by_exec: dict[str, bool] = {}  # execs this library created
        # Every container created (cleaned or not), in creation order, with the scope it was
        # created in.
        self.created: dict[str, str] = {}
        # What the tests Robot selected declare they create (read when the first suite starts).
        self.declarations: TaskDeclarations | None = None
        # What AWS showed for each container's task, kept for the proofs that follow start.
        self.evidence: dict[str, TaskEvidence] = {}
        # AWS operations the target's endpoint does not implement, learnt once per run.
        self.unsupported_aws: set[str] = set()
        # Daemons and AWS endpoints found down: every later request to them fails at once.
        self.outages = Outages()
        # Preflight outcomes by target and AWS configuration: each suite's setup asks again,
        # and a misconfigured run must fail the later suites at once.
        self.preflight_results: dict[str, PreflightResult] = {}
        # Blocking Docker API calls (wait, logs follow) each daemon lacks, learnt once per run.
        self.daemon_support = DaemonSupport()
        # What the kit's own calls showed of each container's time (no call of its own).
        self.timeline = TimelineRecorder(self.robot.current_scope)
        # Docker-only mode (`Enter Docker-Only Mode`): the target is a plain Docker Engine, so
        # without AWS credentials there is no AWS side to clean (``janitor.no_aws_side``).
        self.docker_only = False

    @property
    def env(self) -> Mapping[str, str]:
        """The process environment, read at the moment of use."""
        return os.environ

    def choice(self) -> TargetChoice:
        """The target the next connection will use (decided without side effects)."""
        if self._target is not None:
            return TargetChoice(self._target.kind, self._target.host)
        return choose_target(self._host, self.env)

    @property
    def run_id(self) -> str:
        """``SOCKERLESS_KIT_RUN_ID`` or one generated for this process."""
        if self._run_id is None:
            configured = self.env.get(RUN_ID_ENV)
            self._run_id = validate_run_id(configured) if configured else new_run_id()
            self._run_id_generated = not configured
        return self._run_id

    def task_budget(self) -> TaskBudget:
        """The Fargate task budget of this run (its id is agreed on first use)."""
        if self._task_budget is None:
            run_id = self.run_id
            self._task_budget = open_task_budget(
                self.settings.task_budget,
                self.env,
                run_id,
                run_id_generated=self._run_id_generated,
                log=self.log,
                auto=AutoBudget(
                    declarations=lambda: self.declarations,
                    not_enforced_because=self.budget_not_enforced_because,
                ),
                warn=self.warn,
                pabot=self.robot.pabot_budget_id,
            )
        return self._task_budget

    def budget_not_enforced_because(self) -> str | None:
        """Why an ``auto`` budget is only reported on this target (``None``: it is enforced).

        Only the kit's own simulator is free: the embedded one, or one reached as an external
        target (``python -m sockerless_sim.with_simulator``, as pabot runs use it) whose
        ``GET /_sim/info`` names the very AWS endpoint the kit is configured with (its moto).
        Anything else, an answer that does not say so included, is a target that may cost.
        """
        if self.choice().is_embedded:
            return "the target is the embedded simulator (no Fargate task costs anything)"
        endpoint = self.aws_config().endpoint_url
        if not endpoint:
            return None
        try:
            info = self.client().simulator_info(
                timeout=self.timeouts(read=SIMULATOR_INFO_READ_TIMEOUT)
            )
        except SockerlessError:
            return None
        if info.get("event") == "ready" and info.get("aws_endpoint_url") == endpoint:
            return (
                "the target is the kit's simulator (its GET /_sim/info names the AWS endpoint "
                f"{endpoint}, an in-process moto: no Fargate task costs anything)"
            )
        return None

    @property
    def journal(self) -> RunJournal:
        """This run's journal (the file is created on the first write)."""
        return RunJournal(journal_directory(self.env), self.run_id)

    def target(self) -> ActiveTarget:
        """The connected target, starting the embedded simulator if that is the choice."""
        if self._target is None:
            s = self.settings  # the import arguments, then ``SOCKERLESS_SIM_*``
            options = simulator_options(
                s.simulator_profile, s.simulator_time_scale, s.simulator_quirks, self.env
            )
            choice = choose_target(self._host, self.env)
            self._target = start_target(choice, self.env, options)
            if self._target.simulator is not None and not self._exit_hook_registered:
                # The library's close() stops it; this covers a run that never gets that far.
                atexit.register(self.stop_target)
                self._exit_hook_registered = True
        return self._target

    def connected_target(self) -> ActiveTarget | None:
        """The target if one was already made usable, else ``None`` (starts nothing)."""
        return self._target

    def timeouts(self, read: float | None = None) -> Timeouts:
        """The connection's timeouts, with ``read`` for one call when given."""
        return Timeouts(self._connect_timeout, self._read_timeout if read is None else read)

    def remember_created(self, container_id: str, *, tty: bool, scope: str) -> None:
        """Register a new container for cleanup in ``scope`` and write it to the journal."""
        self.registry.register(container_id, scope)
        self.tty_by_container[container_id] = tty
        self.created.setdefault(container_id, scope)
        target = self.target()
        aws = target.aws
        self.journal.record_created(
            container_id,
            target=target.host,
            target_kind=target.kind,
            region=aws.region,
            cluster=aws.cluster,
            endpoint_url=aws.endpoint_url,
            log_group=aws.log_group,
        )

    def require_created(self, container_id: str, keyword: str) -> None:
        """Fails unless this run created ``container_id`` (its full ID): a proof about a
        container the run never made has nothing of its own to prove."""
        if container_id in self.created:
            return
        close = [known for known in self.created if known.startswith(str(container_id))]
        hint = (
            f" (give the full ID: {close[0]})"
            if len(close) == 1
            else ": create it with `Create Container` (or a resource keyword built on it, "
            "or a create on the kit's session) in this run, so that there is something to prove"
        )
        raise AssertionError(
            f"{keyword} proves what happened to a container this run created, but "
            f"{container_id!r} is none of the {len(self.created)} it created{hint}"
        )

    def last_request(self) -> str:
        """The request line the client sent last (``""`` before any request)."""
        return self._client.transport.last_request if self._client is not None else ""

    def client(self) -> DockerClient:
        """The Docker API client of the target (created on first use)."""
        if self._client is None:
            target = self.target()
            host = target.host

            def negotiated(api: ApiVersion) -> None:
                self._negotiated[host] = api
                self.log(f"{target.describe()}: {api.describe()}")

            client = open_client(
                host,
                self.timeouts(),
                api_version=self._api_version,
                on_negotiated=negotiated,
                outages=self.outages,
            )
            if host in self._negotiated:
                client.transport.use_api_version(self._negotiated[host])
            client.call_observer = self.timeline.docker_call
            self._client = client
        return self._client

    def pinned_api_version(self) -> str | None:
        """The version the user pinned, or ``None`` when the library negotiates."""
        return None if self._api_version == AUTO else self._api_version

    def api_version(self) -> ApiVersion | None:
        """The API version of the connected target and how it was chosen (sends nothing).

        ``None`` before a target was made usable.
        """
        if self._client is not None:
            return self._client.transport.api
        if self._target is not None and self._target.host in self._negotiated:
            return self._negotiated[self._target.host]
        return None

    def connect(
        self,
        host: str | None,
        connect_timeout: float,
        read_timeout: float,
        api_version: str | None = None,
    ) -> ActiveTarget:
        """Make the target usable; a new host, new timeouts or API version replace the client.

        Connecting again with nothing changed keeps the client (and its request count).
        """
        wanted = self._api_version if api_version is None else pinned_api_version(api_version)
        settings = (connect_timeout, read_timeout, wanted or AUTO)
        changed = settings != (self._connect_timeout, self._read_timeout, self._api_version)
        self._connect_timeout, self._read_timeout, self._api_version = settings
        if host and (self._target is None or self._target.host != host):
            if self._target is not None:
                # An embedded simulator keeps running until close: what it holds may still
                # need cleaning through it.
                self._retired.append(self._target)
                self._target = None
            self._host, changed = host, True
        if changed:
            self.disconnect()
        self.client()
        return self.target()

    def disconnect(self) -> None:
        """Close the daemon connection (the next keyword reconnects)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def aws_config(self) -> AwsConfig:
        """AWS settings of the target (for a real target: from the environment, no connection)."""
        if self._target is None and not self.choice().is_embedded:
            return AwsConfig.from_env(self.env)
        return self.target().aws

    def aws_client(self, service: str) -> Any:
        """A cached boto3 client of the target's AWS for ``service``."""
        config = self.aws_config()
        key = f"{service}@{config.endpoint_url}@{config.region}"
        if key not in self._aws_clients:
            self._aws_clients[key] = config.client(service)
        return self._aws_clients[key]

    def container_resources(
        self, deadline_seconds: float, log: Callable[[str], None]
    ) -> ContainerResources:
        """Look-ups of container-derived AWS resources, bounded by ``deadline_seconds``."""
        return ContainerResources(
            ecs=self.aws_client("ecs"),
            logs=self.aws_client("logs"),
            config=self.aws_config(),
            caller=AwsCaller.for_endpoint(self.aws_config(), deadline_seconds, log, self.outages),
            unsupported=self.unsupported_aws,
            observer=self.timeline,
        )

    def stop_target(self) -> None:
        """Close the client and stop the embedded simulator if it runs (idempotent)."""
        self.disconnect()
        targets = [*self._retired, *([self._target] if self._target else [])]
        self._target = None
        self._retired = []
        for target in targets:
            target.stop()
