"""The import graph is the one docs/architecture.md draws ("Layers"): the import-linter contracts
of pyproject.toml hold on the tree, each kind of break fails them, and the doc names the
contracts' layers and only paths that exist."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
CONTRACTS = {
    contract["id"]: contract
    for contract in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
}
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter with ``root``'s pyproject.toml over ``root``'s packages."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root / "libraries"), str(root / "simulator")]),
    }
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages and the contracts, to break."""
    skip = shutil.ignore_patterns("__pycache__", "resources", "template", "*.robot")
    shutil.copytree(ROOT / "libraries", tmp_path / "libraries", ignore=skip)
    shutil.copytree(
        ROOT / "simulator" / "sockerless_sim",
        tmp_path / "simulator" / "sockerless_sim",
        ignore=skip,
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_line(path: Path, line: str) -> None:
    """``line`` after the module's ``from __future__`` import."""
    text = path.read_text()
    future = "from __future__ import annotations\n"
    assert future in text, path
    path.write_text(text.replace(future, future + line + "\n", 1))


def broken(result: subprocess.CompletedProcess[str]) -> set[str]:
    """The names of the contracts the run says are broken."""
    return set(re.findall(r"^(.+?) BROKEN$", result.stdout, re.MULTILINE))


def name(contract_id: str) -> str:
    return str(CONTRACTS[contract_id]["name"])


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


def test_an_upward_import_breaks_the_layers_even_under_type_checking(tree: Path) -> None:
    assert lint_imports(tree).returncode == 0
    errors = tree / "libraries" / "SockerlessLibrary" / "errors.py"
    text = errors.read_text()
    assert "if TYPE_CHECKING:\n" in text
    errors.write_text(
        text.replace(
            "if TYPE_CHECKING:\n",
            "if TYPE_CHECKING:\n    from .keywords import LibraryComponent\n",
            1,
        )
    )
    result = lint_imports(tree)
    assert result.returncode != 0
    assert {name("library-layers"), name("no-circles")} <= broken(result)
    assert "SockerlessLibrary.errors -> SockerlessLibrary.keywords" in result.stdout


def test_robot_runtime_below_the_listeners_breaks_the_layers(tree: Path) -> None:
    add_line(tree / "libraries" / "SockerlessLibrary" / "budget.py", "from .listeners import pabot")
    result = lint_imports(tree)
    assert name("library-layers") in broken(result)
    assert "SockerlessLibrary.budget -> SockerlessLibrary.listeners.pabot" in result.stdout


def test_a_circle_breaks_the_graph(tree: Path) -> None:
    run = tree / "libraries" / "SockerlessLibrary" / "run"
    add_line(run / "registry.py", "from . import group")
    add_line(run / "group.py", "from . import registry")
    result = lint_imports(tree)
    assert {name("run-layers"), name("no-circles")} <= broken(result)
    assert "SockerlessLibrary.run.group" in result.stdout
    assert "SockerlessLibrary.run.registry" in result.stdout


def test_a_module_in_no_layer_breaks_the_layers(tree: Path) -> None:
    (tree / "libraries" / "SockerlessLibrary" / "helpers.py").write_text('"""Nowhere."""\n')
    result = lint_imports(tree)
    assert broken(result) == {name("library-layers")}
    assert "SockerlessLibrary.helpers" in result.stdout


def test_a_simulator_that_imports_the_library_breaks_the_contract(tree: Path) -> None:
    add_line(tree / "simulator" / "sockerless_sim" / "config.py", "import SockerlessLibrary.errors")
    result = lint_imports(tree)
    assert broken(result) == {name("simulator-apart")}


def section(title: str) -> str:
    text = ARCHITECTURE.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def test_the_architecture_doc_names_the_contracts_layers_in_order() -> None:
    rows = re.findall(r"^\| `([^`]+)` \| ", section("Layers"), re.MULTILINE)
    assert [row.replace("\\|", "|") for row in rows] == CONTRACTS["library-layers"]["layers"]
    prose = " ".join(section("Layers").split())
    for contract_id in (
        "package-layers",
        "listeners-layers",
        "waits-layers",
        "run-layers",
        "aws-layers",
        "command-layers",
        "conformance-layers",
    ):
        for layer in CONTRACTS[contract_id]["layers"]:
            assert f"`{layer}`" in prose, (contract_id, layer)
            if contract_id == "package-layers":
                break  # the keyword components below it are "the other components"


PATH_LIKE = re.compile(r"[/]|\.(py|md|json|toml|robot|resource)$")


def test_every_path_the_architecture_doc_maps_exists() -> None:
    rows = re.findall(
        r"^\| (`[^|]+?`(?:[^|]*?)) \| ", section("Packages and who owns what"), re.MULTILINE
    )
    assert len(rows) > 40
    missing = []
    for row in rows:
        paths = [token for token in re.findall(r"`([^`]+)`", row) if PATH_LIKE.search(token)]
        first = ROOT / paths[0]
        package = next(
            (
                ROOT / base
                for base in ("libraries/SockerlessLibrary", "simulator/sockerless_sim")
                if paths[0].startswith(base)
            ),
            first.parent,
        )
        for path in paths:
            if not any((where / path).exists() for where in (ROOT, package, first.parent)):
                missing.append(f"{path} (row of {paths[0]})")
    assert not missing, missing
