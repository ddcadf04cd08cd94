"""Installs the plane's fixes into moto's classes, and takes them out again.

Everything replaced here is listed in ``selfcheck`` and verified before installation:
* the ECS response handlers ``run_task``, ``stop_task``, ``describe_tasks``, ``list_tasks``
  (delegating to ``EcsTaskApi``), and ``register_task_definition`` (wrapped to refuse a task
  definition over ECS's size limit, ``ecs_limits``);
* ``EC2ContainerServiceBackend._calculate_task_resource_requirements``, which adds up container
  memory and crashes on Fargate container definitions that leave memory to the task level;
* a class-level ``NetworkInterface.private_dns_name = None``: moto sets that attribute only for
  VPCs with DNS hostnames and its ECS code then crashes reading it for any other VPC.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ecs.models import EC2ContainerServiceBackend
from moto.ecs.responses import EC2ContainerServiceResponse

from .ecs_api import EcsTaskApi
from .ecs_limits import within_size_limit

_MEMORY_KEYS = ("memory", "Memory", "memoryReservation", "MemoryReservation")
_ABSENT = object()


@dataclass
class _Saved:
    owner: type
    name: str
    original: Any  # the raw class attribute (staticmethod object included), or _ABSENT


class PatchSet:
    """Replaced class attributes, restorable in reverse order."""

    def __init__(self) -> None:
        self._saved: list[_Saved] = []

    def replace(self, owner: type, name: str, value: Any) -> None:
        """Set ``owner.name`` to ``value``, remembering what was there."""
        try:
            original = inspect.getattr_static(owner, name)
        except AttributeError:
            original = _ABSENT
        if original is not _ABSENT and name not in vars(owner):
            original = _ABSENT  # inherited: restoring means deleting our own attribute
        self._saved.append(_Saved(owner, name, original))
        setattr(owner, name, value)

    def restore(self) -> None:
        """Undo every replacement; idempotent."""
        while self._saved:
            saved = self._saved.pop()
            if saved.original is _ABSENT:
                if saved.name in vars(saved.owner):
                    delattr(saved.owner, saved.name)
            else:
                setattr(saved.owner, saved.name, saved.original)


def _handler(method: Callable[[Any], ActionResult]) -> Callable[[Any], ActionResult]:
    """A function moto binds as a response method, calling ``method(response)``."""

    def handle(response: Any) -> ActionResult:
        return method(response)

    handle.__name__ = getattr(method, "__name__", "handle")
    return handle


def _memory_tolerant(original: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def requirements(task_definition: Any) -> dict[str, Any]:
        definitions = [
            definition
            if any(key in definition for key in _MEMORY_KEYS)
            else {**definition, "memory": 0}
            for definition in task_definition.container_definitions
        ]
        return original(SimpleNamespace(container_definitions=definitions))

    return requirements


def install(api: EcsTaskApi) -> PatchSet:
    """Route moto's four ECS task operations to ``api``, limit task definition sizes and apply
    the crash fixes."""
    patches = PatchSet()
    response_class: type = EC2ContainerServiceResponse
    patches.replace(response_class, "run_task", _handler(api.run_task))
    patches.replace(response_class, "stop_task", _handler(api.stop_task))
    patches.replace(response_class, "describe_tasks", _handler(api.describe_tasks))
    patches.replace(response_class, "list_tasks", _handler(api.list_tasks))
    register = inspect.getattr_static(response_class, "register_task_definition")
    patches.replace(response_class, "register_task_definition", within_size_limit(register))
    backend_class: type = EC2ContainerServiceBackend
    original = inspect.getattr_static(backend_class, "_calculate_task_resource_requirements")
    patches.replace(
        backend_class,
        "_calculate_task_resource_requirements",
        staticmethod(_memory_tolerant(original.__func__)),
    )
    eni_class: type = NetworkInterface
    patches.replace(eni_class, "private_dns_name", None)
    return patches
