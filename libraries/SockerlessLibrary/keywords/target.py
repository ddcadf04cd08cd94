"""Keywords about the target: connect, describe, skip without credentials, names and run id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from robot.api import SkipExecution
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

from ..arguments import seconds
from ..aws.credentials import (
    REQUIRE_ENV,
    REQUIRE_VARIABLE,
    SKIP_MESSAGE,
    credentials_required,
    required_credentials_message,
)
from ..listeners.log import log
from ..naming import unique_container_name
from ..target import report_metadata, should_skip_for_credentials
from . import LibraryComponent


class TargetKeywords(LibraryComponent):
    """Connection to the daemon (real sockerless or the embedded simulator) and run identity."""

    @keyword(tags=("Target",))
    def connect_to_sockerless(
        self,
        host: str | None = None,
        *,
        connect_timeout: timedelta | None = None,
        read_timeout: timedelta | None = None,
        api_version: str | None = None,
    ) -> str:
        """Makes the target usable and returns a description of it.

        | =Arguments= | =Description= |
        | ``host`` | Daemon address (default: see `Targets`). |
        | ``connect_timeout`` | New default connect timeout of every request. |
        | ``read_timeout`` | New default read timeout of every request. |
        | ``api_version`` | Pin this Docker API version (``1.41``), or ``auto`` to negotiate. |

        Addresses: ``unix:///var/run/sockerless.sock``, ``/path.sock``, ``tcp://host:port``
        or ``http://host:port``.

        With no host configured this starts the embedded simulator (once per library instance)
        and waits for it to be ready. It sends no request to the daemon: use
        `Daemon Should Respond To Ping` to prove the daemon answers (the first request also
        negotiates the API version, see `API version`). Calling it again with another ``host``
        switches targets.

        Example:
        | ${target}= | Connect To Sockerless | |
        | Connect To Sockerless | unix:///tmp/sockerless.sock | read_timeout=90s |
        | Connect To Sockerless | unix:///run/docker.sock | api_version=1.41 |
        """
        current = self.ctx.timeouts()  # a timeout not given stays as it is
        target = self.ctx.connect(
            host,
            seconds(connect_timeout, current.connect, name="connect_timeout"),
            seconds(read_timeout, current.read, name="read_timeout"),
            api_version,
        )
        log(f"Connected to {target.describe()} (run id {self.ctx.run_id})")
        return target.describe()

    @keyword(tags=("Target",))
    def disconnect_from_sockerless(self) -> None:
        """Closes the connection to the daemon; the next keyword that needs it reconnects.

        The embedded simulator keeps running until the library is closed at the end of the run,
        so containers it holds can still be cleaned up.

        Example:
        | Disconnect From Sockerless |
        """
        self.ctx.disconnect()
        log("Disconnected from the daemon")

    @keyword(tags=("Target",))
    def get_target_info(self) -> dict[str, Any]:
        """Returns a dictionary describing the target and its AWS configuration.

        Keys: ``kind`` (``sockerless`` or ``embedded simulator``), ``host``, ``region``,
        ``cluster``, ``subnets`` (list), ``security_groups`` (list), ``aws_endpoint_url``
        (``None`` for AWS itself), ``log_group``, ``run_id``, ``credentials``
        (``available``, ``missing`` or ``simulator``), ``api_version`` (the Docker API version
        the library uses, e.g. ``1.41``; ``None`` while not known) and ``api_version_source``
        (``pinned``, ``negotiated``, or ``not negotiated yet``: the first request to the daemon
        negotiates, see `API version`). Never contains secrets.

        For the embedded simulator this starts it if needed (its settings come from it). It
        sends no request to the daemon.

        Example:
        | ${info}= | Get Target Info | |
        | Should Not Be Empty | ${info}[cluster] | |
        | Should Be Equal | ${info}[credentials] | available |
        """
        choice = self.ctx.choice()
        target = self.ctx.target() if choice.is_embedded else None
        aws = self.ctx.aws_config()
        info: dict[str, Any] = {
            "kind": choice.kind,
            "host": target.host if target else choice.host,
            **aws.describe(),
            "run_id": self.ctx.run_id,
            **self._api_version_info(),
        }
        log(f"Target: {info}")
        return info

    def _api_version_info(self) -> dict[str, Any]:
        api = self.ctx.api_version()
        if api is None or api.source == "pending":
            pinned = self.ctx.pinned_api_version()
            if pinned is not None:
                return {"api_version": pinned, "api_version_source": "pinned"}
            return {"api_version": None, "api_version_source": "not negotiated yet"}
        return {"api_version": api.version, "api_version_source": api.source}

    @keyword("Skip If AWS Credentials Are Missing", tags=("Target", "AWS"))
    def skip_if_aws_credentials_are_missing(self, *, required: bool | str | None = None) -> None:
        """Skips the current test (or, in a suite setup, the suite) without AWS credentials;
        fails instead when credentials are required (the CI switch).

        | =Arguments= | =Description= |
        | ``required`` | Fail, not skip (default: ``SOCKERLESS_KIT_REQUIRE_CREDENTIALS``). |

        The suites pass ``${REQUIRE_AWS_CREDENTIALS}``, which defaults to that variable, else
        ``false``.

        Applies only to a real sockerless target (``SOCKERLESS_HOST`` or ``host`` set): with
        neither ``AWS_ACCESS_KEY_ID`` + ``AWS_SECRET_ACCESS_KEY`` nor ``AWS_PROFILE`` in the
        environment it raises a skip with the spec's message ``AWS credentials not available``
        (AC 1). A CI job whose secrets broke would then pass with every test skipped; with
        ``required`` on it fails, naming the variables to set, e.g. ``AWS credentials not
        available, and this run requires them (...): set AWS_ACCESS_KEY_ID and
        AWS_SECRET_ACCESS_KEY, or AWS_PROFILE: none is set``. For the embedded simulator it
        does nothing. It connects to nothing.

        Example:
        | Skip If AWS Credentials Are Missing | |
        | Skip If AWS Credentials Are Missing | required=${TRUE} |
        """
        choice = self.ctx.choice()
        env = self.ctx.env
        if required is None:
            strict = credentials_required(env.get(REQUIRE_ENV), REQUIRE_ENV)
        else:
            strict = credentials_required(required, f"required ({REQUIRE_VARIABLE})")
        if should_skip_for_credentials(choice, env):
            if strict:
                raise AssertionError(required_credentials_message(env))
            raise SkipExecution(SKIP_MESSAGE)
        log(f"Target {choice.kind}: AWS credentials check passed")

    @keyword(tags=("Target",))
    def get_run_id(self) -> str:
        """Returns this run's id (``SOCKERLESS_KIT_RUN_ID``, or generated once per process).

        Every container the library creates is labelled ``sockerless-kit.run-id=<run id>`` and
        recorded in ``.kit-journal/<run id>.jsonl``.

        Example:
        | ${run_id}= | Get Run Id |
        """
        return self.ctx.run_id

    @keyword(tags=("Target",))
    def generate_container_name(self, prefix: str | None = None) -> str:
        """Returns a unique, valid Docker container name.

        | =Arguments= | =Description= |
        | ``prefix`` | Base of the name. Default: the current test name, else the suite name. |

        The base is lowercased, characters Docker does not accept become ``-``, it is truncated
        to 50 characters and ``-`` plus 8 random hex digits are appended, e.g.
        ``long-running-container-serves-exec-3f9a1c0d``.

        Example:
        | ${name}= | Generate Container Name | |
        | ${name}= | Generate Container Name | prefix=exec |
        """
        base = prefix
        if not base:
            try:
                builtin = BuiltIn()
                base = builtin.get_variable_value("${TEST NAME}") or builtin.get_variable_value(
                    "${SUITE NAME}"
                )
            except RobotNotRunningError:
                base = None
        name = unique_container_name(str(base or "container"))
        log(f"Container name: {name}")
        return name

    @keyword(tags=("Target",))
    def daemon_should_respond_to_ping(self) -> None:
        """Fails unless ``GET /_ping`` answers 200 ``OK``.

        The failure names the target and the cause (socket missing, refused, timed out, status).

        Example:
        | Daemon Should Respond To Ping |
        """
        problem = ping_problem(self.client.ping(), self.ctx.choice().host)
        if problem:
            raise AssertionError(problem)
        log(f"{self.ctx.target().describe()} answered the ping")

    @keyword(tags=("Target",))
    def set_target_metadata(self) -> None:
        """Puts the target in the top-level suite metadata of the report.

        Sets ``Target`` (``embedded simulator`` or ``sockerless``), ``Daemon`` (address and API
        version), ``Region``, ``Cluster``, ``Run Id`` and ``AWS endpoint`` (``AWS`` when the
        default endpoint is used); ``Simulator lies`` when the embedded simulator was started
        with lies (``SOCKERLESS_SIM_LIES``). Nothing in it is a link: the embedded simulator's
        socket and AWS endpoint exist only during the run, so they are named, not given, and a
        real target's addresses are shown as code.

        Example:
        | Set Target Metadata |
        """
        target = self.ctx.target()
        version = self.client.version()
        lies = getattr(target.simulator.info, "lies", ()) if target.simulator else ()
        metadata = report_metadata(
            target, str(version.get("ApiVersion", "?")), self.ctx.run_id, tuple(lies)
        )
        builtin = BuiltIn()
        for name, value in metadata.items():
            builtin.set_suite_metadata(name, value, top=True)
        log(f"Report metadata: {metadata}")

    @keyword(tags=("Target",))
    def get_daemon_request_count(self) -> int:
        """Returns how many HTTP requests the library has sent to the daemon so far.

        Handy to prove that a wait did not poll in a tight loop.

        Example:
        | ${before}= | Get Daemon Request Count |
        """
        return int(self.client.request_count)


def ping_problem(answer: str, host: str | None) -> str | None:
    """What is wrong with a ``GET /_ping`` answer (``None`` for ``OK``)."""
    if answer.strip() == "OK":
        return None
    return f"GET /_ping on {host} answered '{answer}', expected 'OK'"
