"""AWS fault injection as boto3 sees it, with retries off and with standard retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_helpers import Aws
from botocore.config import Config
from botocore.exceptions import ClientError

from sockerless_sim.aws.plane import AwsPlane

pytestmark = pytest.mark.timeout(60)
PLANE_SETTINGS = {"time_scale": 1.0}


@pytest.fixture(autouse=True)
def no_leftover_rules(plane: AwsPlane) -> Iterator[None]:
    yield
    plane.faults.clear()


def list_tasks(aws: Aws) -> dict[str, object]:
    return dict(aws.ecs.list_tasks(cluster=aws.plane.cluster))


def test_count_faults_exactly_the_next_calls(aws: Aws, plane: AwsPlane) -> None:
    plane.faults.add("ListTasks", count=2)
    before = plane.faults.injected().get("ListTasks", 0)

    for _ in range(2):
        with pytest.raises(ClientError) as caught:
            list_tasks(aws)
        assert caught.value.response["Error"] == {
            "Code": "ThrottlingException",
            "Message": "Rate exceeded",
        }
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "taskArns" in list_tasks(aws)
    assert plane.faults.injected()["ListTasks"] == before + 2


def test_server_exception_is_500_and_standard_retries_recover(aws: Aws, plane: AwsPlane) -> None:
    plane.faults.add("DescribeClusters", error_code="ServerException", message="boom", count=2)
    retrying = plane.client("ecs")  # standard retries, 3 attempts

    response = retrying.describe_clusters(clusters=[plane.cluster])

    assert response["clusters"][0]["clusterName"] == plane.cluster
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    plane.faults.add("DescribeClusters", error_code="ServerException", message="boom", count=1)
    with pytest.raises(ClientError) as caught:
        aws.ecs.describe_clusters(clusters=[plane.cluster])
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert caught.value.response["Error"]["Code"] == "ServerException"


def test_throttling_beyond_the_retry_budget_reaches_the_caller(aws: Aws, plane: AwsPlane) -> None:
    plane.faults.add("StopTask", count=3)
    retrying = aws.client(
        "ecs", Config(retries={"mode": "standard", "total_max_attempts": 3}, read_timeout=10)
    )

    with pytest.raises(ClientError) as caught:
        retrying.stop_task(cluster=plane.cluster, task="anything")

    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    with pytest.raises(ClientError) as after:  # the rule is used up: the real answer comes back
        retrying.stop_task(cluster=plane.cluster, task="anything")
    assert after.value.response["Error"]["Code"] == "InvalidParameterException"


def test_rate_faults_a_seeded_fraction(aws: Aws, plane: AwsPlane) -> None:
    plane.faults.add("ListTasks", rate=0.5)
    before = plane.faults.injected().get("ListTasks", 0)
    failures = 0
    for _ in range(40):
        try:
            list_tasks(aws)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ThrottlingException"
            failures += 1

    assert 5 < failures < 35
    assert plane.faults.injected()["ListTasks"] - before == failures


def test_internal_clients_are_never_faulted(aws: Aws, plane: AwsPlane) -> None:
    plane.faults.add("ListTasks")  # every external call
    internal_before = plane.stats()["internal_calls"].get("ListTasks", 0)

    assert "taskArns" in plane.client("ecs", internal=True).list_tasks(cluster=plane.cluster)
    with pytest.raises(ClientError):
        list_tasks(aws)
    assert plane.stats()["internal_calls"]["ListTasks"] == internal_before + 1


def test_query_protocol_faults_parse_as_ec2_errors(aws: Aws, plane: AwsPlane) -> None:
    plane.faults.add(
        "DescribeNetworkInterfaces", error_code="RequestLimitExceeded", message="slow down", count=1
    )

    with pytest.raises(ClientError) as caught:
        aws.ec2.describe_network_interfaces()

    assert caught.value.response["Error"] == {
        "Code": "RequestLimitExceeded",
        "Message": "slow down",
    }
    assert "NetworkInterfaces" in aws.ec2.describe_network_interfaces()


def test_calls_are_counted_per_operation(aws: Aws, plane: AwsPlane) -> None:
    before = plane.stats()["calls"].get("DescribeClusters", 0)
    for _ in range(3):
        aws.ecs.describe_clusters(clusters=[plane.cluster])

    assert plane.stats()["calls"]["DescribeClusters"] == before + 3


def test_bad_rules_are_refused(plane: AwsPlane) -> None:
    with pytest.raises(ValueError, match="rate"):
        plane.faults.add("ListTasks", rate=1.5)
    with pytest.raises(ValueError, match="count"):
        plane.faults.add("ListTasks", count=-1)
