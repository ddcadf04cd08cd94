"""The agent as a command (``python -m sockerless_sim.agent``), without the workload runner."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sockerless_sim.agent.client import AgentClient, AgentError
from sockerless_sim.agent.protocol import ProtocolError, decode, parse_signal

pytestmark = pytest.mark.timeout(30)

SIMULATOR = str(Path(__file__).resolve().parents[3] / "simulator")


def start_agent(tmp_path: Path, *argv: str, token: str | None = None, extra: tuple[str, ...] = ()):
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": SIMULATOR}
    if token:
        env["SOCKERLESS_AGENT_TOKEN"] = token
    socket_path = tmp_path / "agent.sock"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sockerless_sim.agent",
            "--socket",
            str(socket_path),
            "--log-file",
            str(tmp_path / "agent.log"),
            *extra,
            "--",
            *argv,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    return proc, str(socket_path)


def wait_healthy(socket_path: str, token: str | None = None, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return AgentClient(socket_path, token, timeout=2.0).health()
        except AgentError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=5)


def test_agent_output_is_exactly_the_main_process_output(tmp_path):
    proc, _ = start_agent(tmp_path, "sh", "-c", "echo to-out; echo to-err >&2; exit 4")
    try:
        out, err = proc.communicate(timeout=15)
    finally:
        stop(proc)

    assert (out, err, proc.returncode) == (b"to-out\n", b"to-err\n", 4)
    log = (tmp_path / "agent.log").read_text()
    assert "main process exited: code 4" in log


def test_agent_health_and_sigterm_is_forwarded(tmp_path):
    proc, socket_path = start_agent(tmp_path, "sleep", "60", token="t0ken-value")
    try:
        health = wait_healthy(socket_path)  # no token needed for health
        assert health["status"] == "ok" and health["exited"] is False
        main_pid = health["pid"]
        assert main_pid != proc.pid

        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    finally:
        stop(proc)
    assert proc.returncode == 128 + signal.SIGTERM
    assert not Path(socket_path).exists()
    assert "t0ken-value" not in (tmp_path / "agent.log").read_text()


def test_attach_stdin_reaches_a_main_process_with_open_stdin(tmp_path, read_session):
    proc, socket_path = start_agent(tmp_path, "cat", extra=("--open-stdin",))
    try:
        wait_healthy(socket_path)
        with AgentClient(socket_path, None, timeout=5.0).attach() as session:
            session.send_stdin(b"piped-through\n")
            session.close_stdin()
            assert read_session(session) == (b"piped-through\n", b"", 0)
        out, _ = proc.communicate(timeout=10)
    finally:
        stop(proc)
    assert out == b"piped-through\n"
    assert proc.returncode == 0


def test_attach_stdin_without_open_stdin_is_dropped(tmp_path, read_session):
    proc, socket_path = start_agent(tmp_path, "sleep", "60")
    try:
        wait_healthy(socket_path)
        with AgentClient(socket_path, None, timeout=5.0).attach() as session:
            session.send_stdin(b"nobody reads this")
            assert session.recv(0.3) is None
            session.signal(signal.SIGTERM)
            assert read_session(session) == (b"", b"", 128 + signal.SIGTERM)
    finally:
        stop(proc)


def test_unknown_paths_are_404(tmp_path):
    proc, socket_path = start_agent(tmp_path, "sleep", "60")
    try:
        wait_healthy(socket_path)
        conn = http.client.HTTPConnection("localhost", timeout=5)
        conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.sock.settimeout(5)
        conn.sock.connect(socket_path)
        conn.request("GET", "/nope")
        assert conn.getresponse().status == 404
        conn.close()
    finally:
        stop(proc)


def test_agent_gone_is_a_clear_error(tmp_path):
    with pytest.raises(AgentError, match="agent gone"):
        AgentClient(str(tmp_path / "missing.sock"), None, timeout=1.0).exec(["true"])


@pytest.mark.parametrize(
    ("value", "number"),
    [(15, 15), ("15", 15), ("SIGTERM", 15), ("term", 15), ("KILL", 9), ("SIGINT", 2)],
)
def test_signals_by_number_or_name(value, number):
    assert parse_signal(value) == number


@pytest.mark.parametrize("value", ["SIGNOPE", 999, None, True, 1.5])
def test_bad_signals_are_protocol_errors(value):
    with pytest.raises(ProtocolError):
        parse_signal(value)


@pytest.mark.parametrize("text", ["[]", "{}", '{"type": 1}', '{"type": "exec", "id": 3}', "nope"])
def test_malformed_messages_are_protocol_errors(text):
    with pytest.raises(ProtocolError):
        decode(text)


def test_attach_with_replay_gets_the_output_printed_before_it(tmp_path, read_session):
    go = tmp_path / "go"
    script = f"echo early; echo early-err >&2; while [ ! -e {go} ]; do sleep 0.05; done; echo late"
    proc, socket_path = start_agent(tmp_path, "sh", "-c", script)
    try:
        wait_healthy(socket_path)
        time.sleep(0.3)  # "early" is out before anyone attaches
        client = AgentClient(socket_path, None, timeout=5.0)
        with client.attach() as plain, client.attach(replay=True) as replayed:
            go.touch()
            assert read_session(plain) == (b"late\n", b"", 0)
            assert read_session(replayed) == (b"early\nlate\n", b"early-err\n", 0)
    finally:
        stop(proc)


def test_workdir_and_user_apply_to_the_main_process_and_are_the_exec_defaults(
    tmp_path, read_session
):
    if os.geteuid() != 0:
        pytest.skip("switching users needs root")
    proc, socket_path = start_agent(
        tmp_path, "sh", "-c", 'echo "$(pwd) $(id -u) $HOME"; exec sleep 60',
        extra=("--workdir", "/tmp", "--user", "nobody"),
    )  # fmt: skip
    try:
        wait_healthy(socket_path)
        client = AgentClient(socket_path, None, timeout=5.0)
        with client.exec(["sh", "-c", 'echo "$(pwd) $(id -u)"']) as session:
            assert read_session(session) == (b"/tmp 65534\n", b"", 0)
        with client.exec(["sh", "-c", 'echo "$(pwd) $(id -u)"'], workdir="/", user="0") as session:
            assert read_session(session) == (b"/ 0\n", b"", 0)
        with (
            client.exec(["true"], user="no-such-user") as session,
            pytest.raises(AgentError, match="unable to find user no-such-user"),
        ):
            read_session(session)
    finally:
        stop(proc)
    out, _ = proc.communicate(timeout=5)
    assert out.startswith(b"/tmp 65534 /nonexistent\n")


def test_a_missing_workdir_or_unknown_user_fails_the_start_with_126(tmp_path):
    for extra, message in (
        (("--workdir", "/no/such/dir"), "chdir to cwd ('/no/such/dir') set in config.json failed"),
        (("--user", "no-such-user"), "unable to find user no-such-user"),
    ):
        proc, _ = start_agent(tmp_path, "true", extra=extra)
        try:
            proc.communicate(timeout=15)
        finally:
            stop(proc)
        assert proc.returncode == 126
        assert message in (tmp_path / "agent.log").read_text()


def test_a_stop_delivers_the_stop_signal_to_the_main_process(tmp_path):
    script = 'trap "echo got usr1; exit 0" USR1; trap "" TERM; while :; do sleep 0.05; done'
    proc, socket_path = start_agent(
        tmp_path, "sh", "-c", script, extra=("--stop-signal", "SIGUSR1")
    )
    try:
        wait_healthy(socket_path)
        proc.send_signal(signal.SIGTERM)  # what the workload runner does on StopTask
        out, _ = proc.communicate(timeout=10)
    finally:
        stop(proc)
    assert (out, proc.returncode) == (b"got usr1\n", 0)
