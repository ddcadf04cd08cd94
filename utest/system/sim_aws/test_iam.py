"""IAM mode of the plane: what the kit's user may do under the repository's policy, and why.

Each scoped statement of ``iam/sockerless-kit-policy.json`` is tried against its own resource
(allowed) and against the same kind of resource elsewhere (denied): a cluster and a log group
that are not the kit's. This is what proves that moto, as patched, really evaluates the policy's
``Resource`` and ``Condition`` elements; ``utest/system/iam`` proves the policy sufficient and
necessary for a whole run.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_helpers import NO_RETRIES
from botocore.exceptions import ClientError

from sockerless_sim.aws.iam import DAEMON_USER, KIT_USER
from sockerless_sim.aws.iam_authz import conditions_hold
from sockerless_sim.aws.plane import AwsPlane

pytestmark = pytest.mark.timeout(60)
POLICY = Path(__file__).resolve().parents[3] / "iam" / "sockerless-kit-policy.json"
PLANE_SETTINGS = {"iam_policy": str(POLICY), "cluster": "sockerless", "log_group": "/sockerless"}
OTHER_CLUSTER = "not-the-kits"
OTHER_GROUP = "/not-the-kits"
STREAM = "0123456789ab/main/f00"


def kit_keys(plane: AwsPlane) -> dict[str, str]:
    assert plane.iam is not None
    data = json.loads(Path(plane.iam.credentials_file).read_text())
    return {
        "aws_access_key_id": data["aws_access_key_id"],
        "aws_secret_access_key": data["aws_secret_access_key"],
    }


@pytest.fixture(scope="module")
def kit(plane: AwsPlane) -> Callable[[str], Any]:
    """A boto3 client factory signing as the kit's IAM user, retries off."""
    session = boto3.session.Session(region_name=plane.region, **kit_keys(plane))
    return lambda service: session.client(
        service, endpoint_url=plane.endpoint_url, config=NO_RETRIES
    )


@pytest.fixture(scope="module", autouse=True)
def elsewhere(plane: AwsPlane) -> None:
    """A cluster and a log group that are not the kit's, each with something in it."""
    plane.client("ecs", internal=True).create_cluster(clusterName=OTHER_CLUSTER)
    logs = plane.client("logs", internal=True)
    logs.create_log_group(logGroupName=OTHER_GROUP)
    for group in (OTHER_GROUP, plane.log_group):
        logs.create_log_stream(logGroupName=group, logStreamName=STREAM)


def denied(call: Callable[[], Any]) -> str:
    """The message of the AccessDeniedException ``call`` must raise."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDeniedException", error
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(error["Message"])


def test_task_actions_are_scoped_to_the_cluster(plane: AwsPlane, kit: Any) -> None:
    ecs = kit("ecs")
    ecs.list_tasks(cluster="sockerless")
    task = f"arn:aws:ecs:{plane.region}:123456789012:task/sockerless/0f0f0f0f"
    assert ecs.describe_tasks(cluster="sockerless", tasks=[task])["failures"]
    with pytest.raises(ClientError) as stop:  # authorized; the task just does not exist
        ecs.stop_task(cluster="sockerless", task=task)
    assert stop.value.response["Error"]["Code"] != "AccessDeniedException"

    message = denied(lambda: ecs.list_tasks(cluster=OTHER_CLUSTER))
    assert "ecs:ListTasks on resource: *" in message  # scoped by the ecs:cluster condition
    other = f"arn:aws:ecs:{plane.region}:123456789012:task/{OTHER_CLUSTER}/0f0f0f0f"
    message = denied(lambda: ecs.describe_tasks(cluster=OTHER_CLUSTER, tasks=[other]))
    assert f"ecs:DescribeTasks on resource: {other}" in message
    denied(lambda: ecs.stop_task(cluster=OTHER_CLUSTER, task="0f0f0f0f"))
    # One task of another cluster in the request is enough to deny it all.
    denied(lambda: ecs.describe_tasks(cluster="sockerless", tasks=[task, other]))


def test_describe_clusters_is_scoped_to_the_cluster(kit: Any) -> None:
    ecs = kit("ecs")
    assert ecs.describe_clusters(clusters=["sockerless"])["clusters"][0]["status"] == "ACTIVE"
    message = denied(lambda: ecs.describe_clusters(clusters=[OTHER_CLUSTER]))
    assert f"cluster/{OTHER_CLUSTER} because no identity-based policy" in message
    denied(lambda: ecs.describe_clusters(clusters=["sockerless", OTHER_CLUSTER]))


def test_log_stream_actions_are_scoped_to_the_log_group(plane: AwsPlane, kit: Any) -> None:
    logs = kit("logs")
    group = plane.log_group
    assert logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert logs.get_log_events(logGroupName=group, logStreamName=STREAM)["events"] == []
    for call in (
        lambda: logs.describe_log_streams(logGroupName=OTHER_GROUP),
        lambda: logs.get_log_events(logGroupName=OTHER_GROUP, logStreamName=STREAM),
        lambda: logs.delete_log_stream(logGroupName=OTHER_GROUP, logStreamName=STREAM),
    ):
        assert f"log-group:{OTHER_GROUP}:log-stream:" in denied(call)
    logs.delete_log_stream(logGroupName=group, logStreamName=STREAM)


def test_actions_without_resource_level_permissions_are_allowed(kit: Any) -> None:
    ecs, logs, ec2 = kit("ecs"), kit("logs"), kit("ec2")
    ecs.list_task_definitions(familyPrefix="sockerless-")
    with pytest.raises(ClientError) as missing:
        ecs.describe_task_definition(taskDefinition="sockerless-0123456789ab")
    assert missing.value.response["Error"]["Code"] == "ClientException"
    assert logs.describe_log_groups(logGroupNamePrefix="/")["logGroups"]
    ec2.describe_subnets()
    ec2.describe_security_groups()
    ec2.describe_network_interfaces()


def test_the_kit_can_launch_and_change_nothing(plane: AwsPlane, kit: Any) -> None:
    ecs, logs, ec2 = kit("ecs"), kit("logs"), kit("ec2")
    denied(lambda: ecs.register_task_definition(family="x", containerDefinitions=[]))
    denied(lambda: ecs.run_task(cluster="sockerless", taskDefinition="x"))
    denied(lambda: ecs.create_cluster(clusterName="x"))
    denied(lambda: logs.delete_log_group(logGroupName=plane.log_group))
    denied(lambda: logs.create_log_stream(logGroupName=plane.log_group, logStreamName="x"))
    with pytest.raises(ClientError) as refused:
        ec2.create_vpc(CidrBlock="10.9.0.0/16")
    error = refused.value.response["Error"]
    assert error["Code"] == "UnauthorizedOperation"
    assert "not authorized to perform: ec2:CreateVpc" in error["Message"]


def test_unknown_keys_and_bad_signatures_are_refused_as_aws_refuses_them(
    plane: AwsPlane,
) -> None:
    keys = kit_keys(plane)
    for secret, code in (("wrong", "InvalidSignatureException"), (None, "")):
        access = keys["aws_access_key_id"] if secret else "AKIAUNKNOWN0000000000"
        client = boto3.session.Session(
            region_name=plane.region,
            aws_access_key_id=access,
            aws_secret_access_key=secret or "anything",
        ).client("ecs", endpoint_url=plane.endpoint_url, config=NO_RETRIES)
        with pytest.raises(ClientError) as refused:
            client.list_tasks(cluster="sockerless")
        assert refused.value.response["Error"]["Code"] == (code or "UnrecognizedClientException")


def test_get_caller_identity_needs_no_permission(kit: Any) -> None:
    # AWS: "No permissions are required to perform this operation" (STS API reference).
    assert kit("sts").get_caller_identity()["Arn"].endswith(f":user/{KIT_USER}")


def test_stats_count_calls_and_denials_per_user_and_hold_no_key(plane: AwsPlane, kit: Any) -> None:
    ecs = kit("ecs")
    ecs.list_tasks(cluster="sockerless")
    denied(lambda: ecs.list_tasks(cluster=OTHER_CLUSTER))
    stats = plane.stats()["iam"]
    assert stats["enforced"] is True
    users = stats["users"]
    assert users[KIT_USER]["calls"]["ecs:ListTasks"] >= 2
    assert users[KIT_USER]["denied"]["ecs:ListTasks"] >= 1
    assert "ecs:CreateCluster" in users[DAEMON_USER]["calls"]  # the bootstrap signs as daemon
    text = json.dumps(plane.stats())
    for value in kit_keys(plane).values():
        assert value not in text


def test_the_kit_keys_file_is_private(plane: AwsPlane) -> None:
    assert plane.iam is not None
    mode = Path(plane.iam.credentials_file).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert "credentials_file" in plane.iam.describe()
    assert not set(kit_keys(plane).values()) & set(plane.iam.describe().values())


@pytest.mark.parametrize(
    ("conditions", "context", "holds"),
    [
        (None, {}, True),
        ({"ArnLike": {"ecs:cluster": "arn:aws:ecs:*:*:cluster/s"}}, {}, False),  # key absent
        (
            {"ArnLike": {"ecs:cluster": "arn:aws:ecs:*:*:cluster/s"}},
            {"ecs:cluster": "arn:aws:ecs:us-east-1:1:cluster/s"},
            True,
        ),
        (
            {"ArnLike": {"ecs:cluster": "arn:aws:ecs:*:*:cluster/s"}},
            {"ecs:cluster": "arn:aws:ecs:us-east-1:1:cluster/s2"},
            False,
        ),
        (  # wildcards match within one ARN part only
            {"ArnLike": {"ecs:cluster": "arn:aws:ecs:*:cluster/s"}},
            {"ecs:cluster": "arn:aws:ecs:us-east-1:1:cluster/s"},
            False,
        ),
        (
            {"ArnEquals": {"ECS:Cluster": ["arn:aws:ecs:r:1:cluster/a", "arn:aws:ecs:r:1:*/s"]}},
            {"ecs:cluster": "arn:aws:ecs:r:1:cluster/s"},
            True,
        ),
        ({"StringLike": {"k": "a?c*"}}, {"k": "abcdef"}, True),
        ({"StringEquals": {"k": "a*"}}, {"k": "abc"}, False),
        ({"StringEqualsIfExists": {"k": "v"}}, {"k": "v"}, False),  # unsupported: fail closed
        ({"NumericLessThan": {"k": "3"}}, {"k": "2"}, False),
    ],
)
def test_conditions_fail_closed(
    conditions: dict[str, Any] | None, context: dict[str, str], holds: bool
) -> None:
    assert conditions_hold(conditions, context) is holds
