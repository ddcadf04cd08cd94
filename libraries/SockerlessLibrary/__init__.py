"""SockerlessLibrary: Robot Framework keywords for sockerless' ECS Fargate backend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError
from robotlibcore import DynamicCore

from .arguments import seconds
from .budget import budget_setting
from .declarations import TaskDeclarations
from .errors import DaemonResponseError, DaemonTimeout, ProtocolError, SockerlessError
from .keywords.aws import AwsKeywords
from .keywords.budget import BudgetKeywords
from .keywords.containers import ContainerKeywords
from .keywords.docker_only import DockerOnlyKeywords
from .keywords.exec import ExecKeywords
from .keywords.logs import LogKeywords
from .keywords.preflight import PreflightKeywords
from .keywords.proof import ProofKeywords
from .keywords.session import SessionKeywords
from .keywords.streams import StreamKeywords
from .keywords.target import TargetKeywords
from .keywords.timeline import TimelineKeywords
from .listeners.argument_check import ArgumentCheck
from .listeners.log import current_scope, debug, log, warn
from .listeners.pabot import pabot_budget_id
from .listeners.report_guard import ReportGuard
from .listeners.run_account import RunAccountant, runs_nothing_after
from .listeners.timeline import TimelineReporter
from .run.context import LibraryContext, LibrarySettings, RobotRun
from .run.janitor import Janitor
from .run.registry import Selection, everything, only, scope_of_test, within_suite
from .transport import pinned_api_version
from .version import __version__


class SockerlessLibrary(DynamicCore):  # type: ignore[misc]  # robotlibcore ships no types
    """Keywords that drive a Docker-API daemon (sockerless, or the embedded simulator) whose
    containers run as AWS ECS Fargate tasks, read their CloudWatch logs, exec through the
    in-task agent, and prove on the AWS side that nothing is left behind.

    %TOC%

    = Targets =

    The daemon is chosen when a keyword first needs it, never at import:

    | =Setting= | =Target= |
    | ``host`` (import argument or `Connect To Sockerless`) | real sockerless at that address |
    | ``SOCKERLESS_HOST`` (alias ``SOCKERLESS_ECS_SOCKET``) | real sockerless at that address |
    | none of them | the *embedded simulator* (a child process) |

    The embedded simulator is stopped when the library closes at the end of the run.

    Addresses: ``unix:///var/run/sockerless.sock``, a bare ``/path.sock``, ``tcp://host:port``
    or ``http://host:port``.

    For real sockerless the AWS settings come from the environment: region ``AWS_REGION`` /
    ``AWS_DEFAULT_REGION`` (default ``us-east-1``), endpoint ``SOCKERLESS_ENDPOINT_URL`` or
    ``AWS_ENDPOINT_URL``, cluster ``SOCKERLESS_ECS_CLUSTER`` (default ``sockerless``), subnets
    ``SOCKERLESS_ECS_SUBNETS``, security groups ``SOCKERLESS_ECS_SECURITY_GROUPS`` or
    ``SOCKERLESS_ECS_SECURITY_GROUP`` (comma lists), log group ``SOCKERLESS_ECS_LOG_GROUP``
    (default ``/sockerless``). Credentials count as available when ``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY``, or ``AWS_PROFILE``, are set; without them
    `Skip If AWS Credentials Are Missing` skips with ``AWS credentials not available``.
    The embedded simulator reports its own settings and is never skipped. Secrets are never
    logged.

    The simulator's profile, time scale and quirks come from the import arguments or, when
    those are not given, from ``SOCKERLESS_SIM_PROFILE``, ``SOCKERLESS_SIM_TIME_SCALE`` and
    ``SOCKERLESS_SIM_QUIRKS``.

    = Timeouts =

    Every request has a connect and a read timeout, so no keyword can hang. The import
    arguments set the defaults; the keywords that wait take their own ``timeout``:

    | =Import argument= | =Default= | =Used by= |
    | ``connect_timeout`` | 5 s | every request |
    | ``read_timeout`` | 60 s | every request without its own timeout |
    | ``start_timeout`` | 120 s | `Start Container`, `Wait Until Container Is Not Running` |
    | ``stop_timeout`` | 30 s | `Stop Container`, `Fargate Task Should Be Stopped` |
    | ``exec_timeout`` | 90 s | `Start Exec`, `Wait Until Exec Finishes` |
    | ``logs_timeout`` | 30 s | `Get Container Logs`, `Wait Until Logs Contain Line`, attach |
    | ``aws_timeout`` | 15 s | the AWS-side proofs: how long ECS/CloudWatch may lag the daemon |
    | ``preflight_timeout`` | 20 s | `Target Should Be Ready`: all its AWS calls together |

    Timeouts use Robot's time format: ``30s``, ``2 min``, ``1 minute 30 seconds``. A timeout
    of zero or less is refused before anything is sent. Real sockerless may block a start for
    up to five minutes; raise ``start_timeout`` then.

    = Options =

    Arguments after the required ones are options, given as ``name=value``: ``Get Container
    Logs    ${id}    tail=1``. Every keyword of this library and of the kit's resource files
    refuses a ``name=value`` whose name it does not know, before anything runs (in a run and
    in ``--dryrun``), naming the keyword that was called, its valid options and the closest
    one:

    | Get Container Log Lines    ${id}    tial=1
    | -> Get Container Log Lines got unknown option 'tial=1' (did you mean tail?): valid
    |    options are since, stderr, stdout, tail, timeout, timestamps, until

    Robot itself would take such an argument as a positional value, so a misspelt option
    would silently mean something else. Where a value with ``=`` really is meant (a command
    word such as ``FOO=bar``, a line to look for), escape each ``=`` with a backslash:
    ``FOO\\=bar``; the message shows the escaped form.

    = API version =

    The library speaks Docker Engine API 1.24 to 1.44. Unless a version is pinned, it
    negotiates, as docker-py (``version="auto"``) and the Docker Go SDK do: before its first
    request to a daemon it sends one ``GET /_ping`` (without a version prefix), reads the
    ``API-Version`` header and uses the lower of that and 1.44 (Docker 20.10 says 1.41, so
    every path becomes ``/v1.41/...``). No header keeps 1.44 (sockerless answers every version).
    The outcome is logged once per daemon and reported by `Get Target Info`.

    A header that is not a version fails the keyword with a ``ProtocolError``; a daemon older
    than 1.24 fails it with a ``ConfigurationError`` naming both versions. A daemon that cannot
    answer the ping fails the keyword as its own request would have (socket missing, refused,
    timed out). Pin a version, which sends no ping, with the ``api_version`` import argument
    or with `Connect To Sockerless` (``api_version=1.41``; ``auto`` negotiates again).

    = Expected status =

    Keywords that map to one Docker API call take ``expected_status``, as in RequestsLibrary:
    an integer (``204``), a comma-separated list (``204,304``) or ``any``. Any other status
    fails with the operation, the target, the status and the daemon's ``message``. With an
    expected error status the keyword returns the daemon's answer instead of failing:

    | Inspect Container | ${id} | expected_status=404 |

    = Streams and whole-line matching =

    Logs and exec output come back decoded: a ``LogsResult`` (from `Get Container Logs` and
    `Wait Until Logs Contain Line`) or an ``ExecStream`` (from `Start Exec`). Both have
    ``status``, ``headers`` and ``output`` with ``frames`` (each with ``stream``, ``payload``
    and the raw 8-byte ``header``), ``stdout`` and ``stderr`` (bytes), ``text(stream)`` and
    ``lines(stream)``. A ``LogsResult`` also has ``log_lines``: ``stream``, ``text``,
    ``timestamp`` (a datetime, or ``None``) and ``raw_timestamp``.

    Lines are split after the frames of a stream are joined (a frame is not a line) and are
    compared *whole*: `Output Should Contain Line` with ``hello from fargate`` fails on the
    line ``echo hello from fargate``, which is what a daemon that only echoes the command
    would produce. With ``timestamps=True`` the timestamp prefix is removed before comparing.

    = What the report shows =

    Whatever a daemon, its AWS endpoint or a container sends stays text in the reports of a
    run that imports this library (its listener sees every message and status): a failure
    message that starts with ``*HTML*`` is shown as typed, a link to anything but http(s) is
    not a link, and metadata holds no other link and no image. The library logs HTML only for
    its own timeline picture; other libraries' HTML messages are theirs. In such a run
    ``Fail    *HTML* <b>x</b>`` is shown as typed too.

    Each line of output the library shows is cut after 1,000 characters and each message after
    20,000, saying how much was left out (``... 2,999,000 more bytes``). The AWS credentials
    and every container's agent token (``SOCKERLESS_AGENT_TOKEN``, read from its task
    definition before its output is shown) are masked as ``********`` wherever they appear.

    = Proof on AWS =

    A daemon's answers are only its claims. The proof keywords read ECS, CloudWatch Logs and
    EC2 with boto3 (the target's region, endpoint and credentials) and fail unless AWS shows
    what the claim implies, so a daemon that runs containers anywhere but on Fargate fails.
    Each proof is about a container this run created (an ID it never created fails at once),
    and each keyword's documentation says which evidence it needs:

    - `Container Should Run As A Fargate Task`: after start, one task, ``FARGATE``, from family
      ``sockerless-<id[:12]>`` (ACTIVE), RUNNING or later.
    - `Fargate Task Should Use The Configured Network`: the task's cluster, its ENI's subnet
      and security groups are the configured ones (or are reported as used).
    - `Reported IP Should Be The Task ENI Address`: the IP is the ENI's ``privateIPv4Address``.
    - `Fargate Task Should Be Stopped`: STOPPED, with the container's exit code when given.
    - `Task Definition Should Be Deregistered`: the revision seen ACTIVE is now INACTIVE.
    - `Log Lines Should Be CloudWatch Events`: every line is an event of the stream
      ``<id[:12]>/main/<task id>``, timestamps equal to the millisecond; logs without a line
      fail (they prove nothing).
    - `Fargate Task Should Have Failed To Start`: a task was launched and stopped without
      running, for the expected reason.

    The task found after start is remembered per container, so the later proofs compare
    against the same task; those that need it fail, saying so, when no task was proven.
    `Container Should Leave No AWS Resources` asserts absence, so it says which resources an
    earlier proof had shown to exist ("absence only" for a container never started).
    Resources not there yet are looked for again with backoff for ``aws_timeout`` (ECS and
    CloudWatch are eventually consistent); a resource that is there and wrong fails at once.
    A failure has three parts: ``expected on AWS``, ``found on AWS`` and ``looked with`` (the
    AWS calls and their parameters).

    = Preflight =

    `Target Should Be Ready` proves, read-only and before any container is created, that a run
    can work on its target: the daemon answers, the credentials are accepted (the account goes
    to the report metadata, never a key), the cluster is ACTIVE, the configured subnets and
    security groups exist in one VPC, and the log group exists. Every problem is reported at
    once, one sentence each, naming the variable that fixes it; all AWS calls share
    ``preflight_timeout``. The ECS suites call it in their suite setup, so a misconfigured run
    fails in seconds with no Fargate task launched; its outcome is kept for the run, so the
    next suites fail at once.

    = Cleanup =

    Cleanup holds in three layers (spec AC 18):

    1. Every container is registered the moment `Create Container` (or a create on the
       session of `Create Sockerless Session`) gets its ID, under the running test (or the
       suite, when created in a suite setup). The library is its own listener: at the end of
       each test and suite it runs `Clean Up Container` for what that scope created and has
       not cleaned, so a failed or interrupted teardown is still covered.
    2. Every container carries the labels ``sockerless-kit.run-id=<run id>`` and
       ``sockerless-kit.project=sockerless-ecs-acceptance`` and is written to the journal
       ``.kit-journal/<run id>.jsonl`` (directory: ``SOCKERLESS_KIT_JOURNAL_DIR``) before the
       keyword returns. `Sweep Run Leftovers` cleans what a run left.
    3. ``python -m SockerlessLibrary.sweep`` does the same from outside Robot, for runs that
       were killed.

    Cleanup only touches containers with these labels or in the journal, and the AWS
    resources derived from their IDs: task definition family ``sockerless-<id[:12]>``, tasks
    tagged with the container id, log streams ``<id[:12]>/...``. Log groups are never deleted.

    = Outages =

    A daemon or AWS endpoint that refuses connections, cannot be resolved or does not accept
    within the connect timeout (an AWS endpoint also: one that sends nothing for 10 s) is
    *down*, not busy. The request is tried again for up to 4 s, then the address is marked
    down for the rest of the run: every later request to it fails at once (``DaemonDown``,
    ``EndpointDown``) naming since when and the first cause, and `Target Should Be Ready` and
    `Create Container` refuse that target. A daemon that never answered in the run is marked
    down at its first failure (a wrong address). Throttling and 5xx answers are not outages
    and keep their back-off. A daemon or endpoint that comes back is not used again in the
    same run: the steps that needed it have failed, and the sweep finishes their cleanup.

    When the run ends with containers it could not clean (or with an outage), the last console
    lines (a warning), the report metadata (``Cleanup left``, ``Down during the run``) and the
    journal (a ``left`` line per container) say what may remain and give the sweep command for
    the run: ``python -m SockerlessLibrary.sweep --run-id <id> --journal-dir <dir>
    --host=<daemon>``, to run once the target answers again, with the run's AWS credentials in
    its environment.

    = Fargate task budget =

    A cost guard: `Create Container` (and a create on the session of `Create Sockerless
    Session`) counts every create it sends as one Fargate task, since sockerless launches one
    task per container when it is started. The budget is the import argument
    ``task_budget``, else ``SOCKERLESS_KIT_TASK_BUDGET`` (the suites pass
    ``${FARGATE_TASK_BUDGET}``), else ``auto``:

    - ``auto``: what the tests Robot selected declare, read when the first suite starts,
      before any create: a tag ``fargate-tasks:N`` per test (N containers it creates), 1 for a
      test without one, summed (over all processes sharing the budget). It is enforced
      against a real target, and only counted and reported on the kit's simulator (the
      embedded one, or one whose ``GET /_sim/info`` names the configured AWS endpoint),
      where adding tests must not break a free run. A test that creates more than it
      declares gets a warning naming it.
    - a number: enforced on every target. ``0`` allows no create.
    - ``unlimited``: nothing is counted.

    An enforced create beyond the budget fails before anything is sent to the daemon, e.g.
    ``Fargate task budget exhausted: this run (budget id X) already created 5 containers of
    its budget of 5; raise FARGATE_TASK_BUDGET (or SOCKERLESS_KIT_TASK_BUDGET) if the suite
    really needs more``. A create gives its slot back only when nothing can come of it: the
    daemon answered an error status (there is no container ID to start), or it was never
    sent. A create whose answer was lost keeps its slot.

    The processes of one run share one budget: those with the same
    ``SOCKERLESS_KIT_BUDGET_ID``, else those of one pabot run (they agree on a budget id
    through PabotLib), else each process is its own run. The count is kept in
    ``<journal directory>/<budget id>.budget`` under a file lock, so parallel processes never
    get more creates than the budget between them. `Get Fargate Task Budget` reports it and
    `Set Fargate Usage Metadata` puts it in the report.

    = Examples =

    | ***** Settings *****
    | Library    SockerlessLibrary    start_timeout=120s
    | Suite Setup    Skip If AWS Credentials Are Missing
    |
    | ***** Test Cases *****
    | Echo On Fargate
    |     [Tags]    fargate-tasks:1
    |     ${name}=    Generate Container Name
    |     ${id}=    Create Container    alpine:latest    echo    hello from fargate    name=${name}
    |     Start Container    ${id}
    |     Container Should Run As A Fargate Task    ${id}
    |     Container Should Have Exited With Code    ${id}    0
    |     ${logs}=    Wait Until Logs Contain Line    ${id}    hello from fargate
    |     Stream Should Be Multiplexed    ${logs}
    |     Remove Container    ${id}
    |     Task Definition Should Be Deregistered    ${id}
    |     [Teardown]    Clean Up Container    ${id}

    Suites usually import ``resources/*.resource``, whose keywords (`Create Fargate
    Container`, `Start Fargate Container`, ...) build on these; ``docs/writing-suites.md`` is
    the guide to writing one's own.
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = __version__
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(  # noqa: PLR0917 - Robot import arguments, positional by design
        self,
        host: str | None = None,
        connect_timeout: timedelta = timedelta(seconds=5),
        read_timeout: timedelta = timedelta(seconds=60),
        start_timeout: timedelta = timedelta(seconds=120),
        stop_timeout: timedelta = timedelta(seconds=30),
        exec_timeout: timedelta = timedelta(seconds=90),
        logs_timeout: timedelta = timedelta(seconds=30),
        aws_timeout: timedelta = timedelta(seconds=15),
        preflight_timeout: timedelta = timedelta(seconds=20),
        simulator_profile: str | None = None,
        simulator_time_scale: float | None = None,
        simulator_quirks: str | None = None,
        api_version: str | None = None,
        task_budget: int | str | None = None,
    ) -> None:
        """Nothing is started or contacted at import; see `Targets` and `Timeouts`.

        | =Argument= | =Description= |
        | ``host`` | Daemon address (default: ``SOCKERLESS_HOST``, else the simulator). |
        | ``connect_timeout`` | Connect timeout of every request (5 s). |
        | ``read_timeout`` | Default read timeout (60 s). |
        | ``start_timeout`` | Container start budget (120 s). |
        | ``stop_timeout`` | Container stop budget (30 s). |
        | ``exec_timeout`` | Exec stream budget (90 s). |
        | ``logs_timeout`` | Logs/attach budget (30 s). |
        | ``aws_timeout`` | How long AWS may lag behind the daemon in the proofs (15 s). |
        | ``preflight_timeout`` | Budget of `Target Should Be Ready`'s AWS calls (20 s). |
        | ``simulator_profile`` | ``instant`` (default) or ``fargate`` latencies. |
        | ``simulator_time_scale`` | Multiplies the simulator's delays (default 1.0). |
        | ``simulator_quirks`` | Comma list of real-sockerless behaviours to reproduce. |
        | ``api_version`` | API version to pin, e.g. ``1.41`` (default: negotiate, `API version`). |
        | ``task_budget`` | See `Fargate task budget` (default: ``SOCKERLESS_KIT_TASK_BUDGET``). |

        The simulator arguments fall back to ``SOCKERLESS_SIM_PROFILE``,
        ``SOCKERLESS_SIM_TIME_SCALE`` and ``SOCKERLESS_SIM_QUIRKS`` when not given. Quirks
        reproduce real sockerless (see the simulator's README); ``sockerless`` names all of
        them, as observed on sockerless 020b7fa4.

        Example:
        | Library | SockerlessLibrary | | |
        | Library | SockerlessLibrary | host=unix:///var/run/sockerless.sock | start_timeout=330s |
        | Library | SockerlessLibrary | simulator_profile=fargate | simulator_time_scale=0.1 |
        | Library | SockerlessLibrary | task_budget=5 | |
        """
        settings = LibrarySettings(
            host=host or None,
            connect_timeout=seconds(connect_timeout, 0, name="connect_timeout"),
            read_timeout=seconds(read_timeout, 0, name="read_timeout"),
            start_timeout=seconds(start_timeout, 0, name="start_timeout"),
            stop_timeout=seconds(stop_timeout, 0, name="stop_timeout"),
            exec_timeout=seconds(exec_timeout, 0, name="exec_timeout"),
            logs_timeout=seconds(logs_timeout, 0, name="logs_timeout"),
            aws_timeout=seconds(aws_timeout, 0, name="aws_timeout"),
            preflight_timeout=seconds(preflight_timeout, 0, name="preflight_timeout"),
            simulator_profile=simulator_profile or None,
            simulator_time_scale=simulator_time_scale,
            simulator_quirks=simulator_quirks,
            api_version=pinned_api_version(api_version),
            task_budget=task_budget,
        )
        budget_setting(task_budget, {})  # a bad value fails the import, before any keyword runs
        robot = RobotRun(current_scope=current_scope, pabot_budget_id=pabot_budget_id, debug=debug)
        self._context = LibraryContext(settings, log=log, warn=warn, robot=robot)
        self._janitor = Janitor(self._context, log)
        self._timeline = TimelineReporter(self._context)
        self._accountant = RunAccountant(self._context, self._janitor, self._timeline)
        # A listener of its own: every call of a kit keyword is checked for unknown options.
        self._argument_check = ArgumentCheck()
        components = [
            TargetKeywords(self._context),
            ContainerKeywords(self._context),
            ExecKeywords(self._context),
            LogKeywords(self._context),
            StreamKeywords(self._context),
            SessionKeywords(self._context),
            AwsKeywords(self._context, self._janitor),
            ProofKeywords(self._context),
            PreflightKeywords(self._context),
            BudgetKeywords(self._context),
            TimelineKeywords(self._context),
            DockerOnlyKeywords(self._context),
            self._argument_check,
        ]
        # Daemon and container text stays text in the report of every run using the kit.
        self.ROBOT_LIBRARY_LISTENER = [ReportGuard(self)]
        super().__init__(components)
        self._argument_check.know(self, self.keywords)

    def run_keyword(self, name: str, args: Any, kwargs: Any = None) -> Any:
        """Runs a keyword; when the daemon's answer fails it, the log also shows the request."""
        try:
            return super().run_keyword(name, args, kwargs)
        except (DaemonResponseError, ProtocolError, DaemonTimeout):
            request = self._context.last_request()
            if request:
                log(f"Request: {request} (sent to {self._context.client().target})")
            raise

    # Listener interface (v3): the library sizes the Fargate task budget from the selected
    # tests and cleans what each test and suite created (``ArgumentCheck`` is a listener too).

    def start_suite(self, data: Any, result: Any) -> None:
        """The first suite: read what every selected test declares it creates (its
        ``fargate-tasks:N`` tag), before any create, from the whole run's suite tree."""
        self._accountant.start_suite(data)
        if self._context.declarations is not None:
            return
        root = data
        while root.parent is not None:
            root = root.parent
        self._context.declarations = TaskDeclarations.from_suite(root)

    def end_test(self, data: Any, result: Any) -> None:
        """Clean the containers the test registered and did not clean itself; then log the
        test's timeline, add it to ``timeline.json`` and check the latency budgets."""
        self._clean(only(scope_of_test(data.full_name)), "test")
        self._timeline.end_test(data, result)

    def end_suite(self, data: Any, result: Any) -> None:
        """Clean what the suite (its setup/teardown, tests and child suites) left registered;
        at the end of the outermost suite the library saw (the top suite when it loads the
        library), account for the run: what it cleaned, what it could not and how to finish
        (``listeners/run_account.py``)."""
        self._clean(within_suite(data.full_name), "suite")
        if self._accountant.is_outermost(data):
            self._accountant.end_of_run(result, done=runs_nothing_after(data))

    def close(self) -> None:
        """End of the run: clean whatever is still registered, then stop the simulator."""
        try:
            self._clean(everything, "run")
        finally:
            self._context.stop_target()

    def _clean(self, selection: Selection, scope: str) -> None:
        try:
            container_ids = self._janitor.claim(selection)
        except (SockerlessError, BotoCoreError, ValueError, OSError) as error:
            warn(f"Could not look for the containers of creates that were cut short: {error}")
            container_ids = self._context.registry.pending(selection)
        container_ids = [cid for cid in container_ids if cid not in self._janitor.accounted]
        if not container_ids:
            return
        log(f"Automatic cleanup at the end of the {scope}: {len(container_ids)} container(s)")
        for container_id in container_ids:
            try:
                result = self._janitor.clean(container_id)
            except (SockerlessError, BotoCoreError, ValueError, OSError) as error:
                # A listener must not break the run; the journal keeps it for the sweeper.
                warn(f"Automatic cleanup of {container_id[:12]} failed: {error}")
                continue
            if not result.complete:
                warn(f"Automatic cleanup incomplete: {result.summary()}")


__all__ = ["SockerlessLibrary", "__version__"]
