"""The positive AWS proofs against moto, laid out as sockerless lays out a container's resources.

Each proof must pass on the resources sockerless makes and fail, naming what it expected, what it
found and the AWS call that looked, when the resource is missing or different.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from SockerlessLibrary.aws.evidence import TaskEvidence
from SockerlessLibrary.aws.proof import AwsProofFailed, AwsProver, NothingToProve
from SockerlessLibrary.logstream import LogLine

pytestmark = pytest.mark.timeout(60)
FakeSockerless = Any


def new_container_id() -> str:
    return secrets.token_hex(32)


@pytest.fixture
def prover(resources_for: Any) -> Any:
    """``prover(log, **config overrides)`` -> AwsProver on moto with fast polling."""

    def build(lines: list[str], **config: Any) -> AwsProver:
        resources = resources_for(lines)
        resources = replace(resources, config=replace(resources.config, **config))
        resources.ec2 = resources.config.client("ec2")
        return AwsProver(resources, lines.append, interval=0.05)

    return build


def launched(prover: Any, aws: FakeSockerless) -> tuple[AwsProver, TaskEvidence]:
    """A container launched as sockerless does, and its task proven running."""
    container_id = new_container_id()
    aws.launch(container_id)
    proofs: AwsProver = prover([])
    return proofs, proofs.task_should_have_reached_running(container_id, timeout=1)


def line(text: str, timestamp_ms: int | None = None) -> LogLine:
    if timestamp_ms is None:
        return LogLine("stdout", text, None, None)
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    raw = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp_ms % 1000:03d}Z"
    return LogLine("stdout", text, moment, raw)


def events_of(aws: FakeSockerless, evidence: TaskEvidence) -> list[dict[str, Any]]:
    answer = aws.logs.get_log_events(
        logGroupName=aws.config.log_group, logStreamName=evidence.log_stream, startFromHead=True
    )
    return list(answer["events"])


def test_a_container_launched_as_sockerless_does_passes_every_proof(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    container_id = new_container_id()
    task_arn = sockerless_aws.launch(container_id)
    log: list[str] = []
    proofs = prover(
        log,
        subnets=sockerless_aws.subnets,
        security_groups=sockerless_aws.security_groups,
    )

    evidence = proofs.task_should_have_reached_running(container_id, timeout=2)
    assert evidence.task_arn == task_arn
    assert evidence.launch_type == "FARGATE"
    assert evidence.family == "sockerless-" + container_id[:12]
    assert evidence.definition_seen_active
    used = proofs.network_should_be_configured(evidence)
    assert used["subnets"] == sockerless_aws.subnets
    assert used["security_groups"] == sockerless_aws.security_groups
    assert evidence.private_ip
    proofs.reported_ip_should_be_eni_ip(evidence, evidence.private_ip)
    (event,) = events_of(sockerless_aws, evidence)
    matched = proofs.log_lines_should_be_events(
        evidence, [line("hello from fargate", int(event["timestamp"]))], timeout=1
    )
    assert matched[0]["message"] == "hello from fargate"

    sockerless_aws.ecs.stop_task(cluster=sockerless_aws.config.cluster, task=task_arn)
    proofs.task_should_stop(evidence, timeout=2)
    sockerless_aws.ecs.deregister_task_definition(taskDefinition=evidence.task_definition_arn)
    proofs.task_definition_should_be_deregistered(evidence)
    assert any(entry.startswith("On AWS: task definition") for entry in log)


def test_no_task_on_ecs_fails_naming_both_lookups(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    container_id = new_container_id()
    started = time.monotonic()
    with pytest.raises(AwsProofFailed) as failure:
        prover([]).task_should_have_reached_running(container_id, timeout=0.3)
    assert time.monotonic() - started < 5
    message = str(failure.value)
    assert "expected on AWS: exactly one ECS task, launchType FARGATE" in message
    assert "found on AWS: no ECS task for the container within 0.3 s" in message
    assert (
        f"ECS ListTasks cluster=kit-test family=sockerless-{container_id[:12]} "
        "desiredStatus=RUNNING,STOPPED" in message
    )
    assert f"tag sockerless-container-id={container_id[:12]}*" in message


def test_a_task_tagged_for_the_container_but_from_another_family_fails(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    container_id = new_container_id()
    shared = sockerless_aws.register("impostor-shared")
    sockerless_aws.run(shared, tag_id=container_id)
    with pytest.raises(AwsProofFailed) as failure:
        prover([]).task_should_have_reached_running(container_id, timeout=1)
    message = str(failure.value)
    assert "not launched from the container's task definition" in message
    assert "family=impostor-shared" in message


def test_two_tasks_for_one_container_fail(prover: Any, sockerless_aws: FakeSockerless) -> None:
    container_id = new_container_id()
    definition = sockerless_aws.register("sockerless-" + container_id[:12], container_id)
    sockerless_aws.run(definition, container_id)
    sockerless_aws.run(definition, container_id)
    with pytest.raises(AwsProofFailed, match="ECS has 2 tasks for it"):
        prover([]).task_should_have_reached_running(container_id, timeout=1)


def test_a_deregistered_task_definition_fails_the_running_proof(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    container_id = new_container_id()
    sockerless_aws.launch(container_id)
    arn = sockerless_aws.register("sockerless-" + container_id[:12], container_id)
    sockerless_aws.ecs.deregister_task_definition(taskDefinition=arn.replace(":2", ":1"))
    with pytest.raises(AwsProofFailed, match="task definition it ran from is not ACTIVE"):
        prover([]).task_should_have_reached_running(container_id, timeout=1)


def test_another_subnet_or_security_group_than_configured_fails(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    container_id = new_container_id()
    sockerless_aws.launch(container_id)
    proofs = prover([], subnets=["subnet-0000000000000000a"], security_groups=["sg-0a"])
    evidence = proofs.task_should_have_reached_running(container_id, timeout=1)
    with pytest.raises(AwsProofFailed) as failure:
        proofs.network_should_be_configured(evidence)
    message = str(failure.value)
    assert f"subnet {sockerless_aws.subnets[0]} is not one of subnet-0000000000000000a" in message
    assert f"security groups {sockerless_aws.security_groups[0]} are not sg-0a" in message
    assert "EC2 DescribeNetworkInterfaces NetworkInterfaceIds=eni-" in message


def test_unconfigured_network_is_reported_as_used(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    proofs, evidence = launched(prover, sockerless_aws)
    used = proofs.network_should_be_configured(evidence)
    assert used["description"] == (
        f"cluster kit-test, subnet(s) {sockerless_aws.subnets[0]}, "
        f"security group(s) {sockerless_aws.security_groups[0]}"
    )


def test_an_ip_that_is_not_the_enis_fails_with_both_addresses(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    proofs, evidence = launched(prover, sockerless_aws)
    with pytest.raises(AwsProofFailed) as failure:
        proofs.reported_ip_should_be_eni_ip(evidence, "10.99.99.99")
    message = str(failure.value)
    assert "reports IP 10.99.99.99" in message
    assert f"with privateIPv4Address {evidence.private_ip}" in message


def test_a_task_proven_before_its_eni_had_an_address_is_read_again(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    proofs, proven = launched(prover, sockerless_aws)
    assert proven.private_ip and proven.eni_id
    early = replace(proven, private_ip=None, eni_id=None)  # as DescribeTasks said before the ENI
    proofs.reported_ip_should_be_eni_ip(early, proven.private_ip)
    with pytest.raises(AwsProofFailed) as failure:
        proofs.reported_ip_should_be_eni_ip(early, "10.99.99.99")
    assert f"found on AWS: ENI {proven.eni_id} with privateIPv4Address {proven.private_ip}" in str(
        failure.value
    )
    assert early.private_ip is None  # the evidence kept for later proofs is not rewritten


def test_a_line_that_is_no_cloudwatch_event_fails_listing_the_events(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    proofs, evidence = launched(prover, sockerless_aws)
    with pytest.raises(AwsProofFailed) as failure:
        proofs.log_lines_should_be_events(evidence, [line("served from elsewhere")], timeout=0.3)
    message = str(failure.value)
    assert "1 event(s): 'hello from fargate'; no event 'served from elsewhere'" in message
    assert f"Logs GetLogEvents group=/sockerless stream={evidence.log_stream}" in message


@pytest.mark.parametrize(
    ("lines", "held"),
    [([], "hold 0 line(s), so"), ([line(""), line("")], "hold 2 line(s) and none has text")],
)
def test_logs_without_a_line_of_text_prove_nothing_and_fail_saying_what_to_do(
    prover: Any, sockerless_aws: FakeSockerless, lines: list[LogLine], held: str
) -> None:
    # The stream holds an event: logs read with tail=0, or before CloudWatch delivered it,
    # used to pass as "0 line(s) are events of" it.
    proofs, evidence = launched(prover, sockerless_aws)
    assert events_of(sockerless_aws, evidence)
    with pytest.raises(NothingToProve) as failure:
        proofs.log_lines_should_be_events(evidence, lines, timeout=0.3)
    message = str(failure.value)
    assert message.startswith(f"No log line to prove for container {evidence.container_id[:12]}")
    assert held in message
    assert "`Wait Until Logs Contain Line` returns the read that held the line" in message
    assert "tail=0" in message


def test_a_missing_log_stream_fails_saying_so(prover: Any, sockerless_aws: FakeSockerless) -> None:
    container_id = new_container_id()
    definition = sockerless_aws.register("sockerless-" + container_id[:12], container_id)
    sockerless_aws.run(definition, container_id)
    proofs = prover([])
    evidence = proofs.task_should_have_reached_running(container_id, timeout=1)
    with pytest.raises(AwsProofFailed, match="found on AWS: no such log stream"):
        proofs.log_lines_should_be_events(evidence, [line("hello from fargate")], timeout=0.3)


def test_a_timestamp_that_is_not_the_events_fails_to_the_millisecond(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    proofs, evidence = launched(prover, sockerless_aws)
    (event,) = events_of(sockerless_aws, evidence)
    off_by_one = line("hello from fargate", int(event["timestamp"]) + 1)
    with pytest.raises(AwsProofFailed) as failure:
        proofs.log_lines_should_be_events(evidence, [off_by_one], timeout=0.3)
    message = str(failure.value)
    assert "are not the CloudWatch event timestamps" in message
    assert f"the event's timestamp is {event['timestamp']} ms" in message


def test_deregistration_proves_nothing_for_a_definition_never_seen_active(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    proofs, evidence = launched(prover, sockerless_aws)
    evidence.definition_seen_active = False
    with pytest.raises(AwsProofFailed, match="never seen ACTIVE"):
        proofs.task_definition_should_be_deregistered(evidence)


def test_a_definition_still_active_after_remove_fails(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    proofs, evidence = launched(prover, sockerless_aws)
    with pytest.raises(AwsProofFailed, match="was not deregistered"):
        proofs.task_definition_should_be_deregistered(evidence)


def test_a_task_ecs_does_not_know_never_counts_as_stopped(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    # plain moto walks a task towards STOPPED on every DescribeTasks, so the task ECS lost
    # stands in for one that never stops: either way STOPPED is never observed.
    proofs, evidence = launched(prover, sockerless_aws)
    lost = replace(evidence, task_arn=evidence.task_arn.rsplit("/", 1)[0] + "/no-such-task")
    with pytest.raises(AwsProofFailed) as failure:
        proofs.task_should_stop(lost, timeout=0.3, exit_code=0)
    message = str(failure.value)
    assert "did not stop within 0.3 s" in message
    assert "found on AWS: no such task" in message
    assert "ECS DescribeTasks cluster=kit-test tasks=no-such-task" in message


def test_a_cluster_configured_by_arn_is_the_tasks_cluster(
    prover: Any, sockerless_aws: FakeSockerless
) -> None:
    container_id = new_container_id()
    sockerless_aws.launch(container_id)
    proofs = prover([], cluster="arn:aws:ecs:us-east-1:123456789012:cluster/kit-test")
    evidence = proofs.task_should_have_reached_running(container_id, timeout=1)
    assert proofs.network_should_be_configured(evidence)["cluster"] == "kit-test"


def test_an_exit_code_ecs_did_not_record_fails(prover: Any, sockerless_aws: FakeSockerless) -> None:
    proofs, evidence = launched(prover, sockerless_aws)
    with pytest.raises(AwsProofFailed) as failure:
        proofs.task_should_stop(evidence, timeout=2, exit_code=3)
    message = str(failure.value)
    assert "ECS recorded exit code 0 for the task of container" in message
    assert ", expected 3\n" in message and "exitCode=0" in message


def test_a_task_that_ran_is_no_failed_start(prover: Any, sockerless_aws: FakeSockerless) -> None:
    # plain moto walks the task to STOPPED with exit code 0: it ran, so start did not fail
    container_id = new_container_id()
    sockerless_aws.launch(container_id)
    with pytest.raises(AwsProofFailed, match="no task of it failed for that reason"):
        prover([]).task_should_have_failed_to_start(container_id, "(?i)pull", timeout=2)
