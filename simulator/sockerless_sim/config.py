"""Simulator configuration: environment variables, CLI overrides, latency profiles and quirks."""

from __future__ import annotations

import random
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

PROFILES = ("instant", "fargate")
QUIRKS = frozenset({"ip-in-networks-only", "ms-timestamps", "command-echo-event"})
DEFAULT_PULL_FAILURE_PATTERN = r"(\.invalid(:\d+)?/)|(^|/)does-not-exist(:|@|$)"

# Seconds as (low, high) before time_scale. "instant" keeps suites fast; "fargate" follows the
# spec's 10-45 s start-up latency and CloudWatch's 5-15 s delivery delay.
_PROFILE_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "instant": {
        "provisioning": (0.05, 0.05),
        "pending": (0.05, 0.05),
        "deprovisioning": (0.05, 0.05),
        "log_delivery": (0.5, 0.5),
    },
    "fargate": {
        "provisioning": (5.0, 20.0),
        "pending": (5.0, 25.0),
        "deprovisioning": (2.0, 5.0),
        "log_delivery": (5.0, 15.0),
    },
}


@dataclass(frozen=True)
class Delays:
    """Dwell times in seconds, already multiplied by time_scale; each call draws a value."""

    provisioning: Callable[[], float]
    pending: Callable[[], float]
    deprovisioning: Callable[[], float]
    log_delivery: Callable[[], float]


class _Draw:
    """A uniform draw from [low, high] * scale on a shared, lock-guarded RNG."""

    def __init__(
        self, rng: random.Random, lock: threading.Lock, low: float, high: float, scale: float
    ) -> None:
        self._rng = rng
        self._lock = lock
        self._low = low * scale
        self._high = high * scale

    def __call__(self) -> float:
        if self._low == self._high:
            return self._low
        with self._lock:
            return self._rng.uniform(self._low, self._high)


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _default_workdir() -> str:
    return tempfile.mkdtemp(prefix="sockerless-sim-")


@dataclass
class SimConfig:
    """Everything the simulator needs to know; built by ``from_env`` plus CLI overrides."""

    socket_path: str | None = None
    tcp_port: int | None = None  # only ever bound on 127.0.0.1
    region: str = "us-east-1"
    cluster: str = "sockerless-sim"
    subnets: list[str] = field(default_factory=list)  # empty: the simulator creates one
    security_groups: list[str] = field(default_factory=list)  # empty: the simulator creates one
    log_group: str = "/sockerless"
    profile: str = "instant"
    time_scale: float = 1.0
    stop_timeout_seconds: float = 30.0  # ECS stopTimeout: SIGTERM, then SIGKILL after this
    pull_failure_pattern: str = DEFAULT_PULL_FAILURE_PATTERN  # regex on the image reference
    quirks: frozenset[str] = frozenset()
    seed: int | None = None
    workdir: str = field(default_factory=_default_workdir)  # agent sockets, agent logs

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; expected one of {PROFILES}")
        if not self.time_scale > 0:
            raise ValueError(f"time_scale must be positive, got {self.time_scale}")
        if self.stop_timeout_seconds < 0:
            raise ValueError(f"stop_timeout_seconds must be >= 0, got {self.stop_timeout_seconds}")
        self.quirks = frozenset(self.quirks)
        unknown = self.quirks - QUIRKS
        if unknown:
            raise ValueError(f"unknown quirks {sorted(unknown)}; known: {sorted(QUIRKS)}")

    def delays(self) -> Delays:
        """Fresh draw functions for this config's profile and time scale (seeded RNG)."""
        rng = random.Random(self.seed)  # noqa: S311 - simulated latency, not security
        lock = threading.Lock()
        ranges = _PROFILE_RANGES[self.profile]

        def draw(name: str) -> _Draw:
            low, high = ranges[name]
            return _Draw(rng, lock, low, high, self.time_scale)

        return Delays(
            provisioning=draw("provisioning"),
            pending=draw("pending"),
            deprovisioning=draw("deprovisioning"),
            log_delivery=draw("log_delivery"),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> SimConfig:
        """Read the sockerless/AWS variables; overrides (from the CLI) win, None means unset."""
        values: dict[str, Any] = {}
        if env.get("SOCKERLESS_ECS_CLUSTER"):
            values["cluster"] = env["SOCKERLESS_ECS_CLUSTER"]
        if env.get("SOCKERLESS_ECS_SUBNETS"):
            values["subnets"] = _split_list(env["SOCKERLESS_ECS_SUBNETS"])
        groups = env.get("SOCKERLESS_ECS_SECURITY_GROUPS") or env.get(
            "SOCKERLESS_ECS_SECURITY_GROUP"
        )
        if groups:
            values["security_groups"] = _split_list(groups)
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if region:
            values["region"] = region
        if env.get("SOCKERLESS_ECS_LOG_GROUP"):
            values["log_group"] = env["SOCKERLESS_ECS_LOG_GROUP"]
        if env.get("SOCKERLESS_SIM_PROFILE"):
            values["profile"] = env["SOCKERLESS_SIM_PROFILE"]
        if env.get("SOCKERLESS_SIM_TIME_SCALE"):
            try:
                values["time_scale"] = float(env["SOCKERLESS_SIM_TIME_SCALE"])
            except ValueError:
                raise ValueError(
                    "SOCKERLESS_SIM_TIME_SCALE must be a number, got "
                    f"{env['SOCKERLESS_SIM_TIME_SCALE']!r}"
                ) from None
        if env.get("SOCKERLESS_SIM_QUIRKS"):
            values["quirks"] = frozenset(_split_list(env["SOCKERLESS_SIM_QUIRKS"]))
        if env.get("SOCKERLESS_SIM_SEED"):
            try:
                values["seed"] = int(env["SOCKERLESS_SIM_SEED"])
            except ValueError:
                raise ValueError(
                    f"SOCKERLESS_SIM_SEED must be an integer, got {env['SOCKERLESS_SIM_SEED']!r}"
                ) from None
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown SimConfig fields: {sorted(unknown)}")
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)
