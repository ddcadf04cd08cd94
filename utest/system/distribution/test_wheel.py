"""The distribution carries the kit: library, simulator, resource files, suites and the command.

``python -m build`` makes the sdist and, from it, the wheel (so the sdist is proven complete too).
The wheel is then read as pip would lay it out in site-packages: every file of the checkout's
``resources/`` and ``suites/`` is there, the suites' relative ``Resource`` imports resolve inside
it, and a suite of a user's own finds the kit's resource files through the module search path.
Installing it in a new virtual environment and running the command there is
``python3 tasks.py installed-kit`` (a step of ``python3 tasks.py test``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from robot.api import ExecutionResult
from setuptools import find_packages

from tasks import source_build_lock

pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
BIN = Path(sys.executable).parent
BUILD_TIME_LIMIT_SECONDS = 300
PACKAGE = "sockerless_ecs_acceptance"
RESOURCE_IMPORT = re.compile(r"^Resource\s+(\S+)", re.MULTILINE)


TEMPLATE = ROOT / "libraries" / PACKAGE / "template"


def kit_files() -> list[str]:
    """The checkout's resource files, suites and team template suites, as paths inside the
    package."""
    return sorted(
        [f"{PACKAGE}/resources/{p.name}" for p in (ROOT / "resources").glob("*.resource")]
        + [f"{PACKAGE}/{p.relative_to(ROOT)}" for p in (ROOT / "suites").rglob("*.robot")]
        + [
            f"{PACKAGE}/template/{p.relative_to(TEMPLATE)}"
            for p in (TEMPLATE / "suites").glob("*.robot")
        ]
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    with source_build_lock(BUILD_TIME_LIMIT_SECONDS):  # tasks.py installed-kit builds it too
        subprocess.run(
            [PYTHON, "-m", "build", "--outdir", str(out), str(ROOT)],
            check=True,
            capture_output=True,
            timeout=BUILD_TIME_LIMIT_SECONDS,
        )
    return out


@pytest.fixture(scope="module")
def site_packages(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel unpacked, as pip lays it out in site-packages."""
    target = tmp_path_factory.mktemp("site-packages")
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def test_the_wheel_carries_every_resource_file_and_suite(site_packages: Path) -> None:
    packaged = sorted(
        str(p.relative_to(site_packages))
        for p in (site_packages / PACKAGE).rglob("*")
        if p.suffix in (".resource", ".robot")
    )
    assert packaged == kit_files()
    assert len(packaged) >= 11  # 6 resource files, 2 init files, 4 suites when this was written


def test_the_wheel_carries_the_library_the_simulator_and_the_command(
    site_packages: Path,
) -> None:
    for package in (
        *find_packages(str(ROOT / "libraries")),
        *find_packages(str(ROOT / "simulator")),
    ):
        assert (site_packages / package.replace(".", "/") / "__init__.py").is_file(), package
    (dist_info,) = site_packages.glob("sockerless_ecs_acceptance-*.dist-info")
    from SockerlessLibrary.version import __version__  # noqa: PLC0415

    # The version a team pins is the wheel's (CHANGELOG.md's newest: test_release.py).
    assert dist_info.name == f"sockerless_ecs_acceptance-{__version__}.dist-info"
    entry_points = (dist_info / "entry_points.txt").read_text()
    assert "sockerless-ecs-acceptance = sockerless_ecs_acceptance.command:main" in entry_points
    requirements = (dist_info / "METADATA").read_text()
    # Ranges for everyone; the simulator's exact pins only with its extra.
    assert "Requires-Dist: boto3>=1.40\n" in requirements
    assert 'Requires-Dist: moto[server]==5.2.5; extra == "simulator"' in requirements
    assert 'Requires-Dist: boto3==1.44.5; extra == "simulator"' in requirements
    assert "Provides-Extra: simulator" in requirements
    pinned = [
        line
        for line in requirements.splitlines()
        if line.startswith("Requires-Dist:") and "==" in line and "extra ==" not in line
    ]
    assert pinned == []


def test_the_installed_conformance_suite_runs_with_its_docker_reference(
    site_packages: Path, tmp_path: Path
) -> None:
    """``sockerless-ecs-acceptance --include conformance`` runs the installed conformance suite
    (here every probe in a dry run), and the Docker Engine's matrix, the Docker column of the
    matrix a run writes, ships where its resource file looks for it."""
    reference = site_packages / PACKAGE / "docs" / "conformance" / "docker-engine.json"
    assert reference.read_bytes() == (ROOT / "docs/conformance/docker-engine.json").read_bytes()
    syslog = tmp_path / "syslog.txt"
    env = {**os.environ, "PYTHONPATH": str(site_packages), "ROBOT_SYSLOG_FILE": str(syslog)}
    completed = subprocess.run(
        [
            *(PYTHON, "-m", PACKAGE, "--dryrun", "--include", "conformance"),
            *("--outputdir", str(tmp_path / "out")),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    totals = ExecutionResult(str(tmp_path / "out" / "output.xml")).statistics.total
    probes = len(json.loads(reference.read_text())["probes"])
    assert (totals.passed, totals.failed, totals.skipped) == (probes, 0, 0)
    resource = site_packages / PACKAGE / "resources" / "conformance.resource"
    assert f"Imported resource file '{resource}'" in syslog.read_text()


def test_the_sdist_carries_the_sources_of_everything_the_wheel_holds(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for file in (
        "pyproject.toml",
        "requirements.txt",
        "requirements-simulator.txt",
        "CHANGELOG.md",
        "libraries/SockerlessLibrary/__init__.py",
        "docs/conformance/docker-engine.json",
    ):
        assert file in names, file
    for file in kit_files():
        in_checkout = file.removeprefix(f"{PACKAGE}/")
        if in_checkout.startswith("template/"):
            in_checkout = f"libraries/{file}"
        assert in_checkout in names, file


def test_every_relative_resource_import_resolves_inside_the_package(
    site_packages: Path,
) -> None:
    suites = [
        *(site_packages / PACKAGE / "suites").rglob("*.robot"),
        *(site_packages / PACKAGE / "resources").glob("*.resource"),
    ]
    imports = [
        (suite, name) for suite in suites for name in RESOURCE_IMPORT.findall(suite.read_text())
    ]
    assert len(imports) >= 10
    for suite, name in imports:
        assert (suite.parent / name).resolve().is_file(), f"{suite}: {name}"
        assert (suite.parent / name).resolve().is_relative_to(site_packages / PACKAGE)


def test_a_users_suite_imports_the_kits_resources_through_the_module_search_path(
    site_packages: Path, tmp_path: Path
) -> None:
    """Installed, the kit's resource files are on sys.path as ``sockerless_ecs_acceptance/...``.

    The unpacked wheel goes first on PYTHONPATH, so robot finds the resource files and the
    library there, not in the checkout. A dry run resolves every keyword the suite uses.
    """
    suite = tmp_path / "my_suite.robot"
    suite.write_text(
        "*** Settings ***\n"
        "Resource    sockerless_ecs_acceptance/resources/ecs_suite.resource\n"
        "Resource    sockerless_ecs_acceptance/resources/containers.resource\n"
        "Suite Setup    Prepare ECS Suite\n"
        "\n"
        "*** Test Cases ***\n"
        "My Own Test\n"
        "    ${id}=    Create Fargate Container    echo    hi\n"
        "    Start Fargate Container    ${id}\n"
    )
    syslog = tmp_path / "syslog.txt"
    env = {**os.environ, "PYTHONPATH": str(site_packages), "ROBOT_SYSLOG_FILE": str(syslog)}
    completed = subprocess.run(
        [str(BIN / "robot"), "--dryrun", "--outputdir", str(tmp_path / "out"), str(suite)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    imported = syslog.read_text()
    for name in ("ecs_suite", "containers"):
        resource = site_packages / PACKAGE / "resources" / f"{name}.resource"
        assert f"Imported resource file '{resource}'" in imported, name


def test_the_team_template_is_in_the_wheel_and_its_suites_resolve_there(
    site_packages: Path, tmp_path: Path
) -> None:
    """`init` writes from the installed package's template: every file is there, and its suites
    resolve every resource file and keyword from the unpacked wheel (a dry run)."""
    from sockerless_ecs_acceptance.scaffold import LAYOUT  # noqa: PLC0415

    for name in LAYOUT:
        assert (site_packages / PACKAGE / "template" / name).is_file(), name
    syslog = tmp_path / "syslog.txt"
    env = {**os.environ, "PYTHONPATH": str(site_packages), "ROBOT_SYSLOG_FILE": str(syslog)}
    completed = subprocess.run(
        [
            *(str(BIN / "robot"), "--dryrun", "--outputdir", str(tmp_path / "out")),
            str(site_packages / PACKAGE / "template" / "suites"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    resource = site_packages / PACKAGE / "resources" / "ecs_suite.resource"
    assert f"Imported resource file '{resource}'" in syslog.read_text()
