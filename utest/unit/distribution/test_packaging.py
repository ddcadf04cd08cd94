"""pyproject.toml lists the packages the wheel carries; the list must be the source tree's."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "sockerless_ecs_acceptance"


def test_pyprojects_package_list_is_the_source_tree() -> None:
    """Packages are listed in pyproject.toml (a found package could not be mapped onto
    ``suites/``): a package added to the tree and not to the list would be left out."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    suite_dirs = sorted(p.relative_to(ROOT) for p in (ROOT / "suites").rglob("*") if p.is_dir())
    template = ROOT / "libraries" / PACKAGE / "template"
    template_dirs = [template, *(p for p in template.rglob("*") if p.is_dir())]
    expected = {
        *find_packages(str(ROOT / "libraries")),
        *find_packages(str(ROOT / "simulator")),
        f"{PACKAGE}.resources",
        f"{PACKAGE}.suites",
        f"{PACKAGE}.docs",  # the Docker Engine's conformance matrix only
        *(f"{PACKAGE}.{'.'.join(d.parts)}" for d in suite_dirs),
        *(
            ".".join(d.relative_to(ROOT / "libraries").parts)
            for d in template_dirs
            if not d.name.startswith(".") and d.name != "__pycache__"
        ),
    }
    assert set(setuptools["packages"]) == expected
    data = setuptools["package-data"]
    assert data[f"{PACKAGE}.docs"] == ["conformance/docker-engine.json"]
    for package in expected:
        if package.startswith(f"{PACKAGE}.suites"):
            assert data[package] == ["*.robot"], package
