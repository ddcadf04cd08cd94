"""WorkloadRunner: real agent processes running real commands on this host."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from sockerless_sim.agent.client import AgentClient
from sockerless_sim.agent.procutil import group_members, is_alive
from sockerless_sim.workloads import WorkloadRunner, WorkloadSpec, WorkloadStartError

pytestmark = pytest.mark.timeout(30)


def test_echo_output_reaches_on_output_then_exit_zero(runner, recorder, spec):
    task = spec(["echo", "hello from fargate"])

    workload = runner.launch(task)

    assert workload.wait(10.0) == 0
    assert recorder.lines(task.task_arn, "stdout") == [b"hello from fargate"]
    assert recorder.lines(task.task_arn, "stderr") == []
    timestamp = recorder.calls[0][3]
    assert abs(timestamp - time.time() * 1000) < 10_000


def test_stdout_and_stderr_are_kept_apart_and_the_exit_code_kept(runner, recorder, spec):
    task = spec(["sh", "-c", "echo out; echo err >&2; echo out2; exit 3"])

    workload = runner.launch(task)

    assert workload.wait(10.0) == 3
    assert recorder.lines(task.task_arn, "stdout") == [b"out", b"out2"]
    assert recorder.lines(task.task_arn, "stderr") == [b"err"]


def test_a_partial_last_line_is_flushed_at_eof(runner, recorder, spec):
    task = spec(["printf", "line\\nno-newline"])

    assert runner.launch(task).wait(10.0) == 0
    assert recorder.lines(task.task_arn, "stdout") == [b"line", b"no-newline"]


def test_exit_code_is_none_while_running(runner, spec):
    workload = runner.launch(spec(["sleep", "30"]))

    assert workload.exit_code() is None
    assert is_alive(workload.main_pid)


def test_terminate_stops_tail_with_143_quickly(runner, spec):
    workload = runner.launch(spec(["tail", "-f", "/dev/null"]))
    started = time.monotonic()

    workload.terminate(10.0)

    assert workload.wait(5.0) == 143
    assert time.monotonic() - started < 3.0


def test_terminate_kills_a_sigterm_ignoring_command_after_the_grace(runner, spec, recorder):
    task = spec(["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"])
    workload = runner.launch(task)
    assert recorder.wait_for_line(task.task_arn, "stdout", b"ready", 5.0)
    started = time.monotonic()

    workload.terminate(1.0)

    assert workload.wait(0.8) is None
    assert workload.wait(5.0) == 137
    assert 1.0 <= time.monotonic() - started < 4.0


def test_terminate_returns_at_once(runner, spec):
    workload = runner.launch(spec(["sh", "-c", "trap '' TERM; sleep 30"]))
    started = time.monotonic()

    workload.terminate(5.0)

    assert time.monotonic() - started < 0.5
    workload.close()
    assert workload.exit_code() == 137


def test_signal_is_delivered_to_the_main_command(runner, spec):
    workload = runner.launch(spec(["sleep", "30"]))

    workload.signal(signal.SIGINT)

    assert workload.wait(5.0) == 128 + signal.SIGINT


def test_a_missing_command_fails_the_launch_and_leaves_nothing(runner, spec, tmp_path, eventually):
    with pytest.raises(WorkloadStartError) as raised:
        runner.launch(spec(["no-such-command-xyz", "arg"]))

    message = str(raised.value)
    reason = 'exec: "no-such-command-xyz": executable file not found in $PATH'  # runc's words
    assert reason in message
    assert raised.value.spawn_reason == reason
    agent_logs = list((tmp_path / "work").glob("*/agent.log"))
    assert len(agent_logs) == 1
    assert not list((tmp_path / "work").glob("*/agent.sock"))
    assert not _agent_processes_under(tmp_path)


def test_an_alpine_task_finds_only_busybox_programs(runner, recorder, spec):
    task = spec(["sh", "-c", "bash -c 'echo hi'; echo rc=$?; tail -n 1 /etc/hostname"])
    task = replace(task, image="alpine:latest")

    assert runner.launch(task).wait(10.0) == 0
    stdout = recorder.lines(task.task_arn, "stdout")
    assert stdout[0] == b"rc=127"
    assert len(stdout) == 2  # tail ran
    assert recorder.lines(task.task_arn, "stderr") == [b"sh: bash: not found"]


def test_an_alpine_task_whose_command_is_not_an_applet_fails_to_launch(runner, spec):
    task = replace(spec(["python3", "-V"]), image="alpine:3.19")

    with pytest.raises(WorkloadStartError) as raised:
        runner.launch(task)

    assert raised.value.spawn_reason == 'exec: "python3": executable file not found in $PATH'


def test_a_task_of_an_image_without_a_program_list_finds_host_programs(runner, recorder, spec):
    task = replace(spec([sys.executable, "-c", "print('host python')"]), image="python:3.12")
    assert runner.launch(task).wait(10.0) == 0
    plain = replace(spec(["python3", "-c", "print('on PATH')"]), image="python:3.12")
    assert runner.launch(plain).wait(10.0) == 0
    assert recorder.lines(plain.task_arn, "stdout") == [b"on PATH"]


def test_a_failed_launch_reaps_the_agent(tmp_path, recorder, spec):
    runner = WorkloadRunner(str(tmp_path / "work"), recorder)
    before = set(_children_of(os.getpid()))
    try:
        with pytest.raises(WorkloadStartError):
            runner.launch(spec(["no-such-command-xyz"]))
        # The agent was a child of this process: unreaped, it would linger as a zombie child.
        assert set(_children_of(os.getpid())) <= before
    finally:
        runner.shutdown()


def test_environment_is_clean_plus_the_task_env(runner, recorder, spec, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "simulator-secret")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "simulator-key")
    task = spec(
        [
            "sh",
            "-c",
            'echo "${AWS_SECRET_ACCESS_KEY:-unset} ${AWS_ACCESS_KEY_ID:-unset}"'
            ' "$FOO ${PYTHONPATH:-unset}"',
        ],
        env={"FOO": "bar"},
    )

    assert runner.launch(task).wait(10.0) == 0
    assert recorder.lines(task.task_arn, "stdout") == [b"unset unset bar unset"]


def test_attach_receives_output_printed_after_attaching(runner, spec, read_session, token):
    workload = runner.launch(
        spec(
            ["sh", "-c", "while [ ! -e go ]; do sleep 0.05; done; echo after-attach; exit 4"],
            token=token,
        )
    )
    client = AgentClient(workload.agent_socket, token, timeout=5.0)

    with client.attach() as session:
        (workload.task_dir / "go").touch()
        assert read_session(session) == (b"after-attach\n", b"", 4)
    assert workload.wait(5.0) == 4


def test_shutdown_leaves_no_process_behind(runner, spec, token, eventually, read_session):
    workloads = [runner.launch(spec(["tail", "-f", "/dev/null"], token=token)) for _ in range(2)]
    trapper = runner.launch(spec(["sh", "-c", "trap '' TERM; sleep 60 & wait"]))
    session = AgentClient(workloads[0].agent_socket, token, timeout=5.0).exec(
        ["sh", "-c", "echo $$; exec sleep 60"]
    )
    event = session.recv(5.0)
    assert event is not None and event[0] == "stdout"
    pids = [int(event[1])]
    for workload in [*workloads, trapper]:
        pids += [workload.pid, workload.main_pid]
    assert all(is_alive(pid) for pid in pids)

    runner.shutdown()
    runner.shutdown()

    assert eventually(lambda: not any(is_alive(pid) for pid in pids), 5.0)
    assert not any(is_alive(pid) for pid in _group_members([w.pid for w in workloads]))
    assert all(not Path(w.agent_socket).exists() for w in workloads)
    session.close()
    with pytest.raises(WorkloadStartError):
        runner.launch(spec(["true"]))


def test_no_orphans_after_the_simulator_is_killed(tmp_path, eventually):
    script = (
        "import json, sys, time\n"
        "from sockerless_sim.workloads import WorkloadRunner, WorkloadSpec\n"
        f"runner = WorkloadRunner({str(tmp_path)!r}, lambda *a: None)\n"
        "argv = ['sh', '-c', \"trap '' TERM; sleep 60\"]\n"
        "w = runner.launch(WorkloadSpec('arn:t', 't', 'main', argv, {}, None))\n"
        "print(json.dumps([w.pid, w.main_pid]), flush=True)\n"
        "time.sleep(60)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[3] / "simulator"))
    simulator = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, start_new_session=True
    )
    try:
        assert simulator.stdout is not None
        pids = json.loads(simulator.stdout.readline())
        assert all(is_alive(pid) for pid in pids)

        simulator.kill()
        simulator.wait(5.0)

        assert eventually(lambda: not any(is_alive(pid) for pid in pids), 5.0)
    finally:
        if simulator.poll() is None:
            simulator.kill()
            simulator.wait(5.0)


def test_close_is_idempotent_and_removes_the_socket(runner, spec):
    workload = runner.launch(spec(["sleep", "30"]))

    workload.close()
    workload.close()

    assert workload.exit_code() == 137
    assert not Path(workload.agent_socket).exists()
    assert not is_alive(workload.main_pid)


def test_launch_with_a_long_workdir_uses_a_short_socket_path(tmp_path, recorder, spec):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    runner = WorkloadRunner(str(deep), recorder)
    try:
        workload = runner.launch(spec(["sleep", "30"]))
        assert len(workload.agent_socket) <= 100
        assert AgentClient(workload.agent_socket, None, timeout=5.0).health()["status"] == "ok"
    finally:
        runner.shutdown()
    assert not Path(workload.agent_socket).parent.exists()


def _children_of(pid: int) -> list[int]:
    """Every child of ``pid`` that runs Python, zombies included."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rfind(")")]
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        if ppid == pid and name.startswith("python"):
            children.append(int(entry.name))
    return children


def _agent_processes_under(path: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(path).encode() in cmdline and is_alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def _group_members(pgids: list[int]) -> list[int]:
    return [pid for pgid in pgids for pid in group_members(pgid)]


def test_spec_is_frozen():
    spec = WorkloadSpec("arn", "id", "main", ["true"], {}, None)
    with pytest.raises(AttributeError):
        spec.task_id = "other"  # type: ignore[misc]


def test_concurrent_launches_keep_their_output_apart(runner, recorder, spec):
    tasks = [spec(["sh", "-c", f"echo task-{n}; echo err-{n} >&2; exit {n}"]) for n in range(4)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        workloads = list(pool.map(runner.launch, tasks))

    for n, (task, workload) in enumerate(zip(tasks, workloads, strict=True)):
        assert workload.wait(10.0) == n
        assert recorder.lines(task.task_arn, "stdout") == [f"task-{n}".encode()]
        assert recorder.lines(task.task_arn, "stderr") == [f"err-{n}".encode()]
