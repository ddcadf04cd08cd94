"""Start-up check that every moto internal the AWS plane relies on is still where it was.

The plane wraps private parts of moto 5.2.5 (response handlers, backend objects, model
attributes). A moto upgrade can rename any of them and the plane would then misbehave quietly,
so each one is listed here and verified before anything is patched: the version, method names
and parameter lists (``inspect.signature``), properties, and the attributes a constructor
assigns (read from its source with ``ast``, so no model object has to be built).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import moto
from moto.moto_api import state_manager

REQUIRED_MOTO_VERSION = "5.2.5"


class SelfCheckError(RuntimeError):
    """moto's internals differ from what the simulator was written against."""


@dataclass(frozen=True)
class _Method:
    """``owner.name`` must be callable with exactly these parameters (self/cls excluded)."""

    owner: str
    name: str
    params: tuple[str, ...]


@dataclass(frozen=True)
class _Assigned:
    """``owner.method`` must assign ``self.<attr>`` for every listed attribute."""

    owner: str
    method: str
    attributes: tuple[str, ...]


@dataclass(frozen=True)
class _Property:
    owner: str
    name: str
    settable: bool = False


@dataclass(frozen=True)
class _Attribute:
    """A module or class attribute (``owner.name``) that must exist."""

    owner: str
    name: str


_ECS_RESPONSE = "moto.ecs.responses.EC2ContainerServiceResponse"
_ECS_BACKEND = "moto.ecs.models.EC2ContainerServiceBackend"
_ECS_TASK = "moto.ecs.models.Task"
_ECS_TASK_DEFINITION = "moto.ecs.models.TaskDefinition"
_ENI = "moto.ec2.models.elastic_network_interfaces.NetworkInterface"
_BASE_RESPONSE = "moto.core.responses.BaseResponse"
_IAM_REQUEST = "moto.iam.access_control.IAMRequestBase"
_IAM_STATEMENT = "moto.iam.access_control.IAMPolicyStatement"
_WERKZEUG_APP = "moto.moto_server.werkzeug_app"

_METHODS = (
    _Method(_WERKZEUG_APP + ".DomainDispatcherApplication", "__init__", ("create_app",)),
    _Method(_WERKZEUG_APP, "create_backend_app", ("service",)),
    _Method("moto.moto_api.state_manager", "set_transition", ("model_name", "transition")),
    _Method("moto.moto_api.state_manager", "unset_transition", ("model_name",)),
    _Method("moto.moto_api.state_manager", "get_registered_models", ()),
    _Method(_ECS_RESPONSE, "run_task", ()),
    _Method(_ECS_RESPONSE, "stop_task", ()),
    _Method(_ECS_RESPONSE, "describe_tasks", ()),
    _Method(_ECS_RESPONSE, "list_tasks", ()),
    _Method(_ECS_RESPONSE, "register_task_definition", ()),
    _Method(_ECS_RESPONSE, "_get_param", ("param_name", "if_none")),
    _Method(_ECS_RESPONSE, "_get_int_param", ("param_name", "if_none")),
    _Method("moto.core.responses.ActionResult", "__init__", ("result",)),
    _Method(
        _ECS_BACKEND,
        "run_task",
        (
            "cluster_str",
            "task_definition_str",
            "count",
            "overrides",
            "started_by",
            "tags",
            "launch_type",
            "networking_configuration",
            "group",
            "platform_version",
            "capacity_provider_strategy",
        ),
    ),
    _Method(_ECS_BACKEND, "describe_task_definition", ("task_definition_str",)),
    _Method(_ECS_BACKEND, "_get_cluster", ("name",)),
    _Method(_ECS_BACKEND, "_calculate_task_resource_requirements", ("task_definition",)),
    _Method("moto.ecs.exceptions.InvalidParameterException", "__init__", ("message",)),
    _Method("moto.ecs.exceptions.EcsClientException", "__init__", ("message",)),
    _Method("moto.ec2.models.EC2Backend", "get_subnet", ("subnet_id",)),
    _Method("moto.ec2.models.EC2Backend", "get_vpc", ("vpc_id",)),
    _Method("moto.ec2.models.EC2Backend", "get_default_security_group", ("vpc_id",)),
    _Method("moto.ec2.models.EC2Backend", "delete_network_interface", ("eni_id",)),
    _Method("moto.ec2.models.subnets", "random_subnet_id", ()),
    _Method("moto.ec2.models.security_groups", "random_security_group_id", ()),
    # IAM mode (iam_authz): what moto authorizes against, and how it evaluates conditions.
    _Method(_BASE_RESPONSE, "_get_action", ()),
    _Method(_IAM_REQUEST, "check_action_permitted", ("resource",)),
    _Method(_IAM_STATEMENT, "_check_conditions", ("incoming_condition_values",)),
)

_ASSIGNED = (
    _Assigned(_ECS_BACKEND, "__init__", ("tasks", "task_definitions", "clusters")),
    _Assigned(
        _ECS_TASK,
        "__init__",
        (
            "id",
            "cluster_name",
            "cluster_arn",
            "desired_status",
            "task_definition_arn",
            "overrides",
            "containers",
            "started_by",
            "tags",
            "launch_type",
            "stopped_reason",
            "attachments",
            "group",
            "network_configuration",
            "container_instance_arn",
            "platform_version",
        ),
    ),
    _Assigned(
        "moto.ecs.models.Cluster", "__init__", ("name", "default_capacity_provider_strategy")
    ),
    _Assigned("moto.core.base_backend.BaseBackend", "__init__", ("region_name", "account_id")),
    _Assigned(
        _ECS_TASK_DEFINITION,
        "__init__",
        (
            "family",
            "revision",
            "arn",
            "container_definitions",
            "tags",
            "network_mode",
            "cpu",
            "memory",
            "status",
        ),
    ),
    _Assigned(
        _ENI,
        "__init__",
        (
            "id",
            "subnet",
            "private_ip_address",
            "private_ip_addresses",
            "private_dns_name",
            "mac_address",
        ),
    ),
    _Assigned(
        "moto.ec2.models.elastic_network_interfaces.NetworkInterfaceBackend", "__init__", ("enis",)
    ),
    _Assigned("moto.ec2.models.subnets.Subnet", "__init__", ("id", "vpc_id", "cidr_block")),
    _Assigned("moto.ec2.models.vpcs.VPC", "__init__", ("id", "enable_dns_hostnames")),
    _Assigned(_BASE_RESPONSE, "setup_class", ("body", "region", "partition", "current_account")),
    _Assigned(_IAM_STATEMENT, "__init__", ("_statement",)),
)

_PROPERTIES = (
    _Property(_ECS_TASK, "last_status", settable=True),
    _Property(_ECS_TASK, "task_arn"),
    _Property(_ECS_RESPONSE, "ecs_backend"),
    _Property("moto.ec2.models.subnets.Subnet", "availability_zone"),
)

_ATTRIBUTES = (
    _Attribute(_WERKZEUG_APP, "MotoRequestHandler"),
    _Attribute("moto.ecs.models", "ecs_backends"),
    _Attribute("moto.ec2.models", "ec2_backends"),
    _Attribute("moto.core", "DEFAULT_ACCOUNT_ID"),
    _Attribute("moto.ecs.exceptions", "ClusterNotFoundException"),
    _Attribute("moto.settings", "INITIAL_NO_AUTH_ACTION_COUNT"),
    _Attribute("moto.core.authorization.ActionAuthenticatorMixin", "request_count"),
)

# Source that must still read these names: moto asks a response class for the resource of a
# request only through ``_determine_resource`` in ``call_action``.
_MENTIONS = ((_BASE_RESPONSE, "call_action", "_determine_resource"),)


def _resolve(dotted: str) -> Any:
    """Import the longest module prefix of ``dotted`` and walk the rest as attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(dotted)


def _parameters(func: Callable[..., Any]) -> tuple[str, ...]:
    names = tuple(inspect.signature(func).parameters)
    return names[1:] if names and names[0] in ("self", "cls") else names


def _assigned_attributes(func: Callable[..., Any]) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if (
                    isinstance(sub, ast.Attribute)
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id == "self"
                ):
                    found.add(sub.attr)
    return found


def _check_method(check: _Method) -> str | None:
    where = f"{check.owner}.{check.name}"
    try:
        owner = _resolve(check.owner)
        func = inspect.getattr_static(owner, check.name)
    except (ImportError, AttributeError):
        return f"{where} is missing"
    if isinstance(func, staticmethod | classmethod):
        func = func.__func__
    if not callable(func):
        return f"{where} is not callable"
    actual = _parameters(func)
    if actual != check.params:
        return f"{where} parameters changed: expected {check.params}, found {actual}"
    return None


def _check_assigned(check: _Assigned) -> str | None:
    where = f"{check.owner}.{check.method}"
    try:
        func = getattr(_resolve(check.owner), check.method)
        assigned = _assigned_attributes(func)
    except (ImportError, AttributeError):
        return f"{where} is missing"
    except (OSError, TypeError, SyntaxError) as exc:
        return f"{where}: cannot read its source ({exc})"
    missing = [name for name in check.attributes if name not in assigned]
    if missing:
        return f"{where} no longer assigns self.{', self.'.join(missing)}"
    return None


def _check_property(check: _Property) -> str | None:
    where = f"{check.owner}.{check.name}"
    try:
        prop = inspect.getattr_static(_resolve(check.owner), check.name)
    except (ImportError, AttributeError):
        return f"{where} is missing"
    if not isinstance(prop, property):
        return f"{where} is no longer a property"
    if check.settable and prop.fset is None:
        return f"{where} has no setter any more"
    return None


def _check_attribute(check: _Attribute) -> str | None:
    try:
        getattr(_resolve(check.owner), check.name)
    except (ImportError, AttributeError):
        return f"{check.owner}.{check.name} is missing"
    return None


def _check_mentions(owner: str, method: str, name: str) -> str | None:
    where = f"{owner}.{method}"
    try:
        source = inspect.getsource(getattr(_resolve(owner), method))
    except (ImportError, AttributeError):
        return f"{where} is missing"
    except (OSError, TypeError) as exc:
        return f"{where}: cannot read its source ({exc})"
    if name not in source:
        return f"{where} no longer uses {name}"
    return None


def _check_version() -> Iterable[str]:
    version = getattr(moto, "__version__", "unknown")
    if version != REQUIRED_MOTO_VERSION:
        yield (
            f"moto {version} is installed, the simulator is written against "
            f"{REQUIRED_MOTO_VERSION} "
            "(pinned by the kit's simulator extra, requirements-simulator.txt)"
        )


def _check_transition_model() -> Iterable[str]:
    if "ecs::task" not in state_manager.get_registered_models():
        yield "moto's state manager no longer registers the 'ecs::task' model"


def find_problems() -> list[str]:
    """Every mismatch between installed moto and what the plane patches (empty when fine)."""
    problems = list(_check_version())
    checks: list[str | None] = []
    checks += [_check_method(check) for check in _METHODS]
    checks += [_check_assigned(check) for check in _ASSIGNED]
    checks += [_check_property(check) for check in _PROPERTIES]
    checks += [_check_attribute(check) for check in _ATTRIBUTES]
    checks += [_check_mentions(*mention) for mention in _MENTIONS]
    problems += [problem for problem in checks if problem]
    if not any("state_manager" in problem for problem in problems):
        problems += list(_check_transition_model())
    return problems


def check_moto_internals() -> None:
    """Raise ``SelfCheckError`` naming every internal that changed."""
    problems = find_problems()
    if problems:
        raise SelfCheckError(
            "moto internals changed; the simulator's AWS plane cannot be trusted:\n  - "
            + "\n  - ".join(problems)
        )
