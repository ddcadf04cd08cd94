"""Messages that tell the truth: each case the issue found untrue, with the old text refused.

Each test fails on the old wording: an exit code "the daemon reports" that was only expected, a
duplicated log line read as a missing one, resources "all proven to exist earlier" that never
were, a log stream called deleted that the endpoint kept, a line on the wrong stream.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from SockerlessLibrary.aws.evidence import TaskEvidence
from SockerlessLibrary.aws.proof import AwsProofFailed, AwsProver
from SockerlessLibrary.keywords.aws import left_behind_summary
from SockerlessLibrary.keywords.streams import StreamKeywords
from SockerlessLibrary.logstream import LogLine

pytestmark = pytest.mark.timeout(60)
CONTAINER = "d9cd76167d99" + "0" * 52
TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/kit-test/923fe092"


@dataclass
class OneStoppedTask:
    """Resources whose one task is STOPPED with ``exit_code`` for its container ``main``."""

    exit_code: int
    config: Any = field(default_factory=lambda: SimpleNamespace(cluster="kit-test"))

    def describe_tasks(self, arns: list[str]) -> list[dict[str, Any]]:
        del arns
        return [
            {
                "taskArn": TASK_ARN,
                "lastStatus": "STOPPED",
                "launchType": "FARGATE",
                "taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/sockerless-x:1",
                "containers": [{"name": "main", "exitCode": self.exit_code}],
            }
        ]


def evidence(**fields: Any) -> TaskEvidence:
    return TaskEvidence(
        container_id=CONTAINER,
        task_arn=TASK_ARN,
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/kit-test",
        launch_type="FARGATE",
        task_definition_arn="arn:aws:ecs:us-east-1:1:task-definition/sockerless-d9cd76167d99:1",
        last_status="RUNNING",
        subnet_id=None,
        eni_id=None,
        private_ip=None,
        **fields,
    )


def test_an_ecs_exit_code_mismatch_names_the_recorded_and_the_expected_code() -> None:
    prover = AwsProver(OneStoppedTask(exit_code=0), lambda _: None)  # type: ignore[arg-type]
    with pytest.raises(AwsProofFailed) as failure:
        prover.task_should_stop(evidence(), timeout=1, exit_code=137)
    message = str(failure.value)
    assert message.startswith(
        "ECS recorded exit code 0 for the task of container d9cd76167d99, expected 137\n"
    )
    assert "The daemon reports exit code 137" not in message  # 137 was only the expectation
    assert "found on AWS: 923fe092 lastStatus=STOPPED" in message and "exitCode=0" in message
    with pytest.raises(AwsProofFailed, match=r"expected 3 \(the daemon reports 3\)"):
        prover.task_should_stop(evidence(), 1, 3, daemon_says="the daemon reports 3")


def launched(prover_for: Any, aws: Any, *messages: str) -> tuple[AwsProver, TaskEvidence]:
    """A container's task with a log stream holding ``messages``, in order, proven running."""
    container_id = secrets.token_hex(32)
    definition = aws.register("sockerless-" + container_id[:12], container_id)
    task = aws.run(definition, container_id)
    stream = f"{container_id[:12]}/main/{task.rsplit('/', 1)[-1]}"
    aws.logs.create_log_stream(logGroupName=aws.config.log_group, logStreamName=stream)
    now = int(time.time() * 1000)
    aws.logs.put_log_events(
        logGroupName=aws.config.log_group,
        logStreamName=stream,
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)],
    )
    prover: AwsProver = prover_for([])
    return prover, prover.task_should_have_reached_running(container_id, timeout=1)


@pytest.fixture
def prover_for(resources_for: Any) -> Any:
    return lambda log: AwsProver(resources_for(log), log.append, interval=0.05)


def lines(*texts: str) -> list[LogLine]:
    return [LogLine("stdout", text, None, None) for text in texts]


def test_a_duplicated_log_line_says_how_often_each_side_has_it(
    prover_for: Any, sockerless_aws: Any
) -> None:
    echo, hello = "echo hello from fargate", "hello from fargate"
    prover, proven = launched(prover_for, sockerless_aws, echo, hello)
    with pytest.raises(AwsProofFailed) as failure:
        prover.log_lines_should_be_events(proven, lines(echo, hello, echo), timeout=0.3)
    message = str(failure.value)
    assert (
        f"found on AWS: 2 event(s): '{echo}', '{hello}'; the daemon's logs have the line "
        f"'{echo}' 2 times, the stream only 1 time\n"
    ) in message
    assert f"no event '{echo}'" not in message  # the old text said it was missing


def test_lines_in_another_order_than_the_events_say_so(
    prover_for: Any, sockerless_aws: Any
) -> None:
    prover, proven = launched(prover_for, sockerless_aws, "one", "two")
    with pytest.raises(AwsProofFailed) as failure:
        prover.log_lines_should_be_events(proven, lines("two", "one"), timeout=0.3)
    assert "the event 'one' is there, but not after the events that match the lines before" in (
        str(failure.value)
    )


def test_a_line_of_log_that_is_no_event_still_says_no_event(
    prover_for: Any, sockerless_aws: Any
) -> None:
    prover, proven = launched(prover_for, sockerless_aws, "hello")
    with pytest.raises(AwsProofFailed, match="; no event 'served from elsewhere'"):
        prover.log_lines_should_be_events(proven, lines("served from elsewhere"), timeout=0.3)


def test_no_leftovers_says_what_was_proven_and_what_is_only_absent() -> None:
    unproven_stream = evidence(definition_seen_active=True)
    summary = "; ".join(
        left_behind_summary(CONTAINER, unproven_stream, "no log stream d9cd76167d99/* in /x")
    )
    assert "all proven to exist earlier" not in summary
    assert "task 923fe092 (proven earlier) is STOPPED" in summary
    assert "(proven ACTIVE after start) is not ACTIVE" in summary
    assert "its stream d9cd76167d99/main/923fe092 was never proven to exist" in summary
    proven = "; ".join(
        left_behind_summary(
            CONTAINER, evidence(definition_seen_active=True, log_stream_seen=True), "gone"
        )
    )
    assert "was proven to hold the container's output" in proven
    nothing = "; ".join(left_behind_summary(CONTAINER, None, "no log stream"))
    assert "absence only: no task of the container was proven earlier" in nothing


def test_a_stream_the_endpoint_cannot_delete_is_reported_kept_not_deleted(
    sockerless_aws: Any, resources_for: Any, failing_operations: Any
) -> None:
    from SockerlessLibrary.aws.verify import AwsVerifier  # noqa: PLC0415 - one test's import

    container_id = secrets.token_hex(32)
    sockerless_aws.launch(container_id)
    log: list[str] = []
    resources = resources_for(log)
    resources.unsupported.add("Logs DeleteLogStream")  # as learnt from sockerless' simulator
    outcome = AwsVerifier(resources).log_streams_should_not_exist(container_id)
    assert outcome.startswith(f"log stream(s) {container_id[:12]}/main/")
    assert "kept: the AWS endpoint" in outcome and "does not implement DeleteLogStream" in outcome
    summary = "; ".join(left_behind_summary(container_id, None, outcome))
    assert "deleted" not in summary.replace("(on AWS the kit deletes them)", "")


def test_output_should_contain_line_names_the_stream_the_line_is_on() -> None:
    keywords = StreamKeywords(context=None)  # type: ignore[arg-type]
    logs = SimpleNamespace(
        log_lines=[LogLine("stdout", "starting", None, None), LogLine("stderr", "oops", None, None)]
    )
    with pytest.raises(AssertionError) as failure:
        keywords.output_should_contain_line(logs, "oops")
    assert str(failure.value) == (
        "No stdout line equals 'oops'. It is a line of stderr. Lines seen (1):\n'starting'"
    )
