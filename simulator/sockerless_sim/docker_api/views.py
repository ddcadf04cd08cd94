"""Docker-shaped JSON for inspect and list, built from a container and its ECS task."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .backend import ContainerView
from .records import rfc3339

NETWORK_NAME = "default"  # sockerless keys the network map by its (default) network mode


def _network(ip: str) -> dict[str, Any]:
    return {
        "IPAMConfig": None,
        "Links": None,
        "Aliases": None,
        "NetworkID": "",
        "EndpointID": "",
        "Gateway": "",
        "IPAddress": ip,
        "IPPrefixLen": 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "MacAddress": "",
        "DriverOpts": None,
    }


def _log_config(view: ContainerView, log_group: str, region: str) -> dict[str, Any]:
    return {
        "Type": "awslogs",
        "Config": {
            "awslogs-group": log_group,
            "awslogs-region": region,
            "awslogs-stream-prefix": view.record.short_id,
        },
    }


def inspect_json(
    view: ContainerView,
    *,
    log_group: str,
    region: str,
    ip_in_networks_only: bool,
    workdir_and_user_dropped: bool = False,
) -> dict[str, Any]:
    """``GET /containers/{id}/json``: the original config, state mapped from the task.

    With the ``workdir-and-user-dropped`` quirk a started container's ``WorkingDir`` and
    ``User`` read empty: sockerless rebuilds ``Config`` from the task definition, where its AWS
    simulator kept neither."""
    record, state, config = view.record, view.state, view.record.config
    dropped = workdir_and_user_dropped and bool(record.task_arns)
    argv = config.argv
    host_config = {
        **config.host_config,
        "LogConfig": _log_config(view, log_group, region),
        "NetworkMode": config.host_config.get("NetworkMode") or NETWORK_NAME,
    }
    return {
        "Id": record.id,
        "Created": rfc3339(record.created),
        "Path": argv[0] if argv else "",
        "Args": argv[1:],
        "State": {
            "Status": state.status,
            "Running": state.running,
            "Paused": False,
            "Restarting": False,
            "OOMKilled": False,
            "Dead": False,
            "Pid": 0,
            "ExitCode": state.exit_code,
            "Error": state.error,
            "StartedAt": state.started_at,
            "FinishedAt": state.finished_at,
        },
        "Image": view.image,
        "Name": f"/{record.name}",
        "RestartCount": max(len(record.task_arns) - 1, 0),
        "Driver": "ecs-fargate",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "HostConfig": host_config,
        "Mounts": [],
        "Config": {
            "Hostname": config.hostname or record.short_id,
            "Domainname": config.domainname,
            "User": "" if dropped else config.user,
            "AttachStdin": config.attach_stdin,
            "AttachStdout": config.attach_stdout,
            "AttachStderr": config.attach_stderr,
            "Tty": config.tty,
            "OpenStdin": config.open_stdin,
            "StdinOnce": config.stdin_once,
            "Env": list(config.env),
            "Cmd": config.cmd,
            "Entrypoint": config.entrypoint,
            "Image": view.image,
            "WorkingDir": "" if dropped else config.working_dir,
            "Labels": dict(config.labels),
            "StopTimeout": config.stop_timeout,
            **({"StopSignal": config.stop_signal} if config.stop_signal else {}),
        },
        "NetworkSettings": {
            "Bridge": "",
            "SandboxID": "",
            "SandboxKey": "",
            "Ports": {},
            "IPAddress": "" if ip_in_networks_only else state.ip,
            "IPPrefixLen": 0,
            "Gateway": "",
            "MacAddress": "",
            "Networks": {NETWORK_NAME: _network(state.ip)},
        },
    }


def _human_duration(seconds: float) -> str:
    if seconds < 1:
        return "Less than a second"
    if seconds < 2:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    if seconds < 3600:
        minutes = int(seconds // 60)
        return "About a minute" if minutes == 1 else f"{minutes} minutes"
    hours = int(seconds // 3600)
    return "About an hour" if hours == 1 else f"{hours} hours"


def _since(stamp: str, now: datetime) -> float:
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return max((now - moment).total_seconds(), 0.0)


def status_text(view: ContainerView, now: datetime | None = None) -> str:
    """The human ``Status`` of a list entry (``Up 3 seconds``, ``Exited (0) 2 minutes ago``)."""
    now = now or datetime.now(UTC)
    state = view.state
    if state.status == "running":
        return f"Up {_human_duration(_since(state.started_at, now))}"
    if state.status == "exited":
        return f"Exited ({state.exit_code}) {_human_duration(_since(state.finished_at, now))} ago"
    return "Created"


def list_entry(view: ContainerView) -> dict[str, Any]:
    """One entry of ``GET /containers/json``."""
    record, state, config = view.record, view.state, view.record.config
    entry: dict[str, Any] = {
        "Id": record.id,
        "Names": [f"/{record.name}"],
        "Image": view.image,
        "ImageID": "",
        "Command": " ".join(config.argv),
        "Created": int(record.created.timestamp()),
        "Ports": [],
        "Labels": dict(config.labels),
        "State": state.status,
        "Status": status_text(view),
        "HostConfig": {"NetworkMode": config.host_config.get("NetworkMode") or NETWORK_NAME},
        "NetworkSettings": {"Networks": {NETWORK_NAME: _network(state.ip)}},
        "Mounts": [],
    }
    return entry
