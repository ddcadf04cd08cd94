"""``peers.docker_engine`` itself: the image it builds, what it says when it cannot run, and the
``run`` command line end to end (its own engine, the command's exit code, nothing left behind)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from peers import docker_engine
from peers.docker_engine import (
    REQUIRED_APPLETS,
    UNAVAILABLE_EXIT_CODE,
    EngineInfo,
    busybox_rootfs,
    find_static_busybox,
    is_static_executable,
    mounts_under,
    processes_of,
)

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[3]


def test_the_rootfs_is_a_static_busybox_with_its_applets(engine: EngineInfo) -> None:
    busybox = find_static_busybox()
    assert busybox is not None and is_static_executable(busybox)
    assert not is_static_executable(sys.executable)  # a dynamically linked program
    with tarfile.open(fileobj=io.BytesIO(busybox_rootfs(busybox))) as tar:
        members = {member.name: member for member in tar.getmembers()}
    assert members["bin/busybox"].isfile() and members["bin/busybox"].mode == 0o755
    for applet in REQUIRED_APPLETS:
        link = members[f"bin/{applet}"]
        assert link.issym() and link.linkname == "/bin/busybox", applet
    assert members["tmp"].mode == 0o1777
    assert members["etc/passwd"].isfile()


def test_mountinfo_escapes_are_undone(tmp_path: Path) -> None:
    assert docker_engine._unescape_mount_path(r"/tmp/a\040b\011c\134d") == "/tmp/a b\tc\\d"
    assert mounts_under(tmp_path) == []  # nothing is mounted in a fresh directory
    assert processes_of(tmp_path) == []


def test_unavailable_says_why_and_runs_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(
        docker_engine, "availability", lambda: (False, "a test says there is none here.")
    )
    marker = tmp_path / "ran"
    code = docker_engine.main(["run", "--", "touch", str(marker)])
    assert code == UNAVAILABLE_EXIT_CODE == 77
    assert capsys.readouterr().out == (
        "docker engine: unavailable: a test says there is none here.\n"
    )
    assert not marker.exists()
    assert docker_engine.main(["check"]) == 77
    assert capsys.readouterr().out == (
        "docker engine: unavailable: a test says there is none here.\n"
    )


def test_run_hands_its_engine_to_the_command_and_cleans_up(engine: EngineInfo) -> None:
    """A second engine, beside the session's: the command gets its address and exit code."""
    script = (
        "import os, socket, sys; host = os.environ['PEER_DOCKER']; "
        "s = socket.socket(socket.AF_UNIX); s.connect(host.removeprefix('unix://')); "
        "s.sendall(b'GET /_ping HTTP/1.0\\r\\n\\r\\n'); "
        "print(s.recv(4096).split(b'\\r\\n')[0].decode()); sys.exit(5)"
    )
    engine_cli = [sys.executable, "-m", "peers.docker_engine", "run", "--env-var", "PEER_DOCKER"]
    result = subprocess.run(
        [*engine_cli, "--", sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 5, result.stderr
    assert result.stdout == "HTTP/1.0 200 OK\n"
    ready = re.search(r"docker engine: ready: PEER_DOCKER=unix://(\S+)/docker.sock", result.stderr)
    assert ready, result.stderr
    assert re.search(r"docker engine: stopped in \d+\.\d s", result.stderr)
    root = Path(ready.group(1))
    assert root != Path(engine.root)
    assert not root.exists() and processes_of(root) == [] and mounts_under(root) == []
    assert Path(engine.socket_path).exists()  # the session's engine is untouched
