"""The package's shape (issue 18): one direction of imports, small modules, lazy imports only on purpose.

The import-direction contracts live in ``pyproject.toml`` (``[tool.importlinter]``) and are checked by
the real ``lint-imports`` of import-linter. import-linter finds a package by walking its folder, and
ours is spread over several top-level folders (``package-dir`` in ``pyproject.toml``), so the test
first assembles the installed layout in a temporary folder (a copy of the sources, nothing imported).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGE_DIRS: dict[str, str] = PYPROJECT["tool"]["setuptools"]["package-dir"]
MAX_LINES = 400
LAZY_MARK = "# lazy:"


def source_files() -> list[Path]:
    """Every module of the installed package (tests and benchmarks are not part of it)."""
    return sorted(p for folder in PACKAGE_DIRS.values() for p in (ROOT / folder).rglob("*.py"))


def assemble(target: Path) -> Path:
    """Copy the package's folders into ``target`` as the one tree they form once installed."""
    for package, folder in sorted(PACKAGE_DIRS.items(), key=lambda item: item[0].count(".")):
        destination = target.joinpath(*package.split("."))
        shutil.copytree(ROOT / folder, destination, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.yaml", "*.json", "*.html", "*.css", "*.js"))
    return target


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(Path(sys.executable).with_name("lint-imports")), str(ROOT / "pyproject.toml")],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=300)


def test_import_direction_contracts_are_kept(tmp_path):
    run = lint_imports(assemble(tmp_path))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 kept, 0 broken" in run.stdout


def test_the_contract_check_fails_on_a_back_edge(tmp_path):
    """The same check, with one import against the flow added (the core importing the leaderboard)."""
    tree = assemble(tmp_path)
    taxonomy = tree / "comic_emotion" / "taxonomy.py"
    taxonomy.write_text(taxonomy.read_text(encoding="utf-8") + "\nfrom comic_emotion.leaderboard import board\n",
                        encoding="utf-8")
    run = lint_imports(tree)
    assert run.returncode != 0
    assert "comic_emotion.taxonomy -> comic_emotion.leaderboard.board" in run.stdout


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in source_files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules along a real seam: {long}"


def imports_inside_functions(path: Path) -> list[tuple[int, str]]:
    """(line, source) of each import inside a function that carries no ``# lazy:`` comment.

    The comment sits on the import line or on a comment line directly above the block of imports it
    belongs to, and says which heavy dependency the import keeps off the module's import path.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for inner in ast.walk(node):
            if not isinstance(inner, (ast.Import, ast.ImportFrom)):
                continue
            above = inner.lineno - 2
            while above >= 0 and lines[above].strip().startswith(("from ", "import ", "#")) \
                    and LAZY_MARK not in lines[above]:
                above -= 1
            marked = LAZY_MARK in lines[inner.lineno - 1] or (above >= 0 and LAZY_MARK in lines[above])
            if not marked:
                found.append((inner.lineno, lines[inner.lineno - 1].strip()))
    return sorted(set(found))


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_inside_functions_are_deliberate_and_commented(path):
    unmarked = imports_inside_functions(path)
    assert not unmarked, (f"{path.relative_to(ROOT)}: move these imports to the top of the module, or say with "
                          f"'{LAZY_MARK} <heavy dependency>' why they are lazy: {unmarked}")


def test_the_lazy_import_rule_sees_an_unmarked_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    # lazy: numpy\n    import numpy\n    import os\n    x = 1\n    import json\n"
                      "    return numpy, os, json, x\n")
    assert imports_inside_functions(module) == [(6, "import json")]
