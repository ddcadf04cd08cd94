"""Which daemon the keywords talk to, and where its AWS resources live.

Resolution order: the ``host`` argument, then ``SOCKERLESS_HOST``, then ``SOCKERLESS_ECS_SOCKET``;
any of them means a real sockerless daemon (AWS settings from the environment). None of them means
the embedded simulator, started as a child process on first use (AWS settings from its ready line).
Choosing is pure (environment in, decision out); only ``start_target`` starts anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .aws.config import AwsConfig, SimulatorInfoLike, split_list
from .aws.credentials import credentials_available
from .client import DockerClient
from .outage import Outages
from .simulator_extra import check_simulator_environment
from .transport import AUTO, NegotiationListener, Target, Timeouts, Transport

SOCKERLESS = "sockerless"
EMBEDDED = "embedded simulator"

HOST_VARIABLES = ("SOCKERLESS_HOST", "SOCKERLESS_ECS_SOCKET")
SIMULATOR_READY_TIMEOUT = 30.0  # the machine may be busy; the simulator itself is ready in ~1-2 s


@dataclass(frozen=True)
class TargetChoice:
    """The target kind and, for a real daemon, its address."""

    kind: str
    host: str | None

    @property
    def is_embedded(self) -> bool:
        """True for the embedded simulator."""
        return self.kind == EMBEDDED


def choose_target(host: str | None, env: Mapping[str, str]) -> TargetChoice:
    """Decide the target without touching anything."""
    for value in (host, *(env.get(variable) for variable in HOST_VARIABLES)):
        if value:  # the first one set, in the resolution order
            return TargetChoice(SOCKERLESS, value)
    return TargetChoice(EMBEDDED, None)


def should_skip_for_credentials(choice: TargetChoice, env: Mapping[str, str]) -> bool:
    """A real target without AWS credentials is skipped (spec AC 1); the simulator never is."""
    return not choice.is_embedded and not credentials_available(env)


@dataclass(frozen=True)
class SimulatorOptions:
    """How to start the embedded simulator."""

    profile: str = "instant"
    time_scale: float = 1.0
    quirks: tuple[str, ...] = ()


def simulator_options(
    profile: str | None,
    time_scale: float | None,
    quirks: str | None,
    env: Mapping[str, str],
) -> SimulatorOptions:
    """Import arguments win; ``SOCKERLESS_SIM_*`` fill in what was not given."""
    chosen_profile = profile or env.get("SOCKERLESS_SIM_PROFILE") or "instant"
    if time_scale is None:
        raw_scale = env.get("SOCKERLESS_SIM_TIME_SCALE")
        try:
            time_scale = float(raw_scale) if raw_scale else 1.0
        except ValueError:
            raise ValueError(
                f"SOCKERLESS_SIM_TIME_SCALE must be a number, got '{raw_scale}'"
            ) from None
    chosen_quirks = quirks if quirks is not None else env.get("SOCKERLESS_SIM_QUIRKS", "")
    return SimulatorOptions(chosen_profile, time_scale, tuple(split_list(chosen_quirks)))


class SimulatorHandle(Protocol):
    """What the library needs of ``sockerless_sim.launcher.SimulatorProcess``."""

    @property
    def info(self) -> Any: ...

    def stop(self, timeout: float = 5.0) -> None: ...


SimulatorStarter = Callable[[SimulatorOptions], SimulatorHandle]


def start_embedded_simulator(options: SimulatorOptions) -> SimulatorHandle:
    """Start ``python -m sockerless_sim`` and wait for its ready line (after checking that the
    kit's ``simulator`` extra is installed: ``simulator_extra``)."""
    check_simulator_environment()
    from sockerless_sim.launcher import SimulatorProcess  # noqa: PLC0415 - only when needed

    return SimulatorProcess.start(
        profile=options.profile,
        time_scale=options.time_scale,
        quirks=options.quirks,
        ready_timeout=SIMULATOR_READY_TIMEOUT,
    )


@dataclass
class ActiveTarget:
    """A resolved, usable target: daemon address, AWS settings, and the simulator if we run it."""

    kind: str
    host: str
    aws: AwsConfig
    simulator: SimulatorHandle | None = None

    def describe(self) -> str:
        """``embedded simulator at unix:///tmp/...`` or ``sockerless at unix:///...``."""
        return f"{self.kind} at {self.host}"

    def stop(self) -> None:
        """Stop the embedded simulator (idempotent; nothing to do for a real daemon)."""
        if self.simulator is not None:
            self.simulator.stop()


def report_metadata(
    target: ActiveTarget, api_version: str, run_id: str, lies: Sequence[str] = ()
) -> dict[str, str]:
    """The top-level report metadata that describes ``target``, readable long after the run.

    Robot turns any ``scheme://...`` text in metadata into a link. A daemon socket or an AWS
    endpoint is no page to open, and the embedded simulator's socket and endpoint are gone when
    the run ends: so the embedded simulator is named, not addressed, and a real target's
    addresses are shown as code (``unix:///...``), which Robot never links.
    """
    if target.kind == EMBEDDED:
        daemon, endpoint = EMBEDDED, f"{EMBEDDED} (moto)"
    else:
        daemon = f"``{target.host}``"  # Robot's inline code: shown verbatim, never linked
        endpoint = f"``{target.aws.endpoint_url}``" if target.aws.endpoint_url else "AWS"
    metadata = {
        "Target": target.kind,
        "Daemon": f"{daemon} (API {api_version})",
        "Region": target.aws.region,
        "Cluster": target.aws.cluster,
        "Run Id": run_id,
        "AWS endpoint": endpoint,
    }
    if lies:
        # A report of a run on a lying simulator must never read like a healthy one.
        metadata["Simulator lies"] = ", ".join(lies)
    return metadata


def start_target(
    choice: TargetChoice,
    env: Mapping[str, str],
    options: SimulatorOptions,
    starter: SimulatorStarter = start_embedded_simulator,
) -> ActiveTarget:
    """Make the chosen target usable: for the simulator this starts it."""
    if not choice.is_embedded:
        assert choice.host is not None
        return ActiveTarget(SOCKERLESS, choice.host, AwsConfig.from_env(env))
    simulator = starter(options)
    info: SimulatorInfoLike = simulator.info
    return ActiveTarget(
        EMBEDDED, f"unix://{simulator.info.socket_path}", AwsConfig.from_simulator(info), simulator
    )


def open_client(
    host: str,
    timeouts: Timeouts,
    *,
    api_version: str | None = AUTO,
    on_negotiated: NegotiationListener | None = None,
    outages: Outages | None = None,
) -> DockerClient:
    """A Docker API client for ``host`` (connects lazily, on its first request).

    ``api_version``: ``auto`` (negotiate on the first request) or a version to pin;
    ``outages``: the run's record of what is down (see ``outage.py``).
    """
    transport = Transport(
        Target.parse(host),
        api_version=api_version,
        timeouts=timeouts,
        on_negotiated=on_negotiated,
        outages=outages,
    )
    return DockerClient(transport)
