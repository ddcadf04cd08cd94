"""What a task runs and where its output goes, read from the task definition at RunTask time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ..agent.protocol import TOKEN_ENV
from ..workloads import ProcessOptions

AGENT_BINARY = "sockerless-agent"
MAIN_CONTAINER = "main"


@dataclass(frozen=True)
class LogTarget:
    """The CloudWatch destination of one container's output (the awslogs driver's options)."""

    group: str
    stream: str
    create_group: bool = False


@dataclass(frozen=True)
class ContainerPlan:
    """The container whose command the simulator runs, with everything needed to run it."""

    name: str
    image: str
    argv: list[str]  # what runs: entryPoint + command without the agent wrapper
    command_line: list[str]  # entryPoint + command as declared (what sockerless' sims echo)
    env: dict[str, str]
    agent_token: str | None
    stop_timeout: float
    log_target: LogTarget | None
    # The definition's workingDirectory, user, interactive and pseudoTerminal, and the agent
    # wrapper's --stop-signal and --console-size.
    process: ProcessOptions = field(default_factory=ProcessOptions)

    @property
    def delay_key(self) -> str:
        """What the task runs (image and argv): the key of its seeded delay draws (``_Draw``)."""
        return "\x1f".join([self.image, *self.argv])


def strip_agent_wrapper(argv: list[str]) -> list[str]:
    """Drop sockerless' ``/sockerless-agent [flags] --`` prefix: the runner provides the agent."""
    if argv and PurePosixPath(argv[0]).name == AGENT_BINARY and "--" in argv:
        return argv[argv.index("--") + 1 :]
    return list(argv)


def agent_option(argv: list[str], name: str) -> str | None:
    """The value of ``--name VALUE`` among the agent wrapper's flags (before ``--``), if any."""
    if not argv or PurePosixPath(argv[0]).name != AGENT_BINARY or "--" not in argv:
        return None
    flags = argv[1 : argv.index("--")]
    for position, flag in enumerate(flags[:-1]):
        if flag == name:
            return flags[position + 1]
    return None


def main_container_definition(container_definitions: list[dict[str, Any]]) -> dict[str, Any]:
    """sockerless' ``main`` container, else the first essential one, else the first."""
    for definition in container_definitions:
        if definition.get("name") == MAIN_CONTAINER:
            return definition
    for definition in container_definitions:
        if definition.get("essential", True):
            return definition
    return container_definitions[0]


def _environment(pairs: list[dict[str, str]] | None) -> dict[str, str]:
    return {str(pair["name"]): str(pair.get("value", "")) for pair in pairs or [] if "name" in pair}


def _override_for(overrides: dict[str, Any] | None, name: str) -> dict[str, Any]:
    for override in (overrides or {}).get("containerOverrides") or []:
        if override.get("name") == name:
            return dict(override)
    return {}


def log_target(definition: dict[str, Any], task_id: str, default_group: str) -> LogTarget | None:
    """Where the awslogs driver would write this container's output; None without awslogs."""
    config = definition.get("logConfiguration") or {}
    if config.get("logDriver") != "awslogs":
        return None
    options = config.get("options") or {}
    group = options.get("awslogs-group") or default_group
    prefix = options.get("awslogs-stream-prefix")
    # Without a prefix the awslogs driver names the stream after the container alone.
    stream = f"{prefix}/{definition['name']}/{task_id}" if prefix else task_id
    create_group = str(options.get("awslogs-create-group", "")).lower() == "true"
    return LogTarget(group=group, stream=stream, create_group=create_group)


def plan_container(
    container_definitions: list[dict[str, Any]],
    overrides: dict[str, Any] | None,
    *,
    task_id: str,
    default_log_group: str,
    default_stop_timeout: float,
) -> ContainerPlan:
    """The main container's command (entrypoint + command, overrides applied) and settings."""
    definition = main_container_definition(container_definitions)
    name = str(definition["name"])
    override = _override_for(overrides, name)
    command = override.get("command", definition.get("command")) or []
    declared = [str(arg) for arg in [*(definition.get("entryPoint") or []), *command]]
    env = _environment(definition.get("environment"))
    env.update(_environment(override.get("environment")))
    stop_timeout = definition.get("stopTimeout")
    entry_point = [str(arg) for arg in definition.get("entryPoint") or []]
    return ContainerPlan(
        name=name,
        image=str(definition.get("image", "")),
        argv=strip_agent_wrapper(declared),
        command_line=declared,
        env=env,
        agent_token=env.get(TOKEN_ENV),
        stop_timeout=float(default_stop_timeout if stop_timeout is None else stop_timeout),
        log_target=log_target(definition, task_id, default_log_group),
        process=ProcessOptions(
            working_dir=definition.get("workingDirectory") or None,
            user=definition.get("user") or None,
            open_stdin=definition.get("interactive") is True,
            stop_signal=agent_option(entry_point, "--stop-signal"),
            tty=definition.get("pseudoTerminal") is True,
            console_size=agent_option(entry_point, "--console-size"),
        ),
    )
