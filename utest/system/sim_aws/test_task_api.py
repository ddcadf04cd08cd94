"""RunTask, StopTask, DescribeTasks and ListTasks behave as on AWS where moto 5.2.5 does not."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest
from aws_helpers import Aws
from botocore.exceptions import ClientError

from sockerless_sim.aws.plane import AwsPlane

pytestmark = pytest.mark.timeout(60)
PLANE_SETTINGS = {"time_scale": 1.0}  # 0.05 s per state: nothing here watches states


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def stop_all(aws: Aws, tasks: list[dict[str, Any]]) -> None:
    for task in tasks:
        aws.ecs.stop_task(cluster=aws.plane.cluster, task=task["taskArn"])
    for task in tasks:
        aws.wait_status(task["taskArn"], "STOPPED")


def test_run_task_reports_a_provisioning_fargate_task(aws: Aws) -> None:
    task_definition = aws.register(["sleep", "60"], sidecar=True)

    task = aws.run(task_definition, startedBy="utest")

    assert task["lastStatus"] == "PROVISIONING"
    assert task["desiredStatus"] == "RUNNING"
    assert task["launchType"] == "FARGATE"
    assert task["version"] == 1
    assert task["cpu"] == "256" and task["memory"] == "512"
    assert "createdAt" in task
    assert "stopCode" not in task and "stoppedReason" not in task
    assert [c["name"] for c in task["containers"]] == ["main", "sidecar"]
    for container in task["containers"]:
        assert container["taskArn"] == task["taskArn"]
        assert container["lastStatus"] == "PENDING"
        assert "exitCode" not in container
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        assert f"/{task_id}/" in container["containerArn"]
    (attachment,) = task["attachments"]
    assert attachment["status"] == "PRECREATED"
    assert {d["name"] for d in attachment["details"]} == {
        "subnetId",
        "networkInterfaceId",
        "macAddress",
        "privateDnsName",
        "privateIPv4Address",
    }
    stop_all(aws, [task])


def test_addresses_are_unique_and_inside_the_subnet(aws: Aws) -> None:
    response = aws.ecs.run_task(
        cluster=aws.plane.cluster,
        taskDefinition=aws.register(["sleep", "60"])["taskDefinitionArn"],
        launchType="FARGATE",
        count=10,
        networkConfiguration={"awsvpcConfiguration": {"subnets": aws.plane.subnets}},
    )
    tasks = response["tasks"]
    stop_all(aws, tasks)

    (subnet,) = aws.ec2.describe_subnets(SubnetIds=aws.plane.subnets)["Subnets"]
    network = ipaddress.ip_network(subnet["CidrBlock"])
    addresses = [
        next(
            d["value"] for d in t["attachments"][0]["details"] if d["name"] == "privateIPv4Address"
        )
        for t in tasks
    ]
    assert len(set(addresses)) == 10
    for address in addresses:
        ip = ipaddress.ip_address(address)
        assert ip in network
        assert int(ip) - int(network.network_address) >= 4  # AWS reserves the first four
        assert ip != network.broadcast_address


def test_security_groups_default_to_the_vpc_default_group(aws: Aws) -> None:
    task = aws.run_command(["sleep", "60"])
    eni_id = next(
        d["value"] for d in task["attachments"][0]["details"] if d["name"] == "networkInterfaceId"
    )
    (eni,) = aws.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    (default_group,) = aws.ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [eni["VpcId"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    assert [g["GroupId"] for g in eni["Groups"]] == [default_group["GroupId"]]
    stop_all(aws, [task])


def test_container_memory_may_be_left_to_the_task(aws: Aws) -> None:
    # aws.register sets memory only at task level, which made moto 5.2.5 crash in RunTask.
    task_definition = aws.register(["true"])
    assert "memory" not in task_definition["containerDefinitions"][0]
    task = aws.run(task_definition)
    stop_all(aws, [task])


def test_inactive_task_definition_is_rejected(aws: Aws) -> None:
    task_definition = aws.register(["true"])
    aws.ecs.deregister_task_definition(taskDefinition=task_definition["taskDefinitionArn"])

    with pytest.raises(ClientError) as caught:
        aws.run(task_definition)

    assert error_of(caught) == ("ClientException", "TaskDefinition is inactive")


def test_fargate_requires_awsvpc(aws: Aws) -> None:
    task_definition = aws.register(["true"], network_mode="bridge")

    with pytest.raises(ClientError) as caught:
        aws.run(task_definition)

    code, message = error_of(caught)
    assert code == "InvalidParameterException"
    assert "awsvpc" in message


def test_propagate_tags_copies_task_definition_tags(aws: Aws) -> None:
    task_definition = aws.register(
        ["sleep", "60"],
        tags=[{"key": "sockerless-managed", "value": "true"}, {"key": "owner", "value": "td"}],
    )

    task = aws.run(
        task_definition,
        propagateTags="TASK_DEFINITION",
        tags=[{"key": "owner", "value": "task"}, {"key": "run", "value": "r1"}],
    )

    described = aws.describe(task["taskArn"], include=["TAGS"])
    assert {t["key"]: t["value"] for t in described["tags"]} == {
        "sockerless-managed": "true",
        "owner": "task",
        "run": "r1",
    }
    assert "tags" not in aws.describe(task["taskArn"])
    listed = aws.ecs.list_tags_for_resource(resourceArn=task["taskArn"])["tags"]
    assert {"key": "sockerless-managed", "value": "true"} in listed
    stop_all(aws, [task])


def test_stop_task_on_an_unknown_task_is_invalid_parameter(aws: Aws) -> None:
    unknown = f"arn:aws:ecs:{aws.plane.region}:123456789012:task/{aws.plane.cluster}/0000"
    retrying = aws.client("ecs", config=aws.plane.client("ecs").meta.config)

    with pytest.raises(ClientError) as caught:
        retrying.stop_task(cluster=aws.plane.cluster, task=unknown)

    assert error_of(caught) == ("InvalidParameterException", "The referenced task was not found.")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 0


def test_describe_reports_missing_tasks_and_honours_the_cluster(aws: Aws) -> None:
    task = aws.run_command(["sleep", "60"])
    other = "sim-other-cluster"
    aws.ecs.create_cluster(clusterName=other)
    missing = task["taskArn"][:-4] + "ffff"

    response = aws.ecs.describe_tasks(cluster=aws.plane.cluster, tasks=[task["taskArn"], missing])
    elsewhere = aws.ecs.describe_tasks(cluster=other, tasks=[task["taskArn"]])
    by_id = aws.ecs.describe_tasks(
        cluster=aws.plane.cluster, tasks=[task["taskArn"].rsplit("/", 1)[-1]]
    )

    assert [t["taskArn"] for t in response["tasks"]] == [task["taskArn"]]
    assert response["failures"] == [{"arn": missing, "reason": "MISSING"}]
    assert elsewhere["tasks"] == []
    assert elsewhere["failures"] == [{"arn": task["taskArn"], "reason": "MISSING"}]
    assert [t["taskArn"] for t in by_id["tasks"]] == [task["taskArn"]]
    stop_all(aws, [task])


def test_describe_rejects_more_than_100_tasks(aws: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        aws.ecs.describe_tasks(cluster=aws.plane.cluster, tasks=[f"t{i}" for i in range(101)])

    assert error_of(caught)[0] == "InvalidParameterException"


def test_list_tasks_defaults_to_running_and_finds_families_after_deregistration(
    aws: Aws, plane: AwsPlane
) -> None:
    task_definition = aws.register(["sleep", "60"])
    family = task_definition["family"]
    alive = aws.run(task_definition)
    stopped = aws.run(task_definition)
    stop_all(aws, [stopped])
    aws.ecs.deregister_task_definition(taskDefinition=task_definition["taskDefinitionArn"])

    default = aws.ecs.list_tasks(cluster=plane.cluster, family=family)["taskArns"]
    finished = aws.ecs.list_tasks(cluster=plane.cluster, family=family, desiredStatus="STOPPED")

    assert default == [alive["taskArn"]]
    assert finished["taskArns"] == [stopped["taskArn"]]
    assert (
        aws.ecs.list_tasks(cluster=plane.cluster, family=family, launchType="EC2")["taskArns"] == []
    )
    assert aws.ecs.list_tasks(cluster=plane.cluster, family=family, launchType="FARGATE")[
        "taskArns"
    ] == [alive["taskArn"]]
    stop_all(aws, [alive])


def test_list_tasks_paginates(aws: Aws, plane: AwsPlane) -> None:
    task_definition = aws.register(["sleep", "60"])
    response = aws.ecs.run_task(
        cluster=plane.cluster,
        taskDefinition=task_definition["taskDefinitionArn"],
        launchType="FARGATE",
        count=5,
        networkConfiguration={"awsvpcConfiguration": {"subnets": plane.subnets}},
        startedBy="paginate-me",
    )
    arns = [t["taskArn"] for t in response["tasks"]]

    first = aws.ecs.list_tasks(cluster=plane.cluster, startedBy="paginate-me", maxResults=2)
    pages = list(
        aws.ecs.get_paginator("list_tasks").paginate(
            cluster=plane.cluster, startedBy="paginate-me", PaginationConfig={"PageSize": 2}
        )
    )

    assert len(first["taskArns"]) == 2 and "nextToken" in first
    assert [len(page["taskArns"]) for page in pages] == [2, 2, 1]
    assert [arn for page in pages for arn in page["taskArns"]] == arns
    with pytest.raises(ClientError) as caught:
        aws.ecs.list_tasks(cluster=plane.cluster, nextToken="not-a-token")
    assert error_of(caught)[0] == "InvalidParameterException"
    stop_all(aws, response["tasks"])


def _register_padded(aws: Aws, padding: int) -> dict[str, Any]:
    return aws.register(["true"], extra={"environment": [{"name": "PAD", "value": "p" * padding}]})


def test_register_task_definition_refuses_more_than_64_kib_as_ecs_does(aws: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        _register_padded(aws, 70_000)

    code, message = error_of(caught)
    assert code == "ClientException"
    match = re.fullmatch(r"Actual length: '(\d+)'\. Max allowed length is '65536' bytes\.", message)
    assert match, message
    at_the_limit = 70_000 - (int(match.group(1)) - 65_536)
    assert _register_padded(aws, at_the_limit)["family"].startswith("sockerless-")
    with pytest.raises(ClientError) as one_more:
        _register_padded(aws, at_the_limit + 1)
    assert error_of(one_more) == (
        "ClientException",
        "Actual length: '65537'. Max allowed length is '65536' bytes.",
    )
