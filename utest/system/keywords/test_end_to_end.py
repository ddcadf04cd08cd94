"""End to end on the real embedded simulator: the spec's flow through the keywords, then no leaks.

The simulator runs as a child process with its own moto; the checks for leaks use a separate boto3
client on the simulator's AWS endpoint, so they see what real cleanup code would have to see.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import pytest

from SockerlessLibrary import SockerlessLibrary
from SockerlessLibrary.journal import RunJournal
from SockerlessLibrary.sweep import Sweeper

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]


@pytest.fixture
def library(embedded_library: SockerlessLibrary) -> SockerlessLibrary:
    return embedded_library


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def assert_no_leaks(lib: SockerlessLibrary, container_ids: list[str]) -> None:
    aws = lib._context.aws_config()
    ecs, logs = aws.client("ecs"), aws.client("logs")
    running = ecs.list_tasks(cluster=aws.cluster, desiredStatus="RUNNING")["taskArns"]
    assert running == [], f"tasks still running: {running}"
    for container_id in container_ids:
        family = "sockerless-" + container_id[:12]
        assert (
            ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
            == []
        )
        streams = logs.describe_log_streams(
            logGroupName=aws.log_group, logStreamNamePrefix=container_id[:12] + "/"
        )["logStreams"]
        assert streams == []


def test_spec_flow_through_the_keywords_leaves_nothing(
    library: SockerlessLibrary, tmp_path: Path
) -> None:
    lib = library
    assert lib.connect_to_sockerless().startswith("embedded simulator at unix://")
    lib.daemon_should_respond_to_ping()
    info = lib.get_target_info()
    assert info["credentials"] == "simulator" and info["run_id"] == "e2e-run"

    echo = lib.create_container("alpine:latest", "echo", "hello from fargate", name="e2e-echo")
    lib.container_id_should_be_valid(echo)
    lib.start_container(echo)
    lib.container_should_run_as_a_fargate_task(echo)
    inspect = lib.wait_until_container_is_not_running(echo)
    assert (inspect["State"]["Status"], inspect["State"]["ExitCode"]) == ("exited", 0)
    logs = lib.wait_until_logs_contain_line(echo, "hello from fargate")
    lib.stream_should_be_multiplexed(logs)
    lib.frames_should_use_stream_type(logs, "1")
    stamped = lib.get_container_logs(echo, timestamps=True)
    assert lib.log_lines_should_have_timestamps(stamped)
    lib.output_should_contain_line(stamped, "hello from fargate")
    entry = lib.container_should_be_listed(echo)
    assert "/e2e-echo" in entry["Names"]
    lib.remove_container(echo)
    lib.task_definition_should_be_deregistered(echo)
    lib.clean_up_container(echo)
    lib.container_should_leave_no_aws_resources(echo)

    service = lib.create_container("alpine:latest", "tail", "-f", "/dev/null")
    lib.start_container(service)
    assert lib.container_should_run_as_a_fargate_task(service)["last_status"] == "RUNNING"
    assert lib.get_container_status(service) == "running"
    assert lib.get_container_ip_address(service)
    exec_id = lib.create_exec(service, "echo", "exec-works")
    lib.output_should_contain_line(lib.start_exec(exec_id), "exec-works")
    lib.exec_should_have_exited_with_code(exec_id, 0)
    failing = lib.create_exec(service, "sh", "-c", "exit 7")
    lib.start_exec(failing)
    lib.exec_should_have_exited_with_code(failing, 7)
    lib.stop_container(service)
    stopped = lib.wait_until_container_is_not_running(service, timeout=_seconds(30))
    assert stopped["State"]["Status"] == "exited"

    # A container the "test" forgot: the registry still owns it until cleaned.
    forgotten = lib.create_container("alpine:latest", "tail", "-f", "/dev/null")
    lib.start_container(forgotten)
    assert lib.clean_up_registered_resources(scope="all") == [service, forgotten]
    lib.container_should_not_be_listed(forgotten)

    usage = lib.get_fargate_task_usage()
    assert usage["tasks"] == 3
    assert usage["task_seconds"] >= 0
    assert lib.sweep_run_leftovers()["found"] == 0
    assert_no_leaks(lib, [echo, service, forgotten])
    journal = RunJournal(tmp_path / "journal", "e2e-run")
    assert journal.pending() == []
    events = [(r["event"], r["container_id"]) for r in journal.records()]
    # three created, three cleaned, and the one the flow proved gone on AWS
    made = (echo, service, forgotten)
    assert sorted(events) == sorted(
        [*(("created", c) for c in made), *(("cleaned", c) for c in made), ("verified", echo)]
    )


def test_sweeper_cleans_a_killed_runs_container_on_the_live_simulator(
    library: SockerlessLibrary, tmp_path: Path
) -> None:
    lib = library
    target = lib._context.target()
    leftover = lib.create_container("alpine:latest", "tail", "-f", "/dev/null")
    lib.start_container(leftover)
    # The run is "killed": the registry is lost, only the journal and the labels remain.
    lib._context.registry.mark_cleaned(leftover)
    log: list[str] = []
    report = Sweeper(
        journal_dir=tmp_path / "journal", env={}, log=log.append, host=target.host
    ).run()
    assert report.ok, asdict(report)
    assert report.cleaned == [leftover]
    lib.container_should_not_be_listed(leftover)
    lib.container_should_leave_no_aws_resources(leftover)
    assert_no_leaks(lib, [leftover])


def test_close_cleans_what_is_left_and_stops_the_simulator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("SOCKERLESS_HOST", "SOCKERLESS_ECS_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOCKERLESS_KIT_JOURNAL_DIR", str(tmp_path))
    lib = SockerlessLibrary()
    container_id = lib.create_container("alpine:latest", "tail", "-f", "/dev/null")
    lib.start_container(container_id)
    simulator = lib._context.target().simulator
    assert simulator is not None
    lib.close()
    assert not simulator.is_running()  # type: ignore[attr-defined]
    assert RunJournal(tmp_path, lib.get_run_id()).pending() == []
