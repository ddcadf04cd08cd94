"""An AWS call the kit's IAM identity may not make fails loudly: it is never taken for "not found"
or "not implemented", and the error names the IAM permission that is missing."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from botocore.exceptions import ClientError

from SockerlessLibrary.aws.cleanup import AwsCleaner
from SockerlessLibrary.aws.retry import AwsCaller, Deadline, iam_action
from SockerlessLibrary.errors import AwsError

pytestmark = pytest.mark.timeout(60)


def access_denied(operation: str, code: str = "AccessDeniedException") -> ClientError:
    message = f"User: arn:aws:iam::1:user/kit is not authorized to perform: {operation}"
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize("code", ["AccessDeniedException", "AccessDenied", "UnauthorizedOperation"])
def test_a_denial_is_never_tolerated_and_names_the_permission(code: str) -> None:
    caller = AwsCaller(Deadline(5), lambda _: None)

    def refused() -> None:
        raise access_denied("ecs:StopTask", code)

    with pytest.raises(AwsError) as caught:
        # "not found" tolerance must not swallow it, however broad
        caller.call("ECS StopTask", "task/x", refused, tolerate=lambda _: True)
    assert caught.value.code == code
    assert "lacks the IAM permission ecs:StopTask" in str(caught.value)
    assert "iam/sockerless-kit-policy.json" in str(caught.value)


@pytest.mark.parametrize(
    ("operation", "action"),
    [
        ("ECS ListTaskDefinitions", "ecs:ListTaskDefinitions"),
        ("Logs DeleteLogStream", "logs:DeleteLogStream"),
        ("EC2 DescribeNetworkInterfaces", "ec2:DescribeNetworkInterfaces"),
        ("STS GetCallerIdentity", "sts:GetCallerIdentity"),
        ("something else", "something else"),
    ],
)
def test_iam_action_of_each_operation_family(operation: str, action: str) -> None:
    assert iam_action(operation) == action


def test_cleanup_reports_the_denied_steps_and_still_does_the_others(
    sockerless_aws: Any, resources_for: Any, failing_operations: Any
) -> None:
    container_id = secrets.token_hex(32)
    sockerless_aws.launch(container_id, revisions=1)
    resources = resources_for([])
    # An endpoint lacking an operation and a caller lacking a permission must not look alike.
    denied = ("AccessDeniedException", "User: kit is not authorized to perform: {operation}")
    resources.ecs = failing_operations(resources.ecs, *denied, "list_task_definitions")
    resources.logs = failing_operations(resources.logs, *denied, "delete_log_stream")

    report = AwsCleaner(resources).clean(container_id)

    assert not report.complete
    failures = " | ".join(report.errors)
    assert "lacks the IAM permission ecs:ListTaskDefinitions" in failures
    assert "lacks the IAM permission logs:DeleteLogStream" in failures
    assert report.stopped_tasks, "the task was stopped all the same"
    assert not report.undeletable_log_streams, "a denial is not an endpoint without the operation"
    assert "DescribeTaskDefinition instead" not in report.summary()
