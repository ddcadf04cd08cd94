"""An AWS endpoint that does not implement some operations (sockerless' own AWS simulator lacks
ECS ListTaskDefinitions and Logs DeleteLogStream): cleanup and verification fall back, say so, and
neither crash nor count the endpoint's gap as a leftover.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from SockerlessLibrary.aws.cleanup import AwsCleaner
from SockerlessLibrary.aws.verify import AwsVerifier

pytestmark = pytest.mark.timeout(60)


def gapped_resources(resources_for: Any, log: list[str], failing: Any) -> Any:
    """Resources whose endpoint answers as one lacking these operations does."""
    resources = resources_for(log)
    unknown = ("UnknownOperationException", "Unknown operation {operation}")
    resources.ecs = failing(resources.ecs, *unknown, "list_task_definitions")
    resources.logs = failing(resources.logs, *unknown, "delete_log_stream")
    return resources


def test_cleanup_falls_back_and_keeps_the_streams_it_cannot_delete(
    sockerless_aws: Any, resources_for: Any, failing_operations: Any
) -> None:
    container_id = secrets.token_hex(32)
    sockerless_aws.launch(container_id, revisions=2)
    log: list[str] = []
    resources = gapped_resources(resources_for, log, failing_operations)

    report = AwsCleaner(resources).clean(container_id)

    assert report.complete, report.summary()
    family = "sockerless-" + container_id[:12]
    assert sorted(report.deregistered_task_definitions) == [
        f"arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:{revision}"
        for revision in (1, 2)
    ]
    assert len(report.undeletable_log_streams) == 1
    assert report.deleted_log_streams == []
    assert "1 kept (the endpoint cannot delete log streams)" in report.summary()
    assert resources.unsupported == {"ECS ListTaskDefinitions", "Logs DeleteLogStream"}
    assert any("does not implement ECS ListTaskDefinitions" in line for line in log)
    for revision in (1, 2):
        assert sockerless_aws.definition_status(f"{family}:{revision}") == "INACTIVE"

    verifier = AwsVerifier(resources)
    verifier.task_definition_should_be_inactive(container_id)
    verifier.log_streams_should_not_exist(container_id)
    assert any("does not implement DeleteLogStream" in line for line in log)


def test_a_stream_left_on_an_endpoint_that_can_delete_still_fails_the_check(
    sockerless_aws: Any, resources_for: Any, failing_operations: Any
) -> None:
    container_id = secrets.token_hex(32)
    sockerless_aws.launch(container_id)
    resources = gapped_resources(resources_for, [], failing_operations)
    resources.logs = resources.logs._client  # this endpoint implements DeleteLogStream
    with pytest.raises(AssertionError, match="still has stream"):
        AwsVerifier(resources).log_streams_should_not_exist(container_id)
