"""The start-up self-check: silent on moto 5.2.5, loud and specific when an internal moved."""

from __future__ import annotations

import threading
from typing import Any

import moto
import pytest
from moto.ecs.models import EC2ContainerServiceBackend, Task
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_server import werkzeug_app

from sockerless_sim.aws.plane import AwsPlane, SelfCheckError
from sockerless_sim.aws.selfcheck import check_moto_internals, find_problems
from sockerless_sim.config import SimConfig
from sockerless_sim.workloads import WorkloadRunner


def failure() -> str:
    with pytest.raises(SelfCheckError) as caught:
        check_moto_internals()
    return str(caught.value)


def test_passes_on_the_pinned_moto() -> None:
    assert moto.__version__ == "5.2.5"
    assert find_problems() == []
    check_moto_internals()


def test_names_a_missing_response_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(EC2ContainerServiceResponse, "stop_task")

    assert "moto.ecs.responses.EC2ContainerServiceResponse.stop_task is missing" in failure()


def test_names_a_changed_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    def describe_task_definition(self: Any, task_definition: str, include: Any = None) -> Any:
        raise AssertionError("never called")

    monkeypatch.setattr(
        EC2ContainerServiceBackend, "describe_task_definition", describe_task_definition
    )

    message = failure()
    assert "EC2ContainerServiceBackend.describe_task_definition parameters changed" in message
    assert "('task_definition', 'include')" in message


def test_names_an_attribute_the_constructor_no_longer_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    def __init__(self: Any, cluster: Any) -> None:
        self.id = "x"

    monkeypatch.setattr(Task, "__init__", __init__)

    message = failure()
    assert "moto.ecs.models.Task.__init__ no longer assigns self.cluster_name" in message
    assert "self.desired_status" in message


def test_names_a_property_that_lost_its_setter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Task, "last_status", property(lambda self: "RUNNING"))

    assert "moto.ecs.models.Task.last_status has no setter any more" in failure()


def test_names_a_different_moto_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", "5.3.0")

    assert "moto 5.3.0 is installed, the simulator is written against 5.2.5" in failure()


def test_plane_refuses_to_start_and_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delattr(werkzeug_app, "create_backend_app")
    threads_before = set(threading.enumerate())
    config = SimConfig(workdir=str(tmp_path))
    plane = AwsPlane(config, lambda on_output: WorkloadRunner(config.workdir, on_output))

    with pytest.raises(SelfCheckError, match=r"werkzeug_app\.create_backend_app is missing"):
        plane.start()

    assert set(threading.enumerate()) <= threads_before
    assert EC2ContainerServiceResponse.run_task.__module__ == "moto.ecs.responses"
