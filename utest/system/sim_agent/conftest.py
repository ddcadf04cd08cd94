"""Fixtures for the agent and workload-runner tests: real processes, a real WebSocket."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sockerless_sim.agent.client import AgentClient, ExecSession
from sockerless_sim.workloads import Workload, WorkloadRunner, WorkloadSpec


class OutputRecorder:
    """Collects ``on_output`` calls and lets a test wait for them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bytes, int]] = []
        self._cond = threading.Condition()

    def __call__(self, task_arn: str, stream: str, line: bytes, ts_ms: int) -> None:
        with self._cond:
            self.calls.append((task_arn, stream, line, ts_ms))
            self._cond.notify_all()

    def lines(self, task_arn: str, stream: str) -> list[bytes]:
        with self._cond:
            return [c[2] for c in self.calls if c[0] == task_arn and c[1] == stream]

    def wait_for_line(self, task_arn: str, stream: str, line: bytes, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(
                lambda: line in [c[2] for c in self.calls if c[0] == task_arn and c[1] == stream],
                timeout,
            )


@pytest.fixture
def recorder() -> OutputRecorder:
    return OutputRecorder()


@pytest.fixture
def runner(tmp_path: Path, recorder: OutputRecorder) -> Iterator[WorkloadRunner]:
    workload_runner = WorkloadRunner(str(tmp_path / "work"), recorder)
    yield workload_runner
    workload_runner.shutdown()


_counter = iter(range(1_000_000))


def make_spec(
    argv: list[str], *, env: dict[str, str] | None = None, token: str | None = None
) -> WorkloadSpec:
    """A spec with a unique task id."""
    task_id = f"{next(_counter):04d}{secrets.token_hex(6)}"
    return WorkloadSpec(
        task_arn=f"arn:aws:ecs:us-east-1:123456789012:task/sockerless-sim/{task_id}",
        task_id=task_id,
        container_name="main",
        argv=argv,
        env=dict(env or {}),
        agent_token=token,
    )


@pytest.fixture
def spec() -> Callable[..., WorkloadSpec]:
    return make_spec


@pytest.fixture
def token() -> str:
    return secrets.token_hex(32)


@pytest.fixture
def long_running(runner: WorkloadRunner, token: str) -> Workload:
    """A task running ``tail -f /dev/null`` with an agent token, like TST-010's exec container."""
    return runner.launch(make_spec(["tail", "-f", "/dev/null"], token=token))


@pytest.fixture
def client(long_running: Workload) -> AgentClient:
    return AgentClient(long_running.agent_socket, long_running.agent_token, timeout=5.0)


def collect(session: ExecSession, timeout: float = 10.0) -> tuple[bytes, bytes, int]:
    """Read a session to its exit: (stdout, stderr, exit code); fails on a stall."""
    out, err = b"", b""
    deadline = time.monotonic() + timeout
    while True:
        event = session.recv(max(deadline - time.monotonic(), 0.0))
        assert event is not None, f"session stalled; so far stdout={out!r} stderr={err!r}"
        kind, value = event
        if kind == "exit":
            assert isinstance(value, int)
            return out, err, value
        assert isinstance(value, bytes)
        if kind == "stdout":
            out += value
        else:
            assert kind == "stderr"
            err += value


@pytest.fixture
def read_session() -> Callable[..., tuple[bytes, bytes, int]]:
    return collect


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout``; the final answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture
def eventually() -> Callable[..., bool]:
    return wait_until
