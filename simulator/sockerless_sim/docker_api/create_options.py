"""The ``POST /containers/create`` body, field by field: honoured, refused or reported.

Nothing a client sends is silently ignored (the table in ``simulator/README.md``, "Create
options", lists every field with what the simulator and sockerless do with it):

* an **honoured** field is parsed (and checked) into ``ContainerConfig``;
* a **refused** field, when set, answers 400 naming it: ignoring it would make a test pass or
  fail here for a reason it would not on sockerless;
* any other field, when set, is **reported**: accepted, and the answer's ``Warnings`` says it has
  no effect here (the Docker CLI prints each as ``WARNING: ...``), as Docker itself reports what
  a kernel cannot do;
* a field Docker does not define is reported as unknown (Docker's decoder drops it silently).

A field that is absent, null, or at the value the Docker CLI sends when the option is not used
(``""``, ``0``, ``false``, ``[]``, ``{}``, and the few listed per field) is not set.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from ..agent.protocol import ProtocolError, parse_signal
from ..agent.users import UserError, can_switch_to, resolve_user
from .backend import FARGATE_MAX_STOP_TIMEOUT
from .errors import ApiError, bad_request
from .params import Body

DEFAULT_NETWORKS = ("", "default", "bridge")
DEFAULT_TASK_SIZE = ("256", "512")
MIB = 1024 * 1024
NANO_CPUS_PER_CPU = 1_000_000_000
CPU_UNITS_PER_CPU = 1024


class Handling(StrEnum):
    """What the simulator does with a field that is set."""

    HONOURED = "honoured"
    REFUSED = "refused"
    REPORTED = "reported"


@dataclass(frozen=True)
class Rule:
    """One field: its handling, why (for refused and reported fields), the values besides the
    empty ones that mean "not set", and whether it is a structure (an object that is unset when
    all its members are, unlike a map such as ``ExposedPorts`` whose keys are its content)."""

    handling: Handling
    reason: str = ""
    unset: tuple[Any, ...] = ()
    structure: bool = False


def _honoured() -> Rule:
    return Rule(Handling.HONOURED)


def _reported(reason: str, *unset: Any) -> Rule:
    return Rule(Handling.REPORTED, reason, unset)


def _refused(reason: str) -> Rule:
    return Rule(Handling.REFUSED, reason)


_NO_LIMIT = "no resource limit is applied to the command (Fargate sizes the task only)"
_NO_NAMESPACE = "the command shares this host's namespaces"
_NO_CGROUP = "no cgroup is made for the command"
_NO_NETWORK = "the task has no network here, so nothing is exposed, published or resolved"
_BUILD_ONLY = "only image builds use it"

CONFIG_FIELDS: dict[str, Rule] = {
    "Hostname": _reported("the command sees this host's hostname; inspect shows the value"),
    "Domainname": _reported("no domain name is set"),
    "User": _honoured(),
    "AttachStdin": _honoured(),
    "AttachStdout": _honoured(),
    "AttachStderr": _honoured(),
    "ExposedPorts": _reported(_NO_NETWORK),
    "Tty": _honoured(),
    "OpenStdin": _honoured(),
    "StdinOnce": _honoured(),
    "Env": _honoured(),
    "Cmd": _honoured(),
    "Healthcheck": _reported("the health check is never run: inspect has no State.Health"),
    "ArgsEscaped": _reported("Windows only"),
    "Image": _honoured(),
    "Volumes": _reported("no volume is made: the command sees this host's file system"),
    "WorkingDir": _honoured(),
    "Entrypoint": _honoured(),
    "NetworkDisabled": _reported(_NO_NETWORK),
    "MacAddress": _reported(_NO_NETWORK),
    "OnBuild": _reported(_BUILD_ONLY),
    "Labels": _honoured(),
    "StopSignal": _honoured(),
    "StopTimeout": _honoured(),
    "Shell": _reported(_BUILD_ONLY),
    "HostConfig": _honoured(),
    "NetworkingConfig": _honoured(),
}

HOST_CONFIG_FIELDS: dict[str, Rule] = {
    "Binds": _refused(
        "nothing can be mounted: commands run on this host (sockerless refuses host paths too and "
        "puts named volumes on EFS)"
    ),
    "ContainerIDFile": _honoured(),  # the Docker CLI writes the file; every daemon ignores it
    "LogConfig": _honoured(),  # awslogs whatever is asked; another driver is reported
    "NetworkMode": _honoured(),  # default or bridge; another network is refused
    "PortBindings": _reported(_NO_NETWORK),
    "RestartPolicy": Rule(
        Handling.REPORTED, "the container is not restarted when it exits", ("no",), structure=True
    ),
    "AutoRemove": _honoured(),
    "VolumeDriver": _reported("no volume is made"),
    "VolumesFrom": _reported("no volume is shared"),
    "ConsoleSize": _honoured(),  # the Tty's first size
    "Annotations": _reported("nothing reads them"),
    "CapAdd": _reported("the command keeps the simulator's capabilities"),
    "CapDrop": _reported("the command keeps the simulator's capabilities"),
    "CgroupnsMode": _reported(_NO_CGROUP),
    "Dns": _reported(_NO_NETWORK),
    "DnsOptions": _reported(_NO_NETWORK),
    "DnsSearch": _reported(_NO_NETWORK),
    "ExtraHosts": _reported(_NO_NETWORK),
    "GroupAdd": _reported("the supplementary groups come from User alone"),
    "IpcMode": _reported(_NO_NAMESPACE),
    "Cgroup": _reported(_NO_CGROUP),
    "Links": _reported(_NO_NETWORK),
    "OomScoreAdj": _reported(_NO_LIMIT),
    "PidMode": _reported(_NO_NAMESPACE),
    "Privileged": _reported("the command keeps the simulator's privileges"),
    "PublishAllPorts": _reported(_NO_NETWORK),
    "ReadonlyRootfs": _reported("the command sees this host's file system, writable"),
    "SecurityOpt": _reported("no security profile is applied"),
    "StorageOpt": _reported("no storage is made"),
    "Tmpfs": _reported("nothing is mounted"),
    "UTSMode": _reported(_NO_NAMESPACE),
    "UsernsMode": _reported(_NO_NAMESPACE),
    "ShmSize": _reported(_NO_LIMIT),
    "Sysctls": _reported("no kernel parameter is set"),
    "Runtime": _reported("there is no container runtime: the agent starts the command"),
    "Isolation": _reported("Windows only"),
    "CpuShares": _honoured(),
    "Memory": _honoured(),
    "NanoCpus": _honoured(),
    "CgroupParent": _reported(_NO_CGROUP),
    "BlkioWeight": _reported(_NO_LIMIT),
    "BlkioWeightDevice": _reported(_NO_LIMIT),
    "BlkioDeviceReadBps": _reported(_NO_LIMIT),
    "BlkioDeviceWriteBps": _reported(_NO_LIMIT),
    "BlkioDeviceReadIOps": _reported(_NO_LIMIT),
    "BlkioDeviceWriteIOps": _reported(_NO_LIMIT),
    "CpuPeriod": _reported(_NO_LIMIT),
    "CpuQuota": _reported(_NO_LIMIT),
    "CpuRealtimePeriod": _reported(_NO_LIMIT),
    "CpuRealtimeRuntime": _reported(_NO_LIMIT),
    "CpusetCpus": _reported(_NO_LIMIT),
    "CpusetMems": _reported(_NO_LIMIT),
    "Devices": _reported("no device is added"),
    "DeviceCgroupRules": _reported("no device is added"),
    "DeviceRequests": _reported("no device is added"),
    "KernelMemoryTCP": _reported(_NO_LIMIT),
    "MemoryReservation": _honoured(),
    "MemorySwap": _reported(_NO_LIMIT),
    "MemorySwappiness": _reported(_NO_LIMIT, -1),
    "OomKillDisable": _reported(_NO_LIMIT),
    "PidsLimit": _reported(_NO_LIMIT),
    "Ulimits": _reported(_NO_LIMIT),
    "CpuCount": _reported(_NO_LIMIT),
    "CpuPercent": _reported(_NO_LIMIT),
    "IOMaximumIOps": _reported(_NO_LIMIT),
    "IOMaximumBandwidth": _reported(_NO_LIMIT),
    "Mounts": _reported("nothing is mounted: the command sees this host's file system"),
    "MaskedPaths": _reported("the command sees this host's file system"),
    "ReadonlyPaths": _reported("the command sees this host's file system"),
    "Init": _reported("no init process is added"),
}

QUERY_FIELDS: dict[str, Rule] = {
    "name": _honoured(),
    "platform": _reported("the command runs on this host's platform"),
}


def is_unset(value: Any, rule: Rule | None = None) -> bool:
    """Whether ``value`` means "not set": empty, zero, false, a list of such (``ConsoleSize``
    ``[0, 0]``), one of the rule's defaults, or a structure whose members are all unset."""
    if value is None or value is False or value in ("", 0, [], {}):
        return True
    if rule is not None and value in rule.unset:
        return True
    if isinstance(value, dict):
        return (
            rule is not None
            and rule.structure
            and all(is_unset(member, rule) for member in value.values())
        )
    if isinstance(value, list):
        return all(is_unset(member) for member in value)
    return False


def _settings_unset(settings: Any) -> bool:
    return isinstance(settings, dict) and all(is_unset(v) for v in settings.values())


def refusal(where: str, name: str, reason: str) -> ApiError:
    """400 naming the field."""
    return bad_request(f"{where}.{name} is not supported by the embedded simulator: {reason}")


def report(where: str, name: str, reason: str) -> str:
    """A ``Warnings`` entry naming the field."""
    return f"{where}.{name} is accepted but has no effect on the embedded simulator: {reason}"


def _unknown(where: str, name: str) -> str:
    return (
        f"{where}.{name} is not a field of the Docker create body; ignored (Docker ignores "
        "unknown fields too: check its spelling)"
    )


def screen(
    where: str, values: Mapping[str, Any], rules: Mapping[str, Rule], warnings: list[str]
) -> None:
    """Refuse (400) a refused field that is set; add a warning for each reported field that is
    set and for each unknown one. Keys match case-insensitively, as Docker's decoder does."""
    by_lower = {name.lower(): (name, rule) for name, rule in rules.items()}
    for key, value in values.items():
        known = by_lower.get(key.lower())
        if known is None:
            warnings.append(_unknown(where, key))
            continue
        name, rule = known
        if rule.handling is Handling.HONOURED or is_unset(value, rule):
            continue
        if rule.handling is Handling.REFUSED:
            raise refusal(where, name, rule.reason)
        warnings.append(report(where, name, rule.reason))


def check_working_dir(working_dir: str) -> None:
    """Docker's rule (absolute) and the simulator's (it exists here: commands run on this host
    and the simulator never creates directories on it)."""
    if not working_dir:
        return
    if not PurePosixPath(working_dir).is_absolute():
        raise bad_request(
            f"the working directory '{working_dir}' is invalid, it needs to be an absolute path"
        )
    if not Path(working_dir).is_dir():
        raise refusal(
            "Config",
            "WorkingDir",
            f"{working_dir} is not a directory on this host (commands run on this host, which "
            "has no image file system; Docker would create it in the container)",
        )


def check_user(user: str) -> None:
    """The user resolves against this host's databases and the simulator may switch to it."""
    if not user:
        return
    try:
        resolved = resolve_user(user)
    except UserError as exc:
        raise bad_request(str(exc)) from None
    if not can_switch_to(resolved):
        raise refusal(
            "Config",
            "User",
            f"running as {user} needs the simulator to run as root (it runs as uid {os.geteuid()})",
        )


def check_stop_signal(stop_signal: str) -> None:
    """A signal Linux knows (a name with or without ``SIG``, or a number)."""
    if not stop_signal:
        return
    try:
        parse_signal(stop_signal)
    except ProtocolError:
        raise bad_request(f"Invalid signal: {stop_signal}") from None


def check_env(env: list[str]) -> None:
    """Every ``Env`` entry names a variable (``K=V``, or a bare ``K``, which sets nothing);
    400 in Docker's words otherwise (measured on Docker 20.10: ``=x`` and ``""``)."""
    for entry in env:
        if not entry.partition("=")[0]:
            raise bad_request(f"invalid environment variable: {entry}")


def stop_timeout(body: Body, warnings: list[str]) -> int | None:
    """``StopTimeout`` (an integer); above Fargate's maximum it is reported and capped."""
    value = body.get("StopTimeout")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_request("invalid JSON: StopTimeout must be an integer")
    if value > FARGATE_MAX_STOP_TIMEOUT:
        warnings.append(
            f"Config.StopTimeout {value} is more than Fargate's maximum stop timeout: the task "
            f"gets {FARGATE_MAX_STOP_TIMEOUT} s"
        )
    return value


def log_config(host_config: Body, warnings: list[str]) -> None:
    """Output always goes to CloudWatch (awslogs); another driver or options are reported."""
    value = host_config.get("LogConfig", {})
    if not isinstance(value, dict):
        raise bad_request("invalid JSON: HostConfig.LogConfig must be an object")
    driver = value.get("Type") or ""
    if driver not in ("", "awslogs") or value.get("Config"):
        warnings.append(
            report(
                "HostConfig",
                "LogConfig",
                f"the output goes to CloudWatch (awslogs) whatever is asked (here {driver!r} "
                f"with options {value.get('Config') or {}}), as on sockerless",
            )
        )


def check_network(host_config: Body, networking: Any, warnings: list[str]) -> None:
    """``default``/``bridge`` (the task's awsvpc network) pass; any other network is refused."""
    mode = host_config.string("NetworkMode")
    reason = "the simulator has no networks: a task gets the default awsvpc network"
    if mode not in DEFAULT_NETWORKS:
        raise refusal("HostConfig", "NetworkMode", f"{mode!r}: {reason}")
    if networking is None:
        return
    if not isinstance(networking, dict):
        raise bad_request("invalid JSON: NetworkingConfig must be an object")
    endpoints = Body(networking).get("EndpointsConfig", {})
    if not isinstance(endpoints, dict):
        raise bad_request("invalid JSON: NetworkingConfig.EndpointsConfig must be an object")
    for name, settings in endpoints.items():
        if name not in DEFAULT_NETWORKS:
            raise refusal("NetworkingConfig", f"EndpointsConfig.{name}", reason)
        if settings is not None and not _settings_unset(settings):
            warnings.append(report("NetworkingConfig", f"EndpointsConfig.{name}", _NO_NETWORK))


_FARGATE_SIZES: tuple[tuple[int, range], ...] = (
    (256, range(512, 2049, 512)),
    (512, range(1024, 4097, 1024)),
    (1024, range(2048, 8193, 1024)),
    (2048, range(4096, 16385, 1024)),
    (4096, range(8192, 30721, 1024)),
    (8192, range(16384, 61441, 4096)),
    (16384, range(32768, 122881, 8192)),
)


def _fargate_sizes() -> Iterator[tuple[int, int]]:
    for cpu, memories in _FARGATE_SIZES:
        for memory in memories:
            if cpu == 256 and memory == 1536:
                continue  # not a Fargate size
            yield cpu, memory


def console_size(fields: Body, where: str) -> tuple[int, int]:
    """``ConsoleSize`` ``[rows, columns]`` of the terminal a Tty container (or exec) starts
    with (``[0, 0]``: the default); ``where`` names the body it is in for the 400."""
    value = fields.get("ConsoleSize", [0, 0])
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 65536 for n in value)
    ):
        raise bad_request(f"invalid JSON: {where}.ConsoleSize must be [rows, columns]")
    return value[0], value[1]


def task_size(host_config: Body) -> tuple[str, str]:
    """The smallest Fargate task size (cpu units, MiB) covering ``NanoCpus`` (or
    ``CpuShares``, taken as cpu units) and ``Memory`` (or ``MemoryReservation``), as sockerless
    sizes its tasks; 256/512 when none is set; 400 when no Fargate size is big enough."""
    numbers = {}
    for name in ("NanoCpus", "CpuShares", "Memory", "MemoryReservation"):
        value = host_config.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise bad_request(f"invalid JSON: HostConfig.{name} must be a non-negative integer")
        numbers[name] = value
    if numbers["NanoCpus"]:
        cpu = math.ceil(numbers["NanoCpus"] * CPU_UNITS_PER_CPU / NANO_CPUS_PER_CPU)
    else:
        cpu = numbers["CpuShares"]
    memory = math.ceil((numbers["Memory"] or numbers["MemoryReservation"]) / MIB)
    if not cpu and not memory:
        return DEFAULT_TASK_SIZE
    for size_cpu, size_memory in _fargate_sizes():
        if size_cpu >= cpu and size_memory >= memory:
            return str(size_cpu), str(size_memory)
    raise refusal(
        "HostConfig",
        "Memory" if memory > 122880 else "NanoCpus",
        f"no Fargate task size has {cpu} cpu units and {memory} MiB (at most 16384 and 122880)",
    )
