"""Exec, attach and auth against a real agent over its real WebSocket."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import pytest
import websocket

from sockerless_sim.agent.client import AgentClient, AgentError, ExecStartError
from sockerless_sim.agent.procutil import is_alive
from sockerless_sim.agent.protocol import decode, decode_data, encode_data

pytestmark = pytest.mark.timeout(30)


def test_health_reports_the_main_process(long_running, client):
    health = client.health()

    assert health == {"status": "ok", "pid": long_running.main_pid, "exited": False}
    assert is_alive(long_running.main_pid)


def test_exec_echo_gives_stdout_and_exit_zero(client, read_session):
    with client.exec(["echo", "exec-works"]) as session:
        assert read_session(session) == (b"exec-works\n", b"", 0)


def test_exec_exit_code_is_reported(client, read_session):
    with client.exec(["sh", "-c", "exit 7"]) as session:
        assert read_session(session)[2] == 7


def test_exec_keeps_stderr_apart_from_stdout(client, read_session):
    with client.exec(["sh", "-c", "echo to-out; echo to-err >&2; exit 2"]) as session:
        assert read_session(session) == (b"to-out\n", b"to-err\n", 2)


def test_exec_env_and_workdir_are_applied(client, read_session, tmp_path):
    with client.exec(
        ["sh", "-c", 'echo "$GREETING from $(pwd)"'], env={"GREETING": "hi"}, workdir=str(tmp_path)
    ) as session:
        assert read_session(session) == (f"hi from {tmp_path}\n".encode(), b"", 0)


def test_exec_stdin_and_close_stdin_reach_the_command(client, read_session):
    with client.exec(["cat"]) as session:
        session.send_stdin(b"first line\n")
        session.send_stdin(b"second")
        session.close_stdin()
        assert read_session(session) == (b"first line\nsecond", b"", 0)


def test_signal_to_an_exec_gives_128_plus_n(client, read_session):
    with client.exec(["sleep", "60"]) as session:
        session.signal(signal.SIGTERM)
        assert read_session(session, timeout=5.0)[2] == 128 + signal.SIGTERM


def test_exec_of_a_missing_command_is_a_start_failure_in_runc_words(client):
    with client.exec(["no-such-command-xyz"]) as session, pytest.raises(ExecStartError) as raised:
        session.recv(5.0)
    assert raised.value.reason == 'exec: "no-such-command-xyz": executable file not found in $PATH'


def test_a_bare_env_name_unsets_the_container_variable_for_the_exec(client, read_session):
    with client.exec(
        ["sh", "-c", 'echo "${HOME-unset} ${NEW-unset} [$EMPTY]"'], env=["HOME", "NEW", "EMPTY="]
    ) as session:
        assert read_session(session) == (b"unset unset []\n", b"", 0)


def test_an_env_entry_without_a_name_is_a_start_failure(client):
    with client.exec(["env"], env=["=x"]) as session, pytest.raises(ExecStartError) as raised:
        session.recv(5.0)
    assert raised.value.reason == 'environment variable name can\'t be empty: "=x"'


def test_recv_returns_none_on_timeout_and_the_session_continues(client, read_session):
    with client.exec(["sh", "-c", "read x; echo got-$x"]) as session:
        assert session.recv(0.2) is None
        session.send_stdin(b"it\n")
        assert read_session(session) == (b"got-it\n", b"", 0)


def test_tty_exec_runs_on_a_terminal(client, read_session):
    with client.exec(["sh", "-c", "test -t 0 && test -t 1 && echo on-a-tty"], tty=True) as session:
        session.resize(120, 40)
        out, err, code = read_session(session)
    assert (out.strip(), err, code) == (b"on-a-tty", b"", 0)


def test_wrong_token_is_refused_with_401_and_never_echoed(long_running, token):
    wrong = "wrong-" + token[:8]
    with pytest.raises(AgentError) as raised:
        AgentClient(long_running.agent_socket, wrong, timeout=5.0).exec(["echo", "x"])
    with pytest.raises(AgentError) as missing:
        AgentClient(long_running.agent_socket, None, timeout=5.0).exec(["echo", "x"])

    assert "401" in str(raised.value)
    assert "401" in str(missing.value)
    for text in (str(raised.value), str(missing.value), long_running.log_path.read_text()):
        assert token not in text
        assert wrong not in text
    assert token.encode() not in Path(f"/proc/{long_running.pid}/cmdline").read_bytes()


def test_token_in_the_query_string_is_accepted(long_running, token):
    sock = _unix_socket(long_running.agent_socket)
    ws = websocket.create_connection(f"ws://localhost/ws?token={token}", socket=sock, timeout=5)
    try:
        ws.send(json.dumps({"type": "exec", "id": "q", "cmd": ["echo", "query-auth"]}))
        messages = _read_until_exit(ws, "q")
    finally:
        ws.close()
    assert messages[-1] == {"type": "exit", "id": "q", "code": 0}
    assert b"".join(decode_data(m) for m in messages if m["type"] == "stdout") == b"query-auth\n"


def test_two_sessions_on_one_websocket_are_kept_apart(long_running, token):
    sock = _unix_socket(long_running.agent_socket)
    ws = websocket.create_connection(
        "ws://localhost/ws", socket=sock, header=[f"Authorization: Bearer {token}"], timeout=5
    )
    try:
        for session_id in ("a", "b"):
            ws.send(
                json.dumps(
                    {"type": "exec", "id": session_id, "cmd": ["sh", "-c", "read x; echo $x"]}
                )
            )
        # Answer in the opposite order: each session must get only its own input and output.
        ws.send(json.dumps({"type": "stdin", "id": "b", "data": encode_data(b"for-b\n")}))
        ws.send(json.dumps({"type": "stdin", "id": "a", "data": encode_data(b"for-a\n")}))
        messages = _read_until_exit(ws, "a", "b")
    finally:
        ws.close()
    for session_id in ("a", "b"):
        mine = [m for m in messages if m["id"] == session_id]
        assert b"".join(decode_data(m) for m in mine if m["type"] == "stdout") == (
            f"for-{session_id}\n".encode()
        )
        assert mine[-1] == {"type": "exit", "id": session_id, "code": 0}


def test_two_concurrent_clients(client, read_session):
    first = client.exec(["sh", "-c", "read x; echo one-$x"])
    second = client.exec(["sh", "-c", "read x; echo two-$x"])
    try:
        second.send_stdin(b"b\n")
        assert read_session(second) == (b"two-b\n", b"", 0)
        first.send_stdin(b"a\n")
        assert read_session(first) == (b"one-a\n", b"", 0)
    finally:
        first.close()
        second.close()


def test_protocol_errors_are_reported_not_fatal(long_running, token, eventually):
    sock = _unix_socket(long_running.agent_socket)
    ws = websocket.create_connection(
        "ws://localhost/ws", socket=sock, header=[f"Authorization: Bearer {token}"], timeout=5
    )
    try:
        ws.send("not json")
        assert decode(ws.recv())["type"] == "error"
        ws.send(json.dumps({"type": "stdin", "id": "ghost", "data": ""}))
        assert decode(ws.recv()) == {
            "type": "error",
            "id": "ghost",
            "message": "no such session: 'ghost'",
        }
        # A broken message for a live session ends that session, process included.
        ws.send(
            json.dumps(
                {"type": "exec", "id": "doomed", "cmd": ["sh", "-c", "echo $$; exec sleep 60"]}
            )
        )
        pid = int(decode_data(decode(ws.recv())))
        ws.send(json.dumps({"type": "signal", "id": "doomed", "signal": "SIGNOPE"}))
        assert decode(ws.recv()) == {
            "type": "error",
            "id": "doomed",
            "message": "unknown signal: 'SIGNOPE'",
        }
        assert eventually(lambda: not is_alive(pid), 5.0)
        ws.send(json.dumps({"type": "exec", "id": "ok", "cmd": ["true"]}))
        assert _read_until_exit(ws, "ok") == [{"type": "exit", "id": "ok", "code": 0}]
    finally:
        ws.close()


def test_stdin_after_close_stdin_is_dropped(client, read_session):
    with client.exec(["cat"]) as session:
        session.send_stdin(b"kept")
        session.close_stdin()
        session.send_stdin(b"dropped")
        assert read_session(session) == (b"kept", b"", 0)


def test_closing_the_connection_kills_an_unfinished_exec(client, eventually):
    session = client.exec(["sh", "-c", "echo $$; exec sleep 60"])
    event = session.recv(5.0)
    assert event is not None and event[0] == "stdout"
    pid = int(event[1])
    session.close()
    assert eventually(lambda: not is_alive(pid), 5.0)


def test_signal_main_reaches_the_main_process(long_running, client):
    client.signal_main(signal.SIGTERM)
    assert long_running.wait(5.0) == 128 + signal.SIGTERM


def test_execs_do_not_outlive_the_main_process(long_running, client, eventually):
    session = client.exec(["sh", "-c", "echo $$; exec sleep 60"])
    event = session.recv(5.0)
    assert event is not None and event[0] == "stdout"
    exec_pid = int(event[1])

    long_running.terminate(5.0)

    assert long_running.wait(5.0) == 143
    assert session.recv(5.0) == ("exit", 128 + signal.SIGKILL)
    assert not is_alive(exec_pid)
    session.close()


def _unix_socket(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(path)
    return sock


def _read_until_exit(ws, *session_ids: str) -> list[dict]:
    pending = set(session_ids)
    messages = []
    while pending:
        message = decode(ws.recv())
        messages.append(message)
        assert message["type"] != "error", message
        if message["type"] == "exit":
            pending.discard(message["id"])
    return messages


def test_agent_process_has_the_token_only_in_its_environment(long_running, token):
    environ = Path(f"/proc/{long_running.pid}/environ").read_bytes().split(b"\0")
    assert f"SOCKERLESS_AGENT_TOKEN={token}".encode() in environ
    assert Path(long_running.agent_socket).exists()


def test_a_session_whose_agent_dies_raises_agent_error(long_running, client):
    session = client.exec(["sleep", "60"])
    assert session.recv(0.2) is None

    long_running.close()

    with pytest.raises(AgentError, match="agent"):
        while session.recv(5.0) is not None:
            pass
    session.close()
