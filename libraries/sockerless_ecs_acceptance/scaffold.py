"""``sockerless-ecs-acceptance init DIR``: a team repository that runs green as written.

The files come from ``template/`` (package data): an example suite in ``suites/`` whose top
``__init__.robot`` loads the kit's library (so the run's account covers the whole run),
``robot.toml`` with one profile per target, the CI jobs for GitHub Actions and GitLab CI, a
README and a ``.gitignore``. The template files are the kit's own, linted and run by the kit's
check; only ``@KIT_VERSION@`` (in the README) is filled in. Nothing is overwritten: a directory
that holds anything is refused before a file is written.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "template"
VERSION_MARK = "@KIT_VERSION@"

# Where each template file goes in the team repository (hidden names cannot be package data
# reliably, so the template keeps visible ones).
LAYOUT = {
    "README.md": "README.md",
    "gitignore": ".gitignore",
    "robot.toml": "robot.toml",
    "suites/__init__.robot": "suites/__init__.robot",
    "suites/containers.robot": "suites/containers.robot",
    "suites/exec.robot": "suites/exec.robot",
    "ci/github-actions.yml": ".github/workflows/sockerless-ecs.yml",
    "ci/gitlab-ci.yml": ".gitlab-ci.yml",
}


class ScaffoldError(Exception):
    """The team repository cannot be written where asked (nothing was written)."""


def write_team_repository(directory: Path, kit_version: str) -> list[str]:
    """Write the team repository into ``directory`` (new, or empty); returns the paths written,
    relative to it. Raises ``ScaffoldError`` before writing anything when it cannot."""
    if directory.exists() and not directory.is_dir():
        raise ScaffoldError(f"{directory} is a file, not a directory")
    if directory.is_dir() and any(directory.iterdir()):
        raise ScaffoldError(
            f"{directory} is not empty: give a new or empty directory (nothing was written)"
        )
    missing = [name for name in LAYOUT if not (TEMPLATE_DIR / name).is_file()]
    if missing:
        raise ScaffoldError(
            f"the kit's template is incomplete ({', '.join(missing)} missing from {TEMPLATE_DIR}): "
            "reinstall the package"
        )
    written = []
    for name, target in LAYOUT.items():
        text = (TEMPLATE_DIR / name).read_text(encoding="utf-8").replace(VERSION_MARK, kit_version)
        path = directory / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(target)
    return written
