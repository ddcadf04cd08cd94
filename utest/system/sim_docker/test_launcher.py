"""The launcher and the CLI: ready line, startup time, clean shutdown, no process left behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from wire_helpers import RawClient, build_request, parse_response, recv_all

from sockerless_sim.launcher import SimulatorProcess, SimulatorStartError

pytestmark = pytest.mark.timeout(90)


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] in ("Z", "X"):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def _wait_gone(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = {pid for pid in pids if _alive(pid)}
        if not left:
            return set()
        time.sleep(0.05)
    return {pid for pid in pids if _alive(pid)}


@pytest.mark.timing
def test_start_reports_ready_quickly_and_stop_leaves_nothing() -> None:
    began = time.monotonic()
    sim = SimulatorProcess.start(ready_timeout=20)
    startup = time.monotonic() - began
    try:
        info = sim.info
        assert info.pid == sim.pid
        assert Path(info.socket_path).is_socket()
        assert info.aws_endpoint_url.startswith("http://127.0.0.1:")
        assert info.cluster == "sockerless-sim"
        assert info.subnets and info.security_groups
        assert info.log_group == "/sockerless"
        print(f"\nsimulator startup (launcher start -> ready line): {startup:.2f} s")
        assert startup < 5.0  # 2 s on an idle machine; shared CI cores get some slack
        client = RawClient(info.socket_path)
        client.run(["tail", "-f", "/dev/null"])
        client.run(["sleep", "300"])
        below = _descendants(sim.pid)
        assert len(below) >= 4  # two agents, each with its command
    finally:
        sim.stop()
    assert sim.returncode == 0  # SIGTERM is a clean shutdown
    assert not Path(info.socket_path).exists()
    assert not Path(info.socket_path).parent.exists()  # the launcher's temp dir
    assert _wait_gone(below | {sim.pid}, 5.0) == set()
    sim.stop()  # idempotent


def test_tcp_on_localhost_and_sigint_is_a_clean_shutdown_too(tmp_path: Path) -> None:
    socket_path = str(tmp_path / "given.sock")
    sim = SimulatorProcess.start(socket_path, extra_args=["--tcp-port", "0"], ready_timeout=20)
    assert sim.info.socket_path == socket_path
    assert sim.info.tcp_port
    with socket.create_connection(("127.0.0.1", sim.info.tcp_port), timeout=10) as sock:
        sock.sendall(build_request("GET", "/v1.44/_ping"))
        assert parse_response(recv_all(sock)).body == b"OK"
    os.kill(sim.pid, signal.SIGINT)
    deadline = time.monotonic() + 10
    while sim.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sim.returncode == 0
    assert not Path(socket_path).exists()
    sim.stop()


def test_a_bad_argument_fails_start_with_the_stderr_tail() -> None:
    with pytest.raises(SimulatorStartError) as failure:
        SimulatorProcess.start(extra_args=["--quirk", "no-such-quirk"], ready_timeout=20)
    message = str(failure.value)
    assert "exited with code 2" in message
    assert "invalid choice" in message


def test_silence_past_the_ready_timeout_fails_start_and_kills_the_child() -> None:
    before = _descendants(os.getpid())
    with pytest.raises(SimulatorStartError, match="did not report ready within"):
        SimulatorProcess.start(ready_timeout=0.05)
    assert _wait_gone(_descendants(os.getpid()) - before, 5.0) == set()


def test_the_simulator_dies_with_its_parent(tmp_path: Path) -> None:
    socket_path = tmp_path / "orphan.sock"
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from sockerless_sim.launcher import SimulatorProcess
        sim = SimulatorProcess.start({str(socket_path)!r}, ready_timeout=20)
        print(json.dumps({{"pid": sim.pid}}), flush=True)
        time.sleep(120)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        sim_pid = json.loads(line)["pid"]
        assert _alive(sim_pid)
        below = _descendants(sim_pid)
        parent.kill()  # no cleanup code runs in the parent
        parent.wait(5)
        assert _wait_gone(below | {sim_pid}, 10.0) == set()
        assert not socket_path.exists()
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(5)


@pytest.mark.timeout(60)
def test_with_simulator_hands_one_simulator_to_a_command_and_reports_its_stats(
    tmp_path: Path,
) -> None:
    stats_file = tmp_path / "stats.json"
    seen = tmp_path / "seen.json"
    probe = (
        "import json, os, socket, sys; "
        "path = os.environ['SOCKERLESS_HOST'].removeprefix('unix://'); "
        "s = socket.socket(socket.AF_UNIX); s.connect(path); s.close(); "
        "json.dump({k: v for k, v in os.environ.items() if k.startswith(('SOCKERLESS_', 'AWS_'))},"
        " open(sys.argv[1], 'w')); sys.exit(3)"
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sockerless_sim.with_simulator",
            "--stats-file",
            str(stats_file),
            "--",
            sys.executable,
            "-c",
            probe,
            str(seen),
        ],
        timeout=50,
        check=False,
    )
    assert completed.returncode == 3  # the command's own status
    env = json.loads(seen.read_text())
    assert env["SOCKERLESS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["SOCKERLESS_ECS_SUBNETS"] and env["SOCKERLESS_ECS_SECURITY_GROUPS"]
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    stats = json.loads(stats_file.read_text())
    assert stats["aws"]["tasks_launched"] == 0
    assert not Path(env["SOCKERLESS_HOST"].removeprefix("unix://")).exists()  # stopped after
