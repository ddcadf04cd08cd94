"""``AwsPlane``: the simulator's AWS side, put together and taken apart in the right order.

moto keeps its state in module globals, so there is one plane per process at a time; a plane
started after an earlier one in the same process resets moto first.
"""

from __future__ import annotations

import http.client
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from wsgiref.types import WSGIApplication

import boto3
import botocore.session
from botocore.config import Config

from ..capture import CapturedLine, LocalCapture
from ..config import LIE_MIN_INGESTION_LAG_SECONDS, SimConfig
from ..quirks import PULL_ATTEMPT_SECONDS
from ..workloads import OutputCallback, WorkloadRunner
from .bootstrap import bootstrap
from .ecs_api import EcsTaskApi
from .faults import INTERNAL_HEADER, AwsFaultInjector
from .iam import IamEnforcement, KeyPair
from .iam_authz import install_authorization
from .lifecycle import LifecycleDriver, TaskOutputSink
from .logship import LogShipper
from .moto_host import MotoHost, freeze_task_transitions, unfreeze_task_transitions
from .patches import PatchSet, install
from .selfcheck import SelfCheckError, check_moto_internals

__all__ = ["AwsPlane", "SelfCheckError"]

TEST_CREDENTIALS = KeyPair("testing", "testing")  # moto's convention; any key works unchecked
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=5,
    read_timeout=30,
)
RESET_TIMEOUT_SECONDS = 10

log = logging.getLogger(__name__)


class _ProcessSlot:
    """The one plane this process may run; whether moto's globals hold an earlier one's state."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active: AwsPlane | None = None
        self.moto_used = False


_PROCESS = _ProcessSlot()


def _mark_internal(request: Any, **_: Any) -> None:
    request.headers[INTERNAL_HEADER] = "1"


class AwsPlane:
    """moto in-process with Fargate-like ECS, real workloads, log shipping and AWS faults."""

    def __init__(
        self,
        config: SimConfig,
        runner_factory: Callable[[OutputCallback], WorkloadRunner],
    ) -> None:
        self.config = config
        self.region = config.region
        self.cluster = config.cluster
        self.log_group = config.log_group
        self.subnets: list[str] = []
        self.security_groups: list[str] = []
        self.vpc_id = ""
        self.endpoint_url = ""
        self.faults = AwsFaultInjector(seed=config.seed)
        self.startup_seconds: float | None = None
        self._runner_factory = runner_factory
        self._lock = threading.RLock()
        self._client_lock = threading.Lock()
        self._session = self._new_session(TEST_CREDENTIALS)
        # IAM mode (a policy file configured): the kit's user holds only that policy.
        self.iam = (
            IamEnforcement(config.iam_policy, config.work_directory())
            if config.iam_policy
            else None
        )
        self._iam_patches: PatchSet | None = None
        self._host: MotoHost | None = None
        self._runner: WorkloadRunner | None = None
        self._driver: LifecycleDriver | None = None
        self._shipper: LogShipper | None = None
        self._capture: LocalCapture | None = None
        self._patches: PatchSet | None = None
        self._owns_process_slot = False
        self._started = False
        self._stopped = False

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Serve moto on 127.0.0.1, patch it, bootstrap resources, start the threads."""
        if self._started:
            raise RuntimeError("an AwsPlane can be started once; make a new one")
        self._started = True
        started = time.perf_counter()
        with _PROCESS.lock:
            if _PROCESS.active is not None:
                raise RuntimeError("an AwsPlane is already running in this process")
            _PROCESS.active = self
            self._owns_process_slot = True
            reset_first = _PROCESS.moto_used
            _PROCESS.moto_used = True
        try:
            self._start(reset_first)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started
        log.info(
            "AWS plane ready at %s in %.2f s (cluster %s, subnets %s)",
            self.endpoint_url,
            self.startup_seconds,
            self.cluster,
            ",".join(self.subnets),
        )

    def _start(self, reset_first: bool) -> None:
        check_moto_internals()
        # Fargate needs no AMIs; moto's 1,300 default ones cost ~0.25 s and memory per region.
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        self._host = MotoHost(self._wrap_moto)
        self.endpoint_url = self._host.start()
        freeze_task_transitions()
        if reset_first:
            self._reset_moto()
        if self.iam is not None:
            self._enforce_iam(self.iam)
        delays = self.config.delays()
        logs = self.client("logs", internal=True)
        lies, quirks = self.config.lies, self.config.quirks
        self._shipper = LogShipper(
            log_delivery=delays.log_delivery,
            logs_client=logs,
            command_echo="command-echo-event" in quirks,
            mark_stderr="logs-stdout-only" not in quirks,
            hold_until_exit="logs-after-exit" in quirks,
            drop_tty_output="tty-output-lost" in quirks,
            min_ingestion_lag=(
                LIE_MIN_INGESTION_LAG_SECONDS if "log-timestamps-not-cloudwatch" in lies else 0.0
            ),
        )
        # The logs-not-cloudwatch lie: task output goes to a local capture, never to CloudWatch.
        output: TaskOutputSink = self._shipper
        on_output: OutputCallback = self._shipper.on_output
        if "logs-not-cloudwatch" in lies:
            self._capture = LocalCapture()
            output, on_output = self._capture, self._capture.on_output
        self._runner = self._runner_factory(on_output)
        self._driver = LifecycleDriver(
            lock=self._lock,
            delays=delays,
            runner=self._runner,
            output=output,
            pull_failure_pattern=self.config.pull_failure_pattern,
            pull_attempt_seconds=(
                PULL_ATTEMPT_SECONDS * self.config.time_scale
                if "running-before-pull" in quirks
                else None
            ),
            user_stop_exit_code=0 if "stop-exit-code-one" in quirks else None,
        )
        api = EcsTaskApi(lock=self._lock, driver=self._driver, config=self.config)
        self._patches = install(api)
        made = bootstrap(
            ecs=self.client("ecs", internal=True),
            ec2=self.client("ec2", internal=True),
            logs=logs,
            config=self.config,
        )
        self.vpc_id, self.subnets, self.security_groups = (
            made.vpc_id,
            made.subnets,
            made.security_groups,
        )
        self._driver.start()
        self._shipper.start()

    def _wrap_moto(self, app: WSGIApplication) -> WSGIApplication:
        """Fault injection in front of moto; in IAM mode the recorder in front of both."""
        wrapped = self.faults.wrap(app)
        return self.iam.recorder.wrap(wrapped) if self.iam is not None else wrapped

    def _enforce_iam(self, iam: IamEnforcement) -> None:
        """Create the users, sign the plane's own requests as the daemon's, turn checks on."""
        daemon = iam.create_users(self.client("iam", internal=True))
        with self._client_lock:
            self._session = self._new_session(daemon)
        self._iam_patches = PatchSet()
        install_authorization(self._iam_patches)
        iam.enforce()

    def _new_session(self, key: KeyPair) -> Any:
        # No profile from AWS_PROFILE: a real profile name in the environment must not matter.
        return boto3.session.Session(
            botocore_session=botocore.session.Session(
                session_vars={"profile": (None, None, None, None)}
            ),
            region_name=self.config.region,
            aws_access_key_id=key.access_key_id,
            aws_secret_access_key=key.secret_access_key,
        )

    def _reset_moto(self) -> None:
        """Clear what an earlier plane of this process left in moto's backends."""
        url = urlsplit(self.endpoint_url)
        connection = http.client.HTTPConnection(
            url.hostname or "127.0.0.1", url.port, timeout=RESET_TIMEOUT_SECONDS
        )
        try:
            connection.request("POST", "/moto-api/reset")
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"moto reset answered HTTP {response.status}")

    def stop(self) -> None:
        """Stop threads and workloads, flush logs, stop moto, undo patches; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        steps: list[tuple[str, Callable[[], None] | None]] = [
            ("lifecycle driver", self._driver.stop if self._driver else None),
            ("workloads", self._runner.shutdown if self._runner else None),
            ("log shipper", self._shipper.stop if self._shipper else None),
            ("moto server", self._host.stop if self._host else None),
            ("patches", self._patches.restore if self._patches else None),
            ("IAM checks", self.iam.relax if self.iam else None),
            ("IAM patches", self._iam_patches.restore if self._iam_patches else None),
            ("transition freeze", unfreeze_task_transitions if self._host else None),
        ]
        for name, step in steps:
            if step is None:
                continue
            try:
                step()
            except Exception:
                log.exception("stopping the AWS plane: %s failed", name)
        if self._owns_process_slot:
            with _PROCESS.lock:
                _PROCESS.active = None

    # -- for the Docker API backend and the tests -------------------------------------------

    def client(self, service: str, *, internal: bool = False) -> Any:
        """A boto3 client to moto: test credentials, standard retries (3 attempts), 5/30 s.

        ``internal=True`` marks every request so the fault middleware lets it through.
        """
        if not self.endpoint_url:
            raise RuntimeError("the AWS plane is not started")
        with self._client_lock:  # botocore sessions are not safe for concurrent client creation
            client = self._session.client(
                service, endpoint_url=self.endpoint_url, config=CLIENT_CONFIG
            )
        if internal:
            client.meta.events.register("before-sign", _mark_internal)
        return client

    def agent_for_task(self, task_arn: str) -> tuple[str, str | None] | None:
        """(agent socket path, agent token) while the task is RUNNING, else None."""
        return self._driver.agent_for(task_arn) if self._driver else None

    def captured_output(self, task_arn: str, start: int = 0) -> list[CapturedLine]:
        """The task's output lines from index ``start`` as the simulator captured them itself
        (only under the ``logs-not-cloudwatch`` lie; otherwise always empty)."""
        return self._capture.lines(task_arn, start) if self._capture else []

    def stats(self) -> dict[str, Any]:
        """Tasks launched, task-seconds, calls per operation, faults injected, log shipping;
        in IAM mode also ``iam``: per IAM user name, the actions called and denied."""
        usage = self._driver.usage() if self._driver else {}
        iam = {"iam": self.iam.stats()} if self.iam is not None else {}
        return {
            **iam,
            **usage,
            "calls": self.faults.calls(),
            "internal_calls": self.faults.internal_calls(),
            "faults_injected": self.faults.injected(),
            "logs": self._shipper.counters() if self._shipper else {},
            "startup_seconds": self.startup_seconds,
        }
