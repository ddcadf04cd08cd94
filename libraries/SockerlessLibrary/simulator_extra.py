"""Whether this environment can run the embedded simulator, asked before it is started.

The simulator patches moto's internals and wraps botocore's loader, so it runs only on the exact
versions it was written against. Those pins belong to the kit's ``simulator`` extra alone
(``pip install "sockerless-ecs-acceptance[simulator]"``): installing the kit without it forces
no boto3 on a team's environment. This module reads the extra's pins from the kit's own
distribution metadata and compares them with what is installed, so that a run on the embedded
simulator without them fails at once with the command that fixes it, instead of with a
traceback of the simulator's child process. Without distribution metadata (a bare checkout on
``PYTHONPATH``) there is nothing to compare with, and the simulator's own self-check decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, requires, version

from .errors import ConfigurationError
from .version import __version__

DISTRIBUTION = "sockerless-ecs-acceptance"
EXTRA = "simulator"
# `moto[server]==5.2.5; extra == "simulator"`, as the wheel's METADATA lists an extra's pin.
_PINNED = re.compile(
    r"""^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*(?P<version>[^\s;]+)
        \s*;\s*(?P<marker>.*)$""",
    re.VERBOSE,
)
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["'](?P<extra>[^"']+)["']""")


def pinned_by_extra(requirements: Iterable[str]) -> dict[str, str]:
    """``{distribution: version}`` for each exact pin that only the ``simulator`` extra asks for."""
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = _PINNED.match(requirement)
        if match is None:
            continue
        marker = _EXTRA_MARKER.search(match["marker"])
        if marker is not None and marker["extra"] == EXTRA:
            pins[match["name"].lower()] = match["version"]
    return pins


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, ``None`` when it is not installed."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def check_simulator_environment(
    metadata_requires: Callable[[str], list[str] | None] = requires,
    installed: Callable[[str], str | None] = installed_version,
) -> None:
    """Raise ``ConfigurationError`` naming the extra when the simulator's pins are not met."""
    try:
        requirements = metadata_requires(DISTRIBUTION) or []
    except PackageNotFoundError:
        return
    pins = pinned_by_extra(requirements)
    found = {name: installed(name) for name in pins}  # one metadata look-up per distribution
    problems = [
        f"{name} {wanted} (installed: {found[name] or 'none'})"
        for name, wanted in sorted(pins.items())
        if found[name] != wanted
    ]
    if problems:
        raise ConfigurationError(
            "The embedded simulator (the target when SOCKERLESS_HOST is not set) needs the "
            f"kit's '{EXTRA}' extra, exactly: {', '.join(problems)}. Install it with "
            f'pip install "{DISTRIBUTION}[{EXTRA}]=={__version__}" (in a virtual environment of '
            "its own if other tools here need another boto3), or set SOCKERLESS_HOST to a "
            "sockerless daemon"
        )
