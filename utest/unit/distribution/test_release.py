"""One version, everywhere a team looks for it: CHANGELOG.md's newest release, the package, the
installed distribution (``--version``) and the library's documentation. The wheel's own version
is ``test_wheel.py``'s, and the installed wheel's ``--version`` is ``tasks.py installed-kit``'s.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

from robot.libdocpkg import LibraryDocumentation

from sockerless_ecs_acceptance import DISTRIBUTION
from SockerlessLibrary.version import __version__

ROOT = Path(__file__).resolve().parents[3]
RELEASE_HEADING = re.compile(r"^## (\d+\.\d+\.\d+) - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


def releases() -> list[str]:
    return RELEASE_HEADING.findall((ROOT / "CHANGELOG.md").read_text())


def test_the_changelogs_newest_release_is_the_package_version() -> None:
    (newest, _date), *_ = releases()
    assert newest == __version__
    assert SEMVER.match(__version__)


def test_releases_are_listed_newest_first_after_unreleased_changes() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings[0] == "Unreleased"
    versions = [tuple(int(part) for part in v.split(".")) for v, _ in releases()]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    assert len(versions) == len(headings) - 1  # every other heading is a dated release


def test_the_installed_distribution_and_the_library_docs_say_the_same() -> None:
    assert version(DISTRIBUTION) == __version__
    assert LibraryDocumentation("SockerlessLibrary").version == __version__


MENTION = re.compile(
    r"sockerless_ecs_acceptance-(\d+\.\d+\.\d+)-py3|\[simulator\]==(\d+\.\d+\.\d+)"
)


def test_the_docs_name_the_current_version_where_they_name_one() -> None:
    """An install command copied from the docs installs this release."""
    documents = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    mentioned = {
        (document.name, wheel or extra)
        for document in documents
        for wheel, extra in MENTION.findall(document.read_text())
    }
    assert {name for name, _ in mentioned} >= {"README.md", "ci.md"}
    assert {version for _, version in mentioned} == {__version__}, mentioned
