"""The sockerless ECS acceptance kit as a distribution: its suites, its resource files and the
``sockerless-ecs-acceptance`` command that runs the suites (``command.py``).

The wheel lays the kit out as the checkout does, one level down: ``suites/`` and ``resources/``
sit side by side inside this package, so a suite's ``Resource ../../resources/x.resource``
resolves the same in both. Installed, a suite of your own can import the kit's resource files
through the module search path: ``Resource    sockerless_ecs_acceptance/resources/x.resource``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DISTRIBUTION = "sockerless-ecs-acceptance"
PACKAGE_DIR = Path(__file__).resolve().parent
KIT_DIRECTORIES = ("suites", "resources")


class KitNotFound(RuntimeError):
    """Neither the installed package nor a checkout holds the kit's suites and resources."""


def kit_root(package_dir: Path = PACKAGE_DIR) -> Path:
    """The directory holding the kit's ``suites/`` and ``resources/``.

    Installed (a wheel), that is this package's own directory; in a checkout (an editable
    install, or ``libraries`` on the path), the repository root two levels up.
    """
    for candidate in (package_dir, package_dir.parent.parent):
        if all((candidate / name).is_dir() for name in KIT_DIRECTORIES):
            return candidate
    raise KitNotFound(
        f"The kit's {' and '.join(KIT_DIRECTORIES)} directories are neither in {package_dir} "
        f"(an installed {DISTRIBUTION}) nor in {package_dir.parent.parent} (a checkout): "
        "reinstall the package"
    )


def kit_version() -> str:
    """The installed distribution's version (``unknown`` when run from a bare checkout)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"
