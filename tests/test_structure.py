"""The package's shape (issue 16): no module over 400 lines, since a module that long has more than one job; and
every module in a layer of the import contract."""

from __future__ import annotations

import ast
import tomllib

from helpers import ROOT

MAX_LINES = 400


def test_no_module_is_over_the_line_limit() -> None:
    """Every module under ``mle_ci/`` has at most 400 lines; the offenders are named with their length."""
    over = [
        f"{path.relative_to(ROOT).as_posix()} ({count} lines)"
        for path in sorted((ROOT / "mle_ci").rglob("*.py"))
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert over == [], f"over {MAX_LINES} lines: {', '.join(over)}; split each by job"


def _layered() -> set[str]:
    """Every module or package the import-linter layers contract names."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    return {name.strip() for layer in layers for name in layer.split("|")}


def test_every_module_is_in_a_layer_of_the_import_contract() -> None:
    """A new module sits in a layer (or in a package that does): one direction of imports covers it. The agents
    have their own contract, and a package's ``__init__`` with nothing but its docstring imports nothing."""
    named = _layered()
    outside = []
    for path in sorted((ROOT / "mle_ci").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
            if not ast.parse(path.read_text(encoding="utf-8")).body[1:]:
                continue
        if len(parts) < 2 or parts[1] == "agents" or parts[-1] == "__main__":
            continue
        if not any(".".join(parts[:end]) in named for end in range(len(parts), 1, -1)):
            outside.append(".".join(parts))
    assert outside == [], f"in no layer of pyproject.toml's import contract: {', '.join(outside)}"
