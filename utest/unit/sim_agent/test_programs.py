"""Program lookup in runc's words, PATH confinement, and the image program lists."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sockerless_sim import image_programs
from sockerless_sim.agent.programs import (
    IMAGE_PATH,
    ProgramNotFound,
    confine_path,
    find_executable,
)
from sockerless_sim.image_programs import (
    BUSYBOX_APPLETS,
    ProgramDirectories,
    program_list,
    repository,
)


def _executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_a_name_is_found_in_path_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    _executable(second / "tool")
    _executable(first / "tool")
    assert find_executable("tool", f"{first}:{second}", None) == str(first / "tool")


def test_a_name_not_in_path_is_executable_file_not_found_127(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not executable")
    for path in (str(tmp_path), "", None):
        with pytest.raises(ProgramNotFound) as raised:
            find_executable("plain", path, None)
        assert raised.value.reason == 'exec: "plain": executable file not found in $PATH'
        assert raised.value.exit_code == 127


def test_a_missing_path_is_stat_no_such_file_127() -> None:
    with pytest.raises(ProgramNotFound) as raised:
        find_executable("/does/not/exist", IMAGE_PATH, None)
    reason = 'exec: "/does/not/exist": stat /does/not/exist: no such file or directory'
    assert (raised.value.reason, raised.value.exit_code) == (reason, 127)


def test_a_directory_or_a_plain_file_is_permission_denied_126(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("x")
    for name in ("/", str(tmp_path / "data")):
        with pytest.raises(ProgramNotFound) as raised:
            find_executable(name, IMAGE_PATH, None)
        assert (raised.value.reason, raised.value.exit_code) == (
            f'exec: "{name}": permission denied',
            126,
        )


def test_a_relative_name_with_a_slash_is_taken_from_the_working_directory(tmp_path: Path) -> None:
    _executable(tmp_path / "run.sh")
    assert find_executable("./run.sh", "", str(tmp_path)) == "./run.sh"
    with pytest.raises(ProgramNotFound):
        find_executable("./missing.sh", "", str(tmp_path))


def test_confine_path_keeps_only_the_program_directory() -> None:
    cases = {
        IMAGE_PATH: "/p",
        "/usr/bin:/opt/tools/bin:/bin": "/p",
        "/opt/tools/bin": "",
        "": "",
    }
    for given, confined in cases.items():
        env = {"PATH": given}
        confine_path(env, "/p")
        assert env == {"PATH": confined}, given
    unset: dict[str, str] = {}
    confine_path(unset, "/p")
    assert unset == {}


@pytest.mark.parametrize(
    ("image", "name"),
    [
        ("alpine", "alpine"),
        ("alpine:3.19", "alpine"),
        ("docker.io/library/alpine:latest", "alpine"),
        ("library/busybox", "busybox"),
        ("public.ecr.aws/docker/library/alpine:latest", "alpine"),
        ("alpine@sha256:" + "0" * 64, "alpine"),
        ("localhost:5000/alpine:1", "localhost:5000/alpine"),
        ("python:3.12-slim", "python"),
        ("myorg/alpine", "myorg/alpine"),
    ],
)
def test_repository_of_an_image_reference(image: str, name: str) -> None:
    assert repository(image) == name


def test_only_alpine_and_busybox_have_program_lists() -> None:
    assert program_list("alpine:latest") == ("busybox-applets", BUSYBOX_APPLETS)
    assert program_list("busybox") == ("busybox-applets", BUSYBOX_APPLETS)
    for image in ("python:3.12-slim", "ubuntu", "myorg/alpine", "localhost:5000/alpine"):
        assert program_list(image) is None, image
    assert {"sh", "echo", "printf", "sleep", "tail", "cat", "env", "kill"} <= BUSYBOX_APPLETS
    assert not {"bash", "python3", "perl", "curl"} & BUSYBOX_APPLETS


def test_the_program_directory_links_the_applets_to_busybox(tmp_path: Path) -> None:
    host_busybox = shutil.which("busybox")
    if host_busybox is None:
        pytest.skip("no busybox on this host (Debian: busybox-static)")
    directories = ProgramDirectories(tmp_path / "work" / "programs")

    directory = directories.directory_for("alpine:3.19")

    assert directory is not None
    assert directories.directory_for("busybox") == directory  # one directory per list
    assert directories.directory_for("python:3.12-slim") is None
    linked = {entry.name for entry in directory.iterdir()}
    assert {"sh", "tail", "env"} <= linked <= BUSYBOX_APPLETS
    assert "bash" not in linked
    assert (directory / "sh").readlink() == Path(host_busybox).resolve()
    assert (tmp_path / "work").stat().st_mode & 0o111 == 0o111  # reachable for any User


def test_without_busybox_the_applets_link_to_host_programs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(image_programs, "_host_busybox", lambda: None)

    directory = ProgramDirectories(tmp_path / "programs").directory_for("alpine")

    assert directory is not None
    host_sh = shutil.which("sh", path=IMAGE_PATH)
    assert host_sh is not None
    assert (directory / "sh").readlink() == Path(host_sh)
    assert not (directory / "bash").exists()
    linked = {entry.name for entry in directory.iterdir()}
    assert linked <= BUSYBOX_APPLETS
