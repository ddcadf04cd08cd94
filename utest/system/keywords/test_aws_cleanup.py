"""AWS cleanup and verification against moto, with resources laid out as sockerless makes them.

Each test also creates resources that do NOT belong to the container being cleaned (another
container's family, tasks and streams, an unrelated task definition, an untagged task) and proves
they survive: cleanup must never reach beyond what the container ID derives.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from SockerlessLibrary.aws.cleanup import AwsCleaner
from SockerlessLibrary.aws.verify import AwsCheckFailed, AwsVerifier

pytestmark = pytest.mark.timeout(60)


def container_id() -> str:
    return secrets.token_hex(32)


def bystanders(aws: Any) -> dict[str, Any]:
    """Resources cleanup must leave alone."""
    other = container_id()
    other_task = aws.launch(other)
    unrelated_definition = aws.register("other-app")
    unrelated_task = aws.run(unrelated_definition)
    aws.stream("other-app/main/abc")
    return {
        "other": other,
        "tasks": [other_task, unrelated_task],
        "definitions": [unrelated_definition],
        "streams": list(aws.stream_names()),
    }


def assert_bystanders_intact(aws: Any, spared: dict[str, Any]) -> None:
    for task in spared["tasks"]:
        assert aws.task_status(task)[1] == "RUNNING", f"{task} was stopped"
    for definition in spared["definitions"]:
        assert aws.definition_status(definition) == "ACTIVE"
    other_family = "sockerless-" + spared["other"][:12]
    assert aws.ecs.list_task_definitions(familyPrefix=other_family, status="ACTIVE")[
        "taskDefinitionArns"
    ], "another container's task definition was deregistered"
    remaining = aws.stream_names()
    for stream in spared["streams"]:
        assert stream in remaining, f"stream {stream} was deleted"


def test_cleanup_removes_everything_derived_from_the_id_and_nothing_else(
    sockerless_aws: Any, resources_for: Any
) -> None:
    aws = sockerless_aws
    spared = bystanders(aws)
    victim = container_id()
    task = aws.launch(victim, revisions=2)
    # A second stream of the same container, and one whose name only starts with the id's
    # first characters: the prefix is "<id12>/", so it must survive.
    aws.stream(f"{victim[:12]}/main/second")
    aws.stream(f"{victim[:12]}x/main/lookalike")
    spared["streams"].append(f"{victim[:12]}x/main/lookalike")

    log: list[str] = []
    resources = resources_for(log)
    report = AwsCleaner(resources).clean(victim)

    assert report.complete, report.errors
    assert report.stopped_tasks == [task]
    assert len(report.deregistered_task_definitions) == 2
    assert sorted(report.deleted_log_streams) == sorted(
        [f"{victim[:12]}/main/{task.rsplit('/', 1)[-1]}", f"{victim[:12]}/main/second"]
    )
    assert aws.task_status(task) == ("STOPPED", "STOPPED")
    for arn in report.deregistered_task_definitions:
        assert aws.definition_status(arn) == "INACTIVE"
    assert not [s for s in aws.stream_names() if s.startswith(victim[:12] + "/")]
    assert any("Stopping ECS task" in line for line in log)
    assert any("Deregistering task definition" in line for line in log)
    assert any("Deleting log stream" in line for line in log)
    assert_bystanders_intact(aws, spared)

    verifier = AwsVerifier(resources_for([]))
    verifier.task_definition_should_be_inactive(victim)
    verifier.tasks_should_be_stopped(victim, timeout=5)
    verifier.log_streams_should_not_exist(victim)


def test_cleanup_is_idempotent(sockerless_aws: Any, resources_for: Any) -> None:
    victim = container_id()
    sockerless_aws.launch(victim)
    cleaner = AwsCleaner(resources_for([]))
    assert cleaner.clean(victim).complete
    again = cleaner.clean(victim)
    assert again.complete
    assert (
        again.stopped_tasks,
        again.deregistered_task_definitions,
        again.deleted_log_streams,
    ) == (
        [],
        [],
        [],
    )


def test_task_found_by_short_id_tag_only(sockerless_aws: Any, resources_for: Any) -> None:
    """Some sockerless versions tag only the first 12 characters of the container ID."""
    victim = container_id()
    task = sockerless_aws.launch(victim, tag_id=victim[:12])
    assert AwsCleaner(resources_for([])).clean(victim).stopped_tasks == [task]


def test_never_started_container_has_nothing_to_clean(
    sockerless_aws: Any, resources_for: Any
) -> None:
    victim = container_id()
    report = AwsCleaner(resources_for([])).clean(victim)
    assert report.complete
    assert report.stopped_tasks == report.deregistered_task_definitions == []
    AwsVerifier(resources_for([])).task_definition_should_be_inactive(victim)


def test_missing_log_group_and_cluster_are_not_errors(moto: Any, resources_for: Any) -> None:
    # Nothing created at all: no cluster, no log group.
    log: list[str] = []
    report = AwsCleaner(resources_for(log)).clean(container_id())
    assert report.complete, report.errors
    assert any("does not exist" in line for line in log)


def test_verification_failures_name_the_resources(sockerless_aws: Any, resources_for: Any) -> None:
    victim = container_id()
    task = sockerless_aws.launch(victim)
    verifier = AwsVerifier(resources_for([]))
    family = "sockerless-" + victim[:12]
    with pytest.raises(AwsCheckFailed, match=f"Task definition family {family} still has ACTIVE"):
        verifier.task_definition_should_be_inactive(victim)
    assert [arn.rsplit("/", 1)[-1] for arn in verifier.active_task_definitions(victim)] == [
        f"{family}:1"
    ]
    with pytest.raises(AwsCheckFailed, match=rf"stream\(s\) {victim[:12]}/\*: {victim[:12]}/main/"):
        verifier.log_streams_should_not_exist(victim)
    with pytest.raises(
        AwsCheckFailed, match=f"not reached within 0.3 s.*{task.rsplit('/', 1)[-1]}"
    ):
        verifier.tasks_should_be_stopped(victim, timeout=0.3, interval=0.1)


def test_refuses_something_that_is_not_a_container_id(resources_for: Any) -> None:
    with pytest.raises(ValueError, match="is not a container ID"):
        AwsCleaner(resources_for([])).clean("")
    with pytest.raises(ValueError, match="is not a container ID"):
        AwsCleaner(resources_for([])).clean("*")


@pytest.mark.parametrize(
    "operation",
    ["ListTasks", "DescribeTasks", "StopTask", "ListTaskDefinitions", "DeregisterTaskDefinition"],
)
def test_throttling_beyond_botocore_retries_still_cleans_everything(
    moto: Any, sockerless_aws: Any, resources_for: Any, operation: str
) -> None:
    spared = bystanders(sockerless_aws)
    victim = container_id()
    task = sockerless_aws.launch(victim, revisions=2)
    # botocore makes 2 attempts per call here; 3 throttles need our own retry on top.
    moto.throttle(operation, 3)
    log: list[str] = []
    report = AwsCleaner(resources_for(log, attempts=2)).clean(victim)

    assert report.complete, report.errors
    assert moto.throttle_stats()["throttled"][operation] == 3
    retried = [line for line in log if "ThrottlingException" in line and "retrying" in line]
    assert len(retried) >= 1
    assert all(operation in line or "ECS" in line for line in retried)
    assert sockerless_aws.task_status(task) == ("STOPPED", "STOPPED")
    assert not sockerless_aws.ecs.list_task_definitions(
        familyPrefix="sockerless-" + victim[:12], status="ACTIVE"
    )["taskDefinitionArns"]
    assert not [s for s in sockerless_aws.stream_names() if s.startswith(victim[:12] + "/")]
    assert_bystanders_intact(sockerless_aws, spared)


def test_logs_throttling_is_retried_too(moto: Any, sockerless_aws: Any, resources_for: Any) -> None:
    victim = container_id()
    sockerless_aws.launch(victim)
    moto.throttle("DeleteLogStream", 4)
    log: list[str] = []
    report = AwsCleaner(resources_for(log, attempts=1)).clean(victim)
    assert report.complete, report.errors
    assert report.deleted_log_streams
    assert sum("Logs DeleteLogStream" in line and "retrying" in line for line in log) == 4


def test_throttling_past_the_deadline_is_reported_not_hidden(
    moto: Any, sockerless_aws: Any, resources_for: Any
) -> None:
    victim = container_id()
    sockerless_aws.launch(victim)
    moto.throttle("StopTask", 10_000)
    # Long enough that StopTask is reached even on a loaded machine, short enough to expire.
    report = AwsCleaner(resources_for([], attempts=1, deadline=2.0)).clean(victim)
    assert not report.complete
    throttled = [e for e in report.errors if "StopTask" in e and "ThrottlingException" in e]
    assert throttled, report.errors
    # The remaining steps were still attempted (or reported), never silently skipped.
    assert len(report.errors) >= 1
