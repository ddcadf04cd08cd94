"""A misconfigured run ends fast, launches nothing, and says what to fix.

The ECS suites run as robot subprocesses against a standalone simulator (target 2), each with one
setting wrong. Each run must end in under 30 s, every test failed by the suite setup's preflight
with the sentence that names the variable, and the daemon must never have been asked to create a
container (so no RunTask either, counted on the simulator's AWS side).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_harness import ROOT, Simulator, run_robot

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

MISCONFIGURED_RUN_SECONDS = 30.0
ECS_TESTS = 4
KIT_POLICY = ROOT / "iam" / "sockerless-kit-policy.json"


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[Simulator]:
    """One simulator for every misconfigured run: none of them may create anything."""
    simulator = Simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="module")
def iam_sim() -> Iterator[Simulator]:
    """A simulator in IAM mode: AWS checks every signature, as it does for real credentials."""
    simulator = Simulator.start(iam_policy=KIT_POLICY)
    try:
        yield simulator
    finally:
        simulator.stop()


def without(*names: str) -> dict[str, str]:
    """Environment entries that remove ``names`` (an empty value reads as unset)."""
    return dict.fromkeys(names, "")


MISCONFIGURATIONS = {
    "cluster": (
        {"SOCKERLESS_ECS_CLUSTER": "no-such-cluster"},
        "ECS cluster 'no-such-cluster' does not exist in region us-east-1 of account "
        "123456789012: set SOCKERLESS_ECS_CLUSTER to the cluster sockerless runs its tasks in",
    ),
    "subnet": (
        {"SOCKERLESS_ECS_SUBNETS": "subnet-0000000000000dead"},
        "Subnet subnet-0000000000000dead does not exist in region us-east-1 of account "
        "123456789012: set SOCKERLESS_ECS_SUBNETS to subnets of the VPC the tasks should run in",
    ),
    "security group": (
        {
            **without("SOCKERLESS_ECS_SECURITY_GROUPS"),
            "SOCKERLESS_ECS_SECURITY_GROUP": "sg-0000000000000dead",
        },
        "Security group sg-0000000000000dead does not exist in region us-east-1 of account "
        "123456789012: set SOCKERLESS_ECS_SECURITY_GROUP to groups of the VPC the tasks run in",
    ),
    "log group": (
        {
            "SOCKERLESS_ECS_LOG_GROUP": "/no-such-group",
            "SOCKERLESS_KIT_LOG_GROUP_CHECK": "required",
        },
        "CloudWatch log group '/no-such-group' does not exist in region us-east-1 of account "
        "123456789012: create it, or set SOCKERLESS_ECS_LOG_GROUP to the group sockerless "
        "writes to",
    ),
    "credentials profile": (
        {
            **without("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
            "AWS_PROFILE": "no-such-profile-for-the-kit",
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        },
        "AWS_PROFILE names a profile that is not configured (The config profile "
        "(no-such-profile-for-the-kit) could not be found): set AWS_PROFILE to a profile in "
        "~/.aws/config, or unset it and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    ),
    "aws endpoint": (
        {"SOCKERLESS_ENDPOINT_URL": "http://127.0.0.1:9"},
        "The AWS endpoint http://127.0.0.1:9 did not answer STS GetCallerIdentity",
    ),
    "daemon": (
        {"SOCKERLESS_HOST": "unix:///nonexistent/sockerless.sock"},
        "The daemon at unix:///nonexistent/sockerless.sock does not answer",
    ),
}


@pytest.mark.parametrize("what", list(MISCONFIGURATIONS))
def test_a_misconfigured_run_fails_fast_launches_nothing_and_names_the_fix(
    shared_sim: Simulator, tmp_path: Path, what: str
) -> None:
    changes, sentence = MISCONFIGURATIONS[what]
    misconfigured_run_should_fail_fast(shared_sim, tmp_path, changes, sentence)


# Keys AWS does not know, and a known key signed with the wrong secret (the secret is checked to
# stay out of the report by utest/system/hostile and utest/system/iam).
REJECTED_CREDENTIALS = {
    "unknown access key": (
        {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-the-secret"},
        "AWS rejected the credentials (InvalidClientTokenId: ",
    ),
    "wrong secret key": (
        {"AWS_SECRET_ACCESS_KEY": "not-the-secret"},
        "AWS rejected the credentials (SignatureDoesNotMatch: ",
    ),
}


@pytest.mark.parametrize("what", list(REJECTED_CREDENTIALS))
def test_rejected_credentials_fail_the_run_fast_and_name_the_variables(
    iam_sim: Simulator, tmp_path: Path, what: str
) -> None:
    changes, start = REJECTED_CREDENTIALS[what]
    sentence = (
        "): set a valid AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for "
        "temporary ones), or AWS_PROFILE"
    )
    messages = misconfigured_run_should_fail_fast(iam_sim, tmp_path, changes, sentence)
    assert all(f"- {start}" in message for message in messages), messages
    assert not any("not-the-secret" in message for message in messages)


def misconfigured_run_should_fail_fast(
    sim: Simulator, tmp_path: Path, changes: dict[str, str], sentence: str
) -> list[str]:
    """Run the ECS suites with ``changes``; every test must fail on ``sentence``, nothing made."""
    creates_before = sim.docker_requests("POST /containers/create")
    run_tasks_before = sim.aws_calls("RunTask")

    run = run_robot(
        sim,
        tmp_path,
        run_id=f"preflight-{uuid.uuid4().hex[:8]}",
        arguments=["--include", "ecs", "suites"],
        extra_env=changes,
    )

    assert run.elapsed < MISCONFIGURED_RUN_SECONDS, f"the run took {run.elapsed:.1f} s"
    statuses = run.test_statuses()
    assert len(statuses) == ECS_TESTS
    for name, (status, message) in statuses.items():
        assert status == "FAIL", f"{name}: {status} {message}"
        assert message.startswith("Parent suite setup failed:\nPreflight found 1 problem(s)"), (
            message
        )
        assert sentence in message, message
    assert sim.docker_requests("POST /containers/create") == creates_before
    assert sim.aws_calls("RunTask") == run_tasks_before
    assert run.journal_created() == 0
    return [message for _, message in statuses.values()]


def test_the_first_suite_pays_for_the_preflight_the_others_fail_at_once(
    shared_sim: Simulator, tmp_path: Path
) -> None:
    run = run_robot(
        shared_sim,
        tmp_path,
        run_id=f"preflight-{uuid.uuid4().hex[:8]}",
        arguments=["--include", "ecs", "suites"],
        extra_env={"SOCKERLESS_ECS_CLUSTER": "no-such-cluster"},
    )
    later = [
        status.get("elapsed", "")
        for suite in run.output().iter("suite")
        for kw in suite.findall("kw")
        if kw.get("type") == "SETUP"
        for status in kw.findall("status")
    ]
    assert len(later) == ECS_TESTS
    assert all(float(elapsed) < 1.0 for elapsed in later[1:]), later
    earlier = [m for m in run.messages() if "found by the preflight earlier in this run" in m]
    assert earlier, "later suites should say the result is the earlier preflight's"
