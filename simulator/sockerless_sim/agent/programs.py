"""Which program a process name starts, and what runc says when there is none.

A task of an image with a program list (``sockerless_sim.image_programs``) gets a directory
holding exactly that image's programs: the directories of the image's ``PATH`` become that
directory, so ``bash`` is not found on ``alpine`` although this host has it. There is no root
filesystem: a program named by an absolute path is looked up on this host.

``find_executable`` follows Go's ``exec.LookPath`` (what runc uses), so a process that cannot
be started fails with runc's words, e.g. ``exec: "bash": executable file not found in $PATH``
or ``exec: "/does/not/exist": stat /does/not/exist: no such file or directory``.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import MutableMapping
from pathlib import Path

# The PATH of the alpine and busybox images (their image config's ``Env``), in its order.
IMAGE_PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
IMAGE_PATH = ":".join(IMAGE_PATH_DIRS)

NOT_FOUND_EXIT_CODE = 127  # Docker's exit code for a command that does not exist
CANNOT_RUN_EXIT_CODE = 126  # and for one that cannot be executed


class ProgramNotFound(Exception):
    """A process cannot be started: ``reason`` in runc's words, ``exit_code`` 126 or 127."""

    def __init__(self, reason: str, exit_code: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.exit_code = exit_code


def quoted(text: str) -> str:
    """``text`` as Go's ``%q`` prints a plain string (runc quotes the program name so)."""
    return json.dumps(text, ensure_ascii=False)


def confine_path(env: MutableMapping[str, str], programs: str) -> None:
    """Make ``env``'s PATH reach only the image's programs: the image's own ``PATH``
    directories become ``programs`` (once); any other directory is dropped, since the image
    has nothing there. An unset PATH stays unset (nothing is found then, as with runc)."""
    if "PATH" in env:
        entries = env["PATH"].split(":")
        env["PATH"] = programs if any(entry in IMAGE_PATH_DIRS for entry in entries) else ""


def _is_executable_file(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) and bool(mode & 0o111)


def find_executable(name: str, path: str | None, cwd: str | None) -> str:
    """The file ``name`` starts, as runc finds it (Go's ``exec.LookPath``): a name with a ``/``
    is that file (relative to ``cwd``); any other is searched in ``path`` (an empty entry is
    the working directory). Raises ``ProgramNotFound`` with runc's reason."""
    if "/" in name:
        target = Path(cwd or ".", name)
        try:
            mode = target.stat().st_mode
        except FileNotFoundError:
            raise ProgramNotFound(
                f"exec: {quoted(name)}: stat {name}: no such file or directory",
                NOT_FOUND_EXIT_CODE,
            ) from None
        except OSError as exc:
            raise ProgramNotFound(
                f"exec: {quoted(name)}: stat {name}: {os.strerror(exc.errno or 0).lower()}",
                CANNOT_RUN_EXIT_CODE,
            ) from None
        if stat.S_ISDIR(mode) or not mode & 0o111:
            raise ProgramNotFound(f"exec: {quoted(name)}: permission denied", CANNOT_RUN_EXIT_CODE)
        return name
    for directory in (path or "").split(":") if path else []:
        candidate = Path(cwd or ".", directory or ".", name)
        if _is_executable_file(candidate):
            return str(candidate)
    raise ProgramNotFound(
        f"exec: {quoted(name)}: executable file not found in $PATH", NOT_FOUND_EXIT_CODE
    )
