"""Simulator configuration: environment variables, CLI overrides, latency profiles, quirks, lies."""

from __future__ import annotations

import json
import random
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol, TypeVar

from .delay_log import DelayLog
from .quirks import expand_quirks

PROFILES = ("instant", "fargate")
# Lies are faults, not quirks: each makes the daemon an impostor that claims an AWS effect which
# did not happen, while everything the Docker API shows stays consistent (see the README).
LIES = frozenset(
    {
        "ip-not-eni",
        "logs-not-cloudwatch",
        "log-timestamps-not-cloudwatch",
        "no-task-definition",
        "start-before-running",
    }
)
# One ships nothing to CloudWatch, the other lies about what was shipped.
_EXCLUSIVE_LIES = (frozenset({"logs-not-cloudwatch", "log-timestamps-not-cloudwatch"}),)
# Under "start-before-running" PROVISIONING and PENDING each last at least this long (after the
# time scale), so a check made right after the early 204 sees the task before RUNNING.
LIE_PHASE_FLOOR_SECONDS = 1.0
# Under "log-timestamps-not-cloudwatch" CloudWatch ingests every event at least this long after
# its timestamp, so the ingestion time the daemon prints always differs from the timestamp.
LIE_MIN_INGESTION_LAG_SECONDS = 0.02
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


class Draw(Protocol):
    """Draws one delay; ``started`` (epoch s, default now) is when the delay begins, for the log;
    ``key`` names whose delay it is (a task's workload), so that a seed repeats it (``_Draw``)."""

    def __call__(self, started: float | None = None, *, key: str = "") -> float: ...


@dataclass(frozen=True)
class Delays:
    """Dwell times in seconds, already multiplied by time_scale; each call draws a value."""

    provisioning: Draw
    pending: Draw
    deprovisioning: Draw
    log_delivery: Draw


class _Draw:
    """A uniform draw from [low, high] (seconds, scaled), at least ``floor``; written to ``log``
    as a delay of kind ``name`` beginning now, when a log is given.

    Unseeded, every draw comes from one shared, lock-guarded RNG. Seeded, a draw depends only on
    the seed, its kind, its ``key`` and how many draws of that kind the key had before: a task's
    delays (keyed by its workload) repeat whatever other tasks draw meanwhile, so a suite run
    beside others against one simulator (pabot) sees the delays it sees alone.
    """

    def __init__(
        self,
        rng: random.Random,
        lock: threading.Lock,
        low: float,
        high: float,
        *,
        seed: int | None = None,
        floor: float = 0.0,
        name: str = "",
        log: DelayLog | None = None,
    ) -> None:
        self._rng = rng
        self._lock = lock
        self._low = low
        self._high = high
        self._seed = seed
        self._floor = floor
        self._name = name
        self._log = log
        self._draws_per_key: dict[str, int] = {}

    def __call__(self, started: float | None = None, *, key: str = "") -> float:
        value = self._low if self._low == self._high else self._uniform(key)
        value = max(value, self._floor)
        if self._log is not None:
            self._log.record(self._name, value, started)
        return value

    def _uniform(self, key: str) -> float:
        with self._lock:
            if self._seed is None:
                return self._rng.uniform(self._low, self._high)
            count = self._draws_per_key.get(key, 0)
            self._draws_per_key[key] = count + 1
        # A str seed is hashed with SHA-512: the same on every run and in every process.
        keyed = random.Random(f"{self._seed}\x1f{self._name}\x1f{count}\x1f{key}")  # noqa: S311
        return keyed.uniform(self._low, self._high)


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


_T = TypeVar("_T")


def _parse(env: Mapping[str, str], name: str, kind: Callable[[str], _T], what: str) -> _T:
    """``kind(env[name])``; a ValueError naming the variable when it does not parse."""
    try:
        return kind(env[name])
    except ValueError:
        raise ValueError(f"{name} must be {what}, got {env[name]!r}") from None


def load_policy(path: str) -> str:
    """The IAM policy document in ``path``, checked to be a JSON object with a ``Statement``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        document = json.loads(text)
    except OSError as exc:
        raise ValueError(f"cannot read the IAM policy {path}: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"the IAM policy {path} is not JSON: {exc}") from None
    if not isinstance(document, dict) or "Statement" not in document:
        raise ValueError(f"the IAM policy {path} has no Statement")
    return text


def make_workdir() -> str:
    """A fresh private temporary directory for a simulator's agent sockets and logs."""
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
    quirks: frozenset[str] = frozenset()  # quirks and profiles; only quirks after __init__
    lies: frozenset[str] = frozenset()  # faults: the daemon claims AWS effects that did not happen
    seed: int | None = None
    iam_policy: str | None = None  # a policy file: IAM mode, the kit's user holds only that policy
    # Agent sockets and logs. None: ``serve`` makes one (``make_workdir``) and removes it; a
    # config that never serves makes no directory.
    workdir: str | None = None
    # The delays drawn by ``delays()`` (the AWS plane's), as ``GET /_sim/stats`` reports them.
    delay_log: DelayLog = field(default_factory=DelayLog, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; expected one of {PROFILES}")
        if not self.time_scale > 0:
            raise ValueError(f"time_scale must be positive, got {self.time_scale}")
        if self.stop_timeout_seconds < 0:
            raise ValueError(f"stop_timeout_seconds must be >= 0, got {self.stop_timeout_seconds}")
        self.quirks = expand_quirks(self.quirks)  # a profile ("sockerless") becomes its quirks
        self.lies = frozenset(self.lies)
        unknown = self.lies - LIES
        if unknown:
            raise ValueError(f"unknown lies {sorted(unknown)}; known: {sorted(LIES)}")
        if self.iam_policy is not None:
            load_policy(self.iam_policy)  # refuse a policy that cannot be read before starting
        for exclusive in _EXCLUSIVE_LIES:
            if exclusive <= self.lies:
                raise ValueError(f"the lies {sorted(exclusive)} exclude each other; choose one")

    def work_directory(self) -> str:
        """``workdir``, which whoever runs the simulator has set (``serve`` does)."""
        if self.workdir is None:
            raise ValueError("no work directory: set SimConfig.workdir before serving")
        return self.workdir

    def delays(self, *, record: bool = True) -> Delays:
        """Fresh draw functions for this config's profile and time scale (``_Draw``).

        Each draw is the length of a delay that begins at that moment and is written to
        ``delay_log``; ``record=False`` for draws that only estimate (nothing waits on them).
        """
        # Only unseeded draws use it: seeded ones come from their key (``_Draw``).
        rng = random.Random()  # noqa: S311 - simulated latency, not security
        lock = threading.Lock()
        ranges = _PROFILE_RANGES[self.profile]
        log = self.delay_log if record else None

        def draw(name: str, floor: float = 0.0) -> _Draw:
            low, high = ranges[name]
            scaled = (low * self.time_scale, high * self.time_scale)
            return _Draw(rng, lock, *scaled, seed=self.seed, floor=floor, name=name, log=log)

        phase_floor = LIE_PHASE_FLOOR_SECONDS if "start-before-running" in self.lies else 0.0
        return Delays(
            provisioning=draw("provisioning", phase_floor),
            pending=draw("pending", phase_floor),
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
            values["time_scale"] = _parse(env, "SOCKERLESS_SIM_TIME_SCALE", float, "a number")
        if env.get("SOCKERLESS_SIM_QUIRKS"):
            values["quirks"] = frozenset(_split_list(env["SOCKERLESS_SIM_QUIRKS"]))
        if env.get("SOCKERLESS_SIM_LIES"):
            values["lies"] = frozenset(_split_list(env["SOCKERLESS_SIM_LIES"]))
        if env.get("SOCKERLESS_SIM_IAM_POLICY"):
            values["iam_policy"] = env["SOCKERLESS_SIM_IAM_POLICY"]
        if env.get("SOCKERLESS_SIM_SEED"):
            values["seed"] = _parse(env, "SOCKERLESS_SIM_SEED", int, "an integer")
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown SimConfig fields: {sorted(unknown)}")
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)
