"""What moto authorizes each request against: the resource AWS names, and condition keys.

moto 5.2.5 checks every ECS, CloudWatch Logs and EC2 action against the resource ``"*"`` (only
STS and S3 say which resource a request is about), and it evaluates no condition of an identity
policy (unknown operators pass, absent keys pass). A policy scoped to an ARN would then never
match in moto, and a condition would never limit anything: nothing about scoping could be proven.
With these patches, installed only in IAM mode:

* ``_determine_resource`` of moto's ECS and Logs response classes names the resource each action
  is authorized against, as AWS does (sources in ``iam/README.md``):

  - ECS (Service Authorization Reference): ``DescribeTasks`` and ``StopTask`` each task
    ``arn:aws:ecs:<region>:<account>:task/<cluster>/<task id>``; ``DescribeClusters`` each
    cluster ``...:cluster/<name>``; ``ListTasks`` has no resource of its own for a Fargate
    listing (its resource type is a container instance), ``"*"``; the three task-definition
    actions have none either: ``"*"``. ``ListTasks``, ``DescribeTasks`` and ``StopTask`` carry
    the condition key ``ecs:cluster`` (the cluster's ARN), which is how AWS's own examples scope
    ``ListTasks`` to a cluster.
  - CloudWatch Logs: ``GetLogEvents`` and ``DeleteLogStream`` a stream,
    ``arn:aws:logs:<region>:<account>:log-group:<group>:log-stream:<stream>``;
    ``DescribeLogStreams`` its group as AWS evaluates it, ``...:log-group:<group>:log-stream:``
    (an empty stream: a policy must say ``log-group:<group>:*``, as AWS's examples do);
    ``DescribeLogGroups`` ``...:log-group::log-stream:``, which only ``"*"`` matches, as on AWS.
  - EC2 ``Describe*`` actions support no resource-level permissions: moto's ``"*"`` stays.

* A request about several resources (``DescribeTasks`` of many tasks) is allowed only when every
  one of them is.
* Conditions of identity policies are evaluated by ``conditions_hold`` (``StringEquals``,
  ``StringLike``, ``ArnEquals``, ``ArnLike``, with the request's condition keys); anything else,
  or a key the request does not carry, fails closed: the statement does not apply.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.ecs.responses import EC2ContainerServiceResponse
from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase
from moto.logs.responses import LogsResponse

from .patches import PatchSet

ANY_RESOURCE = "*"
DEFAULT_CLUSTER = "default"
ARN_PARTS = 6


@dataclass(frozen=True)
class AuthorizationTarget:
    """The resources one request acts on, and the condition keys AWS sets for it."""

    resources: tuple[str, ...] = (ANY_RESOURCE,)
    context: Mapping[str, str] = field(default_factory=dict)


class _RequestState(threading.local):
    """Per request thread: condition keys in force, and the resource a denial named."""

    context: Mapping[str, str] | None = None
    denied_resource: str | None = None


_REQUEST = _RequestState()


def begin_request() -> None:
    """Forget the previous request's state (the WSGI middleware calls this first)."""
    _REQUEST.context = None
    _REQUEST.denied_resource = None


def denied_resource() -> str | None:
    """The resource the current request was denied on, once moto refused it."""
    return _REQUEST.denied_resource


# -- resources -------------------------------------------------------------------------------


def _json_body(response: Any) -> dict[str, Any]:
    body = response.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(body or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _arn_prefix(response: Any, service: str) -> str:
    return f"arn:{response.partition}:{service}:{response.region}:{response.current_account}:"


def _cluster_name(cluster: str) -> str:
    return cluster.rsplit("/", 1)[-1] if cluster.startswith("arn:") else cluster


def _cluster_arn(response: Any, cluster: str) -> str:
    if cluster.startswith("arn:"):
        return cluster
    return f"{_arn_prefix(response, 'ecs')}cluster/{cluster}"


def _task_arn(response: Any, cluster: str, task: str) -> str:
    if task.startswith("arn:"):
        return task
    return f"{_arn_prefix(response, 'ecs')}task/{_cluster_name(cluster)}/{task}"


def ecs_target(response: Any) -> AuthorizationTarget:
    """What an ECS request is authorized against (see the module docstring)."""
    action = response._get_action()
    body = _json_body(response)
    cluster = str(body.get("cluster") or DEFAULT_CLUSTER)
    on_cluster = {"ecs:cluster": _cluster_arn(response, cluster)}
    if action in ("DescribeTasks", "StopTask"):
        tasks = body.get("tasks") if action == "DescribeTasks" else [body.get("task")]
        arns = tuple(_task_arn(response, cluster, str(t)) for t in tasks or [] if t)
        return AuthorizationTarget(arns or (ANY_RESOURCE,), on_cluster)
    if action == "ListTasks":
        return AuthorizationTarget((ANY_RESOURCE,), on_cluster)
    if action == "DescribeClusters":
        names = [str(name) for name in body.get("clusters") or [DEFAULT_CLUSTER]]
        return AuthorizationTarget(tuple(_cluster_arn(response, name) for name in names))
    return AuthorizationTarget()


_LOG_STREAM_ACTIONS = frozenset(
    {"GetLogEvents", "DeleteLogStream", "PutLogEvents", "CreateLogStream"}
)


def _log_group_name(body: Mapping[str, Any]) -> str:
    name = str(body.get("logGroupName") or "")
    if name:
        return name
    identifier = str(body.get("logGroupIdentifier") or "")
    # An ARN "arn:aws:logs:<region>:<account>:log-group:<name>[:*]", or the name itself.
    match = re.match(r"^arn:[^:]*:logs:[^:]*:[^:]*:log-group:(.*?)(:\*)?$", identifier)
    return match.group(1) if match else identifier


def logs_target(response: Any) -> AuthorizationTarget:
    """What a CloudWatch Logs request is authorized against (see the module docstring)."""
    action = response._get_action()
    body = _json_body(response)
    groups = f"{_arn_prefix(response, 'logs')}log-group:"
    if action == "DescribeLogGroups":
        return AuthorizationTarget((f"{groups}:log-stream:",))
    group = _log_group_name(body)
    if action == "DescribeLogStreams":
        return AuthorizationTarget((f"{groups}{group}:log-stream:",))
    if action in _LOG_STREAM_ACTIONS:
        stream = str(body.get("logStreamName") or "")
        return AuthorizationTarget((f"{groups}{group}:log-stream:{stream}",))
    return AuthorizationTarget()


# -- conditions ------------------------------------------------------------------------------


def _wildcard(pattern: str, value: str) -> bool:
    """IAM's ``*`` (any run) and ``?`` (any one character); everything else literal."""
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _arn_like(pattern: str, value: str) -> bool:
    """``ArnLike``/``ArnEquals``: each of the six colon-separated parts matched on its own."""
    expected = pattern.split(":", ARN_PARTS - 1)
    actual = value.split(":", ARN_PARTS - 1)
    if len(expected) != ARN_PARTS or len(actual) != ARN_PARTS:
        return False
    return all(_wildcard(e, a) for e, a in zip(expected, actual, strict=True))


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda pattern, value: pattern == value,
    "StringLike": _wildcard,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
}


def conditions_hold(conditions: Mapping[str, Any] | None, context: Mapping[str, str]) -> bool:
    """Whether a statement's ``Condition`` block holds for a request's condition keys.

    Fails closed: an operator not listed in ``_OPERATORS`` (or with a qualifier such as
    ``IfExists``) and a key the request does not carry both make the condition false.
    """
    if not conditions:
        return True
    keys = {key.lower(): value for key, value in context.items()}
    for operator, tests in conditions.items():
        compare = _OPERATORS.get(operator)
        if compare is None or not isinstance(tests, Mapping):
            return False
        for key, expected in tests.items():
            value = keys.get(str(key).lower())
            if value is None:
                return False
            patterns = expected if isinstance(expected, list) else [expected]
            if not any(compare(str(pattern), value) for pattern in patterns):
                return False
    return True


# -- installation ----------------------------------------------------------------------------


def _resource_of(
    target_of: Callable[[Any], AuthorizationTarget],
) -> Callable[[Any], AuthorizationTarget]:
    def determine_resource(response: Any) -> AuthorizationTarget:
        return target_of(response)

    return determine_resource


def _each_resource(original: Callable[[Any, str], None]) -> Callable[[Any, Any], None]:
    """``check_action_permitted`` over every resource of an ``AuthorizationTarget``."""

    def check_action_permitted(request: Any, resource: Any) -> None:
        target = (
            resource
            if isinstance(resource, AuthorizationTarget)
            else AuthorizationTarget((str(resource),))
        )
        _REQUEST.context = target.context
        try:
            for one in target.resources:
                _REQUEST.denied_resource = one
                original(request, one)
            _REQUEST.denied_resource = None
        finally:
            _REQUEST.context = None

    return check_action_permitted


def _identity_conditions(original: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """Evaluate identity-policy conditions (moto passes None); trust policies stay moto's."""

    def check_conditions(statement: Any, incoming_condition_values: Any) -> bool:
        if incoming_condition_values is not None:
            return original(statement, incoming_condition_values)
        context = _REQUEST.context or {}
        return conditions_hold(statement._statement.get("Condition"), context)

    return check_conditions


def install_authorization(patches: PatchSet) -> None:
    """Make moto authorize against real resources and evaluate conditions (see above)."""
    ecs_class: type = EC2ContainerServiceResponse
    logs_class: type = LogsResponse
    patches.replace(ecs_class, "_determine_resource", _resource_of(ecs_target))
    patches.replace(logs_class, "_determine_resource", _resource_of(logs_target))
    request_class: type = IAMRequestBase
    statement_class: type = IAMPolicyStatement
    patches.replace(
        request_class,
        "check_action_permitted",
        _each_resource(IAMRequestBase.check_action_permitted),
    )
    patches.replace(
        statement_class,
        "_check_conditions",
        _identity_conditions(IAMPolicyStatement._check_conditions),
    )
