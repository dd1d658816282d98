"""The import contracts cover a module nobody has told them about.

Given a copy of the source tree, when a throw-away module (one new folder under
civicloop/) imports another module, or core imports it, then `lint-imports` breaks,
without any edit to the contracts in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The package's Python files, the contracts and their custom type, in a temp dir."""
    shutil.copytree(
        ROOT / "civicloop",
        tmp_path / "civicloop",
        ignore=lambda _d, names: [
            n for n in names if not (n.endswith(".py") or "." not in n) or n == "__pycache__"
        ],
    )
    shutil.copytree(ROOT / "lint", tmp_path / "lint", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def add_module(tree: Path, name: str, source: str) -> None:
    folder = tree / "civicloop" / name
    folder.mkdir()
    (folder / "__init__.py").write_text(source, encoding="utf-8")


def test_the_copied_tree_keeps_the_contracts(tree: Path) -> None:
    add_module(tree, "throwaway", "from civicloop.core import registry\n")
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_a_new_module_importing_another_module_breaks_the_contract(tree: Path) -> None:
    add_module(tree, "throwaway", "from civicloop.opinions import hooks\n")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout
    assert "civicloop.throwaway must not import another module (civicloop.opinions)" in (
        " ".join(result.stdout.split())
    )


def test_core_importing_a_new_module_breaks_the_contract(tree: Path) -> None:
    add_module(tree, "throwaway", "")
    (tree / "civicloop" / "core" / "uses_throwaway.py").write_text(
        "import civicloop.throwaway\n", encoding="utf-8"
    )
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout
    assert "civicloop.core must not import the module civicloop.throwaway" in (
        " ".join(result.stdout.split())
    )
