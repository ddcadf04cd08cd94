"""RunTask, StopTask, DescribeTasks and ListTasks with AWS's semantics, over moto's task store.

moto 5.2.5 keeps the records (clusters, task definitions, tasks, ENIs) but gets these four
operations wrong in ways that would hide cleanup bugs (crashes that botocore retries as HTTP 500,
filters ignored, no MISSING failures, random IPs outside the subnet). Each method here
takes moto's response object (for its parsed parameters and backend), works under the plane's
lock, and returns moto's ``ActionResult`` so moto serializes it as usual.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import threading
import uuid
from typing import Any

from moto.core.responses import ActionResult
from moto.ecs.exceptions import EcsClientException, InvalidParameterException

from ..config import SimConfig
from . import network
from .lifecycle import LifecycleDriver
from .task_model import PROVISIONING, RUNNING, SimContainer, snapshot, touch, utcnow
from .task_spec import plan_container

MAX_DESCRIBE = 100
MAX_RUN_COUNT = 10
MAX_LIST_RESULTS = 100
FARGATE_CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
FARGATE_PLATFORM_VERSION = "1.4.0"
DESIRED_STATUSES = ("RUNNING", "PENDING", "STOPPED")
NOT_FOUND = "The referenced task was not found."


def _family_of(task_definition_arn: str) -> str:
    return str(task_definition_arn).rsplit("/", 1)[-1].rsplit(":", 1)[0]


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidParameterException("Invalid nextToken.") from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidParameterException("Invalid nextToken.")
    return offset


def _merge_tags(*tag_lists: list[dict[str, str]] | None) -> list[dict[str, str]]:
    """Later lists win per key; order of first appearance is kept."""
    merged: dict[str, str] = {}
    for tags in tag_lists:
        for tag in tags or []:
            merged[tag["key"]] = tag.get("value", "")
    return [{"key": key, "value": value} for key, value in merged.items()]


class EcsTaskApi:
    """The four task operations; installed into moto's ECS response class by ``patches``."""

    def __init__(self, *, lock: threading.RLock, driver: LifecycleDriver, config: SimConfig):
        self._lock = lock
        self._driver = driver
        self._config = config
        self._rng = random.Random(config.seed)  # noqa: S311 - simulated IPs/IDs, not secrets

    # -- RunTask ----------------------------------------------------------------------------

    def run_task(self, response: Any) -> ActionResult:
        """RunTask: validate like AWS, let moto create the records, then make them Fargate-like."""
        backend = response.ecs_backend
        cluster_str = response._get_param("cluster", "default")
        count = response._get_int_param("count", 1)
        launch_type = response._get_param("launchType")
        strategy = response._get_param("capacityProviderStrategy")
        overrides = response._get_param("overrides")
        explicit_tags = response._get_param("tags")
        propagate = response._get_param("propagateTags")
        task_definition_ref = response._get_param("taskDefinition")
        if not task_definition_ref:
            raise InvalidParameterException("TaskDefinition can not be blank.")
        if not 1 <= count <= MAX_RUN_COUNT:
            raise InvalidParameterException(f"count must be between 1 and {MAX_RUN_COUNT}.")
        with self._lock:
            cluster = backend._get_cluster(cluster_str)
            task_definition = backend.describe_task_definition(task_definition_ref)
            if task_definition.status != "ACTIVE":
                raise EcsClientException("TaskDefinition is inactive")
            if not launch_type and not strategy:
                strategy = cluster.default_capacity_provider_strategy
            fargate = launch_type == "FARGATE" or bool(
                strategy and strategy[0].get("capacityProvider") in FARGATE_CAPACITY_PROVIDERS
            )
            if fargate and task_definition.network_mode != "awsvpc":
                raise InvalidParameterException(
                    "Task definition does not support launch_type FARGATE: "
                    "Fargate only supports network mode 'awsvpc'."
                )
            network_configuration = response._get_param("networkConfiguration")
            if task_definition.network_mode == "awsvpc" and network_configuration:
                network_configuration = self._complete_network(backend, network_configuration)
            tasks = backend.run_task(
                cluster_str,
                task_definition.arn,
                count,
                overrides,
                response._get_param("startedBy"),
                explicit_tags,
                launch_type,
                network_configuration,
                response._get_param("group"),
                response._get_param("platformVersion"),
                strategy if not launch_type else None,
            )
            tags = (
                _merge_tags(task_definition.tags, explicit_tags)
                if propagate == "TASK_DEFINITION"
                else _merge_tags(explicit_tags)
            )
            for task in tasks:
                self._make_fargate_like(
                    backend,
                    task,
                    task_definition,
                    overrides=overrides,
                    tags=tags,
                    fargate=fargate,
                    enable_exec=bool(response._get_param("enableExecuteCommand", False)),
                )
            result = [snapshot(task, include_tags=True) for task in tasks]
        return ActionResult({"tasks": result, "failures": []})

    def _complete_network(self, backend: Any, configuration: dict[str, Any]) -> dict[str, Any]:
        """Require subnets; default the security groups to the VPC's default group, like AWS."""
        awsvpc = dict(configuration.get("awsvpcConfiguration") or {})
        subnets = awsvpc.get("subnets") or []
        if not subnets:
            raise InvalidParameterException("subnets can not be empty.")
        if not awsvpc.get("securityGroups"):
            ec2 = network.ec2_backend(backend.account_id, backend.region_name)
            vpc_id = ec2.get_subnet(subnets[0]).vpc_id
            default_group = ec2.get_default_security_group(vpc_id)
            awsvpc["securityGroups"] = [default_group.id] if default_group else []
        return {**configuration, "awsvpcConfiguration": awsvpc}

    def _make_fargate_like(
        self,
        backend: Any,
        task: Any,
        task_definition: Any,
        *,
        overrides: dict[str, Any] | None,
        tags: list[dict[str, str]],
        fargate: bool,
        enable_exec: bool,
    ) -> None:
        ec2 = network.ec2_backend(backend.account_id, backend.region_name)
        task.last_status = PROVISIONING
        task.desired_status = RUNNING
        task.created_at = utcnow()
        task.stopped_reason = None
        task.stop_code = None
        task.stopping_at = None
        task.cpu = task_definition.cpu
        task.memory = task_definition.memory
        task.health_status = "UNKNOWN"
        task.enable_execute_command = enable_exec
        task.tags = tags
        if fargate:
            task.platform_family = "Linux"
            task.platform_version = task.platform_version or FARGATE_PLATFORM_VERSION
        attachment_id, ip = self._readdress(ec2, backend.region_name, task)
        partition = task.task_arn.split(":")[1]
        prefix = (
            f"arn:{partition}:ecs:{backend.region_name}:{backend.account_id}:container/"
            f"{task.cluster_name}/{task.id}"
        )
        task.containers = []
        for definition in task_definition.container_definitions:
            container = SimContainer(
                container_arn=f"{prefix}/{uuid.UUID(int=self._rng.getrandbits(128))}",
                task_arn=task.task_arn,
                name=str(definition.get("name")),
                image=str(definition.get("image", "")),
                cpu=definition.get("cpu"),
                memory=definition.get("memory"),
                memory_reservation=definition.get("memoryReservation"),
            )
            if attachment_id and ip:
                container.network_interfaces = [
                    {"attachmentId": attachment_id, "privateIpv4Address": ip}
                ]
            task.containers.append(container)
        task.version = 0
        touch(task)
        plan = plan_container(
            task_definition.container_definitions,
            overrides,
            task_id=task.id,
            default_log_group=self._config.log_group,
            default_stop_timeout=self._config.stop_timeout_seconds,
        )
        self._driver.track(task, plan, ec2)

    def _readdress(self, ec2: Any, region: str, task: Any) -> tuple[str | None, str | None]:
        """Move the task's ENI into its subnet's CIDR; attachment PRECREATED with true details."""
        for attachment in task.attachments:
            if attachment.get("type") != "ElasticNetworkInterface":
                continue
            details = {d["name"]: d["value"] for d in attachment.get("details", [])}
            eni = ec2.enis[details["networkInterfaceId"]]
            ip = network.allocate_ip(ec2, eni.subnet, self._rng)
            dns_name = network.readdress_eni(ec2, eni, ip, region)
            task.availability_zone = eni.subnet.availability_zone
            attachment["status"] = "PRECREATED"
            attachment["details"] = [
                {"name": "subnetId", "value": eni.subnet.id},
                {"name": "networkInterfaceId", "value": eni.id},
                {"name": "macAddress", "value": eni.mac_address},
                {"name": "privateDnsName", "value": dns_name},
                {"name": "privateIPv4Address", "value": ip},
            ]
            return str(attachment["id"]), ip
        return None, None

    # -- StopTask ---------------------------------------------------------------------------

    def stop_task(self, response: Any) -> ActionResult:
        """StopTask: unknown task -> InvalidParameterException; the driver does the stopping."""
        backend = response.ecs_backend
        with self._lock:
            cluster = backend._get_cluster(response._get_param("cluster", "default"))
            task = self._find(backend, cluster.name, response._get_param("task") or "")
            if task is None:
                raise InvalidParameterException(NOT_FOUND)
            self._driver.request_stop(task, response._get_param("reason"))
            result = snapshot(task, include_tags=True)
        return ActionResult({"task": result})

    # -- DescribeTasks ----------------------------------------------------------------------

    def describe_tasks(self, response: Any) -> ActionResult:
        """DescribeTasks in the given cluster only; unknown ARNs reported as MISSING."""
        backend = response.ecs_backend
        references = response._get_param("tasks", []) or []
        include_tags = "TAGS" in (response._get_param("include", []) or [])
        if not references:
            raise InvalidParameterException("Tasks cannot be empty.")
        if len(references) > MAX_DESCRIBE:
            raise InvalidParameterException(f"Tasks cannot have more than {MAX_DESCRIBE} elements.")
        tasks: list[Any] = []
        failures: list[dict[str, str]] = []
        with self._lock:
            cluster = backend._get_cluster(response._get_param("cluster", "default"))
            for reference in dict.fromkeys(references):
                task = self._find(backend, cluster.name, reference)
                if task is None:
                    failures.append({"arn": reference, "reason": "MISSING"})
                else:
                    tasks.append(snapshot(task, include_tags=include_tags))
        return ActionResult({"tasks": tasks, "failures": failures})

    # -- ListTasks --------------------------------------------------------------------------

    def list_tasks(self, response: Any) -> ActionResult:
        """ListTasks: desiredStatus defaults to RUNNING; family survives deregistration."""
        backend = response.ecs_backend
        desired = response._get_param("desiredStatus") or "RUNNING"
        if desired not in DESIRED_STATUSES:
            raise InvalidParameterException(f"desiredStatus must be one of {DESIRED_STATUSES}.")
        max_results = response._get_int_param("maxResults", MAX_LIST_RESULTS)
        if not 1 <= max_results <= MAX_LIST_RESULTS:
            raise InvalidParameterException(f"maxResults must be between 1 and {MAX_LIST_RESULTS}.")
        token = response._get_param("nextToken")
        offset = _decode_token(token) if token else 0
        with self._lock:
            cluster = backend._get_cluster(response._get_param("cluster", "default"))
            tasks = [
                task
                for task in backend.tasks.get(cluster.name, {}).values()
                if self._listed(task, response, desired)
            ]
            arns = [task.task_arn for task in tasks]
        page = arns[offset : offset + max_results]
        result: dict[str, Any] = {"taskArns": page}
        if offset + max_results < len(arns):
            result["nextToken"] = _encode_token(offset + max_results)
        return ActionResult(result)

    @staticmethod
    def _listed(task: Any, response: Any, desired: str) -> bool:
        family = response._get_param("family")
        started_by = response._get_param("startedBy")
        launch_type = response._get_param("launchType")
        service_name = response._get_param("serviceName")
        container_instance = response._get_param("containerInstance")
        return (
            task.desired_status == desired
            and (not family or _family_of(task.task_definition_arn) == family)
            and (not started_by or task.started_by == started_by)
            and (not launch_type or task.launch_type == launch_type)
            and (not service_name or task.group == f"service:{service_name}")
            and (
                not container_instance
                or container_instance.rsplit("/", 1)[-1]
                == str(task.container_instance_arn or "").rsplit("/", 1)[-1]
            )
        )

    @staticmethod
    def _find(backend: Any, cluster_name: str, reference: str) -> Any | None:
        """A task of the cluster by full ARN or by task ID."""
        tasks = backend.tasks.get(cluster_name, {})
        if reference in tasks:
            return tasks[reference]
        task_id = reference.rsplit("/", 1)[-1]
        for task in tasks.values():
            if task.id == task_id:
                return task
        return None
