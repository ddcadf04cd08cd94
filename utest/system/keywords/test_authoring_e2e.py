"""The keywords QA reaches for, end to end on the embedded simulator (a real daemon and agent):
a process's rc and streams, an exit code proven on the daemon and on ECS, log lines with their
stream and timestamp, a container that does not exist, the containers a scope created."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from SockerlessLibrary import SockerlessLibrary
from SockerlessLibrary.keywords import aws as aws_keywords

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]


def started(lib: SockerlessLibrary, *command: str, **options: Any) -> str:
    container_id = lib.create_container("alpine:latest", *command, **options)
    assert container_id
    lib.start_container(container_id)
    return container_id


def test_run_process_in_container_gives_rc_stdout_and_stderr(
    embedded_library: SockerlessLibrary,
) -> None:
    lib = embedded_library
    service = started(lib, "tail", "-f", "/dev/null", env={"GREETING": "hi"}, working_dir="/tmp")
    result = lib.run_process_in_container(
        service, "sh", "-c", 'echo "$GREETING"; pwd; echo oops >&2; exit 3'
    )
    assert (result.rc, result.stdout, result.stderr) == (3, "hi\n/tmp", "oops")
    assert result.stdout_lines == ["hi", "/tmp"]
    echoed = lib.run_process_in_container(service, "cat", stdin="typed\n", env={"X": "1"})
    assert (echoed.rc, echoed.stdout) == (0, "typed")
    with_env = lib.run_process_in_container(service, "sh", "-c", 'echo "$X"', env={"X": "1"})
    assert with_env.stdout == "1"


def test_an_exit_code_is_proven_on_the_daemon_and_on_ecs(
    embedded_library: SockerlessLibrary,
) -> None:
    lib = embedded_library
    failing = started(lib, "sh", "-c", "exit 3")
    inspect = lib.container_should_have_exited_with_code(failing, 3)
    assert inspect["State"]["ExitCode"] == 3
    with pytest.raises(AssertionError) as failure:
        lib.container_should_have_exited_with_code(failing, 0)
    assert str(failure.value).startswith(f"Container {failing} exited with code 3, expected 0")
    never_started = lib.create_container("alpine:latest", "true")
    assert never_started
    with pytest.raises(AssertionError, match=r'has not exited: State \{"Status": "created"'):
        lib.container_should_have_exited_with_code(never_started, 0, timeout=timedelta(seconds=2))


def test_log_lines_carry_their_stream_and_timestamp_and_follow_tail_and_since(
    embedded_library: SockerlessLibrary,
) -> None:
    lib = embedded_library
    container = started(lib, "sh", "-c", "echo one; echo two >&2; sleep 1; echo three")
    lib.wait_until_logs_contain_line(container, "three")
    lines = lib.get_container_log_lines(container)
    pairs = [(line["stream"], line["text"]) for line in lines]
    # "one" and "two" leave through two pipes at once: no order between them is defined (the
    # same holds on Fargate); "three" comes a second later, after both.
    assert sorted(pairs[:2]) == [("stderr", "two"), ("stdout", "one")]
    assert pairs[2:] == [("stdout", "three")]
    assert all(line["timestamp"] is not None and line["raw_timestamp"] for line in lines)
    assert [line["text"] for line in lib.get_container_log_lines(container, tail="1")] == ["three"]
    since = lib.get_container_log_lines(container, since=lines[2]["timestamp"])
    assert [line["text"] for line in since] == ["three"]
    errors_only = lib.get_container_log_lines(container, stdout=False, timestamps=False)
    assert [(line["text"], line["timestamp"]) for line in errors_only] == [("two", None)]


def test_a_container_should_not_exist_once_removed_and_the_scope_knows_what_it_created(
    embedded_library: SockerlessLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = embedded_library
    container = started(lib, "echo", "hi")
    with pytest.raises(AssertionError, match=f"Container {container} exists: State"):
        lib.container_should_not_exist(container)
    assert lib.get_created_containers(scope="all") == [container]
    lib.container_should_have_exited_with_code(container, 0)
    lib.remove_container(container)
    lib.container_should_not_exist(container)
    logged: list[str] = []
    monkeypatch.setattr(aws_keywords, "log", logged.append)
    lib.clean_up_container(container)
    lib.container_should_leave_no_aws_resources(container)
    (summary,) = [m for m in logged if "left no AWS resources" in m]
    assert "all proven to exist earlier" not in summary
    assert "(proven earlier) is STOPPED" in summary  # found by the exit code proof
    assert "its task definition was never proven ACTIVE" in summary
    assert "was never proven to exist" in summary  # nothing read its CloudWatch events
