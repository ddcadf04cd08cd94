"""Every step of a check sees the same programs: ``tasks.py`` installs busybox-static before the
first step when it is missing (root and apt-get, ``peers.docker_engine``'s installer, bounded),
and says so when it cannot; the Docker Engine steps no longer install it mid-check."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

import tasks
from peers import docker_engine


def test_a_present_package_installs_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(docker_engine, "package_missing", lambda package: False)

    def forbidden(*_: Any, **__: Any) -> float:
        raise AssertionError("apt-get ran for a package that is installed")

    monkeypatch.setattr(docker_engine, "install_packages", forbidden)
    assert docker_engine.main(["install", "busybox-static"]) == 0
    assert capsys.readouterr().out == "docker engine: installed: busybox-static\n"


def test_a_missing_package_is_installed_alone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    installed: list[tuple[str, ...]] = []
    monkeypatch.setattr(docker_engine, "package_missing", lambda package: not installed)

    def install(log: Any, *, update_timeout: float, install_timeout: float, packages: Any) -> float:
        assert (update_timeout, install_timeout) == (180.0, 300.0)
        installed.append(packages)
        return 12.0

    monkeypatch.setattr(docker_engine, "install_packages", install)
    argv = ["install", "busybox-static", "--update-timeout", "180", "--install-timeout", "300"]
    assert docker_engine.main(argv) == 0
    assert installed == [("busybox-static",)]
    assert capsys.readouterr().out == "docker engine: installed busybox-static in 12 s\n"


def test_without_root_it_says_why_and_exits_77(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(docker_engine, "package_missing", lambda package: True)
    monkeypatch.setattr(docker_engine.os, "geteuid", lambda: 1000)
    assert docker_engine.main(["install", "busybox-static"]) == docker_engine.UNAVAILABLE_EXIT_CODE
    assert capsys.readouterr().out == (
        "docker engine: not installed: busybox-static: installing busybox-static needs root "
        "(this process runs as uid 1000).\n"
    )


def test_an_unknown_package_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        docker_engine.main(["install", "bash"])
    assert exited.value.code == 2
    assert "unknown package bash: choose from docker.io, busybox-static" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("code", "said", "line"),
    [
        (0, "docker engine: installed: busybox-static", "setup: installed: busybox-static"),
        (
            77,
            "docker engine: not installed: busybox-static: installing busybox-static needs root "
            "(this process runs as uid 1000).",
            "setup: not installed: busybox-static: installing busybox-static needs root (this "
            "process runs as uid 1000); the simulator's alpine and busybox tasks run this host's "
            "programs of the same names instead",
        ),
    ],
)
def test_tasks_py_says_what_the_installer_did(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    code: int,
    said: str,
    line: str,
) -> None:
    ran: list[list[str]] = []

    def installer(command: list[str], **how: Any) -> subprocess.CompletedProcess[str]:
        ran.append(command)
        assert how["timeout"] <= 10 * 60  # bounded
        return subprocess.CompletedProcess(command, code, said + "\n", "")

    monkeypatch.setattr(tasks.subprocess, "run", installer)
    tasks.ensure_busybox()
    assert ran[0][1:5] == ["-m", "peers.docker_engine", "install", "busybox-static"]
    assert capsys.readouterr().out == line + "\n"


@pytest.mark.parametrize("command", ["test", "ecs", "impostor", "examples", "installed-kit"])
def test_a_check_with_a_simulator_ensures_busybox_before_its_first_step(
    monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    order: list[str] = []
    monkeypatch.setattr(tasks, "setup", lambda: order.append("setup"))
    monkeypatch.setattr(tasks, "ensure_busybox", lambda: order.append("busybox"))
    checks = {**tasks.CHECKS, **tasks.CHECKS_WITH_ARGUMENTS}
    monkeypatch.setitem(
        tasks.CHECKS if command in tasks.CHECKS else tasks.CHECKS_WITH_ARGUMENTS,
        command,
        lambda *_: order.append("steps"),
    )
    assert command in checks
    tasks.main([command])
    assert order == ["setup", "busybox", "steps"]


@pytest.mark.parametrize("command", ["unit", "lint", "docs", "setup"])
def test_a_check_without_a_simulator_leaves_the_hosts_programs_alone(
    monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    order: list[str] = []
    monkeypatch.setattr(tasks, "setup", lambda: order.append("setup"))
    monkeypatch.setattr(tasks, "ensure_busybox", lambda: order.append("busybox"))
    if command != "setup":
        monkeypatch.setitem(tasks.CHECKS, command, lambda *_: order.append("steps"))
    tasks.main([command])
    assert "busybox" not in order
