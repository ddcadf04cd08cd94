"""The preflight against moto: each misconfiguration is one sentence naming the variable to fix."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from SockerlessLibrary.aws.config import AwsConfig
from SockerlessLibrary.aws.preflight import (
    CredentialsUnavailable,
    Preflight,
    PreflightResult,
    log_group_check,
    redact,
)

from .conftest import FakeSockerless


def preflight(config: AwsConfig, **kwargs: Any) -> PreflightResult:
    return Preflight(
        config=config, client=config.client, deadline_seconds=10.0, log=print, **kwargs
    ).run()


def configured(aws: FakeSockerless, **changes: Any) -> AwsConfig:
    """The fake sockerless' settings with its subnet and security group, then ``changes``."""
    config = dataclasses.replace(
        aws.config, subnets=aws.subnets, security_groups=aws.security_groups
    )
    return dataclasses.replace(config, **changes)


def only_problem(result: PreflightResult) -> str:
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


def test_a_good_configuration_passes_and_names_the_account(
    sockerless_aws: FakeSockerless,
) -> None:
    result = preflight(configured(sockerless_aws))
    assert result.passed, result.problems
    assert result.account == "123456789012"
    assert result.checked == [
        "credentials of account 123456789012",
        "cluster kit-test ACTIVE",
        f"2 subnet(s)/security group(s) in {vpc_of(sockerless_aws)}",
        "log group /sockerless",
    ]
    assert result.aws_calls == 5


def vpc_of(aws: FakeSockerless) -> str:
    ec2 = aws.config.client("ec2")
    return str(ec2.describe_subnets(SubnetIds=aws.subnets)["Subnets"][0]["VpcId"])


def test_a_cluster_that_does_not_exist_names_SOCKERLESS_ECS_CLUSTER(
    sockerless_aws: FakeSockerless,
) -> None:
    problem = only_problem(preflight(configured(sockerless_aws, cluster="no-such-cluster")))
    assert problem == (
        "ECS cluster 'no-such-cluster' does not exist in region us-east-1 of account "
        "123456789012: set SOCKERLESS_ECS_CLUSTER to the cluster sockerless runs its tasks in"
    )


def test_a_deleted_cluster_is_not_active(sockerless_aws: FakeSockerless) -> None:
    ecs = sockerless_aws.config.client("ecs")
    ecs.create_cluster(clusterName="retired")
    ecs.delete_cluster(cluster="retired")
    problem = only_problem(preflight(configured(sockerless_aws, cluster="retired")))
    # moto forgets a deleted cluster; AWS keeps it INACTIVE for a while. Either way: the fix.
    assert "set SOCKERLESS_ECS_CLUSTER to" in problem
    assert "'retired'" in problem


def test_a_subnet_that_does_not_exist_names_SOCKERLESS_ECS_SUBNETS(
    sockerless_aws: FakeSockerless,
) -> None:
    config = configured(
        sockerless_aws, subnets=[*sockerless_aws.subnets, "subnet-0000000000000dead"]
    )
    problem = only_problem(preflight(config))
    assert problem == (
        "Subnet subnet-0000000000000dead does not exist in region us-east-1 of account "
        "123456789012: set SOCKERLESS_ECS_SUBNETS to subnets of the VPC the tasks should run in"
    )


@pytest.mark.parametrize(
    "variable", ["SOCKERLESS_ECS_SECURITY_GROUPS", "SOCKERLESS_ECS_SECURITY_GROUP"]
)
def test_a_security_group_that_does_not_exist_names_the_variable_that_was_set(
    sockerless_aws: FakeSockerless, variable: str
) -> None:
    config = configured(sockerless_aws, security_groups=["sg-0000000000000dead"])
    problem = only_problem(preflight(config, security_groups_variable=variable))
    assert problem == (
        "Security group sg-0000000000000dead does not exist in region us-east-1 of account "
        f"123456789012: set {variable} to groups of the VPC the tasks run in"
    )


def test_a_security_group_of_another_vpc_is_reported_with_both_vpcs(
    sockerless_aws: FakeSockerless,
) -> None:
    ec2 = sockerless_aws.config.client("ec2")
    other_vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    other_group = ec2.create_security_group(
        GroupName="elsewhere", Description="another VPC", VpcId=other_vpc
    )["GroupId"]
    problem = only_problem(preflight(configured(sockerless_aws, security_groups=[other_group])))
    subnet = sockerless_aws.subnets[0]
    assert problem == (
        f"The subnets and security groups are not in one VPC ({subnet} in "
        f"{vpc_of(sockerless_aws)}, {other_group} in {other_vpc}): set SOCKERLESS_ECS_SUBNETS "
        "and SOCKERLESS_ECS_SECURITY_GROUPS to ones of the same VPC"
    )


def test_a_missing_log_group_is_a_problem_when_required(sockerless_aws: FakeSockerless) -> None:
    config = configured(sockerless_aws, log_group="/no-such-group")
    problem = only_problem(preflight(config, log_group="required"))
    assert problem == (
        "CloudWatch log group '/no-such-group' does not exist in region us-east-1 of account "
        "123456789012: create it, or set SOCKERLESS_ECS_LOG_GROUP to the group sockerless "
        "writes to (sockerless does not create it, so every task would fail to start)"
    )


def test_a_log_group_sharing_only_a_prefix_does_not_count(sockerless_aws: FakeSockerless) -> None:
    # "/sockerless" exists; "/sock" is only its prefix, and DescribeLogGroups matches prefixes.
    config = configured(sockerless_aws, log_group="/sock")
    assert only_problem(preflight(config, log_group="required")).startswith(
        "CloudWatch log group '/sock' does not exist"
    )


def test_with_an_endpoint_override_a_missing_log_group_is_only_a_note(
    sockerless_aws: FakeSockerless,
) -> None:
    # sockerless' own AWS simulator creates the group at the first RunTask: no false alarm.
    result = preflight(configured(sockerless_aws, log_group="/later"))
    assert result.passed
    assert result.notes == [
        f"CloudWatch log group '/later' does not exist yet at {sockerless_aws.config.endpoint_url}"
        "; an AWS simulator may create it at the first RunTask, as sockerless' own does (on AWS "
        "this is an error; SOCKERLESS_KIT_LOG_GROUP_CHECK=required makes it one here)"
    ]


def test_on_aws_itself_a_missing_log_group_is_a_problem() -> None:
    calls: list[str] = []
    config = AwsConfig(endpoint_url=None, log_group="/missing")
    result = Preflight(
        config=config,
        client=scripted(calls, {"describe_log_groups": {"logGroups": []}}),
        deadline_seconds=5.0,
        log=print,
    ).run()
    assert only_problem(result).startswith(
        "CloudWatch log group '/missing' does not exist in region us-east-1 of account 111122223333"
    )


def test_several_problems_are_reported_together(sockerless_aws: FakeSockerless) -> None:
    config = configured(
        sockerless_aws, cluster="nope", subnets=["subnet-0000000000000dead"], log_group="/nope"
    )
    result = preflight(config, log_group="required")
    assert [p.split(" ", 2)[:2] for p in result.problems] == [
        ["ECS", "cluster"],
        ["Subnet", "subnet-0000000000000dead"],
        ["CloudWatch", "log"],
    ]
    assert result.failure_message().startswith(
        "Preflight found 3 problem(s) before any Fargate task was launched:\n- ECS cluster"
    )


def test_the_log_group_check_setting_is_validated() -> None:
    assert log_group_check({}) == "auto"
    assert log_group_check({"SOCKERLESS_KIT_LOG_GROUP_CHECK": " Required "}) == "required"
    with pytest.raises(ValueError, match="'sometimes' is not one of auto, required, optional"):
        log_group_check({"SOCKERLESS_KIT_LOG_GROUP_CHECK": "sometimes"})


# ------------------------------------------------------------- credentials, access, endpoint


def client_error(code: str, message: str = "no") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Operation")


IDENTITY = {"Account": "111122223333", "Arn": "arn:aws:iam::111122223333:user/qa"}
HEALTHY = {
    "get_caller_identity": IDENTITY,
    "describe_clusters": {"clusters": [{"clusterName": "sockerless", "status": "ACTIVE"}]},
    "describe_log_groups": {"logGroups": [{"logGroupName": "/sockerless"}]},
}


def scripted(calls: list[str], answers: dict[str, Any]) -> Any:
    """A client factory whose methods answer (or raise) from ``answers``, recording calls."""

    class Client:
        def __getattr__(self, name: str) -> Any:
            def method(**kwargs: Any) -> Any:
                calls.append(name)
                answer = answers.get(name, HEALTHY.get(name))
                if isinstance(answer, Exception):
                    raise answer
                return answer

            return method

    return lambda service: Client()


def scripted_preflight(answers: dict[str, Any], calls: list[str] | None = None) -> PreflightResult:
    return Preflight(
        config=AwsConfig(endpoint_url="http://127.0.0.1:9"),
        client=scripted([] if calls is None else calls, answers),
        deadline_seconds=5.0,
        log=print,
    ).run()


@pytest.mark.parametrize(
    "code", ["InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "AuthFailure"]
)
def test_rejected_credentials_stop_the_preflight_with_the_variables_to_set(code: str) -> None:
    calls: list[str] = []
    result = scripted_preflight({"get_caller_identity": client_error(code, "not valid")}, calls)
    assert only_problem(result) == (
        f"AWS rejected the credentials ({code}: not valid): set a valid AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE"
    )
    assert calls == ["get_caller_identity"]  # every other answer would be the same refusal


def test_credentials_that_cannot_be_found_skip_instead_of_failing() -> None:
    with pytest.raises(CredentialsUnavailable):
        scripted_preflight({"get_caller_identity": NoCredentialsError()})


def test_a_profile_that_does_not_exist_names_AWS_PROFILE(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile-for-the-kit")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    config = AwsConfig(endpoint_url="http://127.0.0.1:9")
    result = Preflight(config=config, client=config.client, deadline_seconds=5.0, log=print).run()
    assert only_problem(result).startswith(
        "AWS_PROFILE names a profile that is not configured (The config profile "
        "(no-such-profile-for-the-kit) could not be found): set AWS_PROFILE to a profile"
    )


def test_access_denied_names_the_action_the_identity_and_the_policy() -> None:
    calls: list[str] = []
    result = scripted_preflight(
        {"describe_clusters": client_error("AccessDeniedException", "not authorized")}, calls
    )
    assert only_problem(result) == (
        "AWS denied ecs:DescribeClusters to arn:aws:iam::111122223333:user/qa "
        "(AccessDeniedException): attach the kit's policy iam/sockerless-kit-policy.json to it "
        "(how: iam/README.md)"
    )
    assert calls == ["get_caller_identity", "describe_clusters"]


def test_an_operation_the_endpoint_lacks_is_noted_not_failed() -> None:
    result = scripted_preflight(
        {"get_caller_identity": client_error("UnknownOperationException", "unknown")}
    )
    assert result.passed
    assert result.notes == [
        "not checked: the endpoint does not implement STS GetCallerIdentity "
        "(UnknownOperationException)"
    ]


def test_a_simulator_that_ignores_the_id_and_lists_everything_still_finds_the_missing_one() -> None:
    # sockerless' own AWS simulator answers DescribeSubnets for an unknown ID with other subnets.
    answers = {"describe_subnets": {"Subnets": [{"SubnetId": "subnet-other", "VpcId": "vpc-1"}]}}
    result = Preflight(
        config=AwsConfig(endpoint_url="http://127.0.0.1:9", subnets=["subnet-wanted"]),
        client=scripted([], answers),
        deadline_seconds=5.0,
        log=print,
    ).run()
    assert only_problem(result).startswith("Subnet subnet-wanted does not exist")


def test_access_key_ids_and_secrets_never_reach_a_message() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    result = Preflight(
        config=AwsConfig(endpoint_url="http://127.0.0.1:9"),
        client=scripted(
            [],
            {
                "get_caller_identity": client_error(
                    "InvalidClientTokenId", f"key AKIAIOSFODNN7EXAMPLE with {secret} is invalid"
                )
            },
        ),
        deadline_seconds=5.0,
        log=print,
        secrets=(secret,),
    ).run()
    problem = only_problem(result)
    assert "AKIAIOSFODNN7EXAMPLE" not in problem
    assert secret not in problem
    assert "key <access key id> with <redacted> is invalid" in problem
    assert redact("ASIAABCDEFGHIJKLMNOP") == "<access key id>"


def test_an_endpoint_that_refuses_connections_ends_the_preflight_in_bounded_time() -> None:
    config = AwsConfig(
        endpoint_url="http://127.0.0.1:9",
        static_credentials=("testing", "testing"),
        total_max_attempts=2,
    )
    started = time.monotonic()
    result = Preflight(config=config, client=config.client, deadline_seconds=3.0, log=print).run()
    elapsed = time.monotonic() - started
    problem = only_problem(result)
    assert problem.startswith(
        "The AWS endpoint http://127.0.0.1:9 did not answer STS GetCallerIdentity ("
    )
    assert problem.endswith(
        "within 3 s: set SOCKERLESS_ENDPOINT_URL (or AWS_ENDPOINT_URL) to a running endpoint"
    )
    assert elapsed < 8.0
